package io.vswitch.cli.vsctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.server.OvsdbServer;
import io.vswitch.ovsdb.server.OvsdbTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the same command sequences through the real ovs-vsctl (3.1) and through our Vsctl, each on
 * its own fresh in-process database, and asserts identical stdout, exit status and error message
 * (UUIDs normalised; where ovs-vsctl's row order is hash order, lines are compared sorted).
 */
class VsctlCompareTest {
    static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");

    @TempDir
    Path dir;
    private final Db real = new Db();
    private final Db ours = new Db();

    static final class Db {
        DatabaseFile file;
        OvsdbServer server;
        OvsdbTransport transport;
        Path sock;

        void start(Path d) throws IOException {
            Files.createDirectories(d);
            file = DatabaseFile.open(d.resolve("conf.db"), SCHEMA);
            server = new OvsdbServer(file.database(), file);
            transport = new OvsdbTransport(server);
            sock = d.resolve("db.sock");
            transport.listen("punix:" + sock);
        }

        void stop() throws IOException {
            transport.close();
            server.close();
            file.close();
        }
    }

    record Out(int rc, String out, String err) {}

    @BeforeEach
    void start() throws IOException {
        real.start(dir.resolve("real"));
        ours.start(dir.resolve("ours"));
    }

    @AfterEach
    void stop() throws IOException {
        real.stop();
        ours.stop();
    }

    /** The comparison needs the real tool: without it the test fails (bin/install-test-deps installs it). */
    @BeforeAll
    static void requireRealOvsVsctl() {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/ovs-vsctl")),
                "the real ovs-vsctl is missing: run bin/install-test-deps (Debian openvswitch-switch)");
    }

    private Out runReal(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + real.sock, "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Out(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private Out runOurs(String... args) {
        List<String> cmd = new ArrayList<>(List.of("--db=unix:" + ours.sock, "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Vsctl.Result r = Vsctl.run(cmd.toArray(String[]::new), Map.of());
        return new Out(r.rc(), r.out(), r.err());
    }

    static String normUuids(String s) {
        return s.replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<UUID>");
    }

    static String normErr(String s) {
        StringBuilder sb = new StringBuilder();
        for (String l : s.split("\n")) {
            if (l.isEmpty() || l.contains("|WARN|") || l.contains("without --id option")) continue;
            sb.append(l.replaceFirst("^ovs-vsctl: ", "vsctl: ")).append('\n');
        }
        return normUuids(sb.toString());
    }

    static String sortedLines(String s) {
        String[] ls = s.split("\n");
        Arrays.sort(ls);
        return String.join("\n", ls);
    }

    /** Runs ARGS on both; compares exactly. */
    private String same(String... args) throws Exception {
        return compare(false, args);
    }

    /** Runs ARGS on both; compares with lines sorted (ovs-vsctl prints rows in hash order). */
    private String sameUnordered(String... args) throws Exception {
        return compare(true, args);
    }

    private String compare(boolean unordered, String... args) throws Exception {
        Out r = runReal(args);
        Out o = runOurs(args);
        String what = String.join(" ", args);
        assertEquals(r.rc(), o.rc(), what + "\nreal err: " + r.err() + "\nour err: " + o.err());
        String ro = normUuids(r.out());
        String oo = normUuids(o.out());
        if (unordered) {
            ro = sortedLines(ro);
            oo = sortedLines(oo);
        }
        assertEquals(ro, oo, what);
        assertEquals(normErr(r.err()), normErr(o.err()), what);
        return o.out();
    }

    @Test
    void bridgesAndPorts() throws Exception {
        same("init");
        same("list-br");
        same("add-br", "br0");
        same("add-br", "br0");
        same("--may-exist", "add-br", "br0");
        same("add-br", "br1");
        same("list-br");
        same("br-exists", "br0");
        same("br-exists", "nope");
        same("add-port", "br0", "p1");
        same("add-port", "br0", "p2", "tag=10", "--", "set", "Interface", "p2", "type=tap", "options:k=v");
        same("add-port", "br0", "p1");
        same("add-port", "br1", "p1");
        same("--may-exist", "add-port", "br0", "p1");
        same("--may-exist", "add-port", "br1", "p1");
        same("add-port", "br0", "br1");
        same("add-port", "nobr", "p9");
        same("add-port", "br0", "p9", "tag=5000");
        same("add-port", "br0", "p9", "nosuch=1");
        same("add-br", "p1");
        same("list-ports", "br0");
        same("list-ports", "br1");
        same("list-ports", "nobr");
        same("list-ifaces", "br0");
        same("port-to-br", "p2");
        same("port-to-br", "br0");
        same("port-to-br", "zz");
        same("iface-to-br", "p2");
        same("iface-to-br", "zz");
        same("del-port", "br0");
        same("del-port", "br1", "p1");
        same("del-port", "nobr", "p1");
        same("del-port", "zz");
        same("--if-exists", "del-port", "zz");
        same("del-port", "br0", "p1");
        same("list-ports", "br0");
        same("list", "Interface", "p1");
        same("del-port", "p2");
        same("list-ports", "br0");
        same("del-br", "nope");
        same("--if-exists", "del-br", "nope");
        same("del-br", "br1");
        same("list-br");
        same("list", "Port", "br1");
        same("show");
        same("add-br");
        same("list-br", "x");
        same("frob");
        same("--may-exist", "list-br");
    }

    @Test
    void genericCommands() throws Exception {
        same("add-br", "br0");
        same("add-port", "br0", "p1", "tag=5");
        same("set", "Bridge", "br0", "other_config:mac-aging-time=60", "protocols=OpenFlow13", "external_ids:x=y1");
        same("get", "Bridge", "br0", "other_config:mac-aging-time", "protocols", "name", "external_ids");
        same("get", "Bridge", "br0", "other_config:zz");
        same("--if-exists", "get", "Bridge", "br0", "other_config:zz");
        same("get", "Port", "p1", "tag:x");
        same("get", "Port", "p1", "tag", "name", "_uuid");
        same("get", "Bridge", "br9", "name");
        same("get", "Bridge", "br0", "nocol");
        same("get", "Foo", "br0", "name");
        same("get", "Open_vSwitch", ".", "ovs_version", "next_cfg", "bridges");
        same("get", "Port", "p1");
        same("set", "Port", "p1", "tag=abc");
        same("set", "Port", "p1", "tag=5000");
        same("set", "Port", "p1", "foo=1");
        same("set", "Port", "p1", "tag");
        same("set", "Port", "p1");
        same("set", "Interface", "p1", "admin_state=x");
        same("set", "Bridge", "br0", "fail_mode=x");
        same("set", "Bridge", "br0", "other_config={x=1, y=\"a b\"}", "external_ids:k=\"z\"");
        same("get", "Bridge", "br0", "other_config", "external_ids");
        same("list", "Bridge", "br0");
        same("list", "Port", "p1");
        same("list", "Open_vSwitch");
        same("list", "Bridge", "br0", "brx");
        same("--if-exists", "list", "Bridge", "br0", "brx");
        same("list", "Foo");
        same("--columns=name,ports", "list", "Bridge", "br0");
        same("--columns=name,tag", "list", "Port", "p1");
        same("--bare", "list", "Bridge", "br0");
        same("--bare", "--columns=name", "list", "Port", "p1");
        same("find", "Port", "tag=5");
        same("find", "Port", "tag=6");
        same("find", "Bridge", "name=br0");
        same("--columns=name", "find", "Bridge", "other_config:x=1");
        same("--format=table", "--columns=name,tag", "list", "Port", "p1");
        same("--format=csv", "--columns=name,datapath_type", "list", "Bridge");
        same("--format=json", "--columns=name,tag", "list", "Port", "p1");
        same("--format=table", "list", "Bridge");
        same("clear", "Port", "p1", "tag");
        same("get", "Port", "p1", "tag");
        same("clear", "Port", "p1", "name");
        same("add", "Bridge", "br0", "protocols", "OpenFlow10", "OpenFlow13");
        same("get", "Bridge", "br0", "protocols");
        same("remove", "Bridge", "br0", "protocols", "OpenFlow10");
        same("get", "Bridge", "br0", "protocols");
        same("add", "Bridge", "br0", "other_config", "z=9");
        same("remove", "Bridge", "br0", "other_config", "x");
        same("remove", "Bridge", "br0", "other_config", "y=\"a b\"");
        same("get", "Bridge", "br0", "other_config");
        same("set", "Open_vSwitch", ".", "other_config:pmd-cpu-mask=0x2");
        same("get", "Open_vSwitch", ".", "other_config:pmd-cpu-mask");
        same("get", "Open_vSwitch", ".", "other_config");
        same("set", "Port", "p1", "trunks=[1,2,3]");
        same("get", "Port", "p1", "trunks");
        sameUnordered("show");
    }

    @Test
    void controllersManagersFailModeCreate() throws Exception {
        same("add-br", "br0");
        same("set-controller", "br0", "tcp:127.0.0.1:6653");
        same("get-controller", "br0");
        same("list", "Controller", "br0");
        same("get", "Controller", "br0", "target");
        same("set-controller", "br0", "tcp:127.0.0.1:6653", "ptcp:6654");
        same("get-controller", "br0");
        same("del-controller", "br0");
        same("get-controller", "br0");
        same("list", "Controller");
        same("get-controller", "nobr");
        same("set-fail-mode", "br0", "secure");
        same("get-fail-mode", "br0");
        same("set-fail-mode", "br0", "foo");
        same("show");
        same("del-fail-mode", "br0");
        same("get-fail-mode", "br0");
        same("set-manager", "ptcp:6640");
        same("get-manager");
        same("list", "Manager");
        same("list", "Manager", "ptcp:6640");
        same("show");
        same("del-manager");
        same("get-manager");
        same("create", "Controller", "target=tcp:1.2.3.4:6653");
        same("--id=@c", "create", "Controller", "target=\"tcp:1.2.3.4:6653\"", "--", "set", "Bridge", "br0", "controller=@c");
        same("get-controller", "br0");
        same("--", "--id=@m", "create", "Manager", "target=\"ptcp:6641\"", "--", "add", "Open_vSwitch", ".", "manager_options", "@m");
        same("get-manager");
        same("destroy", "Manager", "ptcp:6641");
        same("show");
    }

    @Test
    void multiRowOrderIndependent() throws Exception {
        same("add-br", "br0");
        same("add-br", "br1");
        same("add-port", "br0", "p1");
        same("add-port", "br0", "p2");
        sameUnordered("list", "Bridge");
        sameUnordered("--columns=name", "list", "Interface");
        sameUnordered("--format=csv", "--columns=name,type", "list", "Interface");
        sameUnordered("show");
    }

    @Test
    void waitsForCurCfg() throws Exception {
        Vsctl.Result first = Vsctl.run(new String[] {"--db=unix:" + ours.sock, "--no-wait", "init"}, Map.of());
        assertEquals(0, first.rc(), first.err());
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(500);
                ArrayNode ops = JsonNodeFactory.instance.arrayNode();
                ObjectNode op = ops.addObject();
                op.put("op", "update");
                op.put("table", "Open_vSwitch");
                op.putArray("where");
                op.putObject("row").put("cur_cfg", 1);
                ours.server.transact(ops).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        long t0 = System.nanoTime();
        Vsctl.Result r = Vsctl.run(new String[] {"--db=unix:" + ours.sock, "--timeout=10", "add-br", "br0"}, Map.of());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        writer.join();
        assertEquals(0, r.rc(), r.err());
        assertTrue(ms >= 400, "waited for cur_cfg: " + ms + " ms");
        Vsctl.Result t = Vsctl.run(new String[] {"--db=unix:" + ours.sock, "--timeout=1", "add-br", "br1"}, Map.of());
        assertEquals(142, t.rc(), t.err());
        Vsctl.Result none = Vsctl.run(new String[] {"--db=unix:" + dir.resolve("nope.sock"), "list-br"}, Map.of());
        assertEquals(1, none.rc());
        Out rn = runReal("--db=unix:" + dir.resolve("nope.sock"), "list-br");
        assertEquals(rn.rc(), none.rc());
    }
}
