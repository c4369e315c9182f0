package io.vswitch.datapath.tunnel;

import java.lang.foreign.MemorySegment;

import static io.vswitch.datapath.tunnel.OuterHeader.U16;
import static io.vswitch.datapath.tunnel.OuterHeader.U32;

/**
 * Geneve over UDP over IPv4 (RFC 8926): an 8-byte UDP header, then the Geneve header in front of
 * the inner Ethernet frame:
 * <pre>
 *   | Ver 2 | Opt Len 6 | O | C | Rsvd 6 | Protocol Type 16 (0x6558) | VNI 24 | Rsvd 8 | options: Opt Len x 4 bytes |
 * </pre>
 * The switch sends no options. It accepts frames with options it does not know as long as none is
 * critical (the C bit, which RFC 8926 requires a device that cannot read the options to drop on),
 * skipping them; their values are not made matchable (OVS's {@code tun_metadata}).
 */
public final class Geneve {
    private Geneve() {}

    /** Outer Ethernet + IPv4 + UDP + Geneve without options: as long as VXLAN's. */
    public static final int HEADER = OuterHeader.ETH + OuterHeader.IPV4 + 8 + 8;
    public static final int PROTO_ETHERNET = 0x6558;
    private static final int FLAG_C = 0x40;

    /**
     * Writes UDP and Geneve (no options) at {@code udp} for an inner frame of {@code innerLength} bytes
     * right after; {@code csum} computes the UDP checksum.
     */
    public static void write(MemorySegment m, long udp, int srcPort, int dstPort, long vni, int innerLength, boolean csum, int src, int dst) {
        m.set(OuterHeader.U64, udp + 8, (long) PROTO_ETHERNET << 32 | (vni & 0xffffff) << 8);   // version 0, no options, O and C clear
        OuterHeader.udp(m, udp, srcPort, dstPort, 16 + innerLength, csum, src, dst);
    }

    /**
     * Checks the Geneve header at {@code geneve} with {@code available} bytes after it in the UDP
     * payload; returns its length with options, or -1 for another version, a payload that is not
     * Ethernet, a critical option, or options longer than the payload.
     */
    public static int parse(MemorySegment m, long geneve, int available) {
        if (available < 8) return -1;
        int first = Short.toUnsignedInt(m.get(U16, geneve));
        if ((first >>> 14) != 0 || (first & FLAG_C) != 0 || Short.toUnsignedInt(m.get(U16, geneve + 2)) != PROTO_ETHERNET) return -1;
        int length = 8 + ((first >>> 8) & 0x3f) * 4;
        return length > available ? -1 : length;
    }

    /** The VNI of the Geneve header at {@code geneve}. */
    public static long vni(MemorySegment m, long geneve) {
        return (m.get(U32, geneve + 4) >>> 8) & 0xffffffL;
    }
}
