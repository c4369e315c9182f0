package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Copies the dataplane's port counters into {@code Interface.statistics} every
 * {@code other_config:stats-update-interval} ms (default 5000, at least 5000 as in OVS), reading the
 * dataplane's counters file (no IPC, no PMD involved). Only interfaces whose numbers changed are
 * written, so an idle switch commits nothing.
 */
public final class StatisticsWriter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(StatisticsWriter.class.getName());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final long DEFAULT_INTERVAL_MS = 5000;

    private final OvsdbServer server;
    private final Path runDir;
    private final Thread thread;
    private volatile boolean running = true;

    public StatisticsWriter(OvsdbServer server, Path runDir) {
        this.server = server;
        this.runDir = runDir;
        this.thread = Thread.ofPlatform().daemon().name("statistics").start(this::loop);
    }

    private void loop() {
        while (running) {
            long interval = DEFAULT_INTERVAL_MS;
            try {
                interval = server.call(StatisticsWriter::interval).get();
                writeOnce();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "statistics: " + e.getMessage());
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static long interval(Database db) {
        Row root = OvsdbConfig.root(db);
        if (root == null) return DEFAULT_INTERVAL_MS;
        for (Object[] kv : root.get("other_config").entries()) {
            if ("stats-update-interval".equals(kv[0])) {
                try {
                    return Math.max(DEFAULT_INTERVAL_MS, Long.parseLong((String) kv[1]));
                } catch (NumberFormatException e) {
                    return DEFAULT_INTERVAL_MS;
                }
            }
        }
        return DEFAULT_INTERVAL_MS;
    }

    /** Reads the counters file and writes changed statistics; a no-op while the dataplane is not running. */
    void writeOnce() throws Exception {
        if (!Files.exists(runDir.resolve(CountersFile.FILE_NAME))) return;
        Map<String, Map<String, Long>> byPort = new HashMap<>();   // "bridge port" -> stat -> value
        try (CountersFile file = CountersFile.open(runDir)) {
            var reader = file.reader();
            reader.forEach((id, typeId, key, label) -> {
                String[] parts = label.split(" ");
                boolean portStat = typeId == PortCounters.TYPE_EXTRA
                        || typeId >= PortCounters.TYPE_BASE && typeId < PortCounters.TYPE_BASE + PortCounters.NAMES.length;
                if (parts.length == 3 && portStat) {
                    byPort.computeIfAbsent(parts[0] + " " + parts[1], k -> new TreeMap<>()).put(parts[2], reader.getCounterValue(id));
                }
            });
        } catch (IOException e) {
            return;                                     // the dataplane is (re)starting
        }
        ArrayNode ops = server.call(db -> ops(db, byPort)).get();
        if (!ops.isEmpty()) server.transact(ops).get();
    }

    private static ArrayNode ops(Database db, Map<String, Map<String, Long>> byPort) {
        ArrayNode ops = F.arrayNode();
        OvsdbConfig.Snapshot s = OvsdbConfig.read(db);
        s.config().bridges.forEach((bridge, bc) -> bc.ports.keySet().forEach(port -> {
            Map<String, Long> stats = byPort.get(bridge + " " + port);
            UUID iface = s.interfaceRows().get(port);
            if (stats == null || iface == null) return;
            Row row = db.rows("Interface").get(iface);
            Map<Object, Object> want = new TreeMap<>(stats);
            if (row == null || row.get("statistics").equals(Datum.of(db.schema().tables().get("Interface").columns().get("statistics").type(), want))) return;
            ArrayNode pairs = F.arrayNode();
            stats.forEach((k, v) -> pairs.add(F.arrayNode().add(k).add(v)));
            ObjectNode update = F.objectNode();
            update.set("statistics", F.arrayNode().add("map").add(pairs));
            ops.add(BridgeReconciler.update("Interface", iface, update));
        }));
        return ops;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
