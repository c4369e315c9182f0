package io.vswitch.datapath.pipeline;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Writes a copy of a frame with its outer 802.1Q tag pushed, removed or rewritten. A copy (into a
 * spare slot) rather than an in-place edit, because the original may already be queued, unchanged,
 * for other output ports of the same batch.
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

    /** Copies the frame with the outer tag's TCI replaced (TPID kept); returns the length. */
    static int rewrite(MemorySegment m, long src, int len, long dst, int tci) {
        MemorySegment.copy(m, src, m, dst, len);
        m.set(BE_SHORT, dst + ETH_ADDRS + 2, (short) tci);
        return len;
    }
}
