package io.vswitch.datapath.qos;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code Queue.dscp} marking: writes a DSCP into an IPv4 or IPv6 frame (behind up to two VLAN tags),
 * keeping ECN and the IPv4 header checksum right. Anything else, or a frame too short to hold the
 * IP header, is left as it is.
 */
final class Dscp {
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private Dscp() {}

    static void mark(MemorySegment m, long frame, int length, int dscp) {
        int l3 = 14;
        if (length < l3) return;
        int type = m.get(BE_SHORT, frame + 12) & 0xffff;
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
            if (length < l3 + 4) return;
            type = m.get(BE_SHORT, frame + l3 + 2) & 0xffff;
            l3 += 4;
        }
        long ip = frame + l3;
        if (type == 0x0800) {
            if (length < l3 + 20) return;
            int tos = m.get(ValueLayout.JAVA_BYTE, ip + 1) & 0xff;
            int next = (tos & 0x03) | dscp << 2;
            if (next == tos) return;
            // RFC 1624 incremental update of the 16-bit word holding version/IHL and TOS.
            int oldWord = (m.get(ValueLayout.JAVA_BYTE, ip) & 0xff) << 8 | tos;
            int newWord = oldWord & 0xff00 | next;
            int sum = ~m.get(BE_SHORT, ip + 10) & 0xffff;
            sum += ~oldWord & 0xffff;
            sum += newWord;
            sum = (sum & 0xffff) + (sum >>> 16);
            sum = (sum & 0xffff) + (sum >>> 16);
            m.set(ValueLayout.JAVA_BYTE, ip + 1, (byte) next);
            m.set(BE_SHORT, ip + 10, (short) ~sum);
        } else if (type == 0x86dd) {
            if (length < l3 + 40) return;
            int first = m.get(BE_SHORT, ip) & 0xffff;        // version(4) traffic class(8) label(4)
            int tc = first >>> 4 & 0xff;
            int next = (tc & 0x03) | dscp << 2;
            m.set(BE_SHORT, ip, (short) (first & 0xf00f | next << 4));
        }
    }
}
