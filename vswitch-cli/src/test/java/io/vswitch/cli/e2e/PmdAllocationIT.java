package io.vswitch.cli.e2e;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.port.PortProviders;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero allocation on the real I/O paths: a PMD thread of an in-process dataplane forwards over a
 * million UDP packets (iperf3, 64-byte frames) between two network namespaces, through TAP ports and
 * through AF_XDP ports on veth pairs, and its allocated bytes ({@code ThreadMXBean.getThreadAllocatedBytes})
 * stay flat. This covers what the in-memory test cannot: the FFM downcalls with errno capture (TAP
 * read/write, the AF_XDP kicks) and the shared-ring accesses.
 */
class PmdAllocationIT {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void forwardingThroughTapsAllocatesNothing() throws Exception {
        Sh.requireRoot();
        try (CountersFile counters = CountersFile.anonymous();
             Datapath dp = new Datapath(counters.manager(), new PortProviders(), 1);
             NetNs a = NetNs.create("vsw-alloc-a");
             NetNs b = NetNs.create("vsw-alloc-b")) {
            dp.configure(Map.of());
            dp.addBridge("br0", Map.of());
            dp.addPort(new PortSpec("br0", "alloc0", "tap", 1, null, -1, "", Map.of()));
            dp.addPort(new PortSpec("br0", "alloc1", "tap", 2, null, -1, "", Map.of()));
            a.adopt("alloc0", "10.7.0.1/24");
            b.adopt("alloc1", "10.7.0.2/24");
            forwardAMillion(dp, a, b, "alloc0", "alloc1", "a TAP");
        }
    }

    @Test
    void forwardingThroughAfXdpPortsAllocatesNothing() throws Exception {
        Sh.requireRoot();
        try (CountersFile counters = CountersFile.anonymous();
             Datapath dp = new Datapath(counters.manager(), new PortProviders(), 1);
             NetNs a = NetNs.create("vsw-alloc-a");
             NetNs b = NetNs.create("vsw-alloc-b")) {
            for (String[] v : new String[][] {{"xalloc0", "10.7.0.1/24"}, {"xalloc1", "10.7.0.2/24"}}) {
                Sh.run("ip", "link", "del", v[0]);
                Sh.run("ip", "link", "add", v[0], "type", "veth", "peer", "name", v[0] + "p").ok();
                Sh.run("ip", "link", "set", v[0], "up").ok();
            }
            a.adopt("xalloc0p", "10.7.0.1/24");
            b.adopt("xalloc1p", "10.7.0.2/24");
            a.exec("ethtool", "-K", "xalloc0p", "tx", "off").ok();
            b.exec("ethtool", "-K", "xalloc1p", "tx", "off").ok();
            dp.configure(Map.of());
            dp.addBridge("br0", Map.of());
            dp.addPort(new PortSpec("br0", "xalloc0", "afxdp", 1, null, -1, "", Map.of("xdp-mode", "generic")));
            dp.addPort(new PortSpec("br0", "xalloc1", "afxdp", 2, null, -1, "", Map.of("xdp-mode", "generic")));
            forwardAMillion(dp, a, b, "xalloc0", "xalloc1", "an AF_XDP socket");
        } finally {
            Sh.run("ip", "link", "del", "xalloc0");
            Sh.run("ip", "link", "del", "xalloc1");
        }
    }

    /** iperf3 UDP with 18-byte payloads from a to b; asserts the PMD allocates nothing over a million packets. */
    private static void forwardAMillion(Datapath dp, NetNs a, NetNs b, String inName, String outName, String what) throws Exception {
        a.exec("ping", "-c", "2", "-i", "0.2", "10.7.0.2").ok();
        Path log = Files.createTempFile("iperf3-alloc", ".log");
        Process server = b.start(log, "iperf3", "-s", "-1", "-p", "5401");
        Thread.sleep(500);
        Process client = a.start(Files.createTempFile("iperf3-alloc-c", ".log"),
                "iperf3", "-c", "10.7.0.2", "-p", "5401", "-u", "-b", "0", "-l", "18", "-t", "40");
        DpPort in = dp.view().bridge("br0").port(inName);
        long tid = dp.pmds().get(0).thread().threadId();
        try {
            // Warm-up: long enough, in packets and in time, for C2 to compile the whole loop; compiled code
            // of the path allocates nothing, interpreted or C1 code may (boxing in VarHandle calls).
            waitForRx(in, 500_000);
            Thread.sleep(3000);
            long rx0 = in.counters().rxPackets.get();
            long before = THREADS.getThreadAllocatedBytes(tid);
            waitForRx(in, rx0 + 1_000_000);
            long after = THREADS.getThreadAllocatedBytes(tid);
            long forwarded = in.counters().rxPackets.get() - rx0;
            System.out.printf("PMD forwarded %d packets from %s, allocated %d bytes%n", forwarded, what, after - before);
            assertTrue(after - before < 1024, "PMD allocated " + (after - before) + " bytes over " + forwarded + " packets");
        } finally {
            client.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            dp.deletePort("br0", inName);
            dp.deletePort("br0", outName);
        }
    }
    private static void waitForRx(DpPort port, long target) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (port.counters().rxPackets.get() < target) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + port.counters().rxPackets.get() + " of " + target + " packets arrived in 60 s");
            }
            Thread.sleep(50);
        }
    }
}
