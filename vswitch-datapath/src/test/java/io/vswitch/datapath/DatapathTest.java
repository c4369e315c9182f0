package io.vswitch.datapath;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.pmd.Pmd;
import io.vswitch.datapath.pmd.Rxq;
import io.vswitch.datapath.port.PortProviders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PMD threads and rx queue assignment, with in-memory ports. */
class DatapathTest {
    private CountersFile counters;
    private Datapath dp;
    private final MemoryPort.Provider memory = new MemoryPort.Provider();

    @BeforeEach
    void setUp() {
        counters = CountersFile.anonymous();
        PortProviders providers = new PortProviders();
        providers.register(memory);
        dp = new Datapath(counters.manager(), providers, 1);
    }

    @AfterEach
    void tearDown() {
        dp.close();
        counters.close();
    }

    private void addPort(String name) {
        dp.addPort(new PortSpec("br0", name, MemoryPort.TYPE, 0, null, -1, "", Map.of()));
    }

    /** Port names per PMD; fails if a queue is assigned to two PMDs. */
    private List<Set<String>> assignment() {
        List<Set<String>> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Pmd p : dp.pmds()) {
            Set<String> s = new HashSet<>();
            for (Rxq q : p.rxqs()) {
                assertTrue(seen.add(q.portName + "/" + q.queue), q.portName + " polled by two PMDs");
                s.add(q.portName);
            }
            out.add(s);
        }
        return out;
    }

    @Test
    void queuesAreSpreadRoundRobinAndReassignedWithoutStoppingPmds() {
        dp.configure(Map.of("pmd-cpu-mask", "0x3", "pmd-sleep-max", "100"));
        List<Pmd> pmds = dp.pmds();
        assertEquals(2, pmds.size());
        assertEquals(Set.of(0, 1), Set.of(pmds.get(0).core, pmds.get(1).core));
        dp.addBridge("br0", Map.of());
        for (String p : List.of("p1", "p2", "p3", "p4")) addPort(p);
        assertEquals(List.of(Set.of("p1", "p3"), Set.of("p2", "p4")), assignment());
        dp.deletePort("br0", "p1");
        assertEquals(List.of(Set.of("p2", "p4"), Set.of("p3")), assignment());
        addPort("p5");
        assertEquals(4, assignment().stream().mapToInt(Set::size).sum());
        assertSame(pmds.get(0).thread(), dp.pmds().get(0).thread(), "PMD threads keep running through port changes");
        assertSame(pmds.get(1).thread(), dp.pmds().get(1).thread());
        assertTrue(dp.pmds().stream().allMatch(Pmd::isRunning));
        assertTrue(dp.pmds().stream().allMatch(p -> p.sleepMaxMicros() == 100));
    }

    @Test
    void changingTheCpuMaskMovesQueuesToTheNewPmds() {
        dp.configure(Map.of("pmd-cpu-mask", "0x3"));
        dp.addBridge("br0", Map.of());
        addPort("p1");
        addPort("p2");
        dp.configure(Map.of("pmd-cpu-mask", "0x1"));
        assertEquals(1, dp.pmds().size());
        assertEquals(0, dp.pmds().get(0).core);
        assertEquals(List.of(Set.of("p1", "p2")), assignment());
    }

    /** The dataplane keeps its other threads (control, JIT, GC) off the PMD cores, as OVS-DPDK's dpdk-lcore-mask. */
    @Test
    void otherThreadsAreKeptOffThePmdCores() throws Exception {
        long[] all = io.vswitch.datapath.sys.Libc.allowedCpus();
        int last = Runtime.getRuntime().availableProcessors() - 1;   // before this thread is moved
        try {
            dp.isolatePmdCores(true);
            dp.configure(Map.of("pmd-cpu-mask", "0x2"));
            int pmdTid = dp.pmds().getFirst().tid();
            assertEquals("1", cpusAllowed(pmdTid));
            assertEquals("0", cpusAllowed(io.vswitch.datapath.sys.Libc.currentTid()), "this (non-PMD) thread");
            dp.configure(Map.of("pmd-cpu-mask", ""));          // back to the default: still the last core, not this thread's
            assertEquals(last, dp.pmds().getFirst().core);
        } finally {
            try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
                tasks.forEach(t -> {
                    try {
                        io.vswitch.datapath.sys.Libc.pinThread(Integer.parseInt(t.getFileName().toString()), all);
                    } catch (RuntimeException ignored) {
                        // ended
                    }
                });
            }
        }
    }

    private static String cpusAllowed(int tid) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) return line.substring(18).trim();
        }
        throw new AssertionError("no Cpus_allowed_list for thread " + tid);
    }

    /**
     * A port whose every poll throws (a bug met again and again, as a vhost-user ring once did): the
     * PMD tells the port after {@link Pmd#FAILURES_TO_FAULT} failures in a row and leaves the queue
     * alone for a second at a time, forwarding the other ports' traffic meanwhile; once the port
     * works again, it is polled again.
     */
    @Test
    void aQueueThatKeepsFailingIsFaultedAndRestedWhileOthersForward() throws Exception {
        dp.configure(Map.of());
        dp.addBridge("br0", Map.of());
        for (String p : List.of("p1", "p2", "p3")) addPort(p);
        MemoryPort p1 = memory.ports.get("p1"), p2 = memory.ports.get("p2"), p3 = memory.ports.get("p3");
        p1.frames(List.of(io.vswitch.datapath.flow.Frames.udp4(0x0200_0000_0003L, 0x0200_0000_0001L, 1, 3, 1, 3, 18)));
        p2.frames(List.of(io.vswitch.datapath.flow.Frames.udp4(0x0200_0000_0003L, 0x0200_0000_0002L, 2, 3, 2, 3, 18)));
        p1.failing = true;
        p1.generate = true;
        p2.generate = true;
        Rxq q1 = dp.rxqs().values().stream().filter(q -> q.portName.equals("p1")).findFirst().orElseThrow();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (p1.faults.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(1, p1.faults.get(), "the port was told once");
        assertEquals(Pmd.FAILURES_TO_FAULT, p1.failedPolls.get(), "after that many failed polls in a row");
        String rxqs = new DataplaneCommands(dp).pmdRxqShow();
        assertTrue(rxqs.matches("(?s).*port: p1 +queue-id: +0 \\(disabled\\)  pmd usage.*"), rxqs);
        assertTrue(rxqs.matches("(?s).*port: p2 +queue-id: +0 \\(enabled\\)   pmd usage.*"), rxqs);
        long forwarded = p3.txPackets.get();
        Thread.sleep(2_500);
        // Without the rest, a failing poll per PMD iteration would fault the port every 16 iterations.
        long faults = p1.faults.get();
        assertTrue(faults >= 2 && faults <= 4, "one fault per second of rest: " + faults);
        assertTrue(p1.failedPolls.get() <= Pmd.FAILURES_TO_FAULT * (faults + 1), "polls while failing: " + p1.failedPolls.get());
        assertTrue(p3.txPackets.get() > forwarded + 10_000, "p2's traffic kept flowing: " + (p3.txPackets.get() - forwarded));
        p1.failing = false;
        long received = p1.rxPackets.get();
        while (p1.rxPackets.get() == received && System.nanoTime() < deadline) Thread.sleep(5);
        assertTrue(p1.rxPackets.get() > received, "p1 is polled again once it works");
        assertTrue(!q1.paused());
    }

    @Test
    void defaultIsOnePmdOnTheLastCore() {
        dp.configure(Map.of());
        assertEquals(1, dp.pmds().size());
        assertEquals(Runtime.getRuntime().availableProcessors() - 1, dp.pmds().get(0).core);
    }

    @Test
    void badSettingsAreRefusedAndChangeNothing() {
        dp.configure(Map.of("pmd-sleep-max", "10"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("pmd-cpu-mask", "zz")))
                .getMessage().contains("use a hex CPU mask"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("pmd-cpu-mask", "0x0")))
                .getMessage().contains("selects no core"));
        assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("pmd-sleep-max", "x")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("pmd-sleep-max", "10001")))
                .getMessage().contains("from 0 to 10000"), "capped at 10 ms like OVS");
        assertEquals("10", dp.config().get("pmd-sleep-max"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("flow-limit", "-1")))
                .getMessage().contains("invalid flow-limit '-1': use a number from 0 to"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dp.configure(Map.of("max-idle", "100")))
                .getMessage().contains("use at least 500 (ms)"), "OVS's floor");
        dp.configure(Map.of("flow-limit", "0", "max-idle", "2000"));
        assertEquals("0", dp.config().get("flow-limit"));
        dp.addBridge("br0", Map.of());
        assertThrows(IllegalArgumentException.class, () -> dp.addBridge("br0", Map.of("mac-table-size", "0")));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> dp.addPort(new PortSpec("br0", "p", "nonesuch", 0, null, -1, "", Map.of())))
                .getMessage().startsWith("unknown port type 'nonesuch': supported types are"));
        addPort("p1");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> dp.addPort(new PortSpec("br0", "p1", "tap", 0, null, -1, "", Map.of())))
                .getMessage().contains("already exists with type memory"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> dp.addPort(new PortSpec("br0", "p2", MemoryPort.TYPE, 1, null, -1, "", Map.of())))
                .getMessage().contains("ofport 1 is already used by p1"));
        assertEquals(1, dp.state().ports().size());
    }
}
