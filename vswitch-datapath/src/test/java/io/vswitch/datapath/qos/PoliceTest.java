package io.vswitch.datapath.qos;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.port.PortCounters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Egress policers on a simulated clock: what passes in one second of full-rate offer. */
class PoliceTest {
    private final CountersFile file = CountersFile.anonymous();
    private final PortCounters port = new PortCounters(file.manager(), "br0", "p", 0);

    @AfterEach
    void close() {
        port.close();
        file.close();
    }

    /** Offers a 1014-byte frame (1000 bytes after Ethernet) every 10 µs for one second, alternating queues; returns bytes passed per queue. */
    private long[] offer(EgressPolicer p, long... queues) {
        long[] passed = new long[queues.length];
        long[] offsets = new long[1];
        int[] lengths = new int[1];
        long[] ids = new long[1];
        long t0 = 5_000_000_000L;
        int k = 0;
        for (long t = t0; t < t0 + 1_000_000_000L; t += 10_000, k++) {
            int which = k % queues.length;
            lengths[0] = 1014;
            ids[0] = queues[which];
            if (p.police(t, offsets, lengths, ids, 1) == 1) passed[which] += 1000;
        }
        return passed;
    }

    /**
     * Ingress policing keeps the packets that conform, in order, and their partial-checksum marks
     * with them: a burst of 1 kbit passes two 46-byte payloads, not the 200-byte ones between them.
     */
    @Test
    void ingressPolicingKeepsEachPacketsPartialChecksumMark() {
        QosSpec spec = QosSpec.parse(Map.of("ingress_policing_rate", "1", "ingress_policing_burst", "1"));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.vswitch.datapath.packet.Batch batch = new io.vswitch.datapath.packet.Batch(new io.vswitch.datapath.packet.PacketPool(arena, 256));
            int[] lengths = {214, 60, 214, 60};
            for (int i = 0; i < 4; i++) {
                batch.offset[i] = batch.rxOffset(i);
                batch.length[i] = lengths[i];
            }
            batch.count = 4;
            batch.partial = 0b1001;                              // a dropped packet's mark, and a kept one's
            long second = batch.offset[3];
            assertEquals(2, new IngressPolicer(spec).police(batch, 1_000_000_000L));
            assertEquals(2, batch.count);
            assertEquals(second, batch.offset[1]);
            assertEquals(0b10, batch.partial, "the fourth packet, now the second, is the partial one");
        }
    }

    @Test
    void egressPolicerPassesCirPlusCbs() {
        QosSpec spec = QosSpec.parse(Map.of("type", "egress-policer", "other_config:cir", "1000000", "other_config:cbs", "100000"));
        PortQos qos = new PortQos(spec, port);
        long passed = offer(qos.policer, 0)[0];
        // one second at cir, plus the bucket it starts with, to the packet
        assertTrue(Math.abs(passed - 1_100_000) <= 2000, "passed " + passed);
        qos.close();
    }

    @Test
    void trtcmQueuesThenPort() {
        // Queue 1: 200 kB/s committed; queue 2: 300 kB/s committed + 100 kB/s excess.
        // The port: 400 kB/s committed (green from queues that are green) and 1 MB/s excess (yellow).
        QosSpec spec = QosSpec.parse(Map.ofEntries(Map.entry("type", "trtcm-policer"),
                Map.entry("other_config:cir", "400000"), Map.entry("other_config:cbs", "2000"),
                Map.entry("other_config:eir", "1000000"), Map.entry("other_config:ebs", "2000"),
                Map.entry("queue:1:cir", "200000"), Map.entry("queue:1:cbs", "2000"),
                Map.entry("queue:2:cir", "300000"), Map.entry("queue:2:cbs", "2000"),
                Map.entry("queue:2:eir", "100000"), Map.entry("queue:2:ebs", "2000")));
        PortQos qos = new PortQos(spec, port);
        long[] passed = offer(qos.policer, 1, 2);
        assertTrue(Math.abs(passed[0] - 200_000) <= 5000, "queue 1 " + passed[0]);
        assertTrue(Math.abs(passed[1] - 400_000) <= 5000, "queue 2 " + passed[1]);
        long[] q1 = qos.queueCounters().get(1L) == null ? null : new long[] {qos.queueCounters().get(1L)[0].get(), qos.queueCounters().get(1L)[2].get()};
        assertEquals(passed[0] / 1000, q1[0], "queue 1 tx_packets");
        assertEquals(50_000 - passed[0] / 1000, q1[1], "queue 1 tx_errors");
        qos.close();
    }

    @Test
    void trtcmPortLimitsGreenAndYellowTogether() {
        // Queues pass all (big buckets); the port has 300 kB/s committed, 100 kB/s excess: 400 kB/s pass.
        QosSpec spec = QosSpec.parse(Map.of("type", "trtcm-policer",
                "other_config:cir", "300000", "other_config:cbs", "2000", "other_config:eir", "100000", "other_config:ebs", "2000",
                "queue:0:cir", "10000000", "queue:0:cbs", "100000"));
        PortQos qos = new PortQos(spec, port);
        long passed = offer(qos.policer, 0)[0];
        assertTrue(Math.abs(passed - 400_000) <= 5000, "passed " + passed);
        qos.close();
    }
}
