package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real os-ken (Ryu) controller app (Debian python3-os-ken) programs the switch over an active
 * {@code tcp:} Controller target: handshake, FEATURES, flow-mods, PORT_DESC, an ERROR for a bad flow;
 * the switch reconnects after the controller restarts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OsKenControllerIT {
    private SwitchUnderTest sw;
    private Process controller;
    private Path log;
    private int port;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("add-br", "brken").ok();
        sw.vsctl("add-port", "brken", "ken1", "--", "set", "Interface", "ken1", "type=internal", "ofport_request=1").ok();
        sw.vsctl("add-port", "brken", "ken2", "--", "set", "Interface", "ken2", "type=internal", "ofport_request=2").ok();
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        log = Files.createTempFile("osken-", ".log");
        startController();
    }

    private void startController() throws IOException {
        Path app = Path.of(System.getProperty("user.dir"), "src/test/resources/osken/program_on_connect.py");
        controller = new ProcessBuilder("osken-manager", "--ofp-tcp-listen-port", Integer.toString(port), app.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    @AfterAll
    void tearDown() {
        if (controller != null) controller.destroyForcibly();
        if (sw != null) sw.close();
    }

    private String flows() {
        return Sh.run("ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "unix:" + sw.runDir.resolve("brken.mgmt")).ok().out();
    }

    private String controllerRow() {
        return sw.vsctl("list", "Controller").ok().out();
    }

    private String controllerLog() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void theControllerProgramsTheSwitchAndComesBackAfterARestart() throws Exception {
        sw.vsctl("set-controller", "brken", "tcp:127.0.0.1:" + port).ok();
        assertTrue(Sh.within(20_000, () -> flows().contains("cookie=0x42")), "os-ken's flow arrives:\n" + flows() + "\n" + controllerLog());
        String f = flows();
        assertTrue(f.contains("priority=100,ip,in_port=1,nw_dst=10.0.0.0/8 actions=output:2"), f);
        assertTrue(f.contains("priority=0 actions=CONTROLLER:65535"), "its table-miss flow replaced the default NORMAL:\n" + f);
        assertTrue(Sh.within(5_000, () -> controllerLog().contains("PORTS brken,ken1,ken2")), controllerLog());
        assertTrue(controllerLog().contains("FEATURES dpid=") && controllerLog().contains("n_tables=254"), controllerLog());
        assertTrue(controllerLog().contains("ERROR type=3 code=2"), "goto_table backwards refused with BAD_INSTRUCTION/BAD_TABLE_ID:\n" + controllerLog());
        assertTrue(Sh.within(10_000, () -> controllerRow().matches("(?s).*is_connected\\s+: true.*role\\s+: other.*state=ACTIVE.*")),
                "Controller status written back:\n" + controllerRow());

        // The controller restarts: the switch reconnects (backoff at most 8 s) and the app programs it again.
        Sh.run("ovs-ofctl", "-O", "OpenFlow13", "del-flows", "unix:" + sw.runDir.resolve("brken.mgmt")).ok();
        controller.destroy();
        controller.waitFor();
        assertEquals("", flows().lines().skip(1).reduce("", String::concat), "no flows while the controller is away");
        assertTrue(Sh.within(10_000, () -> controllerRow().matches("(?s).*is_connected\\s+: false.*state=BACKOFF.*")),
                "Controller status after the controller went away:\n" + controllerRow());
        startController();
        assertTrue(Sh.within(30_000, () -> flows().contains("cookie=0x42")), "reprogrammed after reconnecting:\n" + flows() + "\n" + controllerLog());
    }
}
