package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Parser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * OpenFlow edits of IP and transport fields, in place, with the checksums patched incrementally
 * (RFC 1624: HC' = ~(~HC + ~m + m')) rather than recomputed: the IPv4 header checksum for address,
 * DSCP and TTL changes, and the TCP/UDP checksum for ports and — through the pseudo-header — for
 * addresses. A UDP checksum of 0 means "none" and stays 0. A field the packet does not have (no IPv4
 * header, no TCP/UDP header: a later fragment) is left alone, as OVS does.
 */
final class IpEdit {
    private IpEdit() {}

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    // Layouts are made once: withOrder builds a new one per call, which on the hot path would allocate per packet.
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TCP = 6, UDP = 17, ICMP = 1, ICMPV6 = 58, SCTP = 132;

    /** Applies {@code op} to the frame at {@code [frame, frameEnd)}; false if the packet must be dropped (dec_ttl of a TTL of 0 or 1). */
    static boolean apply(MemorySegment m, long frame, long frameEnd, int layers, int op, long arg, long[] keys, int base) {
        int l3 = Parser.l3Offset(layers);
        if (l3 == Parser.NONE) return true;
        int dlType = FlowKey.dlType(keys, base);
        long ip = frame + l3;
        if (op == OfRule.DEC_TTL) {
            if (dlType == FlowKey.ETH_TYPE_IPV6) {
                int hop = m.get(ValueLayout.JAVA_BYTE, ip + 7) & 0xff;
                if (hop <= 1) return false;
                m.set(ValueLayout.JAVA_BYTE, ip + 7, (byte) (hop - 1));
                keys[base + FlowKey.W_L3] -= 1L << 32;
                return true;
            }
            if (dlType != FlowKey.ETH_TYPE_IPV4) return true;
            int ttlProto = u16(m, ip + 8);
            if (ttlProto >>> 8 <= 1) return false;
            int next = ttlProto - 0x100;
            m.set(U16, ip + 8, (short) next);
            patch16(m, ip + 10, ttlProto, next);
            keys[base + FlowKey.W_L3] -= 1L << 32;
            return true;
        }
        if (dlType == FlowKey.ETH_TYPE_IPV6) {
            ipv6(m, ip, layers, frame, frameEnd, op, arg, keys, base);
            return true;
        }
        if (dlType != FlowKey.ETH_TYPE_IPV4) return true;
        int proto = FlowKey.nwProto(keys, base);
        int l4 = Parser.l4Offset(layers);
        long tp = l4 == Parser.NONE ? -1 : frame + l4;
        long l4sum = tp < 0 ? -1 : proto == TCP ? tp + 16 : proto == UDP ? tp + 6 : -1;
        if (l4sum >= 0 && proto == UDP && u16(m, l4sum) == 0) l4sum = -1;          // no UDP checksum: none to patch
        switch (op) {
            case OfRule.SET_IPV4_SRC, OfRule.SET_IPV4_DST -> {
                long at = ip + (op == OfRule.SET_IPV4_SRC ? 12 : 16);
                int old = m.get(U32, at), neu = (int) arg;
                m.set(U32, at, neu);
                patch32(m, ip + 10, old, neu);
                if (l4sum >= 0) patch32(m, l4sum, old, neu);                      // the pseudo-header holds the addresses
                if (l4sum >= 0 && proto == UDP && u16(m, l4sum) == 0) m.set(U16, l4sum, (short) 0xffff);
                int shift = op == OfRule.SET_IPV4_SRC ? 32 : 0;
                keys[base + FlowKey.W_IPV4] = keys[base + FlowKey.W_IPV4] & ~(0xffffffffL << shift) | (neu & 0xffffffffL) << shift;
            }
            case OfRule.SET_IP_DSCP -> {
                int word = u16(m, ip);                                             // version/IHL and TOS
                int next = word & 0xff03 | (int) (arg & 0x3f) << 2;
                m.set(U16, ip, (short) next);
                patch16(m, ip + 10, word, next);
                keys[base + FlowKey.W_L3] = keys[base + FlowKey.W_L3] & ~(0xfcL << 24) | (arg & 0x3f) << 26;
            }
            case OfRule.SET_IP_ECN -> {
                int word = u16(m, ip);
                int next = word & 0xfffc | (int) (arg & 3);
                m.set(U16, ip, (short) next);
                patch16(m, ip + 10, word, next);
                keys[base + FlowKey.W_L3] = keys[base + FlowKey.W_L3] & ~(3L << 24) | (arg & 3) << 24;
            }
            case OfRule.SET_ICMP_TYPE, OfRule.SET_ICMP_CODE -> {
                if (tp < 0 || proto != ICMP) return true;
                icmp(m, tp, op, arg, keys, base);
            }
            case OfRule.SET_TP_SRC, OfRule.SET_TP_DST -> {
                if (tp >= 0 && proto == SCTP) {
                    sctpPort(m, tp, Math.min(ip + u16(m, ip + 2), frameEnd), op, arg, keys, base);
                    return true;
                }
                if (tp < 0 || (proto != TCP && proto != UDP)) return true;
                long at = tp + (op == OfRule.SET_TP_SRC ? 0 : 2);
                int old = u16(m, at), neu = (int) (arg & 0xffff);
                m.set(U16, at, (short) neu);
                if (l4sum >= 0) {
                    patch16(m, l4sum, old, neu);
                    if (proto == UDP && u16(m, l4sum) == 0) m.set(U16, l4sum, (short) 0xffff);
                }
                int shift = op == OfRule.SET_TP_SRC ? 48 : 32;
                keys[base + FlowKey.W_TP] = keys[base + FlowKey.W_TP] & ~(0xffffL << shift) | (long) neu << shift;
            }
            default -> { }
        }
        return true;
    }

    /**
     * An SCTP port, and the packet's CRC32c recomputed (it covers the whole SCTP packet, so it cannot
     * be patched): over {@code [tp, end)} with the checksum field zero, stored least significant byte
     * first, as RFC 4960 appendix B has it.
     */
    private static void sctpPort(MemorySegment m, long tp, long end, int op, long arg, long[] keys, int base) {
        if (end < tp + 12) return;                                       // not a whole common header
        m.set(U16, tp + (op == OfRule.SET_TP_SRC ? 0 : 2), (short) arg);
        m.set(U32, tp + 8, 0);
        m.set(U32_LE, tp + 8, Crc32c.of(m, tp, end));
        int shift = op == OfRule.SET_TP_SRC ? 48 : 32;
        keys[base + FlowKey.W_TP] = keys[base + FlowKey.W_TP] & ~(0xffffL << shift) | (arg & 0xffff) << shift;
    }

    /**
     * Neighbor discovery (RFC 4861): the target address (bytes 8-23 of a solicitation or an
     * advertisement) or the address in its source/target link-layer address option, with the
     * ICMPv6 checksum patched. A message without that option is left alone.
     */
    private static void nd(MemorySegment m, long tp, long end, int op, long arg, long[] keys, int base) {
        if (op == OfRule.SET_ND_TARGET_HI || op == OfRule.SET_ND_TARGET_LO) {
            int half = op - OfRule.SET_ND_TARGET_HI;
            long at = tp + 8 + 8L * half;
            long old = m.get(U64, at);
            m.set(U64, at, arg);
            patch32(m, tp + 2, (int) (old >>> 32), (int) (arg >>> 32));
            patch32(m, tp + 2, (int) old, (int) arg);
            keys[base + FlowKey.W_ND_TARGET_HI + half] = arg;
            return;
        }
        int want = op == OfRule.SET_ND_SLL ? 1 : 2;
        for (long o = tp + 24; o + 8 <= end; ) {
            int type = m.get(ValueLayout.JAVA_BYTE, o) & 0xff, units = m.get(ValueLayout.JAVA_BYTE, o + 1) & 0xff;
            if (units == 0) return;                                          // malformed: stop
            if (type == want && units == 1) {
                for (int w = 0; w < 3; w++) {
                    int old = u16(m, o + 2 + 2 * w), neu = (int) (arg >>> (32 - 16 * w)) & 0xffff;
                    m.set(U16, o + 2 + 2 * w, (short) neu);
                    patch16(m, tp + 2, old, neu);
                }
                keys[base + (want == 1 ? FlowKey.W_ARP_SHA : FlowKey.W_ARP_THA)] = arg & 0xffff_ffff_ffffL;
                return;
            }
            o += 8L * units;
        }
    }

    /** ICMP or ICMPv6 type (byte 0) or code (byte 1), and the ICMP checksum (bytes 2-3; the type/code word is not in a pseudo-header). */
    private static void icmp(MemorySegment m, long tp, int op, long arg, long[] keys, int base) {
        int word = u16(m, tp);
        int next = op == OfRule.SET_ICMP_TYPE ? (word & 0x00ff) | (int) (arg & 0xff) << 8 : (word & 0xff00) | (int) (arg & 0xff);
        m.set(U16, tp, (short) next);
        patch16(m, tp + 2, word, next);
        int shift = op == OfRule.SET_ICMP_TYPE ? 48 : 32;              // the key keeps type as tp_src, code as tp_dst
        keys[base + FlowKey.W_TP] = keys[base + FlowKey.W_TP] & ~(0xffffL << shift) | (arg & 0xff) << shift;
    }

    /**
     * IPv6 edits: addresses (8 bytes at a time; the TCP, UDP and ICMPv6 checksums cover them through
     * the pseudo-header, and IPv6 has no header checksum), DSCP and ECN (the traffic class, bits
     * 20-27 of the first word), the flow label, TCP/UDP ports, ICMPv6 type and code.
     */
    private static void ipv6(MemorySegment m, long ip, int layers, long frame, long frameEnd, int op, long arg, long[] keys, int base) {
        int proto = FlowKey.nwProto(keys, base);
        int l4 = Parser.l4Offset(layers);
        long tp = l4 == Parser.NONE ? -1 : frame + l4;
        long l4sum = tp < 0 ? -1 : proto == TCP ? tp + 16 : proto == UDP ? tp + 6 : proto == ICMPV6 ? tp + 2 : -1;
        switch (op) {
            case OfRule.SET_IPV6_SRC_HI, OfRule.SET_IPV6_SRC_LO, OfRule.SET_IPV6_DST_HI, OfRule.SET_IPV6_DST_LO -> {
                int half = op - OfRule.SET_IPV6_SRC_HI;                    // 0 src hi, 1 src lo, 2 dst hi, 3 dst lo
                long at = ip + 8 + 8L * half;
                long old = m.get(U64, at);
                m.set(U64, at, arg);
                if (l4sum >= 0) {
                    patch32(m, l4sum, (int) (old >>> 32), (int) (arg >>> 32));
                    patch32(m, l4sum, (int) old, (int) arg);
                    if (proto == UDP && u16(m, l4sum) == 0) m.set(U16, l4sum, (short) 0xffff);
                }
                keys[base + FlowKey.W_IPV6_SRC_HI + half] = arg;
            }
            case OfRule.SET_IP_DSCP, OfRule.SET_IP_ECN -> {
                int word = m.get(U32, ip);
                int tc = word >>> 20 & 0xff;
                int next = op == OfRule.SET_IP_DSCP ? (tc & 3) | (int) (arg & 0x3f) << 2 : (tc & 0xfc) | (int) (arg & 3);
                m.set(U32, ip, word & 0xf00fffff | next << 20);
                keys[base + FlowKey.W_L3] = keys[base + FlowKey.W_L3] & ~(0xffL << 24) | (long) next << 24;
            }
            case OfRule.SET_IPV6_LABEL -> {
                int word = m.get(U32, ip);
                m.set(U32, ip, word & 0xfff00000 | (int) (arg & 0xfffff));
                keys[base + FlowKey.W_IPV6_LABEL] = arg & 0xfffff;
            }
            case OfRule.SET_ICMP_TYPE, OfRule.SET_ICMP_CODE -> {
                if (tp >= 0 && proto == ICMPV6) icmp(m, tp, op, arg, keys, base);
            }
            case OfRule.SET_ND_TARGET_HI, OfRule.SET_ND_TARGET_LO, OfRule.SET_ND_SLL, OfRule.SET_ND_TLL -> {
                long end = Math.min(ip + 40 + u16(m, ip + 4), frameEnd);
                int type = tp < 0 ? -1 : m.get(ValueLayout.JAVA_BYTE, tp) & 0xff;
                if (proto == ICMPV6 && (type == 135 || type == 136) && tp + 24 <= end) nd(m, tp, end, op, arg, keys, base);
            }
            case OfRule.SET_TP_SRC, OfRule.SET_TP_DST -> {
                if (tp >= 0 && proto == SCTP) {
                    sctpPort(m, tp, Math.min(ip + 40 + u16(m, ip + 4), frameEnd), op, arg, keys, base);
                    return;
                }
                if (tp < 0 || (proto != TCP && proto != UDP)) return;
                long at = tp + (op == OfRule.SET_TP_SRC ? 0 : 2);
                int old = u16(m, at), neu = (int) (arg & 0xffff);
                m.set(U16, at, (short) neu);
                patch16(m, l4sum, old, neu);
                if (proto == UDP && u16(m, l4sum) == 0) m.set(U16, l4sum, (short) 0xffff);
                int shift = op == OfRule.SET_TP_SRC ? 48 : 32;
                keys[base + FlowKey.W_TP] = keys[base + FlowKey.W_TP] & ~(0xffffL << shift) | (long) neu << shift;
            }
            default -> { }
        }
    }

    private static int u16(MemorySegment m, long at) {
        return m.get(U16, at) & 0xffff;
    }

    /** Patches the checksum at {@code sum} for a 16-bit word that changed from {@code old} to {@code neu}. */
    private static void patch16(MemorySegment m, long sum, int old, int neu) {
        int s = (~u16(m, sum) & 0xffff) + (~old & 0xffff) + (neu & 0xffff);
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        m.set(U16, sum, (short) ~s);
    }

    private static void patch32(MemorySegment m, long sum, int old, int neu) {
        patch16(m, sum, old >>> 16, neu >>> 16);
        patch16(m, sum, old & 0xffff, neu & 0xffff);
    }
}
