package io.vswitch.datapath.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * TCP and UDP checksums left <em>partial</em> by a virtio guest (VIRTIO_NET_F_CSUM, header flag
 * NEEDS_CSUM): the sender filled the checksum field with the pseudo-header sum and said where the
 * summed region starts ({@code csum_start}) and where the result goes ({@code csum_offset} after
 * it). Completing it is the Internet checksum (RFC 1071) of that region, folded and complemented,
 * written into the field. A frame whose checksum the switch leaves partial (to hand it to a guest
 * that negotiated GUEST_CSUM as it came) is marked in {@link Batch#partial}; its positions are
 * always those {@link #position} finds, so they need not travel with it.
 */
public final class L4Checksum {
    private L4Checksum() {}

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Finishes the checksum of the {@code length}-byte frame at {@code frame}; false (frame untouched)
     * if the offsets do not fit inside it. A result of 0 is written as 0xffff (the same in one's
     * complement; 0 would mean "no checksum" to a UDP receiver), as Linux does.
     */
    public static boolean complete(MemorySegment m, long frame, int length, int start, int offset) {
        if (start < 0 || offset < 0 || (long) start + offset + 2 > length) return false;
        long sum = 0;
        long at = frame + start;
        long end = frame + length;
        for (; at + 4 <= end; at += 4) sum += Integer.toUnsignedLong(m.get(U32, at));
        if (at + 2 <= end) {
            sum += Short.toUnsignedInt(m.get(U16, at));
            at += 2;
        }
        if (at < end) sum += (m.get(ValueLayout.JAVA_BYTE, at) & 0xff) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        int result = (int) ~sum & 0xffff;
        m.set(U16, frame + start + offset, (short) (result == 0 ? 0xffff : result));
        return true;
    }

    /**
     * Where the TCP or UDP checksum of the frame at {@code frame} is: {@code csum_start << 16 |
     * csum_offset}, for an Ethernet frame (up to two VLAN tags) carrying IPv4 (not a fragment) or
     * IPv6 (no extension header) with TCP or UDP, whole; -1 for anything else.
     */
    public static int position(MemorySegment m, long frame, int length) {
        if (length < 14) return -1;
        int at = 12;
        int type = Short.toUnsignedInt(m.get(U16, frame + at));
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
            at += 4;
            if (length < at + 2) return -1;
            type = Short.toUnsignedInt(m.get(U16, frame + at));
        }
        at += 2;
        int proto;
        int l4;
        if (type == 0x0800) {
            if (length < at + 20) return -1;
            int vihl = m.get(ValueLayout.JAVA_BYTE, frame + at) & 0xff;
            if ((vihl >>> 4) != 4 || (vihl & 0xf) < 5 || (m.get(U16, frame + at + 6) & 0x3fff) != 0) return -1;
            proto = m.get(ValueLayout.JAVA_BYTE, frame + at + 9) & 0xff;
            l4 = at + (vihl & 0xf) * 4;
        } else if (type == 0x86dd) {
            if (length < at + 40) return -1;
            proto = m.get(ValueLayout.JAVA_BYTE, frame + at + 6) & 0xff;
            l4 = at + 40;
        } else {
            return -1;
        }
        int offset = proto == 6 ? 16 : proto == 17 ? 6 : -1;
        if (offset < 0 || l4 + (proto == 6 ? 20 : 8) > length) return -1;
        return l4 << 16 | offset;
    }

    /** Completes the partial checksum of a marked frame (positions from {@link #position}); false if it has none. */
    public static boolean complete(MemorySegment m, long frame, int length) {
        int p = position(m, frame, length);
        return p >= 0 && complete(m, frame, length, p >>> 16, p & 0xffff);
    }
}
