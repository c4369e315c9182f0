package io.vswitch.datapath.normal;

import io.vswitch.datapath.flow.FlowKey;
import org.junit.jupiter.api.Test;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VlanPolicyTest {
    static final int UNTAGGED = 0;

    static int tagged(int vid) {
        return FlowKey.VLAN_PRESENT | vid;
    }

    @Test
    void accessPort() {
        VlanPolicy p = new VlanPolicy(null, 10, new BitSet());
        assertEquals(VlanPolicy.Mode.ACCESS, p.mode());
        assertEquals(10, p.inputVlan(UNTAGGED));
        assertEquals(10, p.inputVlan(tagged(0)), "priority-tagged counts as untagged");
        assertEquals(-1, p.inputVlan(tagged(10)), "tagged frames are dropped on access ports");
        assertTrue(p.carries(10));
        assertFalse(p.carries(11));
        assertFalse(p.outputTagged(10));
    }

    @Test
    void trunkPort() {
        VlanPolicy all = VlanPolicy.TRUNK_ALL;
        assertEquals(0, all.inputVlan(UNTAGGED));
        assertEquals(4094, all.inputVlan(tagged(4094)));
        assertFalse(all.outputTagged(0));
        assertTrue(all.outputTagged(5));
        VlanPolicy some = new VlanPolicy(null, -1, VlanPolicy.parseTrunks("10,20-22"));
        assertEquals(21, some.inputVlan(tagged(21)));
        assertEquals(-1, some.inputVlan(tagged(23)));
        assertEquals(-1, some.inputVlan(UNTAGGED), "VLAN 0 is not in trunks");
    }

    @Test
    void nativeModes() {
        VlanPolicy tagged = new VlanPolicy(VlanPolicy.Mode.NATIVE_TAGGED, 10, VlanPolicy.parseTrunks("20"));
        assertEquals(10, tagged.inputVlan(UNTAGGED));
        assertEquals(20, tagged.inputVlan(tagged(20)));
        assertEquals(-1, tagged.inputVlan(tagged(30)));
        assertTrue(tagged.outputTagged(10));
        VlanPolicy untagged = new VlanPolicy(VlanPolicy.Mode.NATIVE_UNTAGGED, 10, new BitSet());
        assertFalse(untagged.outputTagged(10));
        assertTrue(untagged.outputTagged(20));
        assertEquals(30, untagged.inputVlan(tagged(30)), "no trunks: all VLANs");
    }

    @Test
    void nativePortsNeverCarryVlanZero() {
        VlanPolicy untagged = new VlanPolicy(VlanPolicy.Mode.NATIVE_UNTAGGED, 10, new BitSet());
        assertFalse(untagged.carries(0), "as OVS: native ports do not trunk VLAN 0");
        assertEquals(10, untagged.inputVlan(UNTAGGED));
        assertEquals(10, untagged.inputVlan(tagged(0) | (3 << 13)), "a priority-tagged frame belongs to the native VLAN");
        assertTrue(new VlanPolicy(VlanPolicy.Mode.NATIVE_TAGGED, 0, new BitSet()).carries(0), "unless the native VLAN is 0");
        assertTrue(VlanPolicy.TRUNK_ALL.carries(0));
    }

    @Test
    void badSettingsAreRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> new VlanPolicy(VlanPolicy.Mode.NATIVE_TAGGED, -1, new BitSet()));
        assertEquals("invalid vlan_mode 'dot1q': use access, trunk, native-tagged or native-untagged",
                assertThrows(IllegalArgumentException.class, () -> VlanPolicy.Mode.parse("dot1q")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> VlanPolicy.parseTrunks("10,5000"));
        assertThrows(IllegalArgumentException.class, () -> VlanPolicy.parseTrunks("20-10"));
        assertEquals("[10, 20]", VlanPolicy.parseTrunks("[10, 20]").toString().replace("{", "[").replace("}", "]"));
    }
}
