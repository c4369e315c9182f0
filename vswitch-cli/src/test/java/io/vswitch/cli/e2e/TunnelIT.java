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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VXLAN between our switch and the Linux kernel's own VXLAN devices, configured with the real
 * ovs-vsctl and ovs-ofctl, decoded on the wire by tshark.
 *
 * <pre>
 *   ns a: 10.20.0.1 --- ta --+-- br-int --- vx0 (vxlan, remote 172.31.0.2, VNI 42)
 *                                              | native tunnelling: route, ARP, encap/decap in the PMD
 *   root ns: br-phy (internal) 172.31.0.1/24 --+-- br-phy --- tk1 ---- ns k1: 172.31.0.2, vxlan0 VNI 42, 10.20.0.2
 *                                                         \-- tk2 ---- ns k2: 172.31.0.3, vxlan0 VNI 43, 10.20.0.3
 * </pre>
 * The inner MTU is 1450, as the kernel sets on its VXLAN devices over a 1500-byte underlay.
 *
 * <p>GRE (this kernel has no GRE module) is checked against real Open vSwitch: ovs-vswitchd with the
 * userspace ({@code netdev}) datapath in namespace o, behind our port tk3, with its own underlay
 * bridge (172.31.0.4) and a {@code gre} port to us; namespace b (10.21.0.1, behind our tb) pings its
 * internal port vm0 (10.21.0.2) over GRE key 77. And GRE against ourselves: a second switch runs in
 * namespace s2; its TAP port tw2 and our tw1 are joined by a Linux bridge in namespace w (where
 * tshark listens); namespace c (10.22.0.1, behind our tc) pings the second switch's internal port
 * vm2 (10.22.0.2) over GRE key 99. Geneve (no kernel module either) against a second real OVS in
 * namespace o2 (172.31.0.6, behind our tk4): namespace g (10.23.0.1, behind our tg) pings its vm0
 * (10.23.0.2) over VNI 5000.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TunnelIT {
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a, k1, k2;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();
        ovsVsctl("add-br", "br-phy", "--", "add-br", "br-int").ok();
        Sh.run("ip", "addr", "add", "172.31.0.1/24", "dev", "br-phy").ok();
        Sh.run("ip", "link", "set", "br-phy", "up").ok();
        for (String p : List.of("tk1", "tk2")) ovsVsctl("add-port", "br-phy", p, "--", "set", "Interface", p, "type=tap").ok();
        ovsVsctl("add-port", "br-int", "ta", "--", "set", "Interface", "ta", "type=tap").ok();
        ovsVsctl("add-port", "br-int", "vx0", "--", "set", "Interface", "vx0", "type=vxlan", "options:remote_ip=172.31.0.2", "options:key=42").ok();
        a = ns("vsw-tun-a", "ta", "10.20.0.1/24");
        Sh.run("ip", "-n", a.name, "link", "set", "ta", "mtu", "1450").ok();
        k1 = vtep("vsw-tun-k1", "tk1", "172.31.0.2", 42, "10.20.0.2");
        k2 = vtep("vsw-tun-k2", "tk2", "172.31.0.3", 43, "10.20.0.3");
    }

    private NetNs ns(String name, String tap, String cidr) {
        NetNs n = NetNs.withDevice(name, tap, cidr);
        namespaces.add(n);
        return n;
    }

    /** A namespace whose kernel is a VXLAN endpoint behind our tap port {@code tap}. */
    private NetNs vtep(String name, String tap, String underlayIp, int vni, String overlayIp) {
        NetNs n = ns(name, tap, underlayIp + "/24");
        n.exec("ip", "link", "add", "vxlan0", "type", "vxlan", "id", Integer.toString(vni), "remote", "172.31.0.1", "local", underlayIp,
                "dstport", "4789", "dev", tap).ok();
        n.exec("ip", "addr", "add", overlayIp + "/24", "dev", "vxlan0").ok();
        n.exec("ip", "link", "set", "vxlan0", "up").ok();
        return n;
    }

    @AfterAll
    void tearDown() throws Exception {
        if (sw != null) {
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
        for (NetNs n : namespaces) n.close();
    }

    private Sh.Result ovsVsctl(String... args) {
        return sw.ovsVsctl(args);
    }

    private Sh.Result ovsOfctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ovs-ofctl", "-O", "OpenFlow13"));
        cmd.add(args[0]);
        cmd.add("unix:" + sw.runDir.resolve("br-int.mgmt"));
        cmd.addAll(List.of(args).subList(1, args.length));
        return Sh.run(cmd.toArray(new String[0]));
    }

    private boolean ping(NetNs from, String to) {
        for (int i = 0; i < 10; i++) {
            if (from.exec("ping", "-c", "1", "-W", "1", to).rc() == 0) return true;
        }
        return false;
    }

    /** A tshark capture running in a namespace: its decoded lines go to {@code file}. */
    private record Capture(Process tshark, Path file) {}

    /**
     * Starts tshark on {@code iface} in {@code ns}: ICMP inside frames matching {@code filter}, one
     * tab-separated line per frame with {@code fields} (repeated fields joined by commas); returns
     * once it says it is capturing (at most 10 s).
     */
    private static Capture capture(NetNs ns, String iface, String filter, String... fields) throws Exception {
        Path file = Files.createTempFile("tshark", ".txt");
        List<String> cmd = new ArrayList<>(List.of("tshark", "-l", "-n", "-i", iface, "-a", "duration:40", "-f", filter, "-Y", "icmp",
                "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"));
        for (String f : fields) cmd.addAll(List.of("-e", f));
        Process tshark = ns.start(file, cmd.toArray(new String[0]));
        for (int i = 0; i < 100 && !Files.readString(file).contains("Capturing on"); i++) Thread.sleep(100);
        return new Capture(tshark, file);
    }

    /**
     * Pings once a second until tshark has decoded lines containing each of {@code expected} (tshark
     * announces itself before its capture really runs, so the first pings may pass unseen), at most
     * 20 s; returns what it decoded.
     */
    private static String decodeWhilePinging(Capture c, NetNs from, String to, String... expected) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline && c.tshark().isAlive()) {
            from.exec("ping", "-c", "1", "-W", "1", to);
            String lines = Files.readString(c.file());
            if (java.util.Arrays.stream(expected).allMatch(lines::contains)) break;
        }
        c.tshark().destroy();
        c.tshark().waitFor(10, TimeUnit.SECONDS);
        return Files.readString(c.file());
    }

    @Test
    @Order(1)
    void pingsTheKernelsVxlanAndTsharkDecodesOuterAndInnerHeaders() throws Exception {
        Capture capture = capture(k1, "tk1", "udp port 4789", "ip.src", "ip.dst", "udp.dstport", "vxlan.vni", "icmp.type");
        assertTrue(ping(a, "10.20.0.2"), "a reaches the kernel's VXLAN endpoint through vx0\n" + sw.appctl("tnl/neigh/show").out()
                + sw.appctl("ovs/route/show").out() + sw.appctl("dpif-netdev/pmd-stats-show").out());
        String lines = decodeWhilePinging(capture, a, "10.20.0.2", "\t4789\t42\t8", "\t4789\t42\t0");
        // our request (outer 172.31.0.1 -> .2, inner 10.20.0.1 -> .2, echo request 8) and the kernel's reply
        assertTrue(lines.contains("172.31.0.1,10.20.0.1\t172.31.0.2,10.20.0.2\t4789\t42\t8"), "our VXLAN frame, decoded:\n" + lines);
        assertTrue(lines.contains("172.31.0.2,10.20.0.2\t172.31.0.1,10.20.0.1\t4789\t42\t0"), "the kernel's answer, decoded:\n" + lines);
        String neigh = sw.appctl("tnl/neigh/show").ok().out();
        assertTrue(neigh.startsWith("IP                                            MAC                 Bridge\n" + "=".repeat(74)), neigh);
        assertTrue(neigh.contains("172.31.0.2 ") && neigh.contains("br-phy"), neigh);
        String routes = sw.appctl("ovs/route/show").ok().out();
        assertTrue(routes.contains("Cached: 172.31.0.1/32 dev br-phy SRC 172.31.0.1 local"), routes);
        assertTrue(routes.contains("Cached: 172.31.0.0/24 dev br-phy SRC 172.31.0.1"), routes);
        assertEquals("src 172.31.0.1\ngateway ::\ndev br-phy\n", sw.appctl("ovs/route/lookup", "172.31.0.2/32").ok().out());
        String status = ovsVsctl("get", "interface", "vx0", "status").out();
        assertTrue(status.contains("tunnel_egress_iface=br-phy"), status);
    }

    @Test
    @Order(2)
    void tcpThroughTheTunnel() {
        Process server = k1.start(sw.runDir.resolve("iperf3-server.log"), "iperf3", "-s", "-1", "-p", "5401");
        Sh.sleep(500);
        sw.appctl("dpif-netdev/pmd-stats-clear").ok();
        Sh.Result r = a.exec("iperf3", "-c", "10.20.0.2", "-p", "5401", "-t", "3");
        server.destroy();
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("receiver"), r.out());
        // Sent into the tunnel: br-int's pass only (the underlay's NORMAL decision goes with the
        // encapsulation); received: br-phy's and br-int's. So fewer than 2 passes per packet (2.0 if
        // every encapsulated frame took a pass through br-phy of its own).
        String perf = sw.appctl("dpif-netdev/pmd-perf-show").ok().out();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(([0-9.]+) passes/pkt\\)").matcher(perf);
        assertTrue(m.find() && Double.parseDouble(m.group(1)) < 1.8, "passes per packet:\n" + perf);
    }

    @Test
    @Order(3)
    void aPacketTooBigForTheUnderlayIsDroppedAndCountedNotFragmented() {
        Sh.run("ip", "-n", a.name, "link", "set", "ta", "mtu", "1500").ok();
        assertEquals(0, a.exec("ping", "-c", "1", "-W", "2", "-s", "1400", "10.20.0.2").rc(), "1428-byte packets fit");
        assertTrue(a.exec("ping", "-c", "1", "-W", "2", "-s", "1472", "-M", "do", "10.20.0.2").rc() != 0, "1500-byte packets do not");
        Sh.run("ip", "-n", a.name, "link", "set", "ta", "mtu", "1450").ok();
        String stats = sw.appctl("dpif-netdev/pmd-stats-show").ok().out();
        assertTrue(stats.matches("(?s).*too big for the MTU [1-9].*"), stats);
    }

    @Test
    @Order(5)
    void greInteroperatesWithOpenVswitchsUserspaceDatapath() throws Exception {
        ovsVsctl("add-port", "br-phy", "tk3", "--", "set", "Interface", "tk3", "type=tap").ok();
        ovsVsctl("add-port", "br-int", "tb", "--", "set", "Interface", "tb", "type=tap").ok();
        ovsVsctl("add-port", "br-int", "gr0", "--", "set", "Interface", "gr0", "type=gre", "options:remote_ip=172.31.0.4", "options:key=77").ok();
        NetNs b = ns("vsw-tun-b", "tb", "10.21.0.1/24");
        Sh.run("ip", "-n", b.name, "link", "set", "tb", "mtu", "1400").ok();
        NetNs o = ns("vsw-tun-o", "tk3", null);
        Path dir = ovsPeer(o, "tk3", "172.31.0.4/24", "gre", 77, "10.21.0.2/24");

        Capture capture = capture(o, "tk3", "ip proto 47", "ip.src", "ip.dst", "gre.key", "gre.proto", "icmp.type");
        boolean reached = ping(b, "10.21.0.2");
        String ovsSide = ovsAppctl(o, dir, "tnl/neigh/show");
        assertTrue(reached, "b reaches OVS's vm0 over GRE\nours:\n" + sw.appctl("tnl/neigh/show").out() + sw.appctl("dpif-netdev/pmd-stats-show").out()
                + "OVS:\n" + ovsSide + Files.readString(dir.resolve("vswitchd.log")));
        String lines = decodeWhilePinging(capture, b, "10.21.0.2", "0x6558\t8", "0x6558\t0");
        assertTrue(lines.contains("172.31.0.1,10.21.0.1\t172.31.0.4,10.21.0.2\t0x0000004d\t0x6558\t8"), "our GRE frame (key 77), decoded:\n" + lines);
        assertTrue(lines.contains("172.31.0.4,10.21.0.2\t172.31.0.1,10.21.0.1\t"), "OVS's GRE answer, decoded:\n" + lines);
        assertTrue(ovsSide.contains("172.31.0.1"), "OVS learned our endpoint:\n" + ovsSide);
    }

    /**
     * Real Open vSwitch (userspace datapath, its own ovsdb-server) in namespace {@code o}, behind our
     * TAP port {@code tap}: an underlay bridge br-o-phy with address {@code underlayCidr}, and an
     * overlay bridge br-o-int with a {@code type} tunnel port to us (key {@code key}) and an internal
     * port vm0 with {@code vmCidr} (MTU 1400). Returns its run directory.
     */
    private static Path ovsPeer(NetNs o, String tap, String underlayCidr, String type, int key, String vmCidr) throws Exception {
        Path dir = Files.createTempDirectory("ovs-" + type);
        String db = "unix:" + dir.resolve("db.sock");
        String env = "OVS_RUNDIR=" + dir;
        o.exec("ovsdb-tool", "create", dir.resolve("conf.db").toString(), "/usr/share/openvswitch/vswitch.ovsschema").ok();
        o.exec("env", env, "ovsdb-server", dir.resolve("conf.db").toString(), "--remote=p" + db, "--pidfile=" + dir.resolve("ovsdb.pid"),
                "--detach", "--log-file=" + dir.resolve("ovsdb.log")).ok();
        o.exec("ovs-vsctl", "--db=" + db, "--no-wait", "init").ok();
        o.exec("env", env, "ovs-vswitchd", db, "--pidfile=" + dir.resolve("vswitchd.pid"), "--detach",
                "--log-file=" + dir.resolve("vswitchd.log")).ok();
        o.exec("ovs-vsctl", "--db=" + db, "--timeout=30", "add-br", "br-o-phy", "--", "set", "bridge", "br-o-phy", "datapath_type=netdev",
                "--", "add-port", "br-o-phy", tap,
                "--", "add-br", "br-o-int", "--", "set", "bridge", "br-o-int", "datapath_type=netdev",
                "--", "add-port", "br-o-int", type + "0", "--", "set", "interface", type + "0", "type=" + type, "options:remote_ip=172.31.0.1",
                "options:key=" + key,
                "--", "add-port", "br-o-int", "vm0", "--", "set", "interface", "vm0", "type=internal").ok();
        o.exec("ip", "addr", "add", underlayCidr, "dev", "br-o-phy").ok();
        o.exec("ip", "link", "set", "br-o-phy", "up").ok();
        o.exec("ip", "link", "set", tap, "up").ok();
        o.exec("ip", "addr", "add", vmCidr, "dev", "vm0").ok();
        o.exec("ip", "link", "set", "vm0", "mtu", "1400", "up").ok();
        return dir;
    }

    private static String ovsAppctl(NetNs o, Path dir, String command) throws Exception {
        return o.exec("ovs-appctl", "-t", dir.resolve("ovs-vswitchd." + Files.readString(dir.resolve("vswitchd.pid")).trim() + ".ctl").toString(),
                command).out();
    }

    /**
     * Geneve against OVS's userspace datapath (the kernel here has no geneve module): namespace g
     * (10.23.0.1, behind our tg) pings OVS's vm0 (10.23.0.2) over Geneve VNI 5000; tshark decodes
     * both directions.
     */
    @Test
    @Order(6)
    void geneveInteroperatesWithOpenVswitchsUserspaceDatapath() throws Exception {
        ovsVsctl("add-port", "br-phy", "tk4", "--", "set", "Interface", "tk4", "type=tap").ok();
        ovsVsctl("add-port", "br-int", "tg", "--", "set", "Interface", "tg", "type=tap").ok();
        ovsVsctl("add-port", "br-int", "gn0", "--", "set", "Interface", "gn0", "type=geneve", "options:remote_ip=172.31.0.6", "options:key=5000").ok();
        NetNs g = ns("vsw-tun-g", "tg", "10.23.0.1/24");
        Sh.run("ip", "-n", g.name, "link", "set", "tg", "mtu", "1400").ok();
        NetNs o = ns("vsw-tun-o2", "tk4", null);
        Path dir = ovsPeer(o, "tk4", "172.31.0.6/24", "geneve", 5000, "10.23.0.2/24");

        Capture capture = capture(o, "tk4", "udp port 6081", "ip.src", "ip.dst", "geneve.vni", "geneve.proto_type", "icmp.type");
        boolean reached = ping(g, "10.23.0.2");
        String ovsSide = ovsAppctl(o, dir, "tnl/neigh/show");
        assertTrue(reached, "g reaches OVS's vm0 over Geneve\nours:\n" + sw.appctl("tnl/neigh/show").out()
                + sw.appctl("dpif-netdev/pmd-stats-show").out() + "OVS:\n" + ovsSide + Files.readString(dir.resolve("vswitchd.log")));
        String lines = decodeWhilePinging(capture, g, "10.23.0.2", "0x6558\t8", "0x6558\t0");
        String ours = lines.lines().filter(l -> l.startsWith("172.31.0.1,10.23.0.1\t172.31.0.6,10.23.0.2\t")).findFirst().orElse("");
        String theirs = lines.lines().filter(l -> l.startsWith("172.31.0.6,10.23.0.2\t172.31.0.1,10.23.0.1\t")).findFirst().orElse("");
        for (String line : List.of(ours, theirs)) {
            String[] f = line.split("\t");
            assertTrue(f.length == 5 && Long.decode(f[2]) == 5000 && f[3].equals("0x6558"), "Geneve VNI 5000 carrying Ethernet, decoded:\n" + lines);
        }
        assertTrue(ovsSide.contains("172.31.0.1"), "OVS learned our endpoint:\n" + ovsSide);
    }

    @Test
    @Order(7)
    void greBetweenTwoOfOurSwitches() throws Exception {
        NetNs s2 = NetNs.create("vsw-tun-s2");
        namespaces.add(s2);
        NetNs w = NetNs.create("vsw-tun-w");
        namespaces.add(w);
        w.exec("ip", "link", "add", "brw", "type", "bridge").ok();
        w.exec("ip", "link", "set", "brw", "up").ok();
        SwitchUnderTest other = new SwitchUnderTest(s2.name);
        try {
            other.vswitch("start").ok();
            other.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();
            other.vsctl("add-br", "br-phy2", "--", "add-port", "br-phy2", "tw2", "--", "set", "Interface", "tw2", "type=tap").ok();
            other.vsctl("add-br", "br-int2", "--", "add-port", "br-int2", "gre9", "--", "set", "Interface", "gre9", "type=gre",
                    "options:remote_ip=172.31.0.1", "options:key=99", "--", "add-port", "br-int2", "vm2", "--", "set", "Interface", "vm2", "type=internal").ok();
            s2.exec("ip", "addr", "add", "172.31.0.5/24", "dev", "br-phy2").ok();
            s2.exec("ip", "link", "set", "br-phy2", "up").ok();
            s2.exec("ip", "addr", "add", "10.22.0.2/24", "dev", "vm2").ok();
            s2.exec("ip", "link", "set", "vm2", "mtu", "1400", "up").ok();
            ovsVsctl("add-port", "br-phy", "tw1", "--", "set", "Interface", "tw1", "type=tap").ok();
            Sh.run("ip", "link", "set", "tw1", "netns", w.name).ok();
            s2.exec("ip", "link", "set", "tw2", "netns", w.name).ok();
            for (String dev : List.of("tw1", "tw2")) {
                w.exec("ip", "link", "set", dev, "master", "brw").ok();
                w.exec("ip", "link", "set", dev, "up").ok();
            }
            ovsVsctl("add-port", "br-int", "tc", "--", "set", "Interface", "tc", "type=tap").ok();
            ovsVsctl("add-port", "br-int", "gr9", "--", "set", "Interface", "gr9", "type=gre", "options:remote_ip=172.31.0.5", "options:key=99").ok();
            NetNs c = ns("vsw-tun-c", "tc", "10.22.0.1/24");
            Sh.run("ip", "-n", c.name, "link", "set", "tc", "mtu", "1400").ok();

            Capture capture = capture(w, "brw", "ip proto 47", "ip.src", "ip.dst", "gre.key", "icmp.type");
            assertTrue(ping(c, "10.22.0.2"), "c reaches the other switch's vm2 over GRE\nours:\n" + sw.appctl("tnl/neigh/show").out()
                    + sw.appctl("dpif-netdev/pmd-stats-show").out() + "theirs:\n" + other.appctl("tnl/neigh/show").out()
                    + other.appctl("ovs/route/show").out() + other.appctl("dpif-netdev/pmd-stats-show").out() + other.log("vswitch-dp"));
            String lines = decodeWhilePinging(capture, c, "10.22.0.2", "0x00000063\t8", "0x00000063\t0");
            assertTrue(lines.contains("172.31.0.1,10.22.0.1\t172.31.0.5,10.22.0.2\t0x00000063\t8"), "our GRE request, decoded:\n" + lines);
            assertTrue(lines.contains("172.31.0.5,10.22.0.2\t172.31.0.1,10.22.0.1\t0x00000063\t0"), "their GRE reply, decoded:\n" + lines);
        } finally {
            other.close();
        }
    }

    @Test
    @Order(4)
    void flowBasedTunnelPicksTheRemoteAndVniByFlow() {
        ovsVsctl("del-port", "br-int", "vx0").ok();
        ovsVsctl("add-port", "br-int", "vxf", "--", "set", "Interface", "vxf", "type=vxlan", "options:remote_ip=flow", "options:key=flow",
                "ofport_request=10").ok();
        String ta = ovsVsctl("get", "interface", "ta", "ofport").out().trim();
        for (String[] peer : new String[][] {{"10.20.0.2", "172.31.0.2", "42"}, {"10.20.0.3", "172.31.0.3", "43"}}) {
            String to = "set_field:" + peer[1] + "->tun_dst,set_field:" + peer[2] + "->tun_id,output:10";
            ovsOfctl("add-flow", "priority=10,in_port=" + ta + ",ip,nw_dst=" + peer[0] + ",actions=" + to).ok();
            ovsOfctl("add-flow", "priority=10,in_port=" + ta + ",arp,arp_tpa=" + peer[0] + ",actions=" + to).ok();
        }
        ovsOfctl("add-flow", "priority=10,in_port=10,tun_src=172.31.0.3,tun_id=43,actions=output:" + ta).ok();
        ovsOfctl("add-flow", "priority=10,in_port=10,tun_src=172.31.0.2,tun_id=42,actions=output:" + ta).ok();
        assertTrue(ping(a, "10.20.0.2"), "VNI 42 to 172.31.0.2\n" + ovsOfctl("dump-flows").out());
        assertTrue(ping(a, "10.20.0.3"), "VNI 43 to 172.31.0.3\n" + ovsOfctl("dump-flows").out());
        String flows = ovsOfctl("dump-flows").ok().out();
        assertTrue(flows.contains("tun_id=0x2b") && flows.contains("tun_src=172.31.0.3"), flows);
        assertTrue(flows.contains("set_field:172.31.0.3->tun_dst"), flows);
        String trace = sw.appctl("ofproto/trace", "br-int", "in_port=10,tun_id=43,tun_src=172.31.0.3,tun_dst=172.31.0.1,ip,nw_dst=10.20.0.1").ok().out();
        assertTrue(trace.contains("tun_id=0x2b,tun_src=172.31.0.3,tun_dst=172.31.0.1"), trace);
        assertTrue(trace.contains("output:" + ta), trace);
    }
}
