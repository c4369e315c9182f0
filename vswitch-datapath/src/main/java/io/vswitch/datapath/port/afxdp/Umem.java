package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.SysException;

import java.lang.foreign.MemorySegment;

/**
 * The memory one AF_XDP socket shares with the kernel (its UMEM), laid out exactly like a
 * {@link PacketPool}: slot i at {@code i * SLOT_SIZE}, 256 bytes of headroom, 2048 of data. Because of
 * that, a received frame goes into the pipeline where the kernel wrote it (see
 * {@link Batch#useMemory}), and the pipeline can push headers into its headroom as into any packet.
 *
 * <pre>
 *   slots:  rx     handed to the kernel through the fill ring; come back through the rx ring, travel
 *                  the pipeline in place and return to the fill ring at the queue's next poll
 *           tx     a free stack; a slot leaves it into the tx ring, returns through the completion ring
 *           spare  2 per batch packet, for the pipeline's re-encapsulated copies (as the pool's spares)
 * </pre>
 *
 * A slot is 2304 bytes, not a power of two, so the UMEM is registered in unaligned-chunk mode: the
 * kernel takes any fill address, writes the frame 256 bytes (XDP_PACKET_HEADROOM) after it, and
 * reports the offset in the descriptor's top 16 bits. A zero-copy driver also needs every chunk
 * physically contiguous, which 4 KiB pages cannot promise for a 2304-byte chunk: zero-copy therefore
 * takes the UMEM from 2 MiB hugepages and leaves out the few slots that cross a hugepage boundary.
 */
final class Umem implements AutoCloseable {
    static final int SLOT = PacketPool.SLOT_SIZE;
    static final int RX_SLOTS = 2048;
    static final int TX_SLOTS = 2048;
    private static final int SPARE_SLOTS = 2 * Batch.MAX;
    private static final long HUGEPAGE = 2L << 20;
    /** Bits of an unaligned-mode descriptor address that hold the chunk address; the offset is above them. */
    private static final long ADDRESS_MASK = (1L << 48) - 1;

    final MemorySegment memory;
    final boolean hugepages;
    /** Start (headroom) offsets of the rx slots. */
    final long[] rxSlots = new long[RX_SLOTS];
    /** Data offsets of the tx slots. */
    final long[] txData = new long[TX_SLOTS];
    /** Data offsets of the spare slots, as {@link Batch#useMemory} wants them. */
    final long[] spare = new long[SPARE_SLOTS];

    private Umem(MemorySegment memory, boolean hugepages) {
        this.memory = memory;
        this.hugepages = hugepages;
        int k = 0;
        for (long at = 0; k < RX_SLOTS + TX_SLOTS + SPARE_SLOTS; at += SLOT) {
            if (hugepages && at / HUGEPAGE != (at + SLOT - 1) / HUGEPAGE) continue;   // crosses a hugepage
            if (k < RX_SLOTS) rxSlots[k] = at;
            else if (k < RX_SLOTS + TX_SLOTS) txData[k - RX_SLOTS] = at + PacketPool.HEADROOM;
            else spare[k - RX_SLOTS - TX_SLOTS] = at + PacketPool.HEADROOM;
            k++;
        }
    }

    /** Bytes a UMEM takes on hugepages (a whole number of them), for messages about reserving them. */
    static long hugepageBytes() {
        long need = (long) (RX_SLOTS + TX_SLOTS + SPARE_SLOTS) * SLOT;
        long pages = (need + HUGEPAGE - 1) / HUGEPAGE;
        return (need + pages * SLOT + HUGEPAGE - 1) / HUGEPAGE * HUGEPAGE;   // room for the skipped slots
    }

    /** A UMEM on hugepages, or null if too few are free. */
    static Umem onHugepages() {
        try {
            return new Umem(Libc.mmapAnonymous(hugepageBytes(), true, "mmap(UMEM on hugepages)"), true);
        } catch (SysException e) {
            return null;
        }
    }

    /** A UMEM on ordinary pages (enough for copy mode, where the kernel copies into it). */
    static Umem onPages() {
        long bytes = ((long) (RX_SLOTS + TX_SLOTS + SPARE_SLOTS) * SLOT + 4095) & ~4095L;
        return new Umem(Libc.mmapAnonymous(bytes, false, "mmap(UMEM)"), false);
    }

    /** The chunk (slot start) a descriptor address points into. */
    static long slotOf(long descriptorAddress) {
        return descriptorAddress & ADDRESS_MASK;
    }

    /** Where the frame of a descriptor starts: its chunk plus the offset in the top bits. */
    static long dataOf(long descriptorAddress) {
        return (descriptorAddress & ADDRESS_MASK) + (descriptorAddress >>> 48);
    }

    /** Whether {@code slot} is a slot start inside this UMEM (the kernel returns only what it was given; we check anyway). */
    boolean isSlot(long slot) {
        return slot % SLOT == 0 && slot >= 0 && slot + SLOT <= memory.byteSize();
    }

    @Override
    public void close() {
        Libc.munmap(memory);
    }
}
