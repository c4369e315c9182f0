package io.vswitch.cli.e2e;

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
import java.util.concurrent.TimeUnit;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flows installed with the real ovs-ofctl steer real traffic between network namespaces:
 *
 * <pre>
 *   ns a: 10.12.0.1 --- of1 (1) --+
 *   ns b: 10.12.0.2 --- of2 (2) --+-- brt
 *   ns c: 10.12.0.3 --- of3 (3) --+      (c also captures with tshark)
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenFlowTrafficIT {
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a, b, c;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();
        sw.vsctl("add-br", "brt").ok();
        for (int p = 1; p <= 3; p++) {
            sw.vsctl("add-port", "brt", "of" + p, "--", "set", "Interface", "of" + p, "type=tap", "ofport_request=" + p).ok();
        }
        a = ns("vsw-of-a", "of1", "10.12.0.1/24");
        b = ns("vsw-of-b", "of2", "10.12.0.2/24");
        c = ns("vsw-of-c", "of3", "10.12.0.3/24");
        // No IPv6 chatter (router solicitations, MLD reports) from the hosts: the cache test counts the
        // upcalls of a ping exactly, and one such packet from c or the bridge's own port made it 3 (CI).
        for (NetNs n : namespaces) n.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").ok();
        // The bridge's internal port appears when the dataplane has made its TAP device: wait for it.
        assertTrue(Sh.within(10_000, () -> Sh.run("sysctl", "-qw", "net.ipv6.conf.brt.disable_ipv6=1").rc() == 0),
                "brt's TAP device did not appear within 10 s");
    }

    private NetNs ns(String name, String dev, String cidr) {
        NetNs n = NetNs.withDevice(name, dev, cidr);
        namespaces.add(n);
        return n;
    }

    @AfterAll
    void tearDown() {
        if (sw != null) sw.close();
        namespaces.forEach(NetNs::close);
    }

    /** The OpenFlow version ovs-ofctl speaks ({@code -O}). */
    private String protocol = "OpenFlow13";

    private Sh.Result ofctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ovs-ofctl", "-O", protocol, args[0], "unix:" + sw.runDir.resolve("brt.mgmt")));
        cmd.addAll(List.of(args).subList(1, args.length));
        return Sh.run(cmd.toArray(new String[0])).ok();
    }

    /** Whether, within 10 s, a ping's packets come to hit the exact-match cache ({@code some}) or only the megaflows (not {@code some}). */
    private boolean emcHits(boolean some) {
        return Sh.within(10_000, () -> {
            sw.appctl("dpif-netdev/pmd-stats-clear").ok();
            reaches(a, "10.12.0.2");
            String s = sw.appctl("dpif-netdev/pmd-stats-show").ok().out();
            return s.contains("  emc hits: 0\n") != some && (some || !s.contains("  megaflow hits: 0\n"));
        });
    }

    /** Pings {@code to} from {@code from} until it answers (the tables reach the dataplane asynchronously) or 5 s pass. */
    private static boolean reaches(NetNs from, String to) {
        for (int i = 0; i < 10; i++) {
            if (from.exec("ping", "-c", "1", "-W", "1", to).out().contains(" 0% packet loss")) return true;
        }
        return false;
    }

    /** After the tables changed, pings that must fail: give the change a moment, then expect loss. */
    private static boolean blocked(NetNs from, String to) throws InterruptedException {
        Thread.sleep(1500);
        return from.exec("ping", "-c", "3", "-i", "0.2", "-W", "1", to).out().contains("100% packet loss");
    }

    private String flows() {
        return ofctl("dump-flows").out();
    }

    @Test
    @Order(1)
    void theDefaultFlowIsNormal() {
        assertTrue(flows().contains("priority=0 actions=NORMAL"), flows());
        assertTrue(reaches(a, "10.12.0.2"), "NORMAL between a and b");
    }

    @Test
    @Order(2)
    void aDropFlowStopsIcmpAndItsRemovalRestoresIt() throws Exception {
        ofctl("add-flow", "priority=100,icmp,actions=drop");
        assertTrue(blocked(a, "10.12.0.2"), "icmp dropped by the flow");
        ofctl("del-flows", "icmp");
        assertTrue(reaches(a, "10.12.0.2"), "icmp forwarded again after del-flows");
    }

    @Test
    @Order(3)
    void withoutFlowsEverythingIsDroppedAndPortFlowsSteerTraffic() throws Exception {
        ofctl("del-flows");
        assertTrue(blocked(a, "10.12.0.2"), "no flows: table miss drops");
        ofctl("add-flow", "in_port=1,actions=output:2");
        ofctl("add-flow", "in_port=2,actions=output:1");
        assertTrue(reaches(a, "10.12.0.2"), "a and b joined by two flows");
        assertTrue(blocked(c, "10.12.0.1"), "c has no flow");
        // The dataplane's per-rule counters reach dump-flows with the next state dump (every 2 s).
        String f = "";
        for (int i = 0; i < 50 && !(f = flows()).matches("(?s).*n_packets=[1-9][0-9]*, n_bytes=[1-9][0-9]*, in_port=1 actions=output:2.*"); i++) {
            Thread.sleep(200);
        }
        assertTrue(f.matches("(?s).*n_packets=[1-9][0-9]*, n_bytes=[1-9][0-9]*, in_port=1 actions=output:2.*"), "counted:\n" + f);
    }

    /**
     * One flow tags a's frames with VLAN 100 for c (tshark in c sees the tag), then pops the tag and
     * sends them on to b, which answers only if the frame it got is untagged again.
     */
    @Test
    @Order(4)
    void pushAndPopVlanThroughFlows() throws Exception {
        ofctl("del-flows");
        ofctl("add-flow", "in_port=1,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:3,pop_vlan,output:2");
        ofctl("add-flow", "in_port=2,actions=output:1");
        Path capture = Files.createTempFile("tshark", ".txt");
        Process tshark = c.start(capture, "tshark", "-l", "-n", "-i", "of3", "-a", "duration:20", "-c", "1",
                "-f", "vlan 100 and icmp", "-T", "fields", "-e", "vlan.id", "-e", "ip.dst");
        for (int i = 0; i < 100 && !Files.readString(capture).contains("Capturing on"); i++) Thread.sleep(100);
        // add-flow returns when the flow is in the tables; the dataplane has it a moment later
        for (int i = 0; i < 20 && tshark.isAlive(); i++) a.exec("ping", "-c", "1", "-W", "1", "10.12.0.2");
        assertTrue(tshark.waitFor(25, TimeUnit.SECONDS), "tshark did not finish");
        assertTrue(reaches(a, "10.12.0.2"), "b got untagged frames after pop_vlan:\n" + flows());
        String lines = Files.readString(capture);
        assertTrue(lines.contains("100\t10.12.0.2"), "c saw a's ping tagged with VLAN 100:\n" + lines);
    }

    /**
     * QinQ: a's frames get a C-tag (0x8100, VID 200) and then an S-tag (0x88a8, VID 100) on their way
     * to c, where tshark sees both; b gets them with both tags popped again.
     */
    @Test
    @Order(4)
    void qinqThroughFlows() throws Exception {
        ofctl("del-flows");
        ofctl("add-flow", "in_port=1,actions=push_vlan:0x8100,set_field:4296->vlan_vid,push_vlan:0x88a8,set_field:4196->vlan_vid,"
                + "output:3,pop_vlan,pop_vlan,output:2");
        ofctl("add-flow", "in_port=2,actions=output:1");
        Path capture = Files.createTempFile("tshark", ".txt");
        Process tshark = c.start(capture, "tshark", "-l", "-n", "-i", "of3", "-a", "duration:20", "-c", "1",
                "-f", "vlan 100 and vlan 200 and icmp", "-T", "fields", "-e", "eth.type", "-e", "ieee8021ad.id", "-e", "vlan.id", "-e", "ip.dst");
        for (int i = 0; i < 100 && !Files.readString(capture).contains("Capturing on"); i++) Thread.sleep(100);
        for (int i = 0; i < 20 && tshark.isAlive(); i++) a.exec("ping", "-c", "1", "-W", "1", "10.12.0.2");
        assertTrue(tshark.waitFor(25, TimeUnit.SECONDS), "tshark did not finish");
        assertTrue(reaches(a, "10.12.0.2"), "b got untagged frames after two pop_vlans:\n" + flows());
        String lines = Files.readString(capture);
        assertTrue(lines.contains("0x88a8\t100\t200\t10.12.0.2"), "c saw S-tag (802.1ad) 100 over C-tag 200:\n" + lines);
    }

    /** Multi-table: table 0 marks metadata by input port and continues; table 1 forwards on it. */
    @Test
    @Order(5)
    void gotoTableAndMetadata() throws Exception {
        ofctl("del-flows");
        ofctl("add-flow", "table=0,in_port=1,actions=write_metadata:0x1,goto_table:1");
        ofctl("add-flow", "table=0,in_port=2,actions=write_metadata:0x2,goto_table:1");
        ofctl("add-flow", "table=1,metadata=0x1,actions=output:2");
        ofctl("add-flow", "table=1,metadata=0x2,actions=output:1");
        assertTrue(reaches(a, "10.12.0.2"), "through two tables:\n" + flows());
        // The caches: after del-flows the first packet each way runs both tables (an upcall: 2 lookups, one mask per
        // table, one probe per lookup) and installs a megaflow; the next packets are answered from the caches.
        // Counters cleared first: a stray packet (ARP, a late reply) between the two commands is then
        // counted as the upcall it is, instead of installing a megaflow unseen (it did, once in CI).
        sw.appctl("dpif-netdev/pmd-stats-clear").ok();
        sw.appctl("dpctl/del-flows").ok();
        a.exec("ping", "-c", "3", "-i", "0.2", "10.12.0.2");
        String perf = sw.appctl("dpif-netdev/pmd-perf-show").ok().out();
        java.util.regex.Matcher passes = java.util.regex.Pattern.compile("OpenFlow tables: +(\\d+)").matcher(perf);
        java.util.regex.Matcher hits = java.util.regex.Pattern.compile("EMC hits: +(\\d+)(?s).*Megaflow hits: +(\\d+)").matcher(perf);
        java.util.regex.Matcher upcalls = java.util.regex.Pattern.compile(
                "Upcalls: +(\\d+) +\\( *[0-9.]+ %, ([0-9.]+) table lookups/upcall, ([0-9.]+) subtbl lookups/lookup\\)").matcher(perf);
        assertTrue(passes.find() && Long.parseLong(passes.group(1)) >= 6 && hits.find()
                && Long.parseLong(hits.group(1)) + Long.parseLong(hits.group(2)) >= 3 && upcalls.find() && Long.parseLong(upcalls.group(1)) >= 2
                && upcalls.group(2).equals("2.00") && upcalls.group(3).equals("1.00") && perf.contains("Measurement duration: "), perf);
        // dump-flows: a megaflow per direction, matching only what the tables looked at (in_port; metadata is written by them)
        String dp = sw.appctl("dpctl/show").ok().out();
        String of1 = dpPort(dp, "of1"), of2 = dpPort(dp, "of2");
        String dump = sw.appctl("dpctl/dump-flows").ok().out();
        assertTrue(dump.startsWith("flow-dump from pmd on cpu core: ") && java.util.regex.Pattern.compile(
                "recirc_id\\(0\\),in_port\\(" + of1 + "\\),packet_type\\(ns=0,id=0\\), packets:[1-9][0-9]*, bytes:[0-9]+, used:[0-9.]+s, actions:" + of2 + "\n")
                .matcher(dump).find() && dump.contains("in_port(" + of2 + "),packet_type(ns=0,id=0), packets:"), dp + dump);
        // flow-limit=0 through the real ovs-vsctl turns the caches off: every pass runs the tables, nothing is installed
        sw.ovsVsctl("set", "Open_vSwitch", ".", "other_config:flow-limit=0").ok();
        assertTrue(Sh.within(10_000, () -> sw.appctl("dpctl/dump-flows").ok().out().isEmpty()), sw.appctl("dpctl/dump-flows").out());
        sw.appctl("dpif-netdev/pmd-stats-clear").ok();
        assertTrue(reaches(a, "10.12.0.2"), "through two tables without caches:\n" + flows());
        String off = sw.appctl("dpif-netdev/pmd-stats-show").ok().out();
        assertTrue(off.contains("  emc hits: 0\n") && off.contains("  megaflow hits: 0\n")
                && !off.contains("  miss with success upcall: 0\n") && sw.appctl("dpctl/dump-flows").ok().out().isEmpty(), off);
        sw.ovsVsctl("remove", "Open_vSwitch", ".", "other_config", "flow-limit").ok();
        // emc-insert-inv-prob through ovs-vsctl: 1 puts every flow into the exact-match cache at once,
        // 0 keeps it out (megaflow hits only)
        sw.ovsVsctl("set", "Open_vSwitch", ".", "other_config:emc-insert-inv-prob=1").ok();
        assertTrue(emcHits(true), sw.appctl("dpif-netdev/pmd-stats-show").out());
        sw.ovsVsctl("set", "Open_vSwitch", ".", "other_config:emc-insert-inv-prob=0").ok();
        assertTrue(emcHits(false), sw.appctl("dpif-netdev/pmd-stats-show").out());
        sw.ovsVsctl("remove", "Open_vSwitch", ".", "other_config", "emc-insert-inv-prob").ok();
        assertTrue(sw.appctl("dpctl/dump-flows", "--bogus").err().contains("unknown option '--bogus'"), "a bad option is named");
        String trace = sw.appctl("ofproto/trace", "brt", "icmp,in_port=1,nw_dst=10.12.0.2").ok().out();
        assertTrue(trace.contains(" 0. in_port=1, priority 32768\n    write_metadata:0x1\n    goto_table:1\n")
                && trace.contains(" 1. metadata=0x1, priority 32768\n    output:2\n") && trace.endsWith("Datapath actions: 2\n"), trace);
        // The PMDs count each table's lookups and matches; dump-tables shows them (refreshed every 2 s).
        java.util.regex.Pattern counted = java.util.regex.Pattern.compile("(?s).*table 1:\\s+active=2, lookup=[1-9][0-9]*, matched=[1-9][0-9]*.*");
        assertTrue(Sh.within(6_000, () -> counted.matcher(ofctl("dump-tables").out()).matches()), ofctl("dump-tables").out());
    }

    /**
     * Address rewriting with checksums the receiving kernels accept: a pings 10.12.0.99, which
     * exists only as flows that turn it into b (10.12.0.2) on the way out and back into .99 on the
     * way back; dec_ttl on the way out.
     */
    @Test
    @Order(6)
    void ipRewriteAndDecTtlReachAHostThroughAnAddressThatDoesNotExist() throws Exception {
        ofctl("del-flows");
        String bMac = b.exec("cat", "/sys/class/net/of2/address").ok().out().trim();
        a.exec("ip", "neigh", "replace", "10.12.0.99", "lladdr", bMac, "dev", "of1").ok();
        ofctl("add-flow", "priority=10,arp,actions=NORMAL");
        ofctl("add-flow", "priority=20,in_port=1,ip,nw_dst=10.12.0.99,actions=set_field:10.12.0.2->ip_dst,dec_ttl,output:2");
        ofctl("add-flow", "priority=20,in_port=2,ip,nw_src=10.12.0.2,actions=set_field:10.12.0.99->ip_src,output:1");
        assertTrue(reaches(a, "10.12.0.99"), "the answer comes from .99:\n" + flows());
        Sh.Result r = a.exec("ping", "-c", "1", "-W", "2", "10.12.0.99");
        assertTrue(r.out().contains("from 10.12.0.99") && r.out().contains("ttl=64"), r.out());
    }

    /**
     * The real ovs-ofctl's packet-out puts a frame on a port (tshark in c sees it), and its monitor
     * receives the packet-ins of a flow's output to CONTROLLER.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow10", "OpenFlow13", "OpenFlow15"})   // each says in_port its own way
    @Order(7)
    void packetOutAndMonitorWithTheRealOvsOfctl(String version) throws Exception {
        protocol = version;
        try {
            packetOutAndMonitor(version);
        } finally {
            protocol = "OpenFlow13";
        }
    }

    private void packetOutAndMonitor(String version) throws Exception {
        ofctl("del-flows");
        Path capture = Files.createTempFile("tshark", ".txt");
        Process tshark = c.start(capture, "tshark", "-l", "-n", "-i", "of3", "-a", "duration:20", "-c", "1",
                "-f", "ether proto 0x88b5", "-T", "fields", "-e", "eth.src", "-e", "eth.type");
        for (int i = 0; i < 100 && !Files.readString(capture).contains("Capturing on"); i++) Thread.sleep(100);
        String frame = "ffffffffffff0200000000aa88b5" + "00".repeat(46);
        // tshark prints "Capturing on" a moment before it captures: send until it has seen one (it stops at the first)
        for (int i = 0; i < 5 && tshark.isAlive(); i++) {
            ofctl("packet-out", "in_port=controller packet=" + frame + " actions=output:3");
            tshark.waitFor(3, TimeUnit.SECONDS);
        }
        assertTrue(tshark.waitFor(25, TimeUnit.SECONDS), "tshark did not finish");
        assertTrue(Files.readString(capture).contains("02:00:00:00:00:aa\t0x88b5"), "c got the packet-out:\n" + Files.readString(capture));

        ofctl("add-flow", "priority=50,icmp,in_port=1,cookie=0x7,actions=controller:200,output:2");
        ofctl("add-flow", "priority=0,actions=NORMAL");
        Path monitorLog = Files.createTempFile("monitor", ".txt");
        Process monitor = Sh.start(monitorLog, "ovs-ofctl", "-O", version,
                "--unixctl=" + sw.runDir.resolve("ofctl-monitor.ctl"), "monitor", "unix:" + sw.runDir.resolve("brt.mgmt"), "65534");
        try {
            String expect = "total_len=98 in_port=1 (via action) data_len=98 (unbuffered)";
            for (int i = 0; i < 20 && !Files.readString(monitorLog).contains(expect); i++) a.exec("ping", "-c", "1", "-W", "1", "10.12.0.2");
            String seen = Files.readString(monitorLog);
            boolean v10 = version.equals("OpenFlow10");                    // 1.0's packet-in has neither version tag nor cookie
            assertTrue(seen.contains(v10 ? "OFPT_PACKET_IN (xid=" : "OFPT_PACKET_IN (OF1." + version.charAt(9) + ")")
                    && seen.contains((v10 ? "" : "cookie=0x7 ") + expect), "the monitor got the pings:\n" + seen);
            assertTrue(reaches(a, "10.12.0.2"), "the flow also forwards them");
        } finally {
            monitor.destroyForcibly();
        }
    }

    /**
     * A 20 Mbit/s meter on UDP from a to b: iperf3 offers 50 Mbit/s and b receives the meter's rate
     * within 10 % (the meter counts Ethernet frames, iperf3 its UDP payload: 1400 of 1442 bytes).
     */
    @Test
    @Order(8)
    void aMeterLimitsUdpToItsRate() throws Exception {
        ofctl("del-flows");
        ofctl("add-meter", "meter=1,kbps,burst,band=type=drop,rate=20000,burst_size=1000");
        ofctl("add-flow", "priority=10,udp,in_port=1,actions=meter:1,output:2");
        ofctl("add-flow", "priority=0,actions=NORMAL");
        Path serverLog = Files.createTempFile("iperf3", ".json");
        Process server = b.start(serverLog, "iperf3", "-s", "-1", "-J");
        try {
            Thread.sleep(500);
            a.exec("iperf3", "-c", "10.12.0.2", "-u", "-b", "50M", "-l", "1400", "-t", "5").ok();
            assertTrue(server.waitFor(15, TimeUnit.SECONDS), "iperf3 server finished");
        } finally {
            server.destroyForcibly();
        }
        String json = Files.readString(serverLog);
        java.util.regex.Matcher end = java.util.regex.Pattern.compile("\"end\":\\s*\\{").matcher(json);
        int summary = -1;
        while (end.find()) summary = end.end();                      // the last "end": { is the summary
        assertTrue(summary > 0, json);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)")
                .matcher(json.substring(summary));
        assertTrue(m.find(), json);
        double mbps = Double.parseDouble(m.group(1)) / 1e6;
        double expected = 20.0 * 1400 / 1442;
        assertTrue(Math.abs(mbps - expected) <= expected * 0.10, "received " + mbps + " Mbit/s, the meter allows " + expected);
        String stats = ofctl("meter-stats").out();
        assertTrue(stats.matches("(?s).*meter:1 flow_count:1 packet_in_count:[1-9][0-9]* .*0: packet_count:[1-9][0-9]* .*"), "the drop band counted:\n" + stats);
        ofctl("del-meters");
    }

    /** A select group over b's and c's ports spreads 32 UDP flows from a over both buckets. */
    @Test
    @Order(9)
    void aSelectGroupSpreadsFlows() throws Exception {
        ofctl("del-flows");
        ofctl("add-group", "group_id=1,type=select,bucket=output:2,bucket=output:3");
        ofctl("add-flow", "priority=10,udp,in_port=1,actions=group:1");
        ofctl("add-flow", "priority=0,actions=NORMAL");
        String bMac = b.exec("cat", "/sys/class/net/of2/address").ok().out().trim();
        a.exec("ip", "neigh", "replace", "10.12.0.2", "lladdr", bMac, "dev", "of1").ok();
        Thread.sleep(300);
        a.exec("python3", "-c", "import socket\nfor p in range(40000, 40032):\n"
                + "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.12.0.1', p)); s.sendto(b'x', ('10.12.0.2', 9)); s.close()").ok();
        String stats = "";
        java.util.regex.Pattern spread = java.util.regex.Pattern.compile(
                "packet_count=32,.*bucket0:packet_count=([1-9][0-9]*),.*bucket1:packet_count=([1-9][0-9]*),");
        for (int i = 0; i < 30 && !spread.matcher(stats = ofctl("dump-group-stats").out()).find(); i++) Thread.sleep(200);
        assertTrue(spread.matcher(stats).find(), "32 flows over both buckets (counters every 2 s):\n" + stats);
        ofctl("del-groups");
    }

    /** ovs-ofctl mod-port takes b's port down (NORMAL stops reaching it) and up again. */
    @Test
    @Order(10)
    void modPortDownStopsTrafficAndUpRestoresIt() throws Exception {
        ofctl("del-flows");
        ofctl("add-flow", "priority=0,actions=NORMAL");
        assertTrue(reaches(a, "10.12.0.2"));
        ofctl("mod-port", "2", "down");
        assertTrue(blocked(a, "10.12.0.2"), "port 2 is down");
        assertTrue(ofctl("dump-ports-desc").out().matches("(?s).*2\\(of2\\).*config: +PORT_DOWN.*"), ofctl("dump-ports-desc").out());
        ofctl("mod-port", "2", "up");
        assertTrue(reaches(a, "10.12.0.2"), "port 2 is up again");
    }

    /** The datapath port number {@code dpctl/show} gives {@code name} ("  port 3: of1 (tap)"). */
    private static String dpPort(String dpctlShow, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("port (\\d+): " + name + " ").matcher(dpctlShow);
        assertTrue(m.find(), name + " in\n" + dpctlShow);
        return m.group(1);
    }
}
