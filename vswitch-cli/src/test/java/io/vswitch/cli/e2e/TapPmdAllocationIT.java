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
 * Zero allocation on the real TAP path: a PMD thread of an in-process dataplane forwards over a
 * million UDP packets (iperf3, 64-byte frames) between two network namespaces through TAP ports, and
 * its allocated bytes ({@code ThreadMXBean.getThreadAllocatedBytes}) stay flat. This covers what the
 * in-memory test cannot: the FFM read/write downcalls with errno capture.
 */
class TapPmdAllocationIT {
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
            a.exec("ping", "-c", "2", "-i", "0.2", "10.7.0.2").ok();

            Path log = Files.createTempFile("iperf3-alloc", ".log");
            Process server = b.start(log, "iperf3", "-s", "-1", "-p", "5401");
            Thread.sleep(500);
            Process client = a.start(Files.createTempFile("iperf3-alloc-c", ".log"),
                    "iperf3", "-c", "10.7.0.2", "-p", "5401", "-u", "-b", "0", "-l", "18", "-t", "40");
            DpPort in = dp.view().bridge("br0").port("alloc0");
            long tid = dp.pmds().get(0).thread().threadId();
            try {
                waitForRx(in, 200_000);                                  // warm-up
                long rx0 = in.counters().rxPackets.get();
                long before = THREADS.getThreadAllocatedBytes(tid);
                waitForRx(in, rx0 + 1_000_000);
                long after = THREADS.getThreadAllocatedBytes(tid);
                long forwarded = in.counters().rxPackets.get() - rx0;
                System.out.printf("PMD forwarded %d packets from a TAP, allocated %d bytes%n", forwarded, after - before);
                assertTrue(after - before < 1024, "PMD allocated " + (after - before) + " bytes over " + forwarded + " packets");
            } finally {
                client.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                dp.deletePort("br0", "alloc0");
                dp.deletePort("br0", "alloc1");
            }
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
