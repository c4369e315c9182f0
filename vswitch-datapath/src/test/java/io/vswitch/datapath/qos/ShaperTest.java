package io.vswitch.datapath.qos;

import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaper on a simulated clock: queues kept full, the PMD servicing every 50 µs for a simulated
 * second, and what each queue got counted at the port.
 */
class ShaperTest {
    private static final int FRAME = 1000;                 // bytes: 8000 bits
    private final Arena arena = Arena.ofShared();
    private final CountersFile file = CountersFile.anonymous();
    private final PortCounters portCounters = new PortCounters(file.manager(), "br0", "p", 0);
    private final MemorySegment frames = arena.allocate(64 * 1024);
    private final Sink sink = new Sink();
    private final PmdIo io = new PmdIo(0, arena);

    @AfterEach
    void close() {
        portCounters.close();
        arena.close();
        file.close();
    }

    /** A port that records the first byte (the queue a test wrote there) of every frame it sends. */
    static final class Sink implements Port {
        final Map<Integer, Long> bitsByMark = new HashMap<>();
        final List<byte[]> frames = new ArrayList<>();
        boolean keep;

        public String name() { return "p"; }
        public String type() { return "sink"; }
        public int rxqCount() { return 0; }
        public int rxBurst(int queue, Batch batch, PmdIo io) { return 0; }
        public void close() {}

        public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
            for (int j = 0; j < count; j++) {
                int mark = memory.get(ValueLayout.JAVA_BYTE, offsets[j]);
                bitsByMark.merge(mark, 8L * lengths[j], Long::sum);
                if (keep) frames.add(memory.asSlice(offsets[j], lengths[j]).toArray(ValueLayout.JAVA_BYTE));
            }
            return count;
        }
    }

    private final Map<Shaper, PortQos> made = new HashMap<>();

    private Shaper shaper(Map<String, String> config) {
        PortQos qos = new PortQos(QosSpec.parse(config), portCounters);
        made.put(qos.shaper, qos);
        return qos.shaper;
    }

    private PortQos qosOf(Shaper s) {
        return made.get(s);
    }

    /** Keeps every queue in {@code queues} topped up and services for one simulated second; returns bits/s per queue. */
    private Map<Integer, Long> run(Shaper s, int... queues) {
        long[] offsets = new long[Batch.MAX];
        int[] lengths = new int[Batch.MAX];
        long[] ids = new long[Batch.MAX];
        for (int q : queues) frames.set(ValueLayout.JAVA_BYTE, q * 2048L, (byte) q);
        long t0 = 1_000_000_000L;
        for (long t = t0; t < t0 + 1_000_000_000L; t += 50_000) {
            for (int k = 0; k < queues.length; k++) {
                offsets[k] = queues[k] * 2048L;
                lengths[k] = FRAME;
                ids[k] = queues[k];
            }
            s.enqueue(frames, offsets, lengths, ids, queues.length);
            s.service(sink, io, portCounters, t);
        }
        return sink.bitsByMark;
    }

    @Test
    void eachQueueGetsItsMinRateAndNoneExceedsItsMaxRate() {
        Shaper s = shaper(Map.of("type", "linux-htb", "other_config:max-rate", "10000000",
                "queue:1:min-rate", "2000000", "queue:1:max-rate", "10000000",
                "queue:2:min-rate", "6000000", "queue:2:max-rate", "7000000"));
        Map<Integer, Long> got = run(s, 1, 2);
        long q1 = got.getOrDefault(1, 0L), q2 = got.getOrDefault(2, 0L);
        assertTrue(q1 >= 2_000_000, "queue 1 below its min-rate: " + got);
        assertTrue(q2 >= 6_000_000 && q2 <= 7_000_000 * 1.02, "queue 2 outside min/max: " + got);
        long sum = q1 + q2;
        assertTrue(sum <= 10_000_000 * 1.02 && sum >= 10_000_000 * 0.95, "not the parent's rate, work-conserving: " + got);
    }

    @Test
    void lowerPriorityNumberBorrowsFirst() {
        Shaper s = shaper(Map.of("type", "linux-htb", "other_config:max-rate", "10000000",
                "queue:1:min-rate", "1000000", "queue:1:priority", "0",
                "queue:2:min-rate", "1000000", "queue:2:priority", "1"));
        Map<Integer, Long> got = run(s, 1, 2);
        long q1 = got.getOrDefault(1, 0L), q2 = got.getOrDefault(2, 0L);
        assertTrue(q2 >= 1_000_000 && q2 < 1_300_000, "queue 2 should get only its guarantee: " + got);
        assertTrue(q1 >= 8_500_000, "queue 1 should get the rest: " + got);
    }

    @Test
    void equalPrioritiesShareTheSpareRate() {
        Shaper s = shaper(Map.of("type", "linux-htb", "other_config:max-rate", "10000000",
                "queue:1:min-rate", "1000000", "queue:2:min-rate", "1000000"));
        Map<Integer, Long> got = run(s, 1, 2);
        long q1 = got.getOrDefault(1, 0L), q2 = got.getOrDefault(2, 0L);
        assertTrue(Math.abs(q1 - q2) <= 200_000, "unequal shares: " + got);
    }

    @Test
    void unknownQueueGoesToQueueZeroAndFullQueuesDrop() {
        Shaper s = shaper(Map.of("type", "linux-htb", "other_config:max-rate", "1000000", "queue:0:max-rate", "1000000"));
        long[] offsets = new long[Batch.MAX];
        int[] lengths = new int[Batch.MAX];
        long[] ids = new long[Batch.MAX];
        for (int k = 0; k < Batch.MAX; k++) {
            lengths[k] = 100;
            ids[k] = 77;                                   // no such queue: the default one
        }
        int dropped = 0;
        for (int b = 0; b < 20; b++) dropped += s.enqueue(frames, offsets, lengths, ids, Batch.MAX);
        assertEquals(20 * Batch.MAX - Shaper.QUEUE_PACKETS, dropped);
        assertEquals(dropped, portCounters.extra("ovs_tx_qos_drops").get());
        assertEquals(dropped, qosOf(s).queueCounters().get(0L)[2].get(), "the default queue's tx_errors");
        assertTrue(s.backlogged());
    }

    @Test
    void queueDscpMarksIpv4AndKeepsTheChecksumRight() {
        Shaper s = shaper(Map.of("type", "linux-htb", "queue:0:dscp", "46"));
        byte[] ip = Frames.udp4(0x020000000002L, 0x020000000001L, 0x0a000001, 0x0a000002, 1000, 2000, 20);
        MemorySegment.copy(ip, 0, frames, ValueLayout.JAVA_BYTE, 0, ip.length);
        sink.keep = true;
        s.enqueue(frames, new long[] {0}, new int[] {ip.length}, new long[] {0}, 1);
        s.service(sink, io, portCounters, 1_000_000_000L);
        assertEquals(1, sink.frames.size());
        byte[] out = sink.frames.get(0);
        assertEquals(46 << 2, out[15] & 0xff);
        int sum = 0;
        for (int k = 14; k < 34; k += 2) sum += (out[k] & 0xff) << 8 | out[k + 1] & 0xff;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        assertEquals(0xffff, sum, "IPv4 header checksum");
    }
}
