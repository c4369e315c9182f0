package io.vswitch.datapath.tunnel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The outer Ethernet and IPv4 headers of an encapsulated frame (OVS: {@code netdev_tnl_push_ip_header}),
 * and the Internet checksum the tunnel headers need.
 *
 * <pre>
 *   | Ethernet 14 | IPv4 20 | UDP 8 + VXLAN 8 or Geneve 8 / GRE: 4 [+ csum 4] [+ key 4] | inner frame |
 * </pre>
 * The outer IPv4 header has no options, ID 0 and DF as {@code df_default} says (a packet with DF
 * needs no unique ID, RFC 6864), so it can be written without per-flow state.
 */
public final class OuterHeader {
    private OuterHeader() {}

    public static final int ETH = 14;
    public static final int IPV4 = 20;
    public static final int PROTO_UDP = 17;
    public static final int PROTO_GRE = 47;
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Writes Ethernet (dst, src, type IPv4) and IPv4 at {@code at}; {@code ipLength} is the IPv4 total
     * length (its header, the tunnel header and the inner frame).
     */
    public static void write(MemorySegment m, long at, long dstMac, long srcMac, int tos, int ttl, boolean df, int proto,
                             int src, int dst, int ipLength) {
        // Whole words, composed in registers: a third of the stores of field-by-field writes, and no
        // narrow store that a later wide load of the same bytes would have to wait for.
        long flagsTtlProto = (df ? 0x4000L : 0) << 16 | (ttl << 8 | proto);
        int checksum = ~fold(ipv4Sum(tos, ipLength, df, ttl << 8 | proto, src, dst)) & 0xffff;
        m.set(U64, at, dstMac << 16 | srcMac >>> 32 & 0xffff);
        m.set(U64, at + 8, srcMac << 32 | 0x0800L << 16 | (0x4500 | tos));
        m.set(U64, at + 16, (long) ipLength << 48 | flagsTtlProto);                  // ID 0, flags, fragment offset 0
        m.set(U64, at + 24, (long) checksum << 48 | (src & 0xffffffffL) << 16 | dst >>> 16);
        m.set(U16, at + 32, (short) dst);
    }

    /**
     * The header's sum from the values written rather than read back from memory: loading words
     * that straddle the stores just made cannot be forwarded from the store buffer, and each such
     * load waits for the stores to reach the cache.
     */
    private static long ipv4Sum(int tos, int ipLength, boolean df, int ttlProto, int src, int dst) {
        return (0x4500 | tos) + ipLength + (df ? 0x4000 : 0) + ttlProto
                + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
    }

    /**
     * Writes the UDP header at {@code udp} of a UDP tunnel (VXLAN, Geneve) whose tunnel header is
     * already in place: {@code udpLength} covers the UDP header, the tunnel header and the inner
     * frame; {@code csum} computes the checksum over the pseudo header and all of it.
     */
    public static void udp(MemorySegment m, long udp, int srcPort, int dstPort, int udpLength, boolean csum, int src, int dst) {
        m.set(U64, udp, (long) srcPort << 48 | (long) dstPort << 32 | (long) udpLength << 16);   // checksum 0 until computed
        if (csum) {
            long s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + PROTO_UDP + udpLength;
            int c = ~fold(sum(m, udp, udpLength, s)) & 0xffff;
            m.set(U16, udp + 6, (short) (c == 0 ? 0xffff : c));   // 0 means "no checksum" in UDP
        }
    }

    /** The 32-bit one's-complement sum of {@code length} bytes at {@code at}, added to {@code sum}. */
    public static long sum(MemorySegment m, long at, int length, long sum) {
        int i = 0;
        for (; i + 4 <= length; i += 4) sum += m.get(U32, at + i) & 0xffffffffL;
        for (; i + 2 <= length; i += 2) sum += m.get(U16, at + i) & 0xffff;
        if (i < length) sum += (m.get(ValueLayout.JAVA_BYTE, at + i) & 0xff) << 8;
        return sum;
    }

    /** Folds a sum into 16 bits (one's complement), not yet inverted. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) sum;
    }

    /** True if the IPv4 header at {@code ip} (no options assumed by the caller's length check) sums to 0xffff. */
    public static boolean ipv4ChecksumOk(MemorySegment m, long ip, int headerLength) {
        return fold(sum(m, ip, headerLength, 0)) == 0xffff;
    }
}
