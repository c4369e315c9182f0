package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.unixctl.UnixctlException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;
import io.vswitch.ovsdb.server.OvsdbServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.function.ThrowingSupplier;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The appctl configuration commands as OVSDB transactions: a real {@link OvsdbServer} on a
 * {@link DatabaseFile} in a temp dir, the {@link BridgeReconciler} thread as vswitchd runs it, and a
 * real in-process dataplane over the IPC rings. "tap" and "internal" ports are memory ports: no
 * kernel device is created. Every command is checked in the database (rows, garbage collection,
 * status written back, next_cfg/cur_cfg) and in the dataplane (what it reports and the port objects
 * the PMDs use).
 */
class BridgeCommandsTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final int OFPP_LOCAL = 65534;
    private static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");
    private static final String NOT_CONNECTED = "not connected to the dataplane (is vswitch-dp running? see bin/vswitch status)";
    private static final String LOCAL_PORT = "cannot delete port br0 because it is the local port for bridge br0"
            + " (deleting this port requires deleting the entire bridge)";

    @TempDir
    Path runDir;
    private InProcessDataplane dataplane;
    private DatabaseFile file;
    private OvsdbServer server;
    private Reconciler reconciler;
    private BridgeReconciler bridgeReconciler;
    private BridgeCommands cmds;
    private boolean controlRunning;
    private volatile boolean connected = true;

    @BeforeEach
    void setUp() throws Exception {
        dataplane = new InProcessDataplane();
        file = DatabaseFile.open(dbFile(), SCHEMA);
        server = new OvsdbServer(file.database(), file);
        // The root row, as Vswitchd.ensureRootRow creates it; PMDs sleep when idle (2-core test hosts).
        ObjectNode root = F.objectNode();
        root.set("other_config", F.arrayNode().add("map")
                .add(F.arrayNode().add(F.arrayNode().add("pmd-sleep-max").add(InProcessDataplane.PMD_SLEEP_MAX))));
        ArrayNode result = server.transact(F.arrayNode().add(F.objectNode().put("op", "insert").put("table", "Open_vSwitch")
                .set("row", root))).get(10, TimeUnit.SECONDS);
        assertFalse(result.get(0).has("error"), result.toString());
        startControl();
        await(() -> InProcessDataplane.PMD_SLEEP_MAX.equals(dataplane.state().config().get("pmd-sleep-max")),
                "the initial reconciliation");
    }

    private Path dbFile() {
        return runDir.resolve("conf.db");
    }

    /** What Vswitchd wires on the open database: reconciler, its thread, the commands. */
    private void startControl() {
        reconciler = new Reconciler();
        bridgeReconciler = new BridgeReconciler(server, reconciler, this::datapath);
        cmds = new BridgeCommands(server, reconciler, this::datapath);
        controlRunning = true;
    }

    /** vswitchd goes away: the dataplane keeps running. */
    private void stopControl() throws Exception {
        controlRunning = false;
        bridgeReconciler.close();
        server.close();
        file.close();
    }

    private DatapathClient datapath() throws DatapathException {
        if (!connected) throw new DatapathException(NOT_CONNECTED);
        return dataplane.client;
    }

    @AfterEach
    void tearDown() throws Exception {
        if (controlRunning) stopControl();
        dataplane.close();
    }

    private static void await(Callable<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.call()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    // ---- reading the database ----

    private <T> T db(Function<Database, T> f) throws Exception {
        return server.call(f).get(10, TimeUnit.SECONDS);
    }

    private static Row byName(Database d, String table, String name) {
        for (Row r : d.rows(table).values()) if (r.get("name").equals(Datum.atom(name))) return r;
        return null;
    }

    private Row row(String table, String name) throws Exception {
        return db(d -> byName(d, table, name));
    }

    private Row root() throws Exception {
        return db(OvsdbConfig::root);
    }

    /** The root row's next_cfg or cur_cfg. */
    private long cfg(String column) throws Exception {
        Datum d = root().get(column);
        return d.size() == 0 ? 0 : (Long) d.key(0);
    }

    private Set<String> names(String table) throws Exception {
        List<String> n = db(d -> OvsdbConfig.names(d, table));
        return new TreeSet<>(n);
    }

    /** Names of the Port rows the bridge references. */
    private Set<String> portsOf(String bridge) throws Exception {
        return db(d -> {
            Set<String> s = new TreeSet<>();
            for (Object u : byName(d, "Bridge", bridge).get("ports").keys()) s.add((String) d.rows("Port").get((UUID) u).get("name").key(0));
            return s;
        });
    }

    private static Map<String, String> strings(Datum d) {
        Map<String, String> m = new TreeMap<>();
        for (Object[] kv : d.entries()) m.put((String) kv[0], (String) kv[1]);
        return m;
    }

    private static List<Long> integers(Datum d) {
        List<Long> l = new ArrayList<>();
        for (Object k : d.keys()) l.add((Long) k);
        return l;
    }

    /** Every row's columns, by table and UUID (row versions left out); {@code persistent}: without ephemeral columns. */
    private static Map<String, Map<UUID, Map<String, Datum>>> rows(Database d, boolean persistent) {
        Map<String, Map<UUID, Map<String, Datum>>> m = new TreeMap<>();
        for (TableSchema t : d.schema().tables().values()) {
            Map<UUID, Map<String, Datum>> rows = new HashMap<>();
            for (Row r : d.rows(t.name()).values()) {
                Map<String, Datum> cols = new TreeMap<>(r.columns());
                if (persistent) for (ColumnSchema c : t.columns().values()) if (c.ephemeral()) cols.remove(c.name());
                rows.put(r.uuid(), cols);
            }
            m.put(t.name(), rows);
        }
        return m;
    }

    private static BitSet vlans(int... ids) {
        BitSet b = new BitSet();
        for (int id : ids) b.set(id);
        return b;
    }

    // ---- running commands ----

    /** Runs a command that must succeed: it returns "" once cur_cfg reached the next_cfg it set. */
    private void ok(ThrowingSupplier<String> command) throws Throwable {
        long next = cfg("next_cfg");
        assertEquals("", command.get());
        assertEquals(next + 1, cfg("next_cfg"), "next_cfg is bumped once per command");
        assertEquals(next + 1, cfg("cur_cfg"), "the command returned before cur_cfg reached next_cfg");
    }

    /** br0 (mac-aging-time=60) {p1 tag 10, p2 trunk 10,20, p3 ofport 7 with an option}, br1. */
    private void standard() throws Throwable {
        ok(() -> cmds.addBridge("br0", List.of("mac-aging-time=60")));
        ok(() -> cmds.addPort("br0", "p1", List.of("tag=10")));
        ok(() -> cmds.addPort("br0", "p2", List.of("trunks=10,20", "vlan_mode=trunk")));
        ok(() -> cmds.addPort("br0", "p3", List.of("ofport_request=7", "options:k=v")));
        ok(() -> cmds.addBridge("br1", List.of()));
    }

    /** Everything a refused command must leave as it was. */
    private record Snapshot(Map<String, Map<UUID, Map<String, Datum>>> rows, DatapathState state, Map<String, Port> ios) {}

    /** The dataplane first: a refused command must have put it back by the time it returns. */
    private Snapshot snapshot(boolean withoutCfg) throws Exception {
        DatapathState state = dataplane.state();
        Map<String, Port> ios = dataplane.ios();
        Map<String, Map<UUID, Map<String, Datum>>> rows = db(d -> rows(d, false));
        if (withoutCfg) rows.get("Open_vSwitch").values().forEach(r -> r.keySet().removeAll(Set.of("next_cfg", "cur_cfg")));
        return new Snapshot(rows, state, ios);
    }

    /** The rows that differ, named by table, row name (or UUID) and column; empty if none. */
    private static String diff(Map<String, Map<UUID, Map<String, Datum>>> before, Map<String, Map<UUID, Map<String, Datum>>> after) {
        StringBuilder sb = new StringBuilder();
        for (String table : before.keySet()) {
            Set<UUID> uuids = new TreeSet<>(before.get(table).keySet());
            uuids.addAll(after.get(table).keySet());
            for (UUID u : uuids) {
                Map<String, Datum> b = before.get(table).get(u);
                Map<String, Datum> a = after.get(table).get(u);
                Map<String, Datum> any = b != null ? b : a;
                String row = table + " " + (any.containsKey("name") ? any.get("name") : u);
                if (b == null || a == null) {
                    sb.append(row).append(b == null ? " added" : " deleted").append('\n');
                    continue;
                }
                for (String col : b.keySet()) {
                    if (!b.get(col).equals(a.get(col))) sb.append(row).append(' ').append(col).append(": ").append(b.get(col)).append(" -> ").append(a.get(col)).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private void assertUnchanged(Snapshot before, Snapshot after, String what) {
        assertEquals("", diff(before.rows(), after.rows()), what + ": the database changed");
        assertEquals(before.state(), after.state(), what + ": the dataplane changed");
        assertEquals(before.ios().keySet(), after.ios().keySet(), what + ": dataplane ports changed");
        before.ios().forEach((n, io) -> assertSame(io, after.ios().get(n), what + ": port " + n + " was reopened"));
    }

    /** A command refused before anything is written: {@code message}, and not one row or port changed. */
    private void assertRefused(String message, Executable command) throws Exception {
        Snapshot before = snapshot(false);
        UnixctlException e = assertThrows(UnixctlException.class, command, message);
        assertEquals(message, e.getMessage());
        assertUnchanged(before, snapshot(false), message);
    }

    /**
     * A command the dataplane refused: it was committed (next_cfg bumped and applied), then taken out
     * again, so apart from next_cfg/cur_cfg the database and the dataplane are as before.
     */
    private void assertRolledBack(String message, Executable command) throws Exception {
        Snapshot before = snapshot(true);
        long next = cfg("next_cfg");
        UnixctlException e = assertThrows(UnixctlException.class, command, message);
        Snapshot after = snapshot(true);
        assertEquals(message, e.getMessage());
        assertUnchanged(before, after, message);
        // Tried (next_cfg moved; a refused port's removal is a second, awaited change), and the
        // dataplane has caught up with all of it when the command returns.
        assertTrue(cfg("next_cfg") > next, message + ": the change was not tried");
        assertEquals(cfg("next_cfg"), cfg("cur_cfg"), message + ": the dataplane had not applied the rollback");
    }

    // ---- bridges ----

    @Test
    void addBridgeCreatesItsRowsAndTheBridgeWithItsLocalPort() throws Throwable {
        ok(() -> cmds.addBridge("br0", List.of("mac-aging-time=60", "other_config:mac-table-size=100")));

        // Database: root -> Bridge -> Port -> Interface, with the status vswitchd writes back.
        Row bridge = row("Bridge", "br0");
        Row port = row("Port", "br0");
        Row iface = row("Interface", "br0");
        assertNotNull(bridge);
        assertNotNull(port);
        assertNotNull(iface);
        assertEquals(List.of(bridge.uuid()), root().get("bridges").keys());
        assertEquals(Map.of("mac-aging-time", "60", "mac-table-size", "100"), strings(bridge.get("other_config")));
        assertEquals(List.of(port.uuid()), bridge.get("ports").keys());
        assertEquals(List.of(iface.uuid()), port.get("interfaces").keys());
        assertEquals(Datum.atom("internal"), iface.get("type"));
        assertEquals(Datum.atom((long) OFPP_LOCAL), iface.get("ofport"), "Interface.ofport written back");
        assertEquals(Datum.EMPTY_SET, iface.get("error"));
        assertEquals(Datum.atom("up"), iface.get("admin_state"));
        assertEquals(Datum.atom("up"), iface.get("link_state"));
        String mac = MemoryPort.macOf("br0");
        assertEquals(Datum.atom(mac), iface.get("mac_in_use"), "the device's MAC, as its port reports it");
        assertEquals(Datum.atom(1500L), iface.get("mtu"));
        assertEquals(Map.of("driver_name", "memory"), strings(iface.get("status")), "the rest of the port's status");
        assertEquals(Datum.atom("0000" + mac.replace(":", "")), bridge.get("datapath_id"), "from the local port's MAC, as OVS does");
        assertEquals(Set.of("br0"), names("Bridge"));
        assertEquals(Set.of("br0"), names("Port"));
        assertEquals(Set.of("br0"), names("Interface"));

        // Dataplane: the bridge with its settings and its LOCAL port.
        DatapathState s = dataplane.state();
        assertEquals(Map.of("mac-aging-time", "60", "mac-table-size", "100"), s.bridges().get("br0"));
        assertEquals(Map.of("br0", new PortSpec("br0", "br0", "internal", OFPP_LOCAL, null, -1, "", Map.of())), dataplane.ports());
        DpPort local = dataplane.dpPort("br0");
        assertEquals(OFPP_LOCAL, local.ofport());
        assertEquals("internal", local.type());
        assertInstanceOf(MemoryPort.class, local.io());

        assertEquals("br0\n", cmds.listBridges());
        assertEquals("", cmds.listPorts("br0"), "the LOCAL port is not listed");
        assertTrue(reconciler.portErrors().isEmpty(), reconciler.portErrors().toString());
    }

    @Test
    void setBridgeAndSetConfigReachTheDataplaneAndTheDatabase() throws Throwable {
        standard();
        Port p1 = dataplane.dpPort("p1").io();

        ok(() -> cmds.setBridge("br0", List.of("mac-aging-time=120", "mac-table-size=500")));
        assertEquals(Map.of("mac-aging-time", "120", "mac-table-size", "500"), dataplane.state().bridges().get("br0"));
        assertEquals(Map.of("mac-aging-time", "120", "mac-table-size", "500"), strings(row("Bridge", "br0").get("other_config")));
        ok(() -> cmds.setBridge("br0", List.of("mac-aging-time=")));     // an empty value removes the key
        assertEquals(Map.of("mac-table-size", "500"), dataplane.state().bridges().get("br0"));
        assertEquals(Map.of("mac-table-size", "500"), strings(row("Bridge", "br0").get("other_config")));

        ok(() -> cmds.setConfig(List.of("pmd-sleep-max=2000")));
        assertEquals("2000", dataplane.state().config().get("pmd-sleep-max"));
        assertEquals(Map.of("pmd-sleep-max", "2000"), strings(root().get("other_config")));
        assertSame(p1, dataplane.dpPort("p1").io(), "settings do not reopen ports");
        assertEquals(Map.of(), dataplane.state().bridges().get("br1"), "other bridges untouched");
    }

    // ---- ports ----

    @Test
    void addPortSettingsReachTheDataplaneAndTheDatabase() throws Throwable {
        standard();
        ok(() -> cmds.addPort("br0", "p4", List.of("tag=5", "trunks=[10, 20]", "vlan_mode=native-untagged")));
        ok(() -> cmds.addPort("br1", "p5", List.of("type=internal")));

        assertEquals(Map.of(
                "br0", new PortSpec("br0", "br0", "internal", OFPP_LOCAL, null, -1, "", Map.of()),
                "p1", new PortSpec("br0", "p1", "tap", 1, null, 10, "", Map.of()),
                "p2", new PortSpec("br0", "p2", "tap", 2, "trunk", -1, "10,20", Map.of()),
                "p3", new PortSpec("br0", "p3", "tap", 7, null, -1, "", Map.of("k", "v")),
                "p4", new PortSpec("br0", "p4", "tap", 3, "native-untagged", 5, "10,20", Map.of()),
                "br1", new PortSpec("br1", "br1", "internal", OFPP_LOCAL, null, -1, "", Map.of()),
                "p5", new PortSpec("br1", "p5", "internal", 1, null, -1, "", Map.of())), dataplane.ports());

        // What the PMDs forward with.
        DpPort p1 = dataplane.dpPort("p1");
        assertEquals(VlanPolicy.Mode.ACCESS, p1.vlan().mode());
        assertEquals(10, p1.vlan().tag());
        assertEquals(VlanPolicy.Mode.TRUNK, dataplane.dpPort("p2").vlan().mode());
        assertEquals(vlans(10, 20), dataplane.dpPort("p2").vlan().trunks());
        assertEquals(Map.of("k", "v"), dataplane.dpPort("p3").options());
        assertEquals(7, dataplane.dpPort("p3").ofport());
        DpPort p4 = dataplane.dpPort("p4");
        assertEquals(VlanPolicy.Mode.NATIVE_UNTAGGED, p4.vlan().mode());
        assertEquals(5, p4.vlan().tag());
        assertEquals(vlans(10, 20), p4.vlan().trunks());
        assertEquals("internal", dataplane.dpPort("p5").type());

        // The rows, as ovs-vsctl would have written them, plus the ofports vswitchd assigned.
        Row port4 = row("Port", "p4");
        assertEquals(Datum.atom(5L), port4.get("tag"));
        assertEquals(List.of(10L, 20L), integers(port4.get("trunks")));
        assertEquals(Datum.atom("native-untagged"), port4.get("vlan_mode"));
        Row iface4 = row("Interface", "p4");
        assertEquals(Datum.atom("tap"), iface4.get("type"));
        assertEquals(Datum.atom(3L), iface4.get("ofport"));
        assertEquals(Datum.EMPTY_SET, iface4.get("ofport_request"));
        assertEquals(List.of(iface4.uuid()), port4.get("interfaces").keys());
        Row port1 = row("Port", "p1");
        assertEquals(Datum.atom(10L), port1.get("tag"));
        assertEquals(Datum.EMPTY_SET, port1.get("trunks"));
        assertEquals(Datum.EMPTY_SET, port1.get("vlan_mode"));
        assertEquals(Datum.atom(1L), row("Interface", "p1").get("ofport"));
        assertEquals(Datum.atom("trunk"), row("Port", "p2").get("vlan_mode"));
        Row iface3 = row("Interface", "p3");
        assertEquals(Datum.atom(7L), iface3.get("ofport_request"));
        assertEquals(Datum.atom(7L), iface3.get("ofport"));
        assertEquals(Map.of("k", "v"), strings(iface3.get("options")));
        Row iface5 = row("Interface", "p5");
        assertEquals(Datum.atom("internal"), iface5.get("type"));
        assertEquals(Datum.atom(1L), iface5.get("ofport"));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "p4"), portsOf("br0"));
        assertEquals(Set.of("br1", "p5"), portsOf("br1"));
        for (String n : names("Interface")) {
            assertEquals(Datum.EMPTY_SET, row("Interface", n).get("error"), n);
            assertEquals(Datum.atom("up"), row("Interface", n).get("link_state"), n);
        }

        assertEquals("p1\np2\np3\np4\n", cmds.listPorts("br0"));
        assertEquals("p5\n", cmds.listPorts("br1"));
        assertEquals("br0\nbr1\n", cmds.listBridges());
    }

    /** ovs-vsctl accepts "trunks=10 20" style lists too; the VLANs must stay 10 and 20. */
    @Test
    void trunksSeparatedBySpacesKeepTheirVlans() throws Throwable {
        standard();
        ok(() -> cmds.addPort("br0", "p5", List.of("trunks=10 20")));

        assertEquals(vlans(10, 20), dataplane.dpPort("p5").vlan().trunks(), "VLANs the dataplane carries on p5");
        assertEquals(List.of(10L, 20L), integers(row("Port", "p5").get("trunks")), "saved trunks");
    }

    @Test
    void setPortChangesVlansInPlace() throws Throwable {
        standard();
        DpPort before = dataplane.dpPort("p1");
        UUID portRow = row("Port", "p1").uuid();

        ok(() -> cmds.setPort("p1", List.of("tag=20")));
        DpPort after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io(), "p1 reopened for a VLAN change");
        assertEquals(before.index(), after.index());
        assertEquals(20, after.vlan().tag());
        assertEquals(20, dataplane.ports().get("p1").tag());
        assertEquals(Datum.atom(20L), row("Port", "p1").get("tag"));
        assertEquals(portRow, row("Port", "p1").uuid(), "the row is updated, not replaced");
        assertFalse(InProcessDataplane.isClosed(before.io()));

        ok(() -> cmds.setPort("p1", List.of("tag=", "trunks=30-32")));   // untagged: a trunk of 30-32
        after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io());
        assertEquals(VlanPolicy.Mode.TRUNK, after.vlan().mode());
        assertEquals(vlans(30, 31, 32), after.vlan().trunks());
        Row p1 = row("Port", "p1");
        assertEquals(Datum.EMPTY_SET, p1.get("tag"));
        assertEquals(List.of(30L, 31L, 32L), integers(p1.get("trunks")));
        assertEquals(Datum.atom(1L), row("Interface", "p1").get("ofport"), "set-port keeps the ofport");
        assertEquals(1, after.ofport());

        ok(() -> cmds.setPort("p1", List.of("vlan_mode=native-tagged", "tag=30")));
        after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io());
        assertEquals(VlanPolicy.Mode.NATIVE_TAGGED, after.vlan().mode());
        assertEquals(30, after.vlan().tag());
        assertEquals(vlans(30, 31, 32), after.vlan().trunks(), "settings not named are kept");
        assertEquals(Datum.atom("native-tagged"), row("Port", "p1").get("vlan_mode"));

        ok(() -> cmds.setPort("p1", List.of("vlan_mode=", "trunks=")));   // back to an access port on VLAN 30
        after = dataplane.dpPort("p1");
        assertEquals(VlanPolicy.Mode.ACCESS, after.vlan().mode());
        assertEquals(new PortSpec("br0", "p1", "tap", 1, null, 30, "", Map.of()), dataplane.ports().get("p1"));
        assertEquals(Datum.EMPTY_SET, row("Port", "p1").get("vlan_mode"));
        assertEquals(Datum.EMPTY_SET, row("Port", "p1").get("trunks"));
        assertSame(before.io(), after.io());
    }

    @Test
    void delPortAndDelBrRemoveFromTheDataplaneAndTheDatabase() throws Throwable {
        standard();
        Port p1 = dataplane.dpPort("p1").io();
        Port p2 = dataplane.dpPort("p2").io();
        Port local = dataplane.dpPort("br0").io();

        ok(() -> cmds.deletePort("br0", "p2"));
        assertNull(dataplane.dpPort("p2"));
        assertTrue(InProcessDataplane.isClosed(p2));
        assertSame(p1, dataplane.dpPort("p1").io());
        assertEquals(Set.of("br0", "p1", "p3"), portsOf("br0"));
        assertFalse(names("Port").contains("p2"), "the unreferenced Port row is garbage-collected");
        assertFalse(names("Interface").contains("p2"), "and so is its Interface");

        ok(() -> cmds.deletePort(null, "p3"));                     // without the bridge
        assertEquals(Set.of("br0", "p1", "br1"), dataplane.ports().keySet());
        assertEquals(Set.of("br0", "br1", "p1"), names("Interface"));

        ok(() -> cmds.deleteBridge("br0"));
        assertEquals(Set.of("br1"), dataplane.state().bridges().keySet());
        assertEquals(Set.of("br1"), dataplane.ports().keySet());
        assertTrue(InProcessDataplane.isClosed(p1));
        assertTrue(InProcessDataplane.isClosed(local));
        assertEquals(Set.of("br1"), names("Bridge"));
        assertEquals(Set.of("br1"), names("Port"), "the bridge's ports went with it");
        assertEquals(Set.of("br1"), names("Interface"));
        assertEquals(List.of(row("Bridge", "br1").uuid()), root().get("bridges").keys());
        assertEquals("br1\n", cmds.listBridges());

        ok(() -> cmds.deleteBridge("br1"));
        assertEquals(Map.of(), dataplane.state().bridges());
        assertEquals(List.of(), dataplane.state().ports());
        assertEquals(Map.of("Bridge", 0, "Port", 0, "Interface", 0), db(d -> Map.of(
                "Bridge", d.rows("Bridge").size(), "Port", d.rows("Port").size(), "Interface", d.rows("Interface").size())));
        assertEquals("", cmds.listBridges());
    }

    // ---- refusals ----

    @Test
    void commandsRefusedByTheConfigLayerChangeNothing() throws Throwable {
        standard();
        String badName = "invalid port name '%s': use 1-15 printable characters without '/', ':' or spaces";
        assertAll(
                // duplicates and missing objects, with ovs-vsctl's messages
                () -> assertRefused("cannot create a bridge named br0 because a bridge named br0 already exists",
                        () -> cmds.addBridge("br0", List.of())),
                () -> assertRefused("cannot create a bridge named p1 because a port named p1 already exists on bridge br0",
                        () -> cmds.addBridge("p1", List.of())),
                () -> assertRefused("cannot create a port named p1 because a port named p1 already exists on bridge br0",
                        () -> cmds.addPort("br0", "p1", List.of())),
                () -> assertRefused("cannot create a port named p1 because a port named p1 already exists on bridge br0",
                        () -> cmds.addPort("br1", "p1", List.of())),
                () -> assertRefused("cannot create a port named br0 because a port named br0 already exists on bridge br0",
                        () -> cmds.addPort("br0", "br0", List.of())),
                () -> assertRefused("cannot create a port named br1 because a port named br1 already exists on bridge br1",
                        () -> cmds.addPort("br0", "br1", List.of())),
                () -> assertRefused("no bridge named nobr", () -> cmds.addPort("nobr", "p9", List.of())),
                () -> assertRefused("no bridge named nobr", () -> cmds.deleteBridge("nobr")),
                () -> assertRefused("no bridge named nobr", () -> cmds.setBridge("nobr", List.of("mac-aging-time=1"))),
                () -> assertRefused("no bridge named nobr", () -> cmds.listPorts("nobr")),
                () -> assertRefused("no port named nope", () -> cmds.deletePort(null, "nope")),
                () -> assertRefused("no port named nope", () -> cmds.setPort("nope", List.of("tag=1"))),
                () -> assertRefused("bridge br1 does not have a port p1 (although its parent bridge br0 does)",
                        () -> cmds.deletePort("br1", "p1")),
                // the LOCAL port goes only with its bridge
                () -> assertRefused(LOCAL_PORT, () -> cmds.deletePort(null, "br0")),
                () -> assertRefused(LOCAL_PORT, () -> cmds.deletePort("br0", "br0")),
                // names
                () -> assertRefused(badName.formatted("p/9"), () -> cmds.addPort("br0", "p/9", List.of())),
                () -> assertRefused(badName.formatted("port-name-too-long"), () -> cmds.addPort("br0", "port-name-too-long", List.of())),
                () -> assertRefused("invalid bridge name 'b r': use 1-15 printable characters without '/', ':' or spaces",
                        () -> cmds.addBridge("b r", List.of())),
                // VLAN columns
                () -> assertRefused("invalid tag '4096': use a number from 0 to 4095", () -> cmds.addPort("br0", "p9", List.of("tag=4096"))),
                () -> assertRefused("invalid tag '-1': use a number from 0 to 4095", () -> cmds.addPort("br0", "p9", List.of("tag=-1"))),
                () -> assertRefused("invalid tag 'ten': use a number from 0 to 4095", () -> cmds.addPort("br0", "p9", List.of("tag=ten"))),
                () -> assertRefused("invalid trunks '10,x': use VLAN ids 0-4095, e.g. 10,20,30-40",
                        () -> cmds.addPort("br0", "p9", List.of("trunks=10,x"))),
                () -> assertRefused("invalid trunks '4096': use VLAN ids 0-4095, e.g. 10,20,30-40",
                        () -> cmds.addPort("br0", "p9", List.of("trunks=4096"))),
                () -> assertRefused("invalid trunks '20-10': use VLAN ids 0-4095, e.g. 10,20,30-40",
                        () -> cmds.addPort("br0", "p9", List.of("trunks=20-10"))),
                () -> assertRefused("invalid vlan_mode 'bogus': use access, trunk, native-tagged or native-untagged",
                        () -> cmds.addPort("br0", "p9", List.of("vlan_mode=bogus"))),
                () -> assertRefused("vlan_mode access needs a tag", () -> cmds.addPort("br0", "p9", List.of("vlan_mode=access"))),
                () -> assertRefused("vlan_mode native-tagged needs a tag", () -> cmds.addPort("br0", "p9", List.of("vlan_mode=native-tagged"))),
                () -> assertRefused("invalid tag '5000': use a number from 0 to 4095", () -> cmds.setPort("p1", List.of("tag=5000"))),
                () -> assertRefused("invalid trunks 'x': use VLAN ids 0-4095, e.g. 10,20,30-40", () -> cmds.setPort("p2", List.of("trunks=x"))),
                () -> assertRefused("vlan_mode access needs a tag", () -> cmds.setPort("p2", List.of("vlan_mode=access"))),
                () -> assertRefused("vlan_mode access needs a tag", () -> cmds.setPort("p1", List.of("vlan_mode=access", "tag="))),
                () -> assertRefused("invalid vlan_mode 'bogus': use access, trunk, native-tagged or native-untagged",
                        () -> cmds.setPort("p1", List.of("vlan_mode=bogus"))),
                // ofport_request
                () -> assertRefused("ofport_request 7 is already used by port p3",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=7"))),
                () -> assertRefused("invalid ofport_request '0': use a number from 1 to 65279",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=0"))),
                () -> assertRefused("invalid ofport_request '65534': use a number from 1 to 65279",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=65534"))),
                // bridge and switch settings: the dataplane's limits, checked before anything is written
                () -> assertRefused("invalid mac-table-size '0': use a number from 1 to 1000000",
                        () -> cmds.addBridge("br9", List.of("mac-table-size=0"))),
                () -> assertRefused("invalid mac-table-size '0': use a number from 1 to 1000000",
                        () -> cmds.setBridge("br0", List.of("mac-table-size=0"))),
                () -> assertRefused("invalid mac-table-size '0': use a number from 1 to 1000000",
                        () -> cmds.setBridge("br0", List.of("mac-aging-time=30", "other_config:mac-table-size=0"))),
                () -> assertRefused("invalid mac-aging-time 'x': use a number from 0 to 1000000",
                        () -> cmds.addBridge("br9", List.of("mac-aging-time=x"))),
                () -> assertRefused("invalid pmd-sleep-max '20000000': use a number from 0 to 10000",
                        () -> cmds.setConfig(List.of("pmd-sleep-max=20000000"))),
                // syntax and keys
                () -> assertRefused("'tag' is not KEY=VALUE", () -> cmds.addPort("br0", "p9", List.of("tag"))),
                () -> assertRefused("unknown setting 'foo': use type, tag, trunks, vlan_mode, ofport_request or options:KEY",
                        () -> cmds.addPort("br0", "p9", List.of("foo=1"))),
                () -> assertRefused("unknown setting 'type': use type, tag, trunks, vlan_mode, ofport_request or options:KEY",
                        () -> cmds.setPort("p1", List.of("type=internal"))),
                () -> assertRefused("unknown key 'foo': use one of mac-aging-time, mac-table-size",
                        () -> cmds.addBridge("br9", List.of("foo=1"))),
                () -> assertRefused("unknown key 'pmd-sleep-max': use one of mac-aging-time, mac-table-size",
                        () -> cmds.setBridge("br0", List.of("pmd-sleep-max=1"))),
                () -> assertRefused("unknown key 'foo': use one of pmd-cpu-mask, pmd-sleep-max",
                        () -> cmds.setConfig(List.of("foo=1"))),
                () -> assertRefused("unknown key 'mac-table-size': use one of pmd-cpu-mask, pmd-sleep-max",
                        () -> cmds.setConfig(List.of("pmd-sleep-max=500", "mac-table-size=5"))));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "br1"), dataplane.ports().keySet());
        assertEquals(Set.of("br0", "p1", "p2", "p3", "br1"), names("Interface"));
        assertEquals(cfg("next_cfg"), cfg("cur_cfg"));
    }

    @Test
    void portsTheDataplaneRefusesAreRolledBack() throws Throwable {
        standard();
        String unknownType = assertThrows(IllegalArgumentException.class, () -> dataplane.providers.checkType("bogus")).getMessage();
        dataplane.devices.missing.add("nodev0");
        assertAll(
                () -> assertRolledBack(unknownType, () -> cmds.addPort("br0", "bad", List.of("type=bogus", "tag=10"))),
                () -> assertRolledBack("could not open TAP device nodev0: No such device", () -> cmds.addPort("br1", "nodev0", List.of())),
                // a name the database takes but the dataplane does not
                () -> assertRolledBack("bridge br@x: invalid bridge name 'br@x': use 1-15 letters, digits, '_', '.' or '-'",
                        () -> cmds.addBridge("br@x", List.of())));

        // Nothing left behind: no rows, no dataplane objects, nothing shown, no stale error, and the names are free again.
        assertEquals(Set.of("br0", "br1"), names("Bridge"));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "br1"), names("Port"));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "br1"), names("Interface"));
        assertEquals(Set.of("br0", "br1"), dataplane.state().bridges().keySet());
        String show = cmds.show();
        assertFalse(show.contains("bad") || show.contains("nodev0") || show.contains("br@x"), show);
        assertFalse(show.contains("error"), show);
        dataplane.devices.missing.clear();
        ok(() -> cmds.addPort("br0", "bad", List.of("tag=10")));
        ok(() -> cmds.addPort("br1", "nodev0", List.of()));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "bad", "br1", "nodev0"), dataplane.ports().keySet());
        assertEquals(new TreeSet<>(dataplane.ports().keySet()), names("Interface"));
        assertEquals(Datum.atom(3L), row("Interface", "bad").get("ofport"), "the refused port's number was not kept");
        assertEquals(3, dataplane.dpPort("bad").ofport());
        assertEquals(Datum.EMPTY_SET, row("Interface", "nodev0").get("error"));
        assertFalse(cmds.show().contains("error"), cmds.show());
        assertTrue(reconciler.portErrors().isEmpty(), reconciler.portErrors().toString());
    }

    /**
     * add-br whose LOCAL port the dataplane refuses: the dataplane created the bridge, then refused
     * its port, so the bridge must go again, from the database at once and from the dataplane on the
     * reconciliation that follows (see {@link #aRefusedBridgeIsGoneFromTheDataplaneWhenAddBrReturns}
     * for "at once").
     */
    @Test
    void aBridgeWhoseLocalPortIsRefusedIsRolledBack() throws Throwable {
        standard();
        dataplane.devices.missing.add("brx");
        Snapshot before = snapshot(true);
        UnixctlException e = assertThrows(UnixctlException.class, () -> cmds.addBridge("brx", List.of()));
        assertEquals("could not open TAP device brx: No such device", e.getMessage());
        assertEquals("", diff(before.rows(), snapshot(true).rows()), "the database changed");
        await(() -> !dataplane.state().bridges().containsKey("brx"), "brx to leave the dataplane");
        assertUnchanged(before, snapshot(true), "add-br brx");
        assertEquals(cfg("next_cfg"), cfg("cur_cfg"));

        dataplane.devices.missing.clear();
        ok(() -> cmds.addBridge("brx", List.of()));
        assertEquals(Set.of("br0", "br1", "brx"), dataplane.state().bridges().keySet());
        assertEquals(Datum.atom((long) OFPP_LOCAL), row("Interface", "brx").get("ofport"));
        assertFalse(cmds.show().contains("error"), cmds.show());
    }

    /** The undo of a refused add-br waits for the dataplane too: nothing is left half-configured when it returns. */
    @Test
    void aRefusedBridgeIsGoneFromTheDataplaneWhenAddBrReturns() throws Throwable {
        standard();
        for (int i = 0; i < 10; i++) {
            String name = "brx" + i;
            dataplane.devices.missing.add(name);
            assertThrows(UnixctlException.class, () -> cmds.addBridge(name, List.of()));
            assertEquals(Set.of("br0", "br1"), dataplane.state().bridges().keySet(), "try " + i);
        }
    }

    /** set-port on a port that is in error (its device vanished) keeps the port: the error is not the command's. */
    @Test
    void setPortOnAPortInErrorKeepsThePort() throws Throwable {
        standard();
        loseP1Device();
        try {
            cmds.setPort("p1", List.of("tag=20"));
        } catch (UnixctlException refused) {
            // refusing is fine; losing the port is not
        }
        Row p1 = row("Port", "p1");
        assertNotNull(p1, "p1 was deleted from the database");
        assertTrue(Set.of(Datum.atom(10L), Datum.atom(20L)).contains(p1.get("tag")), p1.get("tag").toString());
        assertEquals(Set.of("br0", "p1", "p2", "p3"), portsOf("br0"));
    }

    /** add-port with ofport_request naming another port's number never renumbers that port. */
    @Test
    void aRefusedOfportRequestLeavesTheOtherPortAlone() throws Throwable {
        standard();
        for (int i = 0; i < 10; i++) {
            String old = "z" + i, requester = "a" + i;
            ok(() -> cmds.addPort("br1", old, List.of()));
            int number = dataplane.dpPort(old).ofport();
            Snapshot before = snapshot(true);
            try {
                cmds.addPort("br1", requester, List.of("ofport_request=" + number));
                assertEquals(number, dataplane.dpPort(requester).ofport(), "try " + i);
            } catch (UnixctlException refused) {
                assertUnchanged(before, snapshot(true), "try " + i + ": " + refused.getMessage());
            }
        }
    }

    @Test
    void aSwitchSettingTheDataplaneRefusesIsRolledBack() throws Throwable {
        standard();
        // The dataplane's own words for a core this host does not have.
        String reason = assertThrows(DatapathException.class,
                () -> dataplane.client.configure(Map.of("pmd-cpu-mask", "0x8000"))).getMessage();
        assertTrue(reason.startsWith("invalid pmd-cpu-mask '0x8000': core 15 does not exist"), reason);

        assertRolledBack(reason, () -> cmds.setConfig(List.of("pmd-cpu-mask=0x8000")));
        assertEquals(Map.of("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX), strings(root().get("other_config")));
        // Together with a good setting: all of it is refused and restored.
        assertRolledBack(reason, () -> cmds.setConfig(List.of("pmd-sleep-max=2000", "pmd-cpu-mask=0x8000")));
        assertEquals(Map.of("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX), strings(root().get("other_config")));
        assertEquals(Map.of("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX), dataplane.state().config());

        // No stale refusal: the next good setting goes through.
        ok(() -> cmds.setConfig(List.of("pmd-sleep-max=2000")));
        assertEquals(Map.of("pmd-sleep-max", "2000"), strings(root().get("other_config")));
        assertEquals("2000", dataplane.state().config().get("pmd-sleep-max"));
        assertNull(reconciler.portErrors().get(Reconciler.OTHER_CONFIG));
    }

    @Test
    void withoutADataplaneCommandsAreRefusedAndNothingIsWritten() throws Throwable {
        standard();
        connected = false;
        assertAll(
                () -> assertRefused(NOT_CONNECTED, () -> cmds.addBridge("br9", List.of())),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.addPort("br0", "p9", List.of())),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.setPort("p1", List.of("tag=11"))),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.setBridge("br0", List.of("mac-aging-time=5"))),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.setConfig(List.of("pmd-sleep-max=5"))),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.deletePort(null, "p1")),
                () -> assertRefused(NOT_CONNECTED, () -> cmds.deleteBridge("br1")));
        // Reading needs only the database.
        assertEquals("br0\nbr1\n", cmds.listBridges());
        assertEquals("p1\np2\np3\n", cmds.listPorts("br0"));
        connected = true;
        ok(() -> cmds.addPort("br0", "p9", List.of()));
        assertNotNull(dataplane.dpPort("p9"));
    }

    // ---- persistence and show ----

    @Test
    void theConfigurationSurvivesARestart() throws Throwable {
        standard();
        ok(() -> cmds.addPort("br1", "p9", List.of()));
        // p4 sorts before p9 but was added after it: it keeps 2 only if the database remembers it.
        ok(() -> cmds.addPort("br1", "p4", List.of("tag=30", "trunks=40,50", "vlan_mode=native-tagged")));
        ok(() -> cmds.setConfig(List.of("pmd-sleep-max=1500")));
        assertEquals(2, dataplane.dpPort("p4").ofport());
        assertEquals(1, dataplane.dpPort("p9").ofport());
        Map<String, Port> ios = dataplane.ios();
        DatapathState state = dataplane.state();
        String show = cmds.show();
        Map<String, Map<UUID, Map<String, Datum>>> persistent = db(d -> rows(d, true));

        // vswitchd goes away; the dataplane keeps running. A new one opens the same file.
        stopControl();
        file = DatabaseFile.open(dbFile(), SCHEMA);
        assertEquals("", diff(persistent, rows(file.database(), true)), "the file holds every row as it was");
        SwitchConfig loaded = OvsdbConfig.read(file.database()).config();
        assertEquals(Set.of("br0", "br1"), loaded.bridges.keySet());
        assertEquals(Map.of("mac-aging-time", "60"), loaded.bridges.get("br0").otherConfig);
        assertEquals(Map.of("pmd-sleep-max", "1500"), loaded.otherConfig);
        assertEquals(Set.of("br0", "p1", "p2", "p3"), loaded.bridges.get("br0").ports.keySet());
        assertEquals(Set.of("br1", "p4", "p9"), loaded.bridges.get("br1").ports.keySet());
        SwitchConfig.PortConfig p4 = loaded.bridges.get("br1").ports.get("p4");
        assertEquals(new PortSpec("br1", "p4", "tap", 2, "native-tagged", 30, "40,50", Map.of()), p4.toSpec("br1", "p4"));
        assertEquals(new PortSpec("br1", "br1", "internal", OFPP_LOCAL, null, -1, "", Map.of()),
                loaded.bridges.get("br1").ports.get("br1").toSpec("br1", "br1"));
        assertEquals(Map.of("k", "v"), loaded.bridges.get("br0").ports.get("p3").options);
        assertEquals(7, loaded.bridges.get("br0").ports.get("p3").ofport);

        // Nothing to change in the running dataplane.
        Reconciler fresh = new Reconciler();
        assertEquals(0, fresh.reconcile(loaded, dataplane.client));
        assertEquals(state, dataplane.state());
        dataplane.ios().forEach((n, io) -> assertSame(ios.get(n), io, n + " was reopened"));
        assertTrue(fresh.portErrors().isEmpty(), fresh.portErrors().toString());

        // The restarted vswitchd shows the same and keeps working from there.
        server = new OvsdbServer(file.database(), file);
        startControl();
        assertEquals(show, cmds.show());
        ok(() -> cmds.addPort("br1", "p5", List.of()));
        assertEquals(3, dataplane.dpPort("p5").ofport());
        assertEquals(Datum.atom(3L), row("Interface", "p5").get("ofport"));
        dataplane.ios().forEach((n, io) -> {
            if (!n.equals("p5")) assertSame(ios.get(n), io, n + " was reopened");
        });
    }

    @Test
    void showListsBridgesPortsAndTheirColumns() throws Throwable {
        standard();
        String show = cmds.show();
        assertEquals(Map.of("k", "v"), strings(row("Interface", "p3").get("options")));
        assertEquals(root().uuid() + "\n" + """
                    Bridge br0
                        datapath_type: netdev
                        Port br0
                            Interface br0
                                type: internal
                        Port p1
                            tag: 10
                            Interface p1
                                type: tap
                        Port p2
                            trunks: [10, 20]
                            vlan_mode: trunk
                            Interface p2
                                type: tap
                        Port p3
                            Interface p3
                                type: tap
                                options: {k=v}
                    Bridge br1
                        datapath_type: netdev
                        Port br1
                            Interface br1
                                type: internal
                """, show);
        assertFalse(show.contains("error"), show);
    }

    /** The dataplane restarted and p1's device is gone: vswitchd re-programs it and reports the error. */
    private void loseP1Device() throws Exception {
        dataplane.devices.missing.add("p1");
        dataplane.client.deletePort("br0", "p1");
        bridgeReconciler.poke();
        await(() -> row("Interface", "p1").get("error").size() == 1, "Interface p1's error");
    }

    @Test
    void showReportsAPortTheDataplaneRefuses() throws Throwable {
        standard();
        loseP1Device();

        Row p1 = row("Interface", "p1");
        assertEquals(Datum.atom("could not open TAP device p1: No such device"), p1.get("error"));
        assertEquals(Datum.atom(-1L), p1.get("ofport"));
        assertEquals(Datum.atom("down"), p1.get("link_state"));
        String show = cmds.show();
        assertTrue(show.contains("        Port p1\n"
                + "            tag: 10\n"
                + "            Interface p1\n"
                + "                type: tap\n"
                + "                error: \"could not open TAP device p1: No such device\"\n"), show);
        assertEquals(1, show.split("error:", -1).length - 1, show);
        assertNotNull(row("Port", "p1"), "the port stays configured");
        assertNull(dataplane.dpPort("p1"));

        // Other commands still work; deleting the port clears its error.
        ok(() -> cmds.addPort("br0", "p4", List.of()));
        assertNotNull(dataplane.dpPort("p4"));
        assertEquals(Datum.EMPTY_SET, row("Interface", "p4").get("error"));
        ok(() -> cmds.deletePort(null, "p1"));
        assertFalse(cmds.show().contains("error"), cmds.show());
        assertNull(row("Port", "p1"));
        assertFalse(reconciler.portErrors().containsKey("p1"), reconciler.portErrors().toString());
    }

    /** Once the device is back, the next reconciliation brings the port up and clears the error. */
    @Test
    void aPortInErrorComesUpWhenItsDeviceReturns() throws Throwable {
        standard();
        loseP1Device();
        dataplane.devices.missing.clear();
        ok(() -> cmds.setBridge("br1", List.of("mac-aging-time=30")));     // any command: one more reconciliation
        assertNotNull(dataplane.dpPort("p1"));
        assertEquals(10, dataplane.dpPort("p1").vlan().tag());
        Row p1 = row("Interface", "p1");
        assertEquals(Datum.EMPTY_SET, p1.get("error"));
        assertEquals(Datum.atom("up"), p1.get("link_state"));
        assertEquals(Datum.atom((long) dataplane.dpPort("p1").ofport()), p1.get("ofport"));
        assertFalse(cmds.show().contains("error"), cmds.show());
    }

}
