package io.vswitch.ofproto.table;

import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IPv4AddressWithMask;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Matches as table keys: equal when their fields are, and hashed so large tables have short buckets. */
class OxmMatchTest {
    private final OFFactory f = OFFactories.getFactory(OFVersion.OF_13);

    private OxmMatch dst(int i) {
        return OxmMatch.of(f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4)
                .setExact(MatchField.IPV4_DST, IPv4Address.of(10 << 24 | i)).build());
    }

    @Test
    void neighbouringAddressesHashApart() {
        // 100 000 flows that differ only in nw_dst (the flow-mod benchmark's): a 31-polynomial of
        // signed bytes gave them 9 122 hashes; collisions must be rare.
        Set<Integer> hashes = new HashSet<>();
        for (int i = 0; i < 100_000; i++) hashes.add(dst(i).hashCode());
        assertTrue(hashes.size() >= 99_900, hashes.size() + " distinct hashes of 100 000");
    }

    @Test
    void equalFieldsAreEqualAndMasksCount() {
        assertEquals(dst(7), dst(7));
        assertEquals(dst(7).hashCode(), dst(7).hashCode());
        assertNotEquals(dst(7), dst(8));
        OxmMatch exact = OxmMatch.of(f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4)
                .setExact(MatchField.IPV4_DST, IPv4Address.of("10.0.0.0")).build());
        OxmMatch prefix = OxmMatch.of(f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4)
                .setMasked(MatchField.IPV4_DST, IPv4AddressWithMask.of("10.0.0.0/8")).build());
        assertNotEquals(exact, prefix, "a mask is part of the match");
    }
}
