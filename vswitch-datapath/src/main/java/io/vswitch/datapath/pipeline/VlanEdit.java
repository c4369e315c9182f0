package io.vswitch.datapath.pipeline;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Writes a copy of a frame with its outer 802.1Q tag pushed, removed or rewritten (NORMAL: a copy
 * into a spare slot, because the original may already be queued, unchanged, for other output ports
 * of the same batch), or edits it in place (OpenFlow actions: the forwarder copies first if an
 * output already refers to the bytes).
 */
final class VlanEdit {
    private VlanEdit() {}

    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int ETH_ADDRS = 12;
    static final int TAG = 4;

    /** Copies the frame with an 802.1Q tag (TPID 0x8100, {@code tci}) after the MACs; returns the new length. */
    static int push(MemorySegment m, long src, int len, long dst, int tci) {
        MemorySegment.copy(m, src, m, dst, ETH_ADDRS);
        m.set(BE_SHORT, dst + ETH_ADDRS, (short) 0x8100);
        m.set(BE_SHORT, dst + ETH_ADDRS + 2, (short) tci);
        MemorySegment.copy(m, src + ETH_ADDRS, m, dst + ETH_ADDRS + TAG, len - ETH_ADDRS);
        return len + TAG;
    }

    /** Copies the frame without its outer tag; returns the new length. */
    static int pop(MemorySegment m, long src, int len, long dst) {
        MemorySegment.copy(m, src, m, dst, ETH_ADDRS);
        MemorySegment.copy(m, src + ETH_ADDRS + TAG, m, dst + ETH_ADDRS, len - ETH_ADDRS - TAG);
        return len - TAG;
    }

    /** Pushes a tag ({@code tpid}, {@code tci}) in place, into the headroom: the frame then starts 4 bytes earlier. */
    static void pushInPlace(MemorySegment m, long off, int tpid, int tci) {
        MemorySegment.copy(m, off, m, off - TAG, ETH_ADDRS);       // overlapping: copies as through a temporary
        m.set(BE_SHORT, off - TAG + ETH_ADDRS, (short) tpid);
        m.set(BE_SHORT, off - TAG + ETH_ADDRS + 2, (short) tci);
    }

    /** Removes the outer tag in place: the frame then starts 4 bytes later. */
    static void popInPlace(MemorySegment m, long off) {
        MemorySegment.copy(m, off, m, off + TAG, ETH_ADDRS);
    }

    /** The outer tag's TCI as on the wire. */
    static int tci(MemorySegment m, long off) {
        return m.get(BE_SHORT, off + ETH_ADDRS + 2) & 0xffff;
    }

    static void setTci(MemorySegment m, long off, int tci) {
        m.set(BE_SHORT, off + ETH_ADDRS + 2, (short) tci);
    }

    /** Writes a 48-bit MAC (first octet in bits 40-47) at {@code at}. */
    static void setMac(MemorySegment m, long at, long mac) {
        for (int b = 0; b < 6; b++) m.set(ValueLayout.JAVA_BYTE, at + b, (byte) (mac >>> (40 - 8 * b)));
    }

    /** Copies the frame with the outer tag's TCI replaced (TPID kept); returns the length. */
    static int rewrite(MemorySegment m, long src, int len, long dst, int tci) {
        MemorySegment.copy(m, src, m, dst, len);
        m.set(BE_SHORT, dst + ETH_ADDRS + 2, (short) tci);
        return len;
    }
}
