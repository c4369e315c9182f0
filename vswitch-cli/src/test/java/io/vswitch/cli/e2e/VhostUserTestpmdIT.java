package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vhost-user ports with DPDK's testpmd as the frontend (a real virtio-net driver nobody here wrote):
 * one testpmd generates 64-byte UDP frames into port A ({@code txonly}), another receives from port
 * B ({@code rxonly}); the switch floods between them (NORMAL, unknown destination). Every frame is
 * accounted for: what the generator sent is what A received; B sent or dropped each of them; what B
 * sent is what the sink received. Server mode ({@code dpdkvhostuser}) and client mode
 * ({@code dpdkvhostuserclient}), including a sink restart and a dataplane restart (kill -9), after
 * which the client ports reconnect by themselves; and packed virtqueues.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VhostUserTestpmdIT {
    private static final String GEN_MAC = "02:00:00:00:00:01";
    private static final String SINK_MAC = "02:00:00:00:00:02";
    private SwitchUnderTest sw;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();   // 2 cores here
        sw.vsctl("add-br", "br0").ok();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (sw != null) {
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
    }

    private static String vdev(String path, String mac, boolean server) {
        return "path=" + path + ",queue_size=1024,mac=" + mac + (server ? ",server=1" : "");
    }

    /** {rx packets, rx errors, rx dropped, tx packets, tx errors, tx dropped} of a port, from dpctl/show -s. */
    private long[] counters(String port) {
        String s = sw.appctl("dpctl/show", "-s").ok().out();
        Matcher m = Pattern.compile("port \\d+: " + port + " \\([^)]*\\)\\n\\s+RX packets:(\\d+) errors:(\\d+) dropped:(\\d+)\\n"
                + "\\s+TX packets:(\\d+) errors:(\\d+) dropped:(\\d+)").matcher(s);
        assertTrue(m.find(), "no counters for " + port + " in:\n" + s);
        long[] c = new long[6];
        for (int i = 0; i < 6; i++) c[i] = Long.parseLong(m.group(i + 1));
        return c;
    }

    private void awaitInterface(String port, String linkState, String status) {
        String got = "";
        for (int i = 0; i < 150; i++) {
            got = sw.vsctl("get", "Interface", port, "link_state").ok().out().trim()
                    + " " + sw.vsctl("get", "Interface", port, "status:status").ok().out().trim();
            if (got.equals(linkState + " " + status)) return;
            Sh.sleep(200);
        }
        throw new AssertionError(port + ": expected link_state " + linkState + " and status " + status + ", got " + got
                + "\n" + sw.vsctl("list", "Interface", port).out());
    }

    /** Waits until the (new) dataplane has {@code port} and it has connected once (the database may still show the old state). */
    private void awaitReconnected(String port) {
        Pattern p = Pattern.compile("port \\d+: " + port + " \\([^)]*\\)\\n(\\s+.*\\n)*?\\s+connections:1\\n");
        String s = "";
        for (int i = 0; i < 150; i++) {
            s = sw.appctl("dpctl/show", "-s").out();
            if (p.matcher(s).find()) return;
            Sh.sleep(200);
        }
        throw new AssertionError(port + " did not reconnect to its frontend:\n" + s);
    }

    /** Waits until the counters of {@code port} stop moving; returns them. */
    private long[] settled(String port) {
        long[] last = counters(port);
        for (int i = 0; i < 50; i++) {
            Sh.sleep(300);
            long[] now = counters(port);
            if (java.util.Arrays.equals(now, last)) return now;
            last = now;
        }
        throw new AssertionError(port + " counters never settled");
    }

    /** Two seconds of traffic from gen through {@code in} and {@code out} to sink; every frame accounted for. */
    private void trafficFlows(Testpmd gen, Testpmd sink, String in, String out) {
        gen.command("clear port stats all");
        sink.command("clear port stats all");
        long[] inBefore = counters(in);
        long[] outBefore = counters(out);
        sink.command("start");
        gen.command("start");
        Sh.sleep(2_000);
        gen.command("stop");
        long[] inAfter = settled(in);
        long[] outAfter = settled(out);
        Sh.sleep(300);
        long sent = gen.stats(0)[1];
        long received = sink.stats(0)[0];
        sink.command("stop");
        long inRx = inAfter[0] - inBefore[0];
        long outTx = outAfter[3] - outBefore[3];
        long outDropped = outAfter[5] - outBefore[5];
        String report = "generator sent " + sent + "; " + in + " received " + inRx + " (errors " + (inAfter[1] - inBefore[1])
                + "); " + out + " sent " + outTx + ", dropped " + outDropped + "; sink received " + received;
        System.out.println(report);
        assertTrue(sent > 10_000, report);
        assertEquals(sent, inRx, "every frame the generator sent was received: " + report);
        assertEquals(inRx, outTx + outDropped, "every frame received was sent or counted as dropped: " + report);
        assertEquals(outTx, received, "every frame sent reached the sink: " + report);
        assertTrue(received > 1_000, report);
        assertEquals(0, inAfter[1] - inBefore[1], "no receive errors: " + report);
    }

    @Test
    @Order(1)
    void serverModePortsCarryTestpmdTrafficAndEveryFrameIsCounted() {
        sw.vsctl("add-port", "br0", "vhu0", "--", "set", "Interface", "vhu0", "type=dpdkvhostuser").ok();
        sw.vsctl("add-port", "br0", "vhu1", "--", "set", "Interface", "vhu1", "type=dpdkvhostuser").ok();
        awaitInterface("vhu0", "down", "listening");
        String sock0 = sw.runDir.resolve("vhu0").toString();
        assertEquals("\"" + sock0 + "\"", sw.vsctl("get", "Interface", "vhu0", "status:socket").ok().out().trim());
        try (Testpmd sink = new Testpmd("vsw-sink", List.of(vdev(sw.runDir.resolve("vhu1").toString(), SINK_MAC, false)), "rxonly");
             Testpmd gen = new Testpmd("vsw-gen", List.of(vdev(sock0, GEN_MAC, false)), "txonly", "--eth-peer=0," + SINK_MAC)) {
            awaitInterface("vhu0", "up", "connected");
            awaitInterface("vhu1", "up", "connected");
            trafficFlows(gen, sink, "vhu0", "vhu1");
        }
        awaitInterface("vhu0", "down", "listening");
        sw.vsctl("del-port", "vhu0").ok();
        sw.vsctl("del-port", "vhu1").ok();
        assertTrue(!java.nio.file.Files.exists(sw.runDir.resolve("vhu0")), "the socket is removed with the port");
    }

    /** testpmd with two queue pairs per port: the ports grow to two rx queues, both carry traffic. */
    @Test
    @Order(2)
    void multiqueueGuestsGetOneRxQueuePerQueuePair() {
        sw.vsctl("add-port", "br0", "vhm0", "--", "set", "Interface", "vhm0", "type=dpdkvhostuser").ok();
        sw.vsctl("add-port", "br0", "vhm1", "--", "set", "Interface", "vhm1", "type=dpdkvhostuser").ok();
        String mq = ",queues=2";
        try (Testpmd sink = new Testpmd("vsw-sink", List.of(vdev(sw.runDir.resolve("vhm1").toString(), SINK_MAC, false) + mq), "rxonly",
                "--rxq=2", "--txq=2");
             Testpmd gen = new Testpmd("vsw-gen", List.of(vdev(sw.runDir.resolve("vhm0").toString(), GEN_MAC, false) + mq), "txonly",
                     "--rxq=2", "--txq=2", "--eth-peer=0," + SINK_MAC)) {
            awaitInterface("vhm0", "up", "connected");
            awaitInterface("vhm1", "up", "connected");
            Pattern queue1 = Pattern.compile("port: vhm0 +queue-id: +1 .*packets: (\\d+)");
            String rxqs = "";
            for (int i = 0; i < 50 && !queue1.matcher(rxqs = sw.appctl("dpif-netdev/pmd-rxq-show").ok().out()).find(); i++) Sh.sleep(200);
            assertTrue(queue1.matcher(rxqs).find(), "a second rx queue once the guest enables it:\n" + rxqs);
            assertEquals("\"2\"", sw.vsctl("get", "Interface", "vhm0", "status:num_negotiated_rx_queues").ok().out().trim());
            trafficFlows(gen, sink, "vhm0", "vhm1");
            String after = sw.appctl("dpif-netdev/pmd-rxq-show").ok().out();
            Matcher m = queue1.matcher(after);
            assertTrue(m.find() && Long.parseLong(m.group(1)) > 1000, "the generator's second queue carried traffic:\n" + after);
        }
        sw.vsctl("del-port", "vhm0").ok();
        sw.vsctl("del-port", "vhm1").ok();
    }

    @Test
    @Order(3)
    void clientModePortsReconnectAfterTheFrontendAndTheDataplaneRestart() throws Exception {
        String sock0 = sw.runDir.resolve("c0.sock").toString();
        String sock1 = sw.runDir.resolve("c1.sock").toString();
        sw.vsctl("add-port", "br0", "vhc0", "--", "set", "Interface", "vhc0", "type=dpdkvhostuserclient",
                "options:vhost-server-path=" + sock0).ok();
        sw.vsctl("add-port", "br0", "vhc1", "--", "set", "Interface", "vhc1", "type=dpdkvhostuserclient",
                "options:vhost-server-path=" + sock1).ok();
        awaitInterface("vhc0", "down", "connecting");
        try (Testpmd gen = new Testpmd("vsw-gen", List.of(vdev(sock0, GEN_MAC, true)), "txonly", "--eth-peer=0," + SINK_MAC)) {
            Testpmd sink = new Testpmd("vsw-sink", List.of(vdev(sock1, SINK_MAC, true)), "rxonly");
            try {
                awaitInterface("vhc0", "up", "connected");
                awaitInterface("vhc1", "up", "connected");
                trafficFlows(gen, sink, "vhc0", "vhc1");

                // The guest side restarts: the port reconnects to the new server by itself.
                sink.close();
                awaitInterface("vhc1", "down", "connecting");
                sink = new Testpmd("vsw-sink", List.of(vdev(sock1, SINK_MAC, true)), "rxonly");
                awaitInterface("vhc1", "up", "connected");
                trafficFlows(gen, sink, "vhc0", "vhc1");

                // The dataplane dies and comes back: both ports reconnect, the frontends keep running.
                Sh.run("kill", "-9", Long.toString(sw.pid("vswitch-dp"))).ok();
                sw.vswitch("start").ok();
                awaitReconnected("vhc0");
                awaitReconnected("vhc1");
                awaitInterface("vhc0", "up", "connected");
                awaitInterface("vhc1", "up", "connected");
                trafficFlows(gen, sink, "vhc0", "vhc1");
            } finally {
                sink.close();
            }
        }
    }

    /** testpmd with packed virtqueues (VIRTIO_F_RING_PACKED): the same traffic, every frame counted. */
    @Test
    @Order(4)
    void packedRingsCarryTestpmdTraffic() {
        sw.vsctl("add-port", "br0", "vhp0", "--", "set", "Interface", "vhp0", "type=dpdkvhostuser").ok();
        sw.vsctl("add-port", "br0", "vhp1", "--", "set", "Interface", "vhp1", "type=dpdkvhostuser").ok();
        String packed = ",packed_vq=1";
        try (Testpmd sink = new Testpmd("vsw-sink", List.of(vdev(sw.runDir.resolve("vhp1").toString(), SINK_MAC, false) + packed), "rxonly");
             Testpmd gen = new Testpmd("vsw-gen", List.of(vdev(sw.runDir.resolve("vhp0").toString(), GEN_MAC, false) + packed), "txonly",
                     "--eth-peer=0," + SINK_MAC)) {
            awaitInterface("vhp0", "up", "connected");
            awaitInterface("vhp1", "up", "connected");
            for (String port : List.of("vhp0", "vhp1")) {
                long features = Long.decode(sw.vsctl("get", "Interface", port, "status:features").ok().out().trim().replace("\"", ""));
                assertEquals(1L << 34, features & 1L << 34, port + " negotiated RING_PACKED");
            }
            trafficFlows(gen, sink, "vhp0", "vhp1");
            trafficFlows(gen, sink, "vhp0", "vhp1");               // the rings have wrapped many times by now
        }
        sw.vsctl("del-port", "vhp0").ok();
        sw.vsctl("del-port", "vhp1").ok();
    }

    /**
     * A port-to-port flow from the real ovs-ofctl: testpmd's bursts of one flow are exact-match hits
     * taken as runs of one flow (counted once a run, output packet by packet). Every frame reaches the
     * sink, most of them went as runs, and the flow's n_packets, as ovs-ofctl dumps it, is exactly the
     * frames the port received.
     */
    @Test
    @Order(5)
    void aPortToPortFlowCountsEveryFrameOfItsRuns() {
        sw.vsctl("add-port", "br0", "vhf0", "--", "set", "Interface", "vhf0", "type=dpdkvhostuser", "ofport_request=11").ok();
        sw.vsctl("add-port", "br0", "vhf1", "--", "set", "Interface", "vhf1", "type=dpdkvhostuser", "ofport_request=12").ok();
        String mgmt = "unix:" + sw.runDir.resolve("br0.mgmt");
        Sh.run("ovs-ofctl", "-O", "OpenFlow13", "del-flows", mgmt).ok();
        try {
            Sh.run("ovs-ofctl", "-O", "OpenFlow13", "add-flow", mgmt, "in_port=11,actions=output:12").ok();
            portToPortFlowCountsEveryFrame(mgmt);
        } finally {                                     // the bridge as the other tests expect it, pass or fail
            sw.vsctl("--if-exists", "del-port", "vhf0").ok();
            sw.vsctl("--if-exists", "del-port", "vhf1").ok();
            Sh.run("ovs-ofctl", "-O", "OpenFlow13", "add-flow", mgmt, "actions=NORMAL").ok();
        }
    }

    private void portToPortFlowCountsEveryFrame(String mgmt) {
        sw.appctl("dpif-netdev/pmd-stats-clear").ok();
        try (Testpmd sink = new Testpmd("vsw-sink", List.of(vdev(sw.runDir.resolve("vhf1").toString(), SINK_MAC, false)), "rxonly");
             Testpmd gen = new Testpmd("vsw-gen", List.of(vdev(sw.runDir.resolve("vhf0").toString(), GEN_MAC, false)), "txonly",
                     "--eth-peer=0," + SINK_MAC)) {
            awaitInterface("vhf0", "up", "connected");
            awaitInterface("vhf1", "up", "connected");
            trafficFlows(gen, sink, "vhf0", "vhf1");
        }
        long rx = counters("vhf0")[0];
        String perf = sw.appctl("dpif-netdev/pmd-perf-show").ok().out();
        Matcher runs = Pattern.compile("- in runs: +(\\d+)").matcher(perf);
        assertTrue(runs.find() && Long.parseLong(runs.group(1)) >= rx / 2, "most of the " + rx + " frames went as runs:\n" + perf);
        Pattern counted = Pattern.compile("n_packets=" + rx + ", .*in_port=11 actions=output:12");
        String[] dump = {""};
        assertTrue(Sh.within(10_000, () -> counted.matcher(dump[0] = Sh.run("ovs-ofctl", "-O", "OpenFlow13", "dump-flows", mgmt).ok().out()).find()),
                "the flow counts all " + rx + " frames:\n" + dump[0]);
    }
}
