package io.vswitch.datapath.tunnel;

import java.lang.foreign.MemorySegment;

import static io.vswitch.datapath.tunnel.OuterHeader.U32;

/**
 * VXLAN over UDP over IPv4 (RFC 7348): an 8-byte UDP header and an 8-byte VXLAN header with the I
 * flag and a 24-bit VNI, in front of the inner Ethernet frame.
 */
public final class Vxlan {
    private Vxlan() {}

    /** Outer Ethernet + IPv4 + UDP + VXLAN. */
    public static final int HEADER = OuterHeader.ETH + OuterHeader.IPV4 + 8 + 8;
    private static final int FLAG_I = 0x0800_0000;
    /** OVS's default range for the outer UDP source port (tnl_udp_port_min/max; {@code tnl/egress_port_range}). */
    public static final int SRC_PORT_MIN = 32768, SRC_PORT_MAX = 61000;

    /**
     * The outer UDP source port for a flow hash, in {@code [min, min + span)} (a span of 0: always
     * {@code min}): spreads flows over the underlay's ECMP and RSS, as OVS does.
     */
    public static int sourcePort(int hash, int min, int span) {
        return min + (int) (((hash & 0xffffffffL) * span) >>> 32);
    }

    /**
     * Writes UDP and VXLAN at {@code udp} for an inner frame of {@code innerLength} bytes right after;
     * {@code csum} computes the UDP checksum over the pseudo header and the whole payload.
     */
    public static void write(MemorySegment m, long udp, int srcPort, int dstPort, long vni, int innerLength, boolean csum, int src, int dst) {
        m.set(OuterHeader.U64, udp + 8, (long) FLAG_I << 32 | (vni & 0xffffff) << 8);
        OuterHeader.udp(m, udp, srcPort, dstPort, 16 + innerLength, csum, src, dst);
    }

    /** The VNI of the VXLAN header at {@code vxlan} (after the UDP header), or -1 without the I flag (the one check the kernel makes too). */
    public static long vni(MemorySegment m, long vxlan) {
        if ((m.get(U32, vxlan) & FLAG_I) == 0) return -1;
        return (m.get(U32, vxlan + 4) >>> 8) & 0xffffffL;
    }
}
