package io.vswitch.datapath.pipeline;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CRC32c (Castagnoli, RFC 3309), the SCTP checksum, over bytes in a memory segment, table-driven
 * and without allocating (java.util.zip.CRC32C would need a ByteBuffer view per packet).
 */
final class Crc32c {
    private static final int[] TABLE = new int[256];

    static {
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
            TABLE[n] = c;
        }
    }

    private Crc32c() {}

    /** The CRC32c of {@code [from, to)} (the value as RFC 3309 defines it: inverted at start and end). */
    static int of(MemorySegment m, long from, long to) {
        int c = ~0;
        for (long p = from; p < to; p++) c = TABLE[(c ^ m.get(ValueLayout.JAVA_BYTE, p)) & 0xff] ^ (c >>> 8);
        return ~c;
    }
}
