package io.vswitch.cli.vsctl;

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
 * its own fresh database, and asserts identical stdout, exit status and error message (UUIDs
 * normalised; where ovs-vsctl's row order is hash order, lines are compared sorted). Here the
 * databases are our in-process OVSDB server; {@link RealOvsdbServerTest} runs every sequence again on
 * the real ovsdb-server.
 */
class VsctlCompareTest {
    static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");

    @TempDir
    Path dir;
    private Db real;
    private Db ours;

    /** A database server the tools talk to over {@link #sock()}. */
    interface Db {
        Path sock();

        void stop() throws Exception;
    }

    /** Our OVSDB server, in process. */
    record OurDb(DatabaseFile file, OvsdbServer server, OvsdbTransport transport, Path sock) implements Db {
        static OurDb start(Path d) throws IOException {
            Files.createDirectories(d);
            DatabaseFile file = DatabaseFile.open(d.resolve("conf.db"), SCHEMA);
            OvsdbServer server = new OvsdbServer(file.database(), file);
            OvsdbTransport transport = new OvsdbTransport(server);
            Path sock = d.resolve("db.sock");
            transport.listen("punix:" + sock);
            return new OurDb(file, server, transport, sock);
        }

        @Override
        public void stop() throws IOException {
            transport.close();
            server.close();
            file.close();
        }
    }

    /** The server each side of the comparison gets; subclasses use another. */
    Db startDb(Path d) throws Exception {
        return OurDb.start(d);
    }

    record Out(int rc, String out, String err) {}

    @BeforeEach
    void start() throws Exception {
        real = startDb(dir.resolve("real"));
        ours = startDb(dir.resolve("ours"));
    }

    @AfterEach
    void stop() throws Exception {
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
        return ovsVsctl(real.sock(), args);
    }

    static Out ovsVsctl(Path sock, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + sock, "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Out(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private Out runOurs(String... args) {
        List<String> cmd = new ArrayList<>(List.of("--db=unix:" + ours.sock(), "--no-wait", "--timeout=10"));
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
            // ovs-vsctl logs the alarm (--timeout) as a WARN line, we print it as an error: same words.
            if (l.contains("terminating with signal 14 (Alarm clock)")) l = "terminating with signal 14 (Alarm clock)";
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

    /** Fake (VLAN) bridges: a tagged Port with fake_bridge=true that commands treat as a bridge. */
    @Test
    void fakeBridges() throws Exception {
        same("add-br", "br0");
        same("add-port", "br0", "eth0");
        same("add-br", "vlan10", "br0", "10");
        same("add-br", "vlan11", "br0");
        same("add-br", "v", "br0", "5000");
        same("add-br", "v", "br0", "-1");
        same("add-br", "v", "nope", "12");
        same("add-br", "v", "vlan10", "12");
        same("add-br", "v2", "br0", "10");
        same("add-br", "eth0", "br0", "30");
        same("add-br", "", "br0", "30");
        same("--may-exist", "add-br", "vlan10", "br0", "10");
        same("--may-exist", "add-br", "vlan10", "br0", "11");
        same("--may-exist", "add-br", "vlan10", "br1", "10");
        same("--may-exist", "add-br", "vlan10");
        same("--may-exist", "add-br", "br0", "br0", "3");
        same("add-br", "v20", "br0", "20x");
        same("br-to-vlan", "v20");
        same("add-port", "vlan10", "p1");
        same("add-port", "br0", "p10", "tag=10");
        same("add-port", "vlan10", "p20", "tag=20");
        same("add-bond", "vlan10", "bd", "a", "b", "lacp=active");
        same("list-br");
        same("--real", "list-br");
        same("--fake", "list-br");
        same("list-br", "--real");
        same("br-exists", "vlan10");
        same("br-to-vlan", "vlan10");
        same("br-to-vlan", "br0");
        same("br-to-vlan", "nope");
        same("br-to-parent", "vlan10");
        same("br-to-parent", "br0");
        same("br-to-parent", "nope");
        same("list-ports", "br0");
        same("list-ports", "vlan10");
        same("list-ports", "v20");
        same("list-ifaces", "vlan10");
        same("list-ifaces", "br0");
        same("port-to-br", "p1");
        same("port-to-br", "p10");
        same("port-to-br", "p20");
        same("port-to-br", "vlan10");
        same("iface-to-br", "a");
        same("iface-to-br", "vlan10");
        same("--may-exist", "add-port", "br0", "p1");
        same("--may-exist", "add-port", "vlan10", "p1");
        same("get", "Port", "vlan10", "fake_bridge", "tag");
        same("get", "Port", "p1", "tag", "fake_bridge");
        same("get", "Interface", "vlan10", "type");
        same("set-controller", "vlan10", "tcp:1.2.3.4:6653");
        same("set-controller", "br0", "tcp:1.2.3.4:6653");
        same("get-controller", "vlan10");
        same("del-controller", "vlan10");
        same("set-fail-mode", "vlan10", "secure");
        same("set-fail-mode", "br0", "secure");
        same("get-fail-mode", "vlan10");
        same("del-fail-mode", "vlan10");
        same("del-port", "vlan10");
        same("del-port", "br0", "vlan10");
        same("--if-exists", "del-port", "vlan10");
        same("del-port", "br0", "p1");
        same("del-port", "vlan10", "eth0");
        same("del-port", "vlan10", "p1");
        same("list-ports", "vlan10");
        same("del-br", "vlan10");
        same("list-br");
        same("list-ports", "br0");
        same("--columns=name", "find", "Port", "tag=10");
        same("--columns=name", "find", "Interface", "name=a");
        same("add-br", "vlan10", "br0", "10");
        same("add-port", "vlan10", "q");
        same("del-br", "br0");
        same("list-br");
        same("--columns=name", "list", "Port");
        same("--columns=name", "list", "Interface");
    }

    @Test
    void bondsEmerResetAndWaitUntil() throws Exception {
        same("add-br", "br0");
        same("add-bond", "br0", "bond0", "a", "lacp=active");
        same("add-bond", "br0", "bond0", "x=1", "y=2");
        same("add-bond", "br0", "b3", "h", "i", "tag=5", "k");
        same("add-bond", "br0", "bond0", "a", "b", "lacp=active", "other_config:x=y");
        same("get", "Port", "bond0", "lacp", "other_config", "bond_fake_iface");
        same("--columns=name", "list", "Interface", "a", "b");
        same("--may-exist", "add-bond", "br0", "bond0", "b", "a", "lacp=off");
        same("--may-exist", "add-bond", "br0", "bond0", "a", "c");
        same("get", "Port", "bond0", "lacp");
        same("add-bond", "br0", "bond1", "a", "c");
        same("--fake-iface", "add-bond", "br0", "bond1", "c", "d");
        same("get", "Port", "bond1", "bond_fake_iface");
        same("--fake-iface", "add-port", "br0", "p9");
        same("add-br", "br1", "--", "set-controller", "br1", "tcp:1.2.3.4:6653", "--", "set-fail-mode", "br1", "secure");
        same("set-manager", "ptcp:6640");
        same("set", "Bridge", "br1", "other_config:hwaddr=\"02:00:00:00:00:01\"", "other_config:x=1", "flood_vlans=[1,2]");
        same("set", "Port", "bond0", "other_config:k=v", "tag=7");
        same("set", "Interface", "a", "ingress_policing_rate=1000", "ingress_policing_burst=100");
        same("--id=@m", "create", "Mirror", "name=m1", "--", "set", "Bridge", "br1", "mirrors=@m");
        // OVS's QoS recipe: row ids used before the commands that create them
        same("set", "Port", "bond0", "qos=@q", "--", "--id=@q", "create", "QoS", "type=linux-htb", "other-config:max-rate=1000000",
                "queues:0=@q0", "queues:1=@q1", "--", "--id=@q0", "create", "Queue", "other-config:min-rate=1000",
                "--", "--id=@q1", "create", "Queue", "other-config:max-rate=5000", "dscp=46");
        same("--columns=type,other_config", "list", "QoS");
        same("set", "Port", "bond0", "qos=@nowhere");
        same("--id=@z", "create", "Queue", "dscp=1", "--", "--id=@z", "create", "Queue", "dscp=2");
        same("emer-reset");
        same("--columns=controller,fail_mode,mirrors,flood_vlans,other_config", "list", "Bridge", "br1");
        same("get", "Port", "bond0", "other_config", "tag");
        same("get", "Interface", "a", "ingress_policing_rate", "ingress_policing_burst");
        same("list", "Controller");
        same("list", "Manager");
        same("list", "Mirror");
        same("get-manager");
        same("wait-until", "Bridge", "br0");
        same("wait-until", "Bridge", "br0", "name=br0", "ports{>=}[]");
        same("wait-until", "Bogus", "br0");
        same("wait-until", "Bridge", "br0", "bogus=1");
        same("wait-until", "Bridge", "br0", "fail_mode");
        same("find", "Bridge", "other_config:nokey!=x");
        same("--columns=name", "find", "Interface", "name{in}[a,b,zz]");
        same("--columns=name", "find", "Bridge", "name{not-in}[br0]");
        same("-t", "1", "wait-until", "Bridge", "nope");
        same("-t", "1", "wait-until", "Bridge", "br0", "other_config:nokey!=x");
    }

    /** wait-until holds until another client makes the condition true, then exits 0 at once. */
    @Test
    void waitUntilReturnsWhenTheConditionBecomesTrue() throws Exception {
        runOurs("add-br", "br0");
        java.util.concurrent.CompletableFuture<Out> waiting = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> runOurs("wait-until", "Bridge", "br0", "fail_mode=secure", "--", "get", "Bridge", "br0", "fail_mode"));
        Thread.sleep(700);
        assertTrue(!waiting.isDone(), "still waiting: " + (waiting.isDone() ? waiting.join() : ""));
        assertEquals(0, runOurs("set", "Bridge", "br0", "external_ids:x=1").rc());
        Thread.sleep(300);
        assertTrue(!waiting.isDone(), "an unrelated change does not end the wait");
        assertEquals(0, runOurs("set-fail-mode", "br0", "secure").rc());
        Out r = waiting.get(10, TimeUnit.SECONDS);
        assertEquals(new Out(0, "secure\n", ""), r, "the commands after it ran against the new contents");
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
        same("add-port", "br0", "p<2>", "--", "set", "Port", "p<2>", "other_config:a=\"x&y\"");
        sameUnordered("--format=html", "--columns=name,tag,other_config", "list", "Port");
        sameUnordered("--format=html", "--no-headings", "--columns=name", "list", "Port");
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
        same("set", "Port", "p1", "trunks=1-3");
        same("get", "Port", "p1", "trunks");
        same("set", "Port", "p1", "trunks=[1-3,7,10-11]");
        same("get", "Port", "p1", "trunks");
        same("set", "Port", "p1", "trunks=5-3");
        same("set", "Port", "p1", "tag=1-3");
        same("set", "Port", "p1", "trunks=1-5000");
        same("--columns=name", "find", "Port", "trunks{>=}2-3");
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
        Vsctl.Result first = Vsctl.run(new String[] {"--db=unix:" + ours.sock(), "--no-wait", "init"}, Map.of());
        assertEquals(0, first.rc(), first.err());
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(500);
                assertEquals(0, ovsVsctl(ours.sock(), "set", "Open_vSwitch", ".", "cur_cfg=1").rc());   // what vswitchd writes
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        long t0 = System.nanoTime();
        Vsctl.Result r = Vsctl.run(new String[] {"--db=unix:" + ours.sock(), "--timeout=10", "add-br", "br0"}, Map.of());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        writer.join();
        assertEquals(0, r.rc(), r.err());
        assertTrue(ms >= 400, "waited for cur_cfg: " + ms + " ms");
        Vsctl.Result t = Vsctl.run(new String[] {"--db=unix:" + ours.sock(), "--timeout=1", "add-br", "br1"}, Map.of());
        assertEquals(142, t.rc(), t.err());
        Vsctl.Result none = Vsctl.run(new String[] {"--db=unix:" + dir.resolve("nope.sock"), "list-br"}, Map.of());
        assertEquals(1, none.rc());
        Out rn = runReal("--db=unix:" + dir.resolve("nope.sock"), "list-br");
        assertEquals(rn.rc(), none.rc());
    }
}
