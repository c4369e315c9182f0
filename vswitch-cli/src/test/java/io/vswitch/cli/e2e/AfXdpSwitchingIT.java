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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AF_XDP ports end to end: two network namespaces whose veth peers' host ends are {@code afxdp} ports
 * of a bridge in the real switch. Ping, iperf3 TCP and UDP through the switch in generic and native
 * XDP mode, the peer going down and up, and deleting and re-adding a port under traffic.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AfXdpSwitchingIT {
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a;
    private NetNs b;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();   // 2 cores here
        sw.vsctl("add-br", "brx").ok();
        a = veth("vsw-xdp-a", "xa", "10.11.0.1/24");
        b = veth("vsw-xdp-b", "xb", "10.11.0.2/24");
    }

    /**
     * A namespace with one end of a veth pair (addressed); the other end, {@code host}, stays here, up.
     * The namespace end computes its own checksums and segments ({@code ethtool -K tx off}): frames
     * leave it complete, as on a wire, because an AF_XDP port sees raw frames — not the kernel's
     * partial checksums or 64 kB TSO super-frames (OVS documents the same for its afxdp ports).
     */
    private NetNs veth(String ns, String host, String cidr) {
        NetNs n = NetNs.create(ns);
        namespaces.add(n);
        Sh.run("ip", "link", "del", host);
        Sh.run("ip", "link", "add", host, "type", "veth", "peer", "name", host + "p").ok();
        n.adopt(host + "p", cidr);
        n.exec("ethtool", "-K", host + "p", "tx", "off").ok();
        Sh.run("ip", "link", "set", host, "up").ok();
        return n;
    }

    private void addXdp(String port, String mode) {
        sw.vsctl("add-port", "brx", port, "--", "set", "Interface", port, "type=afxdp", "options:xdp-mode=" + mode).ok();
        assertEquals("[]\n", sw.vsctl("get", "Interface", port, "error").ok().out(), "no error on " + port);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (sw != null) {
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
        namespaces.forEach(NetNs::close);
        Sh.run("ip", "link", "del", "xa");
        Sh.run("ip", "link", "del", "xb");
    }


    private void ping(String why) {
        Sh.Result r = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.11.0.2");
        assertTrue(r.out().contains(" 0% packet loss"), why + ":\n" + r.out() + "\n" + sw.appctl("-t", "vswitch-dp", "dpctl/show", "-s").out());
    }

    @Test
    @Order(1)
    void genericModeCarriesPingTcpAndUdp() throws Exception {
        addXdp("xa", "generic");
        addXdp("xb", "generic");
        assertTrue(sw.vsctl("get", "Interface", "xa", "status").ok().out().contains("xdp-mode=generic"));
        assertTrue(Sh.run("ip", "link", "show", "xa").ok().out().contains("prog/xdp"), "the program is attached");
        ping("generic mode");
        iperf(false);
        iperf(true);
        String stats = sw.appctl("-t", "vswitch-dp", "dpctl/show", "-s").ok().out();
        Matcher m = Pattern.compile("xsk_queue_0_rx_packets:(\\d+)").matcher(stats);
        assertTrue(m.find() && Long.parseLong(m.group(1)) > 1000, "per-queue counters:\n" + stats);
    }

    private void iperf(boolean udp) throws Exception {
        Path log = Files.createTempFile("iperf3-server", ".log");
        Process server = b.start(log, "iperf3", "-s", "-1", "-B", "10.11.0.2");
        Thread.sleep(500);
        List<String> cmd = new ArrayList<>(List.of("iperf3", "-c", "10.11.0.2", "-t", "3", "-J"));
        if (udp) cmd.addAll(List.of("-u", "-b", "100M", "-l", "1200"));
        Sh.Result r = a.exec(cmd.toArray(new String[0]));
        server.waitFor(10, TimeUnit.SECONDS);
        server.destroyForcibly();
        JsonNode j = new ObjectMapper().readTree(r.out());
        JsonNode end = j.path("end");
        if (udp) {
            double mbit = end.path("sum").path("bits_per_second").asDouble() / 1e6;
            double lost = end.path("sum").path("lost_percent").asDouble();
            System.out.printf("afxdp iperf3 UDP: %.0f Mbit/s, %.2f%% lost%n", mbit, lost);
            assertTrue(mbit > 50 && lost < 5, r.out());
        } else {
            double gbit = end.path("sum_received").path("bits_per_second").asDouble() / 1e9;
            System.out.printf("afxdp iperf3 TCP: %.2f Gbit/s%n", gbit);
            assertTrue(gbit > 0.05, r.out());
        }
    }

    @Test
    @Order(2)
    void thePeerGoingDownAndUpIsSurvived() {
        a.exec("ip", "link", "set", "xap", "down").ok();
        Sh.Result r = a.exec("ping", "-c", "2", "-W", "1", "10.11.0.2");
        assertTrue(!r.out().contains(" 0% packet loss"), "no traffic while down");
        a.exec("ip", "link", "set", "xap", "up").ok();
        ping("after the peer came back");
    }

    @Test
    @Order(3)
    void deletingAndReAddingAPortUnderTraffic() throws Exception {
        Path log = Files.createTempFile("ping-xdp", ".log");
        Process flood = a.start(log, "ping", "-i", "0.01", "-c", "400", "-W", "1", "10.11.0.2");
        Thread.sleep(1000);
        sw.vsctl("del-port", "xb").ok();
        Thread.sleep(300);
        addXdp("xb", "generic");
        assertTrue(flood.waitFor(60, TimeUnit.SECONDS));
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(Files.readString(log));
        assertTrue(m.find(), Files.readString(log));
        int received = Integer.parseInt(m.group(2));
        assertTrue(received > 300 && received < 400, "lost only while the port was gone: " + m.group());
        ping("after re-adding");
        assertTrue(sw.log("vswitch-dp").isEmpty() || !sw.log("vswitch-dp").contains("Exception"), sw.log("vswitch-dp"));
    }

    @Test
    @Order(4)
    void nativeModeCarriesPingTcpAndUdp() throws Exception {
        sw.vsctl("del-port", "xa", "--", "del-port", "xb").ok();
        addXdp("xa", "native");
        addXdp("xb", "native");
        assertTrue(sw.vsctl("get", "Interface", "xa", "status").ok().out().contains("xdp-mode=native"));
        ping("native mode");
        iperf(false);
        iperf(true);
    }

    /** kill -9 of the dataplane leaves no program behind (the BPF link dies with it); a new one re-attaches. */
    @Test
    @Order(5)
    void aKilledDataplaneLeavesTheInterfacesCleanAndANewOneReattaches() throws Exception {
        Sh.run("kill", "-9", Long.toString(sw.pid("vswitch-dp"))).ok();
        String link = "";
        for (int i = 0; i < 50; i++) {
            link = Sh.run("ip", "link", "show", "xa").ok().out();
            if (!link.contains("prog/xdp")) break;
            Sh.sleep(100);
        }
        assertTrue(!link.contains("prog/xdp"), "no XDP program left after kill -9:\n" + link);
        sw.vswitch("start").ok();
        // The new dataplane re-attaches both ports as vswitchd re-programs it: wait for both, and for
        // the first answer (ARP is re-learned), before requiring a loss-free ping.
        for (String dev : new String[] {"xa", "xb"}) {
            for (int i = 0; i < 100 && !Sh.run("ip", "link", "show", dev).ok().out().contains("prog/xdp"); i++) Sh.sleep(100);
        }
        for (int i = 0; i < 10 && !a.exec("ping", "-c", "1", "-W", "1", "10.11.0.2").out().contains(" 0% packet loss"); i++) Sh.sleep(200);
        ping("after the dataplane restarted");
    }

    @Test
    @Order(6)
    void aMissingInterfaceIsReportedInInterfaceError() {
        sw.vsctl("add-port", "brx", "nosuchdev", "--", "set", "Interface", "nosuchdev", "type=afxdp").ok();
        String error = sw.vsctl("get", "Interface", "nosuchdev", "error").ok().out();
        assertTrue(error.contains("no interface named nosuchdev"), error);
        sw.vsctl("del-port", "nosuchdev").ok();
        ping("others undisturbed");
    }

    @Test
    @Order(7)
    void deletingThePortsDetachesTheProgram() {
        sw.vsctl("del-port", "xa", "--", "del-port", "xb").ok();
        String link = "";
        for (int i = 0; i < 50; i++) {                  // the kernel releases the link as the fd closes
            link = Sh.run("ip", "link", "show", "xa").ok().out();
            if (!link.contains("prog/xdp")) break;
            Sh.sleep(100);
        }
        assertTrue(!link.contains("prog/xdp"), "no XDP program left on xa:\n" + link);
    }

    /** n_rxq=2 on a two-queue veth: a socket per queue, each an rx queue the PMDs poll. */
    @Test
    @Order(8)
    void twoRxQueuesGetASocketEach() {
        NetNs c = NetNs.create("vsw-xdp-c");
        namespaces.add(c);
        try {
            Sh.run("ip", "link", "del", "xc");
            Sh.run("ip", "link", "add", "xc", "numtxqueues", "2", "numrxqueues", "2", "type", "veth",
                    "peer", "name", "xcp", "numtxqueues", "2", "numrxqueues", "2").ok();
            c.adopt("xcp", "10.11.0.3/24");
            c.exec("ethtool", "-K", "xcp", "tx", "off").ok();
            Sh.run("ip", "link", "set", "xc", "up").ok();
            sw.vsctl("add-port", "brx", "xc", "--", "set", "Interface", "xc", "type=afxdp",
                    "options:xdp-mode=generic", "options:n_rxq=2").ok();
            assertEquals("[]\n", sw.vsctl("get", "Interface", "xc", "error").ok().out());
            addXdp("xb", "generic");
            String rxqs = sw.appctl("-t", "vswitch-dp", "dpif-netdev/pmd-rxq-show").ok().out();
            assertTrue(rxqs.contains("port: xc ") && rxqs.contains("queue-id:  0") && rxqs.contains("queue-id:  1"), rxqs);
            Sh.Result r = c.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.11.0.2");
            assertTrue(r.out().contains(" 0% packet loss"), r.out());
            String stats = sw.appctl("-t", "vswitch-dp", "dpctl/show", "-s").ok().out();
            Matcher q0 = Pattern.compile("xc \\(afxdp\\)[\\s\\S]*?xsk_queue_0_rx_packets:(\\d+)[\\s\\S]*?xsk_queue_1_rx_packets:(\\d+)").matcher(stats);
            assertTrue(q0.find() && Long.parseLong(q0.group(1)) + Long.parseLong(q0.group(2)) >= 3, stats);
        } finally {
            sw.vsctl("--if-exists", "del-port", "xc", "--", "--if-exists", "del-port", "xb");
            Sh.run("ip", "link", "del", "xc");
        }
    }

    /**
     * With hugepages reserved, best-effort puts each socket's UMEM on them (what zero-copy drivers
     * need); frames up to 2048 bytes travel in place. veth has no zero-copy, so asking for it is refused
     * with the reason, and without hugepages it is refused before the driver is even asked.
     */
    @Test
    @Order(9)
    void hugepageUmemCarriesLargeFramesAndZeroCopyIsRefusedWithAReason() throws Exception {
        Path nr = Path.of("/proc/sys/vm/nr_hugepages");
        String before = Files.readString(nr).trim();
        try {
            Files.writeString(nr, Integer.toString(Integer.parseInt(before) + 16));
            for (String dev : new String[] {"xa", "xb"}) Sh.run("ip", "link", "set", dev, "mtu", "2000").ok();
            a.exec("ip", "link", "set", "xap", "mtu", "2000").ok();
            b.exec("ip", "link", "set", "xbp", "mtu", "2000").ok();
            addXdp("xa", "best-effort");
            addXdp("xb", "best-effort");
            assertTrue(sw.vsctl("get", "Interface", "xa", "status").ok().out().contains("umem=hugepages"));
            Sh.Result r = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", "1950", "10.11.0.2");
            assertTrue(r.out().contains(" 0% packet loss"), "1992-byte frames in place:\n" + r.out());
            iperf(false);

            sw.vsctl("del-port", "xa").ok();
            sw.vsctl("add-port", "brx", "xa", "--", "set", "Interface", "xa", "type=afxdp", "options:xdp-mode=native-with-zerocopy").ok();
            String error = sw.vsctl("get", "Interface", "xa", "error").ok().out();
            assertTrue(error.contains("no zero-copy"), error);
            sw.vsctl("del-port", "xa").ok();

            Files.writeString(nr, "0");
            sw.vsctl("add-port", "brx", "xa", "--", "set", "Interface", "xa", "type=afxdp", "options:xdp-mode=native-with-zerocopy").ok();
            error = sw.vsctl("get", "Interface", "xa", "error").ok().out();
            assertTrue(error.contains("hugepages"), error);
            sw.vsctl("del-port", "xa").ok();
        } finally {
            sw.vsctl("--if-exists", "del-port", "xa", "--", "--if-exists", "del-port", "xb");
            Files.writeString(nr, before);
            for (String dev : new String[] {"xa", "xb"}) Sh.run("ip", "link", "set", dev, "mtu", "1500");
        }
    }
}
