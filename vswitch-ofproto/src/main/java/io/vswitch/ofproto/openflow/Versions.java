package io.vswitch.ofproto.openflow;

import java.util.List;
import java.util.Map;

/**
 * OpenFlow version negotiation (OpenFlow 1.3.1+, section 6.3.1): each side's HELLO carries its
 * highest version and, optionally, a bitmap of all it supports; the connection uses the highest
 * version both have. A HELLO without a bitmap means "every version up to mine".
 */
public final class Versions {
    /** Wire versions this switch speaks. */
    public static final List<Integer> SUPPORTED = List.of(0x01, 0x04, 0x05, 0x06);
    /** {@code Bridge.protocols} names (as ovs-vsctl writes them) to wire versions. */
    public static final Map<String, Integer> BY_NAME = Map.of(
            "OpenFlow10", 0x01, "OpenFlow11", 0x02, "OpenFlow12", 0x03,
            "OpenFlow13", 0x04, "OpenFlow14", 0x05, "OpenFlow15", 0x06);

    private Versions() {}

    /** openflowj's constant for a wire version. */
    public static org.projectfloodlight.openflow.protocol.OFVersion of(int wire) {
        for (var v : org.projectfloodlight.openflow.protocol.OFVersion.values()) if (v.getWireVersion() == wire) return v;
        throw new IllegalArgumentException("unknown OpenFlow version " + wire);
    }

    /**
     * Whether messages of {@code f}'s version describe ports, port statistics and asynchronous
     * configuration with properties (OpenFlow 1.4 and later) rather than fixed fields.
     */
    public static boolean hasProperties(org.projectfloodlight.openflow.protocol.OFFactory f) {
        return hasProperties(f.getVersion());
    }

    public static boolean hasProperties(org.projectfloodlight.openflow.protocol.OFVersion v) {
        return v.compareTo(org.projectfloodlight.openflow.protocol.OFVersion.OF_14) >= 0;
    }

    /** The bitmap of {@code versions} (bit v set for wire version v). */
    public static int bitmap(List<Integer> versions) {
        int b = 0;
        for (int v : versions) b |= 1 << v;
        return b;
    }

    /**
     * The version to use, or -1 if there is none in common. {@code peerVersion} is the peer HELLO's
     * header version, {@code peerBitmap} its bitmap element, or 0 if it sent none.
     */
    public static int negotiate(List<Integer> ours, int peerVersion, int peerBitmap) {
        int common = bitmap(ours) & (peerBitmap != 0 ? peerBitmap : (1 << (peerVersion + 1)) - 1);
        return common == 0 ? -1 : 31 - Integer.numberOfLeadingZeros(common);
    }

    /** Reads the version bitmap element of a HELLO (OFPHET_VERSIONBITMAP, first word only), or 0. */
    public static int peerBitmap(byte[] hello) {
        int at = 8;
        while (at + 4 <= hello.length) {
            int type = (hello[at] & 0xff) << 8 | (hello[at + 1] & 0xff);
            int len = (hello[at + 2] & 0xff) << 8 | (hello[at + 3] & 0xff);
            if (len < 4 || at + len > hello.length) return 0;
            if (type == 1 && len >= 8) {
                return (hello[at + 4] & 0xff) << 24 | (hello[at + 5] & 0xff) << 16 | (hello[at + 6] & 0xff) << 8 | (hello[at + 7] & 0xff);
            }
            at += (len + 7) & ~7;
        }
        return 0;
    }
}
