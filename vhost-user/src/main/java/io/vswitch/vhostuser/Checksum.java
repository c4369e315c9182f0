package io.vswitch.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Completes a checksum the guest left to the device (VIRTIO_NET_F_CSUM, header flag NEEDS_CSUM): the
 * guest filled the checksum field with the pseudo-header sum and says where the summed region starts
 * ({@code csum_start}) and where the result goes ({@code csum_offset} after it). The Internet
 * checksum (RFC 1071) of that region, folded and complemented, replaces the field. Works on the
 * switch's own copy of the frame.
 */
final class Checksum {
    private Checksum() {}

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Finishes the checksum of the {@code length}-byte frame at {@code frame}; false (frame untouched)
     * if the offsets do not fit inside it.
     */
    static boolean complete(MemorySegment m, long frame, int length, int start, int offset) {
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
        m.set(U16, frame + start + offset, (short) result);
        return true;
    }
}
