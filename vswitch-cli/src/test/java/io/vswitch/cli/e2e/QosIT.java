package io.vswitch.cli.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QoS with real traffic: iperf3 between network namespaces behind TAP ports, configured with the
 * real ovs-vsctl (OVS's QoS recipes, as written) and checked with qos/show and the real ovs-ofctl.
 *
 * <pre>
 *   ns a: 10.10.0.1 --- qa --+
 *   ns b: 10.10.0.2 --- qb --+-- br0 (NORMAL; flows put UDP to 5201/5202 in queues 1/2)
 *   ns c: 10.10.0.3 --- qc --+
 * </pre>
 * Rates are what the receiver got (UDP payload, 1400-byte datagrams); the switch counts whole
 * frames (1442 bytes), so payload rates sit some 3 % under the configured ones.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QosIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SECONDS = 4;
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a, b, c;
    /** iperf3 clients (the common pool may have one thread on 2 cores, which would run streams one after the other). */
    private final java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newCachedThreadPool();

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();   // 2 cores: leave some to iperf3
        sw.vsctl("add-br", "br0").ok();
        for (String p : List.of("qa", "qb", "qc")) sw.vsctl("add-port", "br0", p, "--", "set", "Interface", p, "type=tap").ok();
        a = ns("vsw-qos-a", "qa", "10.10.0.1/24");
        b = ns("vsw-qos-b", "qb", "10.10.0.2/24");
        c = ns("vsw-qos-c", "qc", "10.10.0.3/24");
        sw.ofctl("add-flow", "br0", "priority=10,udp,tp_dst=5201,actions=set_queue:1,NORMAL").ok();
        sw.ofctl("add-flow", "br0", "priority=10,udp,tp_dst=5202,actions=set_queue:2,NORMAL").ok();
        assertEquals(0, a.exec("ping", "-c", "1", "-W", "5", "10.10.0.2").rc());
        assertEquals(0, c.exec("ping", "-c", "1", "-W", "5", "10.10.0.2").rc());
        assertEquals(0, c.exec("ping", "-c", "1", "-W", "5", "10.10.0.1").rc());
    }

    private NetNs ns(String name, String tap, String cidr) {
        NetNs n = NetNs.withDevice(name, tap, cidr);
        namespaces.add(n);
        return n;
    }

    @AfterAll
    void tearDown() throws Exception {
        if (sw != null) {
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
        for (NetNs n : namespaces) n.close();
        clients.shutdownNow();
    }

    private Sh.Result ovsVsctl(String... args) {
        return sw.ovsVsctl(args);
    }

    /**
     * Starts an iperf3 UDP stream of {@code mbits} Mbit/s from {@code from} to {@code to}:{@code port};
     * completes with {Mbit/s received, packets lost}, as the receiving server counted them (the
     * client's count would take datagrams still queued in the shaper when the test ends as received).
     */
    private CompletableFuture<double[]> udp(NetNs from, NetNs to, String toIp, int port, int mbits) {
        java.nio.file.Path log = sw.runDir.resolve("iperf3-s-" + port + "-" + System.nanoTime() + ".json");
        Process server = to.start(log, "iperf3", "-s", "-1", "-J", "-p", Integer.toString(port));
        Sh.sleep(500);
        return CompletableFuture.supplyAsync(() -> {       // its own thread: streams must run at the same time
            Sh.Result r = from.exec("iperf3", "-c", toIp, "-p", Integer.toString(port), "-u", "-b", mbits + "M", "-l", "1400",
                    "-t", Integer.toString(SECONDS), "-J");
            try {
                if (!server.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) server.destroyForcibly();
                String out = java.nio.file.Files.readString(log);
                JsonNode sum = JSON.readTree(out.substring(out.indexOf('{'))).path("end").path("sum");
                long got = sum.path("packets").asLong() - sum.path("lost_packets").asLong();
                return new double[] {got * 1400 * 8 / sum.path("seconds").asDouble() / 1e6, sum.path("lost_packets").asLong()};
            } catch (Exception e) {
                throw new AssertionError("iperf3 to " + toIp + ":" + port + " failed: " + r.out() + r.err(), e);
            }
        }, clients);
    }

    @Test
    @Order(1)
    void ingressPolicingHoldsThePortToItsRate() throws Exception {
        ovsVsctl("set", "interface", "qa", "ingress_policing_rate=20000", "ingress_policing_burst=2000").ok();
        double got = udp(a, b, "10.10.0.2", 5300, 60).get()[0];
        assertTrue(got > 20 * 0.9 && got < 20 * 1.1, "policed at 20 Mbit/s, received " + got);
        // Interface.statistics is refreshed every 5 s (stats-update-interval)
        assertTrue(Sh.within(15_000, () -> {
            String v = ovsVsctl("get", "interface", "qa", "statistics:ovs_rx_qos_drops").out().trim();
            return !v.isEmpty() && Long.parseLong(v) > 0;
        }), "policed drops counted in statistics:ovs_rx_qos_drops");
        ovsVsctl("set", "interface", "qa", "ingress_policing_rate=0", "ingress_policing_burst=0").ok();
        double free = udp(a, b, "10.10.0.2", 5300, 60).get()[0];
        assertTrue(free > 50, "no policing any more, received " + free);
    }

    @Test
    @Order(2)
    void shapedQueuesGetTheirMinimumAndStayUnderTheirMaximum() throws Exception {
        ovsVsctl("set", "port", "qb", "qos=@q", "--", "--id=@q", "create", "qos", "type=linux-htb", "other-config:max-rate=30000000",
                "queues:1=@q1", "queues:2=@q2",
                "--", "--id=@q1", "create", "queue", "other-config:min-rate=10000000", "other-config:max-rate=30000000",
                "--", "--id=@q2", "create", "queue", "other-config:min-rate=5000000", "other-config:max-rate=12000000").ok();
        CompletableFuture<double[]> q1 = udp(a, b, "10.10.0.2", 5201, 40);
        CompletableFuture<double[]> q2 = udp(c, b, "10.10.0.2", 5202, 40);
        double r1 = q1.get()[0], r2 = q2.get()[0];
        String show = sw.appctl("qos/show", "qb").ok().out();
        assertTrue(r1 >= 10 * 0.95, "queue 1 below its min-rate: " + r1 + "\n" + show);
        assertTrue(r2 >= 5 * 0.95 && r2 <= 12 * 1.05, "queue 2 outside 5..12 Mbit/s: " + r2 + "\n" + show);
        assertTrue(r1 + r2 <= 30 * 1.05 && r1 + r2 >= 30 * 0.85, "sum not within the parent's 30 Mbit/s: " + (r1 + r2) + "\n" + show);
        assertTrue(show.startsWith("QoS: qb linux-htb\n"), show);
        assertTrue(show.contains("\nQueue 1:\n") && show.contains("\nQueue 2:\n") && show.contains("  tx_packets: "), show);
        // OpenFlow queue statistics count what qos/show counts (the real ovs-ofctl reads them)
        String qs = Sh.run("ovs-ofctl", "-O", "OpenFlow13", "queue-stats", "unix:" + sw.runDir.resolve("br0.mgmt"), "qb").ok().out();
        assertTrue(qs.contains("queue 1: bytes=") && qs.contains("queue 2: bytes="), qs);
        // ovs-ofctl prints the error reply (and exits 0), as it does against OVS
        Sh.Result missing = Sh.run("ovs-ofctl", "-O", "OpenFlow13", "queue-stats", "unix:" + sw.runDir.resolve("br0.mgmt"), "qb", "9");
        assertTrue(missing.out().contains("OFPT_ERROR (OF1.3) (xid=0x4): OFPQOFC_BAD_QUEUE"), missing.out() + missing.err());
    }

    @Test
    @Order(3)
    void lowerPriorityNumberIsServedFirst() throws Exception {
        String q1 = ovsVsctl("get", "qos", ovsVsctl("get", "port", "qb", "qos").out().trim(), "queues:1").out().trim();
        ovsVsctl("set", "queue", q1, "other-config:min-rate=5000000", "other-config:priority=0").ok();
        String q2 = ovsVsctl("get", "qos", ovsVsctl("get", "port", "qb", "qos").out().trim(), "queues:2").out().trim();
        ovsVsctl("set", "queue", q2, "other-config:min-rate=5000000", "other-config:max-rate=30000000", "other-config:priority=1").ok();
        CompletableFuture<double[]> f1 = udp(a, b, "10.10.0.2", 5201, 40);
        CompletableFuture<double[]> f2 = udp(c, b, "10.10.0.2", 5202, 40);
        double r1 = f1.get()[0], r2 = f2.get()[0];
        assertTrue(r2 >= 5 * 0.95 && r2 < 5 * 1.4, "queue 2 should get its guarantee and little more: " + r2 + " (queue 1 " + r1 + ")");
        assertTrue(r1 >= 22, "queue 1 should get the rest of 30 Mbit/s: " + r1 + " (queue 2 " + r2 + ")");
    }

    @Test
    @Order(4)
    void changingQosUnderTrafficLosesNothingOnOtherPorts() throws Exception {
        CompletableFuture<double[]> other = udp(c, a, "10.10.0.1", 5310, 20);
        String qos = ovsVsctl("get", "port", "qb", "qos").out().trim();
        for (int i = 0; i < 6; i++) {
            ovsVsctl("set", "qos", qos, "other-config:max-rate=" + (20_000_000 + i * 1_000_000)).ok();
            Sh.sleep(300);
        }
        double[] r = other.get();
        assertEquals(0, (long) r[1], "packets lost on the unshaped path c->a while qb's QoS changed (" + r[0] + " Mbit/s)");
        assertTrue(sw.appctl("qos/show", "qb").ok().out().contains("max-rate: 25000000"));
    }

    @Test
    @Order(5)
    void invalidQosIsRefusedAndTheOldOneStays() throws Exception {
        String qos = ovsVsctl("get", "port", "qb", "qos").out().trim();
        ovsVsctl("set", "qos", qos, "type=linux-hfsc").ok();
        String error = ovsVsctl("get", "interface", "qb", "error").out().trim();
        assertTrue(error.contains("QoS type \\\"linux-hfsc\\\" is not supported"), error);
        assertTrue(sw.appctl("qos/show", "qb").ok().out().startsWith("QoS: qb linux-htb"), "the previous QoS stays");
        assertEquals(0, a.exec("ping", "-c", "1", "-W", "5", "10.10.0.2").rc(), "traffic untouched");
        ovsVsctl("set", "qos", qos, "type=linux-htb", "other-config:max-rate=-1").ok();
        assertTrue(ovsVsctl("get", "interface", "qb", "error").out().contains("max-rate"), "negative rate refused");
        ovsVsctl("clear", "port", "qb", "qos").ok();
        assertEquals("[]", ovsVsctl("get", "interface", "qb", "error").out().trim());
        assertEquals("QoS not configured on qb\n", sw.appctl("qos/show", "qb").ok().out(), "a reply, not an error, as OVS");
        Sh.Result unknown = sw.appctl("qos/show", "nonesuch");
        assertTrue(unknown.rc() != 0 && unknown.err().contains("no such interface"), unknown.err());
    }
}
