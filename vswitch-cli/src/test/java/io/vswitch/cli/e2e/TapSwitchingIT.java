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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The switch between real kernel hosts: four network namespaces, each attached to bridge br0
 * through a TAP port of the running switch (started with bin/vswitch, configured with bin/appctl).
 *
 * <pre>
 *   ns a: 10.9.0.1  --- ta (access, VLAN 10) --+
 *   ns b: 10.9.0.2  --- tb (access, VLAN 10) --+-- br0 (vswitch-dp, one PMD)
 *   ns c: 10.9.0.3  --- tc (access, VLAN 20) --+
 *   ns t: (raw)     --- tt (trunk 10,20) ------+
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TapSwitchingIT {
    private static final String A_MAC = "02:00:00:00:00:0a";
    private static final String TRUNK_HOST_MAC = "020000000044";

    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a, b, c, t;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();   // back off when idle: 2 cores here
        sw.vsctl("add-br", "br0").ok();
        addTap("ta", "tag=10");
        addTap("tb", "tag=10");
        addTap("tc", "tag=20");
        addTap("tt", "trunks=10,20");
        a = ns("vsw-e2e-a", "ta", "10.9.0.1/24");
        Sh.run("ip", "-n", a.name, "link", "set", "ta", "address", A_MAC).ok();
        b = ns("vsw-e2e-b", "tb", "10.9.0.2/24");
        c = ns("vsw-e2e-c", "tc", "10.9.0.3/24");
        t = ns("vsw-e2e-t", "tt", null);
        // The trunk host sends only the tagged frames the tests write; its kernel's own IPv6 router
        // solicitations and MLD reports (untagged: VLAN 0, not carried) would add to the trunk's drop count.
        t.exec("sysctl", "-qw", "net.ipv6.conf.tt.disable_ipv6=1").ok();
    }

    private void addTap(String name, String setting) {
        sw.vsctl("add-port", "br0", name, setting, "--", "set", "Interface", name, "type=tap").ok();
    }

    private NetNs ns(String name, String tap, String cidr) {
        NetNs n = NetNs.withDevice(name, tap, cidr);
        namespaces.add(n);
        return n;
    }

    @AfterAll
    void tearDown() throws Exception {
        if (sw != null) {
            for (String p : List.of("ta", "tb", "tc", "tt")) sw.vsctl("--if-exists", "del-port", p);
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
        namespaces.forEach(NetNs::close);
    }

    @Test
    @Order(1)
    void hostsOnTheSameVlanPingEachOther() {
        Sh.Result r = a.exec("ping", "-c", "5", "-i", "0.2", "-W", "2", "10.9.0.2");
        assertTrue(r.out().contains(" 0% packet loss"), r.out());
    }

    @Test
    @Order(2)
    void hostOnAnotherAccessVlanIsUnreachable() {
        Sh.Result r = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "1", "10.9.0.3");
        assertNotEquals(0, r.rc(), "10.9.0.3 is on VLAN 20 and must not answer: " + r.out());
        assertTrue(r.out().contains("100% packet loss"), r.out());
        String fdb = sw.appctl("fdb/show", "br0").ok().out();
        assertTrue(fdb.contains("   20  "), "ns c's address is learned on VLAN 20 only:\n" + fdb);
    }

    @Test
    @Order(3)
    void iperf3TcpThroughTheSwitch() throws Exception {
        StringBuilder attempts = new StringBuilder();
        for (int attempt = 0; attempt < 3; attempt++) {             // each attempt: a fresh server and port
            String port = Integer.toString(5201 + attempt);
            Process server = b.start(Files.createTempFile("iperf3-server", ".log"), "iperf3", "-s", "-1", "-p", port);
            try {
                Sh.Result r = null;
                for (int wait = 0; wait < 20; wait++) {
                    r = a.exec("iperf3", "-c", "10.9.0.2", "-p", port, "-t", "3", "-J");
                    if (!r.out().contains("unable to connect")) break;
                    Thread.sleep(250);                               // server not listening yet
                }
                JsonNode end = r.rc() == 0 ? new ObjectMapper().readTree(r.out()).path("end") : null;
                double mbps = end == null ? 0 : end.path("sum_received").path("bits_per_second").asDouble() / 1e6;
                if (mbps > 10) {
                    System.out.printf("iperf3 TCP a->b through vswitch: %.1f Mbit/s, %d retransmits (attempt %d)%n",
                            mbps, end.path("sum_sent").path("retransmits").asLong(), attempt + 1);
                    if (attempt > 0) System.out.println("earlier attempts:\n" + attempts);
                    return;
                }
                attempts.append("attempt ").append(attempt + 1).append(": rc ").append(r.rc()).append(", ")
                        .append(mbps).append(" Mbit/s\n").append(r.out()).append(r.err()).append('\n');
            } finally {
                server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        throw new AssertionError("TCP through the switch failed 3 times:\n" + attempts);
    }

    /** A tagged frame from the trunk reaches its VLAN's access port; the answer leaves the trunk tagged. */
    @Test
    @Order(4)
    void trunkPortCarriesTaggedFrames() throws Exception {
        Path capture = Files.createTempFile("tshark", ".txt");
        Process tshark = t.start(capture, "tshark", "-l", "-n", "-i", "tt", "-a", "duration:15", "-c", "2",
                "-f", "vlan and arp[6:2] == 2", "-T", "fields", "-e", "vlan.id", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.hw_mac");
        waitFor(capture, "Capturing on", 15);
        String resources = Path.of("src/test/resources/send_frames.py").toAbsolutePath().toString();
        t.exec("python3", resources, "tt", arpRequest(10, "0a090004", "0a090001"), arpRequest(20, "0a090004", "0a090003")).ok();
        assertTrue(tshark.waitFor(20, TimeUnit.SECONDS), "tshark did not finish");
        String lines = Files.readString(capture);
        assertTrue(lines.contains("10\t10.9.0.1\t02:00:00:00:00:44"), "ns a's ARP reply leaves the trunk tagged with VLAN 10:\n" + lines);
        assertTrue(lines.contains("20\t10.9.0.3\t02:00:00:00:00:44"), "ns c's ARP reply leaves the trunk tagged with VLAN 20:\n" + lines);
        String fdb = sw.appctl("fdb/show", "br0").ok().out();
        assertTrue(fdb.matches("(?s).*\\s4\\s+10\\s+02:00:00:00:00:44.*") && fdb.matches("(?s).*\\s4\\s+20\\s+02:00:00:00:00:44.*"),
                "the trunk host is learned on port 4 in both VLANs:\n" + fdb);
    }

    @Test
    @Order(5)
    void trunkDropsAndCountsVlansItDoesNotCarry() {
        long before = rxDropped("tt");
        t.exec("python3", Path.of("src/test/resources/send_frames.py").toAbsolutePath().toString(), "tt",
                arpRequest(30, "0a090004", "0a090001"), arpRequest(30, "0a090004", "0a090002")).ok();
        long after = before;
        for (int i = 0; i < 50 && after < before + 2; i++) {
            Sh.sleep(100);
            after = rxDropped("tt");
        }
        assertEquals(before + 2, after, "VLAN 30 frames on a trunks=10,20 port are dropped and counted");
    }

    /** The bridge's internal port (ofport LOCAL) is a host interface like any other. */
    @Test
    @Order(6)
    void internalPortCarriesHostTraffic() {
        sw.vsctl("set", "Port", "br0", "tag=10").ok();
        ns("vsw-e2e-l", "br0", "10.9.0.100/24");
        Sh.Result r = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.9.0.100");
        assertTrue(r.out().contains(" 0% packet loss"), r.out());
        String fdb = sw.appctl("fdb/show", "br0").ok().out();
        assertTrue(fdb.matches("(?s).*LOCAL\\s+10\\s+.*"), "the internal port's MAC is learned as LOCAL:\n" + fdb);
    }

    @Test
    @Order(7)
    void fdbShowPrintsLearnedAddressesLikeOvs() {
        a.exec("ping", "-c", "1", "-W", "1", "10.9.0.2").ok();
        String fdb = sw.appctl("fdb/show", "br0").ok().out();
        assertTrue(fdb.startsWith(" port  VLAN  MAC                Age\n"), fdb);
        assertTrue(fdb.matches("(?s).*\\n\\s+1\\s+10\\s+" + A_MAC + "\\s+\\d+\\n.*"), fdb);
    }

    /** Counters come straight from the dataplane's counters file, without asking any process. */
    @Test
    @Order(8)
    void vswitchStatReadsTheCountersFile() {
        Sh.Result r = Sh.run(java.util.Map.of("VSWITCH_RUNDIR", sw.runDir.toString()), java.time.Duration.ofSeconds(60),
                Sh.HOME.resolve("bin/vswitch-stat").toString(), "br0 ta ").ok();
        Matcher m = Pattern.compile("br0 ta rx_packets\\s+(\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Long.parseLong(m.group(1)) > 5, r.out());
        assertTrue(r.out().contains("br0 ta tx_bytes"), r.out());
    }

    /** The real ovs-appctl (Debian openvswitch-common) speaks to both processes' unixctl sockets. */
    @Test
    @Order(8)
    void realOvsAppctlWorksAgainstOurSockets() {
        String fdb = Sh.run("ovs-appctl", "-t", sw.runDir.resolve("vswitchd.ctl").toString(), "fdb/show", "br0").ok().out();
        assertTrue(fdb.startsWith(" port  VLAN  MAC                Age\n") && fdb.contains(A_MAC), fdb);
        String rxq = Sh.run("ovs-appctl", "-t", sw.runDir.resolve("vswitch-dp.ctl").toString(), "dpif-netdev/pmd-rxq-show").ok().out();
        assertTrue(rxq.contains("port: ta ") && rxq.contains("port: tt "), rxq);
        Sh.Result err = Sh.run("ovs-appctl", "-t", sw.runDir.resolve("vswitchd.ctl").toString(), "fdb/show", "nobr");
        assertEquals(2, err.rc(), "ovs-appctl's own exit code for a server error");
        assertTrue(err.err().contains("no such bridge"), err.err());
    }

    /**
     * Bad commands get a clear error and change nothing; what only the dataplane can refuse is reported
     * where OVS reports it: {@code Interface.error} for a port, the log for datapath-wide settings.
     */
    @Test
    @Order(9)
    void badCommandsGiveAClearErrorAndChangeNothing() throws Exception {
        String before = sw.vsctl("show").ok().out();
        Sh.Result r = sw.appctl("no-such-command");
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("\"no-such-command\" is not a valid command"), r.err());
        r = sw.vsctl("add-port", "nobr", "tx");
        assertEquals(1, r.rc());
        assertEquals("vsctl: no bridge named nobr\n", r.err());
        r = sw.vsctl("add-port", "br0", "tx", "tag=5000");
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("constraint violation") && r.err().contains("5000"), r.err());
        r = sw.appctl("-t", "vswitch-dp", "fdb/show", "nobr");
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("no such bridge"), r.err());
        assertEquals(before, sw.vsctl("show").ok().out(), "refused commands leave the configuration as it was");

        // Accepted by the database, refused by the dataplane: the rows stay, Interface.error says why.
        sw.vsctl("add-port", "br0", "tx", "--", "set", "Interface", "tx", "type=bogus").ok();
        assertTrue(sw.vsctl("get", "Interface", "tx", "error").ok().out().contains("unknown port type 'bogus': supported types are"));
        assertEquals("-1\n", sw.vsctl("get", "Interface", "tx", "ofport").ok().out());
        sw.vsctl("add-port", "br0", "a-name-far-too-long", "--", "set", "Interface", "a-name-far-too-long", "type=tap").ok();
        assertTrue(sw.vsctl("get", "Interface", "a-name-far-too-long", "error").ok().out().contains("invalid interface name"));
        assertTrue(sw.appctl("-t", "vswitch-dp", "dpif/show").ok().out().lines().noneMatch(l -> l.contains(" tx ") || l.contains("far-too")),
                "nothing half-made in the dataplane");
        sw.vsctl("del-port", "tx", "--", "del-port", "a-name-far-too-long").ok();

        // A datapath-wide setting the dataplane refuses is logged; the running one stays.
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-cpu-mask=0x100").ok();
        assertTrue(sw.log("vswitchd").contains("core 8 does not exist or is not allowed"), sw.log("vswitchd"));
        assertTrue(sw.appctl("-t", "vswitch-dp", "dpif-netdev/pmd-rxq-show").ok().out().contains("port: ta "), "PMDs still poll");
        sw.vsctl("remove", "Open_vSwitch", ".", "other_config", "pmd-cpu-mask").ok();
        assertEquals(before, sw.vsctl("show").ok().out());
    }

    /** The control process dies (-9) under a ping flood: the dataplane forwards on, losing nothing. */
    @Test
    @Order(10)
    void killingVswitchdUnderTrafficLosesNothing() throws Exception {
        Path log = Files.createTempFile("ping-flood", ".log");
        Process ping = a.start(log, "ping", "-i", "0.002", "-c", "2500", "-W", "1", "10.9.0.2");
        Sh.sleep(1000);
        long vswitchd = sw.pid("vswitchd");
        long dpPid = sw.pid("vswitch-dp");
        Sh.run("kill", "-9", Long.toString(vswitchd)).ok();
        Sh.sleep(1500);
        assertTrue(sw.vswitch("status").out().contains("vswitchd is not running"));
        sw.vswitch("start").ok();                      // starts only the missing vswitchd
        assertEquals(dpPid, sw.pid("vswitch-dp"), "the dataplane was not restarted");
        assertTrue(ping.waitFor(60, TimeUnit.SECONDS), "ping finished");
        String out = Files.readString(log);
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(out);
        assertTrue(m.find(), out);
        assertEquals("2500", m.group(1), out);
        assertEquals(m.group(1), m.group(2), "no packet lost while vswitchd was down and restarted:\n" + out);
        assertTrue(sw.log("vswitchd").contains("0 change(s) to resynchronise"),
                "the restarted vswitchd found the dataplane already in sync:\n" + sw.log("vswitchd"));
        assertTrue(sw.vsctl("show").ok().out().contains("Port tt"));
    }

    /** The dataplane dies: a new one is re-programmed from the database by the running vswitchd. */
    @Test
    @Order(11)
    void restartedDataplaneIsReprogrammed() throws Exception {
        Sh.run("kill", "-9", Long.toString(sw.pid("vswitch-dp"))).ok();
        Sh.sleep(500);
        // The TAP devices died with the dataplane's fds; bin/vswitch start brings up a new dataplane
        // and vswitchd re-creates every port. The test re-attaches the new devices to its hosts.
        sw.vswitch("start").ok();
        String dpif = "";
        for (int i = 0; i < 100 && !dpif.contains("tt "); i++) {
            Sh.sleep(100);
            dpif = sw.appctl("-t", "vswitch-dp", "dpif/show").out();
        }
        assertTrue(dpif.contains("ta 1/") && dpif.contains("tt 4/"), dpif);
        a.close();
        b.close();
        namespaces.remove(a);
        namespaces.remove(b);
        a = ns("vsw-e2e-a", "ta", "10.9.0.1/24");
        b = ns("vsw-e2e-b", "tb", "10.9.0.2/24");
        Sh.Result r = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.9.0.2");
        assertTrue(r.out().contains(" 0% packet loss"), r.out());
    }

    private long rxDropped(String port) {
        String stats = sw.appctl("-t", "vswitch-dp", "dpctl/show", "-s").ok().out();
        Matcher m = Pattern.compile(": " + port + " \\(tap\\)\\n\\s+RX packets:\\d+ errors:\\d+ dropped:(\\d+)").matcher(stats);
        assertTrue(m.find(), stats);
        return Long.parseLong(m.group(1));
    }

    /** A VLAN-tagged ARP request from the trunk host (02:00:00:00:00:44), as hex. */
    private static String arpRequest(int vlan, String senderIpHex, String targetIpHex) {
        String frame = "ffffffffffff" + TRUNK_HOST_MAC + "8100" + String.format("%04x", vlan) + "0806"
                + "0001" + "0800" + "06" + "04" + "0001" + TRUNK_HOST_MAC + senderIpHex + "000000000000" + targetIpHex;
        return frame + "00".repeat(Math.max(0, 64 - frame.length() / 2));
    }

    private static void waitFor(Path file, String text, int seconds) throws Exception {
        for (int i = 0; i < seconds * 10; i++) {
            if (Files.readString(file).contains(text)) return;
            Thread.sleep(100);
        }
        throw new AssertionError("'" + text + "' did not appear in " + file + ":\n" + Files.readString(file));
    }
}
