package io.vswitch.datapath.ipc;

import io.vswitch.datapath.qos.PortQos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a port's queue counters ({@link PortQos#QUEUE_STATS}) out of the dataplane's counters file,
 * for OpenFlow queue statistics: no request to the dataplane, no PMD touched.
 */
public final class QueueCounters {
    private QueueCounters() {}

    /** Per queue id of {@code port} on {@code bridge}: tx_packets, tx_bytes, tx_errors, backlog. Empty if the dataplane is not running. */
    public static Map<Long, long[]> read(Path runDir, String bridge, String port) {
        Map<Long, long[]> out = new TreeMap<>();
        if (!Files.exists(runDir.resolve(CountersFile.FILE_NAME))) return out;
        String prefix = bridge + " " + port + " ";
        try (CountersFile file = CountersFile.open(runDir)) {
            var reader = file.reader();
            reader.forEach((id, typeId, key, label) -> {
                int stat = typeId - PortQos.TYPE_QUEUE;
                if (stat < 0 || stat >= PortQos.QUEUE_STATS.length || !label.startsWith(prefix)) return;
                out.computeIfAbsent(key.getLong(4), q -> new long[PortQos.QUEUE_STATS.length])[stat] = reader.getCounterValue(id);
            });
        } catch (IOException e) {
            return Map.of();                            // the dataplane is (re)starting
        }
        return out;
    }
}
