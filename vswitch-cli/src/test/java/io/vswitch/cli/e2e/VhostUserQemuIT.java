package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real Linux guests under QEMU (TCG) ping each other through the switch: guest A on a
 * {@code dpdkvhostuser} port (QEMU connects to our socket, and reconnects if it goes away), guest B
 * on a {@code dpdkvhostuserclient} port (QEMU is the server, we connect). TCP between them works
 * with the checksums their kernels leave to the switch (CSUM). Then guest A is restarted, and then
 * the dataplane is killed and restarted, and they ping again each time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VhostUserQemuIT {
    private SwitchUnderTest sw;
    private QemuGuest a;
    private QemuGuest b;
    /** A kernel host on a TAP port, with a TCP echo server: its kernel checks every checksum it gets. */
    private NetNs host;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        Sh.run(Map.of(), Duration.ofMinutes(10), Sh.HOME.resolve("bin/guest-image").toString()).ok();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=200").ok();   // 2 cores, two QEMUs
        sw.vsctl("add-br", "br0").ok();
        sw.vsctl("add-port", "br0", "vhua", "--", "set", "Interface", "vhua", "type=dpdkvhostuser").ok();
        sw.vsctl("add-port", "br0", "vhub", "--", "set", "Interface", "vhub", "type=dpdkvhostuserclient",
                "options:vhost-server-path=" + sw.runDir.resolve("b.sock")).ok();
        sw.vsctl("add-port", "br0", "tq", "--", "set", "Interface", "tq", "type=tap").ok();
        host = NetNs.withDevice("vsw-e2e-q", "tq", "10.20.0.3/24");
        host.start(sw.runDir.resolve("echo7.log"), "python3", "-c", ECHO_SERVER);
    }

    /** A TCP echo server on port 7 (one connection at a time, as busybox's nc in the guests). */
    private static final String ECHO_SERVER = String.join("\n",
            "import socket",
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 7)); s.listen(4)",
            "while True:",
            "    c, _ = s.accept()",
            "    while (d := c.recv(65536)): c.sendall(d)",
            "    c.close()");

    @AfterAll
    void tearDown() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (host != null) host.close();
        if (sw != null) {
            System.out.println(sw.log("vswitch-dp"));
            sw.close();
        }
    }

    private QemuGuest guestA() {
        return new QemuGuest("guest A", "path=" + sw.runDir.resolve("vhua") + ",reconnect=1", "52:54:00:00:00:0a",
                "vsw.ip=10.20.0.1/24", ",packed=on");                // A's rings are packed, B's split
    }

    private void awaitLinkUp(String port) {
        String state = "";
        for (int i = 0; i < 150 && !(state = sw.vsctl("get", "Interface", port, "link_state").ok().out().trim()).equals("up"); i++) {
            Sh.sleep(200);
        }
        assertEquals("up", state, port + ": " + sw.vsctl("list", "Interface", port).out());
    }

    /** One of a port's custom statistics (dpctl/show -s), e.g. rx_tso_frames: large TCP frames the switch cut into segments. */
    private long stat(String port, String name) {
        String s = sw.appctl("dpctl/show", "-s").ok().out();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(": " + port + " \\(dpdkvhostuser(?:client)?\\)\\n(?:\\s+.*\\n)*?\\s+" + name + ":(\\d+)").matcher(s);
        assertTrue(m.find(), s);
        return Long.parseLong(m.group(1));
    }

    /** Pings until one succeeds (ARP, links settling), then requires a loss-free ping. */
    private void pingBothWays(String when) {
        for (int i = 0; i < 10 && b.ping("10.20.0.1", 1) != 0; i++) Sh.sleep(500);
        assertEquals(0, b.ping("10.20.0.1", 3), "B pings A " + when);
        assertEquals(0, a.ping("10.20.0.2", 3), "A pings B " + when);
    }

    @Test
    void twoGuestsPingThroughRestartsOfAGuestAndOfTheDataplane() throws Exception {
        b = new QemuGuest("guest B", "path=" + sw.runDir.resolve("b.sock") + ",server=on,wait=off", "52:54:00:00:00:0b",
                "vsw.ip=10.20.0.2/24", "");
        a = guestA();
        a.await("VSW-READY 10.20.0.1", 0, 120_000);
        b.await("VSW-READY 10.20.0.2", 0, 120_000);
        awaitLinkUp("vhua");
        awaitLinkUp("vhub");
        pingBothWays("after boot");
        String features = sw.vsctl("get", "Interface", "vhua", "status:features").ok().out().trim();
        System.out.println("guest A negotiated " + features);
        assertEquals(1, Long.decode(features.replace("\"", "")) & 1, "the guest leaves checksums to the switch (CSUM)");
        assertEquals(2, Long.decode(features.replace("\"", "")) & 2, "the guest takes partial checksums (GUEST_CSUM)");
        assertEquals(1L << 34, Long.decode(features.replace("\"", "")) & 1L << 34, "guest A's rings are packed (RING_PACKED)");
        // TCP from B to A's echo server: B's kernel leaves the checksums to us (CSUM), and we hand them
        // on to A's kernel as they are (GUEST_CSUM), which takes them only with the right positions.
        assertEquals("vsw42", b.tcpEcho("10.20.0.1", "vsw42"), "TCP through the switch with partial checksums");
        assertTrue(stat("vhub", "rx_partial_checksums") > 0 && stat("vhua", "tx_partial_checksums") > 0, sw.appctl("dpctl/show", "-s").out());
        // The same to a kernel behind a TAP port, which takes no partial checksums: the switch completes
        // them, and that kernel's TCP checks them (a wrong one would be dropped, and the echo lost).
        for (int i = 0; i < 10 && b.ping("10.20.0.3", 1) != 0; i++) Sh.sleep(500);
        assertEquals("vsw43", b.tcpEcho("10.20.0.3", "vsw43"), "TCP to a kernel host with checksums completed by the switch");
        assertEquals(128 * 1024, b.tcpBulk("10.20.0.3", 128), "128 KiB echoed by the kernel host");
        // Bulk TCP both ways: both kernels hand over large frames (HOST_TSO4), the switch cuts them into
        // segments, and each kernel's TCP verifies every segment's checksums and sequence numbers.
        assertEquals(1L << 11, Long.decode(features.replace("\"", "")) & 1L << 11, "the guest sends large TCP frames (HOST_TSO4)");
        assertEquals(512 * 1024, b.tcpBulk("10.20.0.1", 512), "512 KiB echoed through the switch");
        assertTrue(stat("vhua", "rx_tso_frames") > 0 && stat("vhub", "rx_tso_frames") > 0, sw.appctl("dpctl/show", "-s").out());

        a.close();
        a = guestA();
        a.await("VSW-READY 10.20.0.1", 0, 120_000);
        awaitLinkUp("vhua");
        pingBothWays("after guest A restarted");

        Sh.run("kill", "-9", Long.toString(sw.pid("vswitch-dp"))).ok();
        sw.vswitch("start").ok();
        pingBothWays("after the dataplane restarted");
    }
}
