package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.unixctl.UnixctlException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The appctl configuration commands against a real in-process dataplane and a database in a temp
 * dir. "tap" and "internal" ports are memory ports: no kernel device is created.
 */
class BridgeCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int OFPP_LOCAL = 65534;

    @TempDir
    Path runDir;
    private InProcessDataplane dataplane;
    private ConfigStore store;
    private Reconciler reconciler;
    private BridgeCommands cmds;
    private volatile boolean connected = true;

    @BeforeEach
    void setUp() throws Exception {
        dataplane = new InProcessDataplane();
        store = new ConfigStore(runDir);
        SwitchConfig c = store.load();
        c.otherConfig.put("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX);   // PMDs sleep when idle
        store.save(c);
        reconciler = new Reconciler();
        reconciler.reconcile(c, dataplane.client);                                 // as vswitchd attaches
        cmds = new BridgeCommands(store, c, reconciler, this::datapath);
    }

    private DatapathClient datapath() throws DatapathException {
        if (!connected) throw new DatapathException("not connected to the dataplane (is vswitch-dp running? see bin/vswitch status)");
        return dataplane.client;
    }

    @AfterEach
    void tearDown() throws Exception {
        dataplane.close();
    }

    /** br0 (mac-aging-time=60) {p1 tag 10, p2 trunk 10,20, p3 ofport 7 with an option}, br1. */
    private void standard() throws Exception {
        assertEquals("", cmds.addBridge("br0", List.of("mac-aging-time=60")));
        assertEquals("", cmds.addPort("br0", "p1", List.of("tag=10")));
        assertEquals("", cmds.addPort("br0", "p2", List.of("trunks=10,20", "vlan_mode=trunk")));
        assertEquals("", cmds.addPort("br0", "p3", List.of("ofport_request=7", "options:k=v")));
        assertEquals("", cmds.addBridge("br1", List.of()));
    }

    private static BitSet vlans(int... ids) {
        BitSet b = new BitSet();
        for (int id : ids) b.set(id);
        return b;
    }

    private static String json(SwitchConfig c) throws Exception {
        return JSON.writeValueAsString(c);
    }

    private SwitchConfig saved() throws Exception {
        return new ConfigStore(runDir).load();
    }

    /** Everything a refused command must leave as it was. */
    private record Snapshot(byte[] db, String config, DatapathState state, Map<String, Port> ios) {}

    private Snapshot snapshot() throws Exception {
        return new Snapshot(Files.readAllBytes(store.file()), json(cmds.config()), dataplane.state(), dataplane.ios());
    }

    private void assertUnchanged(Snapshot before, String what) throws Exception {
        Snapshot after = snapshot();
        assertArrayEquals(before.db(), after.db(), what + ": conf.db changed");
        assertEquals(before.config(), after.config(), what + ": configuration changed");
        assertEquals(before.state(), after.state(), what + ": dataplane state changed");
        assertEquals(before.ios().keySet(), after.ios().keySet(), what + ": dataplane ports changed");
        before.ios().forEach((n, io) -> assertSame(io, after.ios().get(n), what + ": port " + n + " was reopened"));
    }

    /** Runs a command that must be refused with {@code message} and change nothing. */
    private void assertRefused(String message, Executable command) throws Exception {
        Snapshot before = snapshot();
        UnixctlException e = assertThrows(UnixctlException.class, command, message);
        assertEquals(message, e.getMessage());
        assertUnchanged(before, message);
    }

    // ---- bridges ----

    @Test
    void addBridgeCreatesTheBridgeWithItsLocalPort() throws Exception {
        assertEquals("", cmds.addBridge("br0", List.of("mac-aging-time=60", "other_config:mac-table-size=100")));

        DatapathState s = dataplane.state();
        assertEquals(Map.of("mac-aging-time", "60", "mac-table-size", "100"), s.bridges().get("br0"));
        assertEquals(Map.of("br0", new PortSpec("br0", "br0", "internal", OFPP_LOCAL, null, -1, "", Map.of())), dataplane.ports());
        DpPort local = dataplane.dpPort("br0");
        assertEquals(OFPP_LOCAL, local.ofport());
        assertEquals("internal", local.type());
        assertInstanceOf(MemoryPort.class, local.io());

        SwitchConfig db = saved();
        assertEquals(Set.of("br0"), db.bridges.keySet());
        assertEquals(Map.of("mac-aging-time", "60", "mac-table-size", "100"), db.bridges.get("br0").otherConfig);
        SwitchConfig.PortConfig p = db.bridges.get("br0").ports.get("br0");
        assertEquals("internal", p.type);
        assertEquals(OFPP_LOCAL, p.ofport);
        assertEquals(json(cmds.config()), json(db));
        assertEquals("br0\n", cmds.listBridges());
        assertEquals("", cmds.listPorts("br0"), "the LOCAL port is not listed");
    }

    @Test
    void setBridgeAndSetConfigReachTheDataplaneAndTheDatabase() throws Exception {
        standard();
        Port p1 = dataplane.dpPort("p1").io();

        assertEquals("", cmds.setBridge("br0", List.of("mac-aging-time=120", "mac-table-size=500")));
        assertEquals(Map.of("mac-aging-time", "120", "mac-table-size", "500"), dataplane.state().bridges().get("br0"));
        assertEquals(Map.of("mac-aging-time", "120", "mac-table-size", "500"), saved().bridges.get("br0").otherConfig);
        assertEquals("", cmds.setBridge("br0", List.of("mac-aging-time=")));     // empty value removes the key
        assertEquals(Map.of("mac-table-size", "500"), dataplane.state().bridges().get("br0"));
        assertEquals(Map.of("mac-table-size", "500"), saved().bridges.get("br0").otherConfig);

        assertEquals("", cmds.setConfig(List.of("pmd-sleep-max=2000")));
        assertEquals("2000", dataplane.state().config().get("pmd-sleep-max"));
        assertEquals("2000", saved().otherConfig.get("pmd-sleep-max"));
        assertSame(p1, dataplane.dpPort("p1").io(), "settings do not reopen ports");
    }

    // ---- ports ----

    @Test
    void addPortSettingsReachTheDataplaneAndTheDatabase() throws Exception {
        standard();
        assertEquals("", cmds.addPort("br0", "p4", List.of("tag=5", "trunks=[10, 20]", "vlan_mode=native-untagged")));
        assertEquals("", cmds.addPort("br1", "p5", List.of("type=internal")));

        assertEquals(Map.of(
                "br0", new PortSpec("br0", "br0", "internal", OFPP_LOCAL, null, -1, "", Map.of()),
                "p1", new PortSpec("br0", "p1", "tap", 1, null, 10, "", Map.of()),
                "p2", new PortSpec("br0", "p2", "tap", 2, "trunk", -1, "10,20", Map.of()),
                "p3", new PortSpec("br0", "p3", "tap", 7, null, -1, "", Map.of("k", "v")),
                "p4", new PortSpec("br0", "p4", "tap", 3, "native-untagged", 5, "10,20", Map.of()),
                "br1", new PortSpec("br1", "br1", "internal", OFPP_LOCAL, null, -1, "", Map.of()),
                "p5", new PortSpec("br1", "p5", "internal", 1, null, -1, "", Map.of())), dataplane.ports());

        DpPort p1 = dataplane.dpPort("p1");
        assertEquals(VlanPolicy.Mode.ACCESS, p1.vlan().mode());
        assertEquals(10, p1.vlan().tag());
        assertEquals(VlanPolicy.Mode.TRUNK, dataplane.dpPort("p2").vlan().mode());
        assertEquals(vlans(10, 20), dataplane.dpPort("p2").vlan().trunks());
        assertEquals(Map.of("k", "v"), dataplane.dpPort("p3").options());
        DpPort p4 = dataplane.dpPort("p4");
        assertEquals(VlanPolicy.Mode.NATIVE_UNTAGGED, p4.vlan().mode());
        assertEquals(5, p4.vlan().tag());
        assertEquals(vlans(10, 20), p4.vlan().trunks());

        SwitchConfig db = saved();
        assertEquals(json(cmds.config()), json(db));
        SwitchConfig.PortConfig d4 = db.bridges.get("br0").ports.get("p4");
        assertEquals("tap", d4.type);
        assertEquals(3, d4.ofport);
        assertEquals(5, d4.tag);
        assertEquals(vlans(10, 20), VlanPolicy.parseTrunks(d4.trunks));
        assertEquals("native-untagged", d4.vlanMode);
        assertEquals(Map.of("k", "v"), db.bridges.get("br0").ports.get("p3").options);
        assertEquals(7, db.bridges.get("br0").ports.get("p3").ofport);
        assertEquals("p1\np2\np3\np4\n", cmds.listPorts("br0"));
        assertEquals("br0\nbr1\n", cmds.listBridges());
    }

    /** ovs-vsctl accepts "trunks=10 20" style lists too; the VLANs must stay 10 and 20. */
    @Test
    void trunksSeparatedBySpacesKeepTheirVlans() throws Exception {
        standard();
        cmds.addPort("br0", "p5", List.of("trunks=10 20"));

        assertEquals(vlans(10, 20), dataplane.dpPort("p5").vlan().trunks(), "VLANs the dataplane carries on p5");
        assertEquals(vlans(10, 20), VlanPolicy.parseTrunks(saved().bridges.get("br0").ports.get("p5").trunks), "saved trunks");
    }

    @Test
    void setPortChangesVlansInPlace() throws Exception {
        standard();
        DpPort before = dataplane.dpPort("p1");

        assertEquals("", cmds.setPort("p1", List.of("tag=20")));
        DpPort after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io(), "p1 reopened for a VLAN change");
        assertEquals(before.index(), after.index());
        assertEquals(20, after.vlan().tag());
        assertEquals(20, dataplane.ports().get("p1").tag());
        assertEquals(20, saved().bridges.get("br0").ports.get("p1").tag);
        assertFalse(InProcessDataplane.isClosed(before.io()));

        assertEquals("", cmds.setPort("p1", List.of("tag=", "trunks=30-32")));   // untagged: a trunk of 30-32
        after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io());
        assertEquals(VlanPolicy.Mode.TRUNK, after.vlan().mode());
        assertEquals(vlans(30, 31, 32), after.vlan().trunks());
        SwitchConfig.PortConfig p1 = saved().bridges.get("br0").ports.get("p1");
        assertEquals(-1, p1.tag);
        assertEquals(vlans(30, 31, 32), VlanPolicy.parseTrunks(p1.trunks));
        assertEquals(1, p1.ofport, "set-port keeps the ofport");
    }

    @Test
    void delPortAndDelBrRemoveFromTheDataplaneAndTheDatabase() throws Exception {
        standard();
        Port p1 = dataplane.dpPort("p1").io();
        Port p2 = dataplane.dpPort("p2").io();
        Port local = dataplane.dpPort("br0").io();

        assertEquals("", cmds.deletePort("br0", "p2"));
        assertNull(dataplane.dpPort("p2"));
        assertTrue(InProcessDataplane.isClosed(p2));
        assertSame(p1, dataplane.dpPort("p1").io());
        assertFalse(saved().bridges.get("br0").ports.containsKey("p2"));

        assertEquals("", cmds.deletePort(null, "p3"));                     // without the bridge
        assertEquals(Set.of("br0", "p1", "br1"), dataplane.ports().keySet());

        assertEquals("", cmds.deleteBridge("br0"));
        assertEquals(Set.of("br1"), dataplane.state().bridges().keySet());
        assertEquals(Set.of("br1"), dataplane.ports().keySet());
        assertTrue(InProcessDataplane.isClosed(p1));
        assertTrue(InProcessDataplane.isClosed(local));
        assertEquals(Set.of("br1"), saved().bridges.keySet());
        assertEquals("br1\n", cmds.listBridges());
    }

    // ---- refusals ----

    @Test
    void commandsRefusedByTheConfigLayerChangeNothing() throws Exception {
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
                () -> assertRefused("cannot delete port br0 because it is the local port for bridge br0 (deleting this port requires deleting the entire bridge)",
                        () -> cmds.deletePort(null, "br0")),
                () -> assertRefused("cannot delete port br0 because it is the local port for bridge br0 (deleting this port requires deleting the entire bridge)",
                        () -> cmds.deletePort("br0", "br0")),
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
                // ofport_request
                () -> assertRefused("ofport_request 7 is already used by port p3",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=7"))),
                () -> assertRefused("invalid ofport_request '0': use a number from 1 to 65279",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=0"))),
                () -> assertRefused("invalid ofport_request '65534': use a number from 1 to 65279",
                        () -> cmds.addPort("br0", "p9", List.of("ofport_request=65534"))),
                // syntax and keys
                () -> assertRefused("'tag' is not KEY=VALUE", () -> cmds.addPort("br0", "p9", List.of("tag"))),
                () -> assertRefused("unknown setting 'foo': use type, tag, trunks, vlan_mode, ofport_request or options:KEY",
                        () -> cmds.addPort("br0", "p9", List.of("foo=1"))),
                () -> assertRefused("unknown setting 'type': use type, tag, trunks, vlan_mode, ofport_request or options:KEY",
                        () -> cmds.setPort("p1", List.of("type=internal"))),
                () -> assertRefused("unknown key 'foo': use one of mac-aging-time, mac-table-size",
                        () -> cmds.addBridge("br9", List.of("foo=1"))),
                () -> assertRefused("invalid mac-aging-time 'x': use a number from 0 to 2147483647",
                        () -> cmds.addBridge("br9", List.of("mac-aging-time=x"))),
                () -> assertRefused("unknown key 'foo': use one of pmd-cpu-mask, pmd-sleep-max",
                        () -> cmds.setConfig(List.of("foo=1"))));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "br1"), dataplane.ports().keySet());
    }

    @Test
    void commandsRefusedByTheDataplaneAreRolledBack() throws Exception {
        standard();
        String unknownType = assertThrows(IllegalArgumentException.class, () -> dataplane.providers.checkType("bogus")).getMessage();
        dataplane.devices.missing.addAll(Set.of("nodev0", "brx"));
        assertAll(
                () -> assertRefused(unknownType, () -> cmds.addPort("br0", "bad", List.of("type=bogus", "tag=10"))),
                () -> assertRefused("could not open TAP device nodev0: No such device", () -> cmds.addPort("br1", "nodev0", List.of())),
                // the bridge itself was created, then its LOCAL port refused: the bridge must go again
                () -> assertRefused("could not open TAP device brx: No such device", () -> cmds.addBridge("brx", List.of())),
                () -> assertRefused("invalid bridge name 'br@x': use 1-15 letters, digits, '_', '.' or '-'",
                        () -> cmds.addBridge("br@x", List.of())),
                () -> assertRefused("invalid mac-table-size 0: use at least 1", () -> cmds.addBridge("br9", List.of("mac-table-size=0"))),
                () -> assertRefused("invalid mac-table-size 0: use at least 1", () -> cmds.setBridge("br0", List.of("mac-table-size=0"))),
                () -> assertRefused("invalid pmd-sleep-max '20000000': use a number from 0 to 10000",
                        () -> cmds.setConfig(List.of("pmd-sleep-max=20000000"))));

        // Nothing left behind: not configured, not in the dataplane, not shown, and the names are free again.
        SwitchConfig c = cmds.config();
        assertNull(c.bridgeOfPort("bad"));
        assertNull(c.bridgeOfPort("nodev0"));
        assertFalse(c.bridges.containsKey("brx"));
        assertEquals(Set.of("br0", "br1"), dataplane.state().bridges().keySet());
        assertFalse(cmds.show().contains("bad"), cmds.show());
        assertFalse(cmds.show().contains("error"), cmds.show());
        dataplane.devices.missing.clear();
        assertEquals("", cmds.addPort("br0", "bad", List.of("tag=10")));
        assertEquals("", cmds.addPort("br1", "nodev0", List.of()));
        assertEquals("", cmds.addBridge("brx", List.of()));
        assertEquals(Set.of("br0", "p1", "p2", "p3", "bad", "br1", "nodev0", "brx"), dataplane.ports().keySet());
        assertEquals(new TreeSet<>(dataplane.ports().keySet()), portNames(saved()));
        assertFalse(cmds.show().contains("error"), cmds.show());
    }

    private static Set<String> portNames(SwitchConfig c) {
        Set<String> s = new TreeSet<>();
        c.bridges.values().forEach(b -> s.addAll(b.ports.keySet()));
        return s;
    }

    @Test
    void withoutADataplaneCommandsAreRefusedAndNothingIsSaved() throws Exception {
        standard();
        connected = false;
        String msg = "not connected to the dataplane (is vswitch-dp running? see bin/vswitch status)";
        assertAll(
                () -> assertRefused(msg, () -> cmds.addBridge("br9", List.of())),
                () -> assertRefused(msg, () -> cmds.addPort("br0", "p9", List.of())),
                () -> assertRefused(msg, () -> cmds.setPort("p1", List.of("tag=11"))),
                () -> assertRefused(msg, () -> cmds.deletePort(null, "p1")),
                () -> assertRefused(msg, () -> cmds.deleteBridge("br1")));
    }

    /**
     * The dataplane took the change but the database could not be written. Whatever the command
     * answers, what {@code show} reports must be what the dataplane runs, and the next command must
     * not silently undo or lose it.
     */
    @Test
    void aChangeThatCannotBeSavedLeavesConfigurationAndDataplaneInAgreement() throws Exception {
        standard();
        Files.createDirectory(runDir.resolve(ConfigStore.FILE_NAME + ".tmp"));   // blocks the save, even for root
        UnixctlException e = assertThrows(UnixctlException.class, () -> cmds.addPort("br0", "p4", List.of()));
        assertTrue(e.getMessage().startsWith("could not save the database " + store.file()), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
        assertTrue(!portNames(cmds.config()).contains("p4"), "not saved, so not configured");

        assertEquals(portNames(cmds.config()), new TreeSet<>(dataplane.ports().keySet()),
                "configuration (show, list-ports) and dataplane disagree about p4");
    }

    // ---- persistence and show ----

    @Test
    void theConfigurationSurvivesARestart() throws Exception {
        standard();
        cmds.addPort("br1", "p4", List.of("tag=30", "trunks=40,50", "vlan_mode=native-tagged"));
        cmds.setConfig(List.of("pmd-sleep-max=1500"));
        Map<String, Port> ios = dataplane.ios();

        SwitchConfig loaded = new ConfigStore(runDir).load();
        assertEquals(json(cmds.config()), json(loaded));
        assertEquals(Set.of("br0", "br1"), loaded.bridges.keySet());
        assertEquals(Map.of("mac-aging-time", "60"), loaded.bridges.get("br0").otherConfig);
        assertEquals("1500", loaded.otherConfig.get("pmd-sleep-max"));
        assertEquals(Set.of("br0", "p1", "p2", "p3"), loaded.bridges.get("br0").ports.keySet());
        assertEquals(Set.of("br1", "p4"), loaded.bridges.get("br1").ports.keySet());
        SwitchConfig.PortConfig p4 = loaded.bridges.get("br1").ports.get("p4");
        assertEquals(List.of("tap", 1, 30, "40,50", "native-tagged"), Arrays.asList(p4.type, p4.ofport, p4.tag, p4.trunks, p4.vlanMode));
        assertEquals("internal", loaded.bridges.get("br1").ports.get("br1").type);
        assertEquals(Map.of("k", "v"), loaded.bridges.get("br0").ports.get("p3").options);

        // A restarted vswitchd: shows the same, and has nothing to change in the running dataplane.
        Reconciler fresh = new Reconciler();
        BridgeCommands restarted = new BridgeCommands(new ConfigStore(runDir), loaded, fresh, this::datapath);
        assertEquals(0, fresh.reconcile(restarted.config(), dataplane.client));
        assertEquals(cmds.show(), restarted.show());
        dataplane.ios().forEach((n, io) -> assertSame(ios.get(n), io, n + " was reopened"));

        // ... and keeps working from there.
        assertEquals("", restarted.addPort("br1", "p5", List.of()));
        assertEquals(2, new ConfigStore(runDir).load().bridges.get("br1").ports.get("p5").ofport);
    }

    @Test
    void showListsBridgesPortsAndTheirColumns() throws Exception {
        standard();
        assertEquals("""
                other_config: {pmd-sleep-max=1000}
                    Bridge br0
                        datapath_type: netdev
                        other_config: {mac-aging-time=60}
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
                """, cmds.show());
    }

    @Test
    void showReportsAPortTheDataplaneRefusesAfterARestart() throws Exception {
        standard();
        // The dataplane restarted and p1's device is gone: vswitchd re-programs it from the database.
        dataplane.devices.missing.add("p1");
        dataplane.client.deletePort("br0", "p1");
        reconciler.reconcile(cmds.config(), dataplane.client);

        String show = cmds.show();
        assertTrue(show.contains("        Port p1\n"
                + "            tag: 10\n"
                + "            Interface p1\n"
                + "                type: tap\n"
                + "                error: \"could not open TAP device p1: No such device\"\n"), show);
        assertEquals(1, show.split("error:", -1).length - 1, show);
        assertNotNull(cmds.config().bridges.get("br0").ports.get("p1"), "the port stays configured");

        // Other commands still work; deleting the port clears its error.
        assertEquals("", cmds.addPort("br0", "p4", List.of()));
        assertNotNull(dataplane.dpPort("p4"));
        assertEquals("", cmds.deletePort(null, "p1"));
        assertFalse(cmds.show().contains("error"), cmds.show());
        assertFalse(saved().bridges.get("br0").ports.containsKey("p1"));
    }
}
