package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.IpcChannel;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.pmd.Pmd;
import io.vswitch.datapath.pmd.PmdCounters;
import io.vswitch.datapath.port.PortProviders;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A running PMD thread forwards over a million packets through the full pipeline (parse, MAC
 * learning, unicast, flooding, VLAN tag push for a trunk) and allocates nothing while doing so.
 * The ports are in-memory so the only code running on the PMD thread is ours.
 */
class PmdAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void steadyStateForwardingAllocatesNothing() throws Exception {
        forwardAndMeasure(null);
    }

    /**
     * The same through OpenFlow tables that use every kind of step a PMD takes: two tables with
     * metadata, VLAN push/set/pop, IPv4 and port rewrites with checksum patching, copy-on-write after
     * an output, dec_ttl, NORMAL.
     */
    @Test
    void forwardingThroughOpenFlowTablesAllocatesNothing() throws Exception {
        forwardAndMeasure(String.join("\n",
                "0 2 1 1 1/ff ; c:ffffff:110800 ; output:3 push_vlan:8100 set_vlan_vid:a set_ipv4_dst:a000009 set_tp_dst:1f90 dec_ttl",
                "1 1 - - - ; 1:ff:1 ; output:3 pop_vlan output:2",
                "0 1 - - - ; ; normal"));
    }

    /** Chained groups (an all group whose second bucket goes to an indirect group) and the later set-fields. */
    @Test
    void chainedGroupsAndMoreSetFieldsAllocateNothing() throws Exception {
        forwardAndMeasure(String.join("\n",
                "0 2 1 - - ; c:ffffff:110800 ; set_ip_ecn:1 set_queue:2 set_tun_id:5 group:1",
                "0 1 - - - ; ; normal",
                "g 1 all ; 1 0 output:3 ; 1 0 group:2",
                "g 2 indirect ; 1 0 set_ip_dscp:a output:3"));
    }

    /**
     * Every packet from port 1 also goes to the controller: the PMD writes packet-ins into the events
     * ring (drained meanwhile by another thread, as vswitchd does), with no rate limit.
     */
    @Test
    void packetInsAllocateNothing() throws Exception {
        forwardAndMeasure("0 2 1 - - 1234 ; ; controller:80 output:2\n0 1 - - - ; ; normal", true);
    }

    /**
     * QoS on every port, at rates that drop nothing (the cost of the path, not of drops): ingress
     * policing (bytes and packets) on p1, a two-queue shaper on p2, a trTCM policer on p3.
     */
    @Test
    void qosAllocatesNothing() throws Exception {
        forwardAndMeasure(null, false, Map.of(
                "p1", Map.of("ingress_policing_rate", "100000000", "ingress_policing_kpkts_rate", "100000"),
                "p2", Map.of("type", "linux-htb", "other_config:max-rate", "100000000000", "queue:0:min-rate", "1000000",
                        "queue:1:min-rate", "1000000", "queue:1:priority", "1"),
                "p3", Map.of("type", "trtcm-policer", "other_config:cir", "10000000000", "other_config:cbs", "100000",
                        "other_config:eir", "1000", "other_config:ebs", "10000")));
    }

    private static void forwardAndMeasure(String flows) throws Exception {
        forwardAndMeasure(flows, false);
    }

    private static void forwardAndMeasure(String flows, boolean packetIns) throws Exception {
        forwardAndMeasure(flows, packetIns, Map.of());
    }

    /** Runs a PMD over in-memory ports for 1M+ packets; {@code flows} are the bridge's tables, or null for none; {@code qos} per port. */
    private static void forwardAndMeasure(String flows, boolean packetIns, Map<String, Map<String, String>> qos) throws Exception {
        // vswitchd's reader as it runs: asleep on the doorbell whenever the ring is empty, so the PMD
        // rings it (a futex wake) for the packet-ins after each of its sleeps
        IpcChannel channel = IpcChannel.anonymous(1, 1);
        org.agrona.concurrent.ringbuffer.RingBuffer events = channel.events;
        java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            while (!stop.get()) {
                if (events.read((t, b, o, l) -> read.incrementAndGet()) == 0) {
                    channel.eventsBell.sleep(100_000_000, () -> stop.get() || events.size() > 0);
                }
            }
        });
        MemoryPort.Provider memory = new MemoryPort.Provider();
        PortProviders providers = new PortProviders();
        providers.register(memory);
        try (CountersFile counters = CountersFile.anonymous(); Datapath dp = new Datapath(counters.manager(), providers, 1)) {
            if (packetIns) dp.packetInsTo(events, channel.eventsBell);
            dp.configure(Map.of());
            dp.addBridge("br0", packetIns ? Map.of("controller-rate-limit", "0") : Map.of());
            dp.addPort(new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, 10, "", Map.of(), qos.getOrDefault("p1", Map.of())));
            dp.addPort(new PortSpec("br0", "p2", MemoryPort.TYPE, 2, null, 10, "", Map.of(), qos.getOrDefault("p2", Map.of())));
            dp.addPort(new PortSpec("br0", "p3", MemoryPort.TYPE, 3, null, -1, "10", Map.of(), qos.getOrDefault("p3", Map.of())));
            if (flows != null) dp.setFlows("br0", OfPipeline.parse(flows, 1));
            List<byte[]> fromP1 = new ArrayList<>();
            List<byte[]> fromP2 = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                long host = 0x0200_0000_1000L + i;
                fromP1.add(Frames.udp4(0x0200_0000_2000L + i, host, Frames.IP4_A, Frames.IP4_B, 1000 + i, 2000, 18));
                fromP2.add(Frames.udp4(host, 0x0200_0000_2000L + i, Frames.IP4_B, Frames.IP4_A, 2000, 1000 + i, 18));
            }
            fromP1.add(Frames.padTo(Frames.arpRequest(0x0200_0000_1000L, Frames.IP4_A, Frames.IP4_B), 60)); // floods, tagged on p3
            memory.ports.get("p1").frames(fromP1);
            memory.ports.get("p2").frames(fromP2);
            memory.ports.get("p1").generate = true;
            memory.ports.get("p2").generate = true;

            Pmd pmd = dp.pmds().get(0);
            long tid = pmd.thread().threadId();
            MemoryPort p1 = memory.ports.get("p1");
            waitForRx(p1, 500_000);                    // warm-up: JIT compilation, learning
            // Four windows of 300 000 packets. Allocating even once per 32-packet batch would cost
            // 150 kB per window; a late compilation or deoptimisation allocates a few hundred bytes
            // once (seen in the packet-in case when the suite runs: 1 216, and 312 + 72). So every
            // window must stay under 2 KiB (1 112 seen once in the QoS case) and at least one must be exactly 0.
            long rx0 = p1.rxPackets.get() + memory.ports.get("p2").rxPackets.get();
            long[] windows = new long[4];
            for (int w = 0; w < windows.length; w++) {
                long b0 = THREADS.getThreadAllocatedBytes(tid);
                waitForRx(p1, p1.rxPackets.get() + 300_000);
                windows[w] = THREADS.getThreadAllocatedBytes(tid) - b0;
            }
            long rx1 = p1.rxPackets.get() + memory.ports.get("p2").rxPackets.get();
            long forwarded = rx1 - rx0;
            System.out.printf("PMD forwarded %d packets, allocated %s bytes per window%n", forwarded, java.util.Arrays.toString(windows));
            assertTrue(forwarded >= 1_000_000, "forwarded " + forwarded);
            assertTrue(memory.ports.get("p3").txPackets.get() > 0, "the trunk got flooded, tagged copies");
            if (!qos.isEmpty()) {
                assertTrue(memory.ports.get("p2").txPackets.get() > 500_000, "the shaper sent: " + memory.ports.get("p2").txPackets.get());
                assertTrue(dp.view().bridge("br0").port("p2").shaper() != null);
            }
            assertTrue(java.util.Arrays.stream(windows).allMatch(b -> b < 2048) && java.util.Arrays.stream(windows).anyMatch(b -> b == 0),
                    "PMD allocated " + java.util.Arrays.toString(windows) + " bytes in four windows over " + forwarded + " packets");
            if (flows != null && !flows.contains("group") && !packetIns) {
                long hits = pmd.counters().get(PmdCounters.EMC_HITS) + pmd.counters().get(PmdCounters.MEGAFLOW_HITS);
                assertTrue(hits > forwarded / 2, "passes answered by the caches (the path measured): " + hits);
            }
            if (packetIns) {
                System.out.printf("packet-ins read: %d, sent %d, lost to a full ring %d%n", read.get(),
                        pmd.counters().get(7), pmd.counters().get(9));
                assertTrue(pmd.counters().get(7) > 100_000, "packet-ins were written");
            }
        } finally {
            stop.set(true);
            reader.join();
            channel.close();
        }
    }

    private static void waitForRx(MemoryPort p, long target) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.rxPackets.get() < target) {
            if (System.nanoTime() > deadline) throw new AssertionError("PMD too slow: " + p.rxPackets.get() + " of " + target);
            Thread.sleep(20);
        }
    }
}
