package io.vswitch.datapath.tunnel;

import java.lang.foreign.MemorySegment;

import static io.vswitch.datapath.tunnel.OuterHeader.U16;
import static io.vswitch.datapath.tunnel.OuterHeader.U32;

/**
 * GRE over IPv4 carrying Ethernet (RFC 2784 with RFC 2890's key; protocol 0x6558, transparent
 * Ethernet bridging, as OVS's {@code gre} ports): 4 bytes of flags and protocol, then the optional
 * checksum (C) and key (K) words. Sequence numbers and routing are refused on receive.
 */
public final class Gre {
    private Gre() {}

    public static final int PROTO_TEB = 0x6558;
    private static final int FLAG_C = 0x8000, FLAG_R = 0x4000, FLAG_K = 0x2000, FLAG_S = 0x1000, VERSION = 0x0007;

    /** The GRE header's length for these options. */
    public static int length(boolean keyed, boolean csum) {
        return 4 + (csum ? 4 : 0) + (keyed ? 4 : 0);
    }

    /** Writes the GRE header at {@code gre} for an inner frame of {@code innerLength} bytes right after it. */
    public static void write(MemorySegment m, long gre, boolean keyed, long key, boolean csum, int innerLength) {
        m.set(U16, gre, (short) ((csum ? FLAG_C : 0) | (keyed ? FLAG_K : 0)));
        m.set(U16, gre + 2, (short) PROTO_TEB);
        long at = gre + 4;
        if (csum) {
            m.set(U32, at, 0);
            at += 4;
        }
        if (keyed) m.set(U32, at, (int) key);
        if (csum) {
            int len = length(keyed, true) + innerLength;
            m.set(U16, gre + 4, (short) ~OuterHeader.fold(OuterHeader.sum(m, gre, len, 0)));
        }
    }

    /**
     * Parses the GRE header at {@code gre} with {@code available} bytes from there on: returns its
     * length in bits 0-7 and bit 8 set if it carries a key, or -1 if it is not Ethernet over GRE
     * version 0, uses routing or sequence numbers, is truncated, or fails its checksum.
     */
    public static int parse(MemorySegment m, long gre, int available) {
        if (available < 4) return -1;
        int flags = m.get(U16, gre) & 0xffff;
        if ((flags & (FLAG_R | FLAG_S | VERSION)) != 0 || (m.get(U16, gre + 2) & 0xffff) != PROTO_TEB) return -1;
        boolean csum = (flags & FLAG_C) != 0, keyed = (flags & FLAG_K) != 0;
        int len = length(keyed, csum);
        if (available < len) return -1;
        if (csum && OuterHeader.fold(OuterHeader.sum(m, gre, available, 0)) != 0xffff) return -1;
        return len | (keyed ? 0x100 : 0);
    }

    /** The key of a keyed GRE header that {@link #parse} accepted. */
    public static long key(MemorySegment m, long gre) {
        boolean csum = (m.get(U16, gre) & FLAG_C) != 0;
        return m.get(U32, gre + (csum ? 8 : 4)) & 0xffffffffL;
    }
}
