package io.vswitch.ovsdb.server;

import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real ovs-vsctl (Debian openvswitch-common, installed by bin/install-test-deps) against our
 * server: everything it sends must be understood and answered as ovsdb-server would.
 */
class RealOvsVsctlTest {
    static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");

    @TempDir
    Path dir;
    private DatabaseFile file;
    private OvsdbServer server;
    private OvsdbTransport transport;

    record Result(int rc, String out, String err) {}

    @BeforeEach
    void start() throws IOException {
        file = DatabaseFile.open(dir.resolve("conf.db"), SCHEMA);
        server = new OvsdbServer(file.database(), file);
        transport = new OvsdbTransport(server);
        transport.listen("punix:" + dir.resolve("db.sock"));
    }

    @AfterEach
    void stop() throws IOException {
        transport.close();
        server.close();
        file.close();
    }

    private Result vsctl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + dir.resolve("db.sock"), "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ovs-vsctl finished: " + String.join(" ", args));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private String ok(String... args) throws Exception {
        Result r = vsctl(args);
        assertEquals(0, r.rc(), "ovs-vsctl " + String.join(" ", args) + "\n" + r.err());
        return r.out();
    }

    @Test
    void bridgesAndPorts() throws Exception {
        ok("init");
        ok("add-br", "br0");
        assertEquals("br0\n", ok("list-br"));
        ok("add-port", "br0", "p1");
        ok("add-port", "br0", "p2", "tag=10", "--", "set", "Interface", "p2", "type=tap", "options:k=v");
        assertEquals("p1\np2\n", ok("list-ports", "br0"));
        assertEquals("10\n", ok("get", "Port", "p2", "tag"));
        assertEquals("tap\n", ok("get", "Interface", "p2", "type"));
        assertEquals("v\n", ok("get", "Interface", "p2", "options:k"));
        assertEquals("br0\n", ok("port-to-br", "p2"));
        String show = ok("show");
        assertTrue(show.contains("Bridge br0") && show.contains("Port p2") && show.contains("tag: 10")
                && show.contains("type: internal") && show.contains("type: tap"), show);

        ok("del-port", "br0", "p1");
        assertEquals("p2\n", ok("list-ports", "br0"));
        assertFalse(ok("list", "Interface").contains("\"p1\""), "the unreferenced Interface p1 was garbage-collected");

        ok("del-br", "br0");
        assertEquals("", ok("list-br"));
        assertEquals("", ok("list", "Port"), "ports of a deleted bridge are garbage-collected");
        assertEquals("", ok("list", "Interface"));
    }

    @Test
    void genericSetGetListFind() throws Exception {
        ok("init");
        ok("add-br", "br0");
        ok("set", "Bridge", "br0", "other_config:mac-aging-time=60", "protocols=OpenFlow13");
        assertEquals("\"60\"\n", ok("get", "Bridge", "br0", "other_config:mac-aging-time"));
        assertEquals("[OpenFlow13]\n", ok("get", "Bridge", "br0", "protocols"));
        assertTrue(ok("find", "Bridge", "name=br0").contains("other_config        : {mac-aging-time=\"60\"}"),
                ok("find", "Bridge", "name=br0"));
        ok("remove", "Bridge", "br0", "other_config", "mac-aging-time");
        assertEquals("{}\n", ok("get", "Bridge", "br0", "other_config"));
        ok("set", "Open_vSwitch", ".", "other_config:pmd-cpu-mask=0x2");
        assertEquals("\"0x2\"\n", ok("get", "Open_vSwitch", ".", "other_config:pmd-cpu-mask"));
    }

    @Test
    void controllerAndFailMode() throws Exception {
        ok("init");
        ok("add-br", "br0");
        ok("set-controller", "br0", "tcp:127.0.0.1:6653");
        assertEquals("tcp:127.0.0.1:6653\n", ok("get-controller", "br0"));
        ok("set-fail-mode", "br0", "secure");
        assertEquals("secure\n", ok("get-fail-mode", "br0"));
        ok("del-controller", "br0");
        assertEquals("", ok("get-controller", "br0"));
        assertEquals("", ok("list", "Controller"), "the controller row is garbage-collected");
    }

    @Test
    void errorsAreTheServersAndChangeNothing() throws Exception {
        ok("init");
        ok("add-br", "br0");
        Result dup = vsctl("add-br", "br0");
        assertEquals(1, dup.rc());
        assertTrue(dup.err().contains("already exists"), dup.err());
        Result none = vsctl("del-br", "nope");
        assertEquals(1, none.rc());
        assertTrue(none.err().contains("no bridge named nope"), none.err());
        Result badTag = vsctl("add-port", "br0", "p9", "tag=5000");
        assertTrue(badTag.rc() != 0, "tag 5000 is out of the schema's range");
        assertTrue(badTag.err().contains("constraint violation") || badTag.err().contains("not in the valid range"), badTag.err());
        assertEquals("", ok("list-ports", "br0"));
    }

    @Test
    void theDatabaseSurvivesARestart() throws Exception {
        ok("init");
        ok("add-br", "br0");
        ok("add-port", "br0", "p1", "tag=7");
        stop();
        start();
        assertEquals("br0\n", ok("list-br"));
        assertEquals("7\n", ok("get", "Port", "p1", "tag"));
        ok("add-port", "br0", "p2");
        assertEquals("p1\np2\n", ok("list-ports", "br0"));
    }
}
