package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.port.Port;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Reconciler} against a real in-process dataplane over the real IPC rings. */
class ReconcilerTest {
    private InProcessDataplane dataplane;
    private Reconciler reconciler;

    @BeforeEach
    void setUp() {
        dataplane = new InProcessDataplane();
        reconciler = new Reconciler();
    }

    @AfterEach
    void tearDown() throws Exception {
        dataplane.close();
    }

    private static SwitchConfig.PortConfig port(String type, int ofport) {
        SwitchConfig.PortConfig p = new SwitchConfig.PortConfig();
        p.type = type;
        p.ofport = ofport;
        return p;
    }

    private static SwitchConfig.BridgeConfig bridge(SwitchConfig c, String name) {
        return c.bridges.computeIfAbsent(name, n -> new SwitchConfig.BridgeConfig());
    }

    /** br0 {p1 access 10, p2 trunk 10,20}, br1 {p3 with options}; PMDs idle-sleeping. */
    private static SwitchConfig sample() {
        SwitchConfig c = new SwitchConfig();
        c.otherConfig.put("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX);
        SwitchConfig.BridgeConfig br0 = bridge(c, "br0");
        br0.otherConfig.put("mac-aging-time", "60");
        SwitchConfig.PortConfig p1 = port(MemoryPort.TYPE, 1);
        p1.tag = 10;
        br0.ports.put("p1", p1);
        SwitchConfig.PortConfig p2 = port(MemoryPort.TYPE, 2);
        p2.vlanMode = "trunk";
        p2.trunks = "10,20";
        br0.ports.put("p2", p2);
        SwitchConfig.PortConfig p3 = port(MemoryPort.TYPE, 5);
        p3.options.put("k", "v");
        bridge(c, "br1").ports.put("p3", p3);
        return c;
    }

    @Test
    void reconcilingIntoAnEmptyDataplaneCreatesBridgesAndPorts() throws Exception {
        int changes = reconciler.reconcile(sample(), dataplane.client);

        assertEquals(1 + 2 + 3, changes, "configure + 2 bridges + 3 ports");
        DatapathState s = dataplane.state();
        assertEquals(InProcessDataplane.PMD_SLEEP_MAX, s.config().get("pmd-sleep-max"));
        assertEquals(Set.of("br0", "br1"), s.bridges().keySet());
        assertEquals(Map.of("mac-aging-time", "60"), s.bridges().get("br0"));
        assertEquals(Map.of(), s.bridges().get("br1"));
        assertEquals(Map.of(
                "p1", new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, 10, "", Map.of()),
                "p2", new PortSpec("br0", "p2", MemoryPort.TYPE, 2, "trunk", -1, "10,20", Map.of()),
                "p3", new PortSpec("br1", "p3", MemoryPort.TYPE, 5, null, -1, "", Map.of("k", "v"))), dataplane.ports());
        // What the PMDs forward with, not only what the dataplane reports back.
        DpPort p1 = dataplane.dpPort("p1");
        assertEquals(VlanPolicy.Mode.ACCESS, p1.vlan().mode());
        assertEquals(10, p1.vlan().tag());
        BitSet trunks = new BitSet();
        trunks.set(10);
        trunks.set(20);
        assertEquals(trunks, dataplane.dpPort("p2").vlan().trunks());
        assertEquals(VlanPolicy.Mode.TRUNK, dataplane.dpPort("p2").vlan().mode());
        assertEquals(5, dataplane.dpPort("p3").ofport());
        assertTrue(reconciler.portErrors().isEmpty(), reconciler.portErrors().toString());
    }

    @Test
    void reconcilingTheSameConfigAgainChangesNothing() throws Exception {
        SwitchConfig c = sample();
        reconciler.reconcile(c, dataplane.client);
        Map<String, Port> ios = dataplane.ios();
        Map<String, MemoryPort> opened = Map.copyOf(dataplane.memory.ports);
        DatapathState before = dataplane.state();
        long version = dataplane.dp.view().version;

        assertEquals(0, reconciler.reconcile(c, dataplane.client));
        assertEquals(0, reconciler.reconcile(sample(), dataplane.client), "an equal but distinct config object");

        assertEquals(version, dataplane.dp.view().version, "no new view was published");
        assertEquals(before, dataplane.state());
        Map<String, Port> after = dataplane.ios();
        assertEquals(ios.keySet(), after.keySet());
        ios.forEach((name, io) -> assertSame(io, after.get(name), name + " was reopened"));
        assertEquals(opened, dataplane.memory.ports, "no port was opened again");
        ios.values().forEach(io -> assertFalse(InProcessDataplane.isClosed(io)));
    }

    @Test
    void aRestartedControlProcessResynchronisesWithoutChanges() throws Exception {
        reconciler.reconcile(sample(), dataplane.client);
        Map<String, Port> ios = dataplane.ios();
        DatapathState before = dataplane.state();
        long version = dataplane.dp.view().version;

        // A new vswitchd: the same configuration (read again from its database), a fresh Reconciler
        // with no memory of what it sent, the same running dataplane.
        Reconciler fresh = new Reconciler();
        assertEquals(0, fresh.reconcile(sample(), dataplane.client));

        assertEquals(version, dataplane.dp.view().version, "no new view was published");
        assertEquals(before, dataplane.state());
        Map<String, Port> after = dataplane.ios();
        assertEquals(ios.keySet(), after.keySet());
        ios.forEach((name, io) -> assertSame(io, after.get(name), name + " was reopened"));
        assertTrue(fresh.portErrors().isEmpty(), fresh.portErrors().toString());
    }

    @Test
    void portsAndBridgesMissingFromTheConfigAreDeleted() throws Exception {
        reconciler.reconcile(sample(), dataplane.client);
        Port p1 = dataplane.dpPort("p1").io();
        Port p2 = dataplane.dpPort("p2").io();
        Port p3 = dataplane.dpPort("p3").io();

        SwitchConfig c = sample();
        c.bridges.remove("br1");
        c.bridges.get("br0").ports.remove("p2");
        assertEquals(3, reconciler.reconcile(c, dataplane.client), "delete p2, p3 and br1");

        DatapathState s = dataplane.state();
        assertEquals(Set.of("br0"), s.bridges().keySet());
        assertEquals(Set.of("p1"), dataplane.ports().keySet());
        assertSame(p1, dataplane.dpPort("p1").io(), "a port that stays is not touched");
        assertFalse(InProcessDataplane.isClosed(p1));
        assertTrue(InProcessDataplane.isClosed(p2), "deleted port's device released");
        assertTrue(InProcessDataplane.isClosed(p3), "deleted bridge's port released");
        assertEquals(0, reconciler.reconcile(c, dataplane.client));
    }

    @Test
    void aVlanChangeIsAppliedInPlace() throws Exception {
        SwitchConfig c = sample();
        reconciler.reconcile(c, dataplane.client);
        DpPort before = dataplane.dpPort("p1");

        c.bridges.get("br0").ports.get("p1").tag = 20;
        assertEquals(1, reconciler.reconcile(c, dataplane.client));

        DpPort after = dataplane.dpPort("p1");
        assertSame(before.io(), after.io(), "p1 was reopened for a VLAN change");
        assertEquals(before.index(), after.index());
        assertEquals(20, after.vlan().tag());
        assertEquals(VlanPolicy.Mode.ACCESS, after.vlan().mode());
        assertEquals(20, dataplane.ports().get("p1").tag());
        assertFalse(InProcessDataplane.isClosed(before.io()));

        c.bridges.get("br0").ports.get("p1").ofport = 9;          // ofport too, in place
        assertEquals(1, reconciler.reconcile(c, dataplane.client));
        assertSame(before.io(), dataplane.dpPort("p1").io());
        assertEquals(9, dataplane.dpPort("p1").ofport());
        assertEquals(0, reconciler.reconcile(c, dataplane.client));
    }

    @Test
    void aTypeChangeReopensThePort() throws Exception {
        SwitchConfig c = sample();
        reconciler.reconcile(c, dataplane.client);
        Port old = dataplane.dpPort("p1").io();

        c.bridges.get("br0").ports.get("p1").type = "tap";
        assertEquals(2, reconciler.reconcile(c, dataplane.client), "delete and add");

        assertEquals("tap", dataplane.ports().get("p1").type());
        assertNotSame(old, dataplane.dpPort("p1").io());
        assertTrue(InProcessDataplane.isClosed(old));
        assertEquals(0, reconciler.reconcile(c, dataplane.client));
    }

    @Test
    void bridgeAndSwitchSettingsChanges() throws Exception {
        SwitchConfig c = sample();
        reconciler.reconcile(c, dataplane.client);
        Port p1 = dataplane.dpPort("p1").io();

        c.bridges.get("br0").otherConfig.put("mac-aging-time", "120");
        c.otherConfig.put("pmd-sleep-max", "2000");
        assertEquals(2, reconciler.reconcile(c, dataplane.client));

        DatapathState s = dataplane.state();
        assertEquals(Map.of("mac-aging-time", "120"), s.bridges().get("br0"));
        assertEquals("2000", s.config().get("pmd-sleep-max"));
        assertSame(p1, dataplane.dpPort("p1").io(), "a bridge setting does not reopen its ports");
        assertEquals(0, reconciler.reconcile(c, dataplane.client));
    }

    @Test
    void aRefusedPortIsRecordedAndTheOthersAreStillConfigured() throws Exception {
        SwitchConfig c = sample();
        c.bridges.get("br0").ports.put("bad", port("bogus", 3));
        dataplane.devices.missing.add("nodev0");
        c.bridges.get("br1").ports.put("nodev0", port("tap", 6));
        String unknownType = assertThrows(IllegalArgumentException.class, () -> dataplane.providers.checkType("bogus")).getMessage();

        int changes = reconciler.reconcile(c, dataplane.client);

        assertEquals(1 + 2 + 3, changes, "the refused ports are not counted");
        assertEquals(Map.of("bad", unknownType, "nodev0", "could not open TAP device nodev0: No such device"),
                reconciler.portErrors());
        assertEquals(Set.of("p1", "p2", "p3"), dataplane.ports().keySet());
        assertEquals(Set.of("br0", "br1"), dataplane.state().bridges().keySet());

        // Retried on every reconcile, still refused, nothing else disturbed.
        Map<String, Port> ios = dataplane.ios();
        assertEquals(0, reconciler.reconcile(c, dataplane.client));
        assertEquals(unknownType, reconciler.portErrors().get("bad"));
        dataplane.ios().forEach((name, io) -> assertSame(ios.get(name), io, name));

        // Once the device exists the port comes up and its error is cleared.
        dataplane.devices.missing.clear();
        assertEquals(1, reconciler.reconcile(c, dataplane.client));
        assertNull(reconciler.portErrors().get("nodev0"));
        assertNotNull(dataplane.dpPort("nodev0"));
        assertEquals(Map.of("bad", unknownType), reconciler.portErrors());

        c.bridges.get("br0").ports.get("bad").type = MemoryPort.TYPE;
        assertEquals(1, reconciler.reconcile(c, dataplane.client));
        assertTrue(reconciler.portErrors().isEmpty(), reconciler.portErrors().toString());
        assertEquals(Set.of("bad", "nodev0", "p1", "p2", "p3"), dataplane.ports().keySet());
    }

    /** A tunnel port's packets never pass a queue or policer of its own: QoS there is refused, the port works without. */
    @Test
    void qosOnATunnelPortIsRefusedAndThePortStillWorks() throws Exception {
        SwitchConfig c = sample();
        SwitchConfig.PortConfig vx = port("vxlan", 7);
        vx.options.put("remote_ip", "192.0.2.9");
        vx.qos.put("ingress_policing_rate", "1000");
        c.bridges.get("br0").ports.put("vx0", vx);
        reconciler.reconcile(c, dataplane.client);
        assertNotNull(dataplane.dpPort("vx0"));
        assertNull(dataplane.dpPort("vx0").qos(), "no QoS applied");
        assertEquals("QoS: QoS on a vxlan port is not supported: police or shape the underlay's port instead",
                reconciler.qosErrors().get("vx0"));
    }

    /** A saved setting the dataplane now refuses (a core this host lacks) must not stop forwarding. */
    @Test
    void aRefusedSwitchSettingIsRecordedAndBridgesAreStillProgrammed() throws Exception {
        SwitchConfig c = sample();
        c.otherConfig.put("pmd-cpu-mask", "0x8000");
        reconciler.reconcile(c, dataplane.client);
        assertTrue(reconciler.portErrors().get(Reconciler.OTHER_CONFIG).contains("core 15 does not exist"),
                reconciler.portErrors().toString());
        assertEquals(Set.of("br0", "br1"), dataplane.client.dumpState().bridges().keySet());
        c.otherConfig.remove("pmd-cpu-mask");
        reconciler.reconcile(c, dataplane.client);
        assertNull(reconciler.portErrors().get(Reconciler.OTHER_CONFIG), "cleared once the setting is fixed");
    }

    /**
     * A port without an ofport (0: "let the dataplane choose", PortConfig's default, e.g. a
     * hand-edited database) must also be left alone once it runs.
     */
    @Test
    void aPortWithoutAnOfportIsNotReconfiguredEveryTime() throws Exception {
        SwitchConfig c = new SwitchConfig();
        c.otherConfig.put("pmd-sleep-max", InProcessDataplane.PMD_SLEEP_MAX);
        bridge(c, "br0").ports.put("auto", port(MemoryPort.TYPE, 0));
        reconciler.reconcile(c, dataplane.client);
        int ofport = dataplane.dpPort("auto").ofport();
        assertTrue(ofport > 0);

        assertEquals(0, reconciler.reconcile(c, dataplane.client));
        assertEquals(ofport, dataplane.dpPort("auto").ofport());
        assertEquals(ofport, dataplane.ports().get("auto").ofport(), "the dataplane reports the ofport it uses");
    }
}
