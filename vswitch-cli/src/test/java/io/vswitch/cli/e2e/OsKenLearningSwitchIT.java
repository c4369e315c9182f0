package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controller test: a real os-ken app (a simple_switch_13-style learning switch, Debian
 * python3-os-ken) is the only source of flows for a bridge in fail_mode=secure, and two network
 * namespaces ping each other through it. Packet-ins carry the frames to the app, its packet-outs
 * deliver them, and once it has learned both MACs its flows carry the traffic without it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OsKenLearningSwitchIT {
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();
    private NetNs a, b;
    private Process controller;
    private Path log;
    private int port;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();
        sw.vsctl("add-br", "brls", "--", "set-fail-mode", "brls", "secure").ok();
        for (int p = 1; p <= 2; p++) {
            sw.vsctl("add-port", "brls", "ls" + p, "--", "set", "Interface", "ls" + p, "type=tap", "ofport_request=" + p).ok();
        }
        a = ns("vsw-ls-a", "ls1", "10.14.0.1/24");
        b = ns("vsw-ls-b", "ls2", "10.14.0.2/24");
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        log = Files.createTempFile("osken-ls-", ".log");
        Path app = Path.of(System.getProperty("user.dir"), "src/test/resources/osken/learning_switch_13.py");
        controller = new ProcessBuilder("osken-manager", "--ofp-tcp-listen-port", Integer.toString(port), app.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private NetNs ns(String name, String dev, String cidr) {
        NetNs n = NetNs.withDevice(name, dev, cidr);
        namespaces.add(n);
        return n;
    }

    @AfterAll
    void tearDown() {
        if (controller != null) controller.destroyForcibly();
        if (sw != null) sw.close();
        namespaces.forEach(NetNs::close);
    }

    private String flows() {
        return Sh.run("ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "unix:" + sw.runDir.resolve("brls.mgmt")).ok().out();
    }

    private String controllerLog() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private boolean pings() {
        return a.exec("ping", "-c", "1", "-W", "1", "10.14.0.2").out().contains(" 0% packet loss");
    }

    @Test
    void twoNamespacesPingThroughTheFlowsTheControllerInstalls() {
        assertEquals("", flows().lines().skip(1).reduce("", String::concat), "a secure bridge starts with no flows");
        assertTrue(a.exec("ping", "-c", "2", "-i", "0.3", "-W", "1", "10.14.0.2").out().contains("100% packet loss"),
                "no controller, no flows: nothing passes");

        sw.vsctl("set-controller", "brls", "tcp:127.0.0.1:" + port).ok();
        assertTrue(Sh.within(30_000, () -> controllerLog().contains("CONNECTED")), controllerLog());
        assertTrue(Sh.within(30_000, this::pings), "a pings b through the learning switch:\n" + flows() + "\n" + controllerLog());

        // The app saw ARP and ICMP as packet-ins, whole frames, from the right ports, via its table-miss flow.
        String pins = controllerLog();
        Matcher arp = Pattern.compile("PACKET_IN in_port=1 (\\S+)>ff:ff:ff:ff:ff:ff type=0x0806 total_len=42 data=42 reason=1 table=0").matcher(pins);
        assertTrue(arp.find(), "a's ARP request reached the controller from port 1:\n" + pins);
        assertTrue(pins.contains("PACKET_IN in_port=2") && pins.contains("type=0x0800 total_len=98 data=98"),
                "b's answers and the ICMP echoes came in whole:\n" + pins);

        // It installed a flow each way; from then on the flows carry the pings, not packet-ins.
        String f = flows();
        String macA = arp.group(1);
        assertTrue(f.contains("priority=1,in_port=1,dl_src=" + macA), f);
        assertTrue(f.contains("priority=1,in_port=2,") && f.contains("dl_dst=" + macA + " actions=output:1"), f);
        Sh.sleep(500);                                            // the flows reach the PMDs asynchronously (ms)
        long before = controllerLog().lines().filter(l -> l.contains("PACKET_IN") && l.contains("type=0x0800")).count();
        assertTrue(a.exec("ping", "-c", "5", "-i", "0.2", "-W", "1", "10.14.0.2").out().contains(" 0% packet loss"));
        long after = controllerLog().lines().filter(l -> l.contains("PACKET_IN") && l.contains("type=0x0800")).count();
        assertEquals(before, after, "pings after learning do not go to the controller");
        assertTrue(Sh.within(6_000, () -> Pattern.compile("n_packets=([5-9]|\\d\\d+).*priority=1,in_port=1").matcher(flows()).find()),
                "the learned flow counts the pings:\n" + flows());

        // fail_mode=secure: without the controller the installed flows stay and carry traffic.
        controller.destroyForcibly();
        Sh.sleep(500);
        assertTrue(pings(), "flows survive the controller's departure in secure mode:\n" + flows());
    }
}
