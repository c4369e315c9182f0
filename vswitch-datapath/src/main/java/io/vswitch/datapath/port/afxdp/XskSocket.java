package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One AF_XDP socket (XSK) bound to one queue of an interface, with its own {@link Umem}.
 *
 * <p>Rx frames travel the pipeline in place: {@link #hold} keeps a received frame's slot until the
 * queue's next poll, when {@link #releaseHeld} gives it back to the kernel through the fill ring. One
 * PMD polls a queue at a time, and a queue moves to another PMD only after the old one is quiescent,
 * so the pipeline has always finished with a frame before the kernel may write it again. At most one
 * batch of frames is held per queue; the other 2000-odd stay with the kernel.
 */
final class XskSocket implements AutoCloseable {
    static final int AF_XDP = 44;
    private static final int SOCK_RAW = 3;
    private static final int SOL_XDP = 283;
    private static final int XDP_MMAP_OFFSETS = 1;
    private static final int XDP_RX_RING = 2;
    private static final int XDP_TX_RING = 3;
    private static final int XDP_UMEM_REG = 4;
    private static final int XDP_UMEM_FILL_RING = 5;
    private static final int XDP_UMEM_COMPLETION_RING = 6;
    private static final int XDP_STATISTICS = 7;
    private static final int XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1;
    private static final long PGOFF_RX_RING = 0;
    private static final long PGOFF_TX_RING = 0x80000000L;
    private static final long PGOFF_FILL_RING = 0x100000000L;
    private static final long PGOFF_COMPLETION_RING = 0x180000000L;
    static final int XDP_COPY = 2;
    static final int XDP_ZEROCOPY = 4;
    static final int XDP_USE_NEED_WAKEUP = 8;

    static final int RING = 2048;

    final int fd;
    final int queue;
    final boolean needWakeup;
    final Umem umem;
    private final MemorySegment[] maps = new MemorySegment[4];
    final XskRing fill;
    final XskRing completion;
    final XskRing rx;
    final XskRing tx;
    private final long[] freeTx = new long[Umem.TX_SLOTS];
    private int freeCount;
    /** Slots of the last burst's frames, still in the pipeline's hands until the next poll. */
    private final long[] held = new long[Batch.MAX];
    private int heldCount;
    /**
     * Received frames on their way back to the fill ring. Normally all go back at once; but the
     * kernel publishes new rx entries before it publishes the fill-ring slots it consumed, so the
     * ring can look full for a moment, and a frame not returned now must not be lost.
     */
    private final long[] toFill = new long[Umem.RX_SLOTS];
    private int toFillCount;
    /** Several PMDs may transmit on one port; the tx ring has one producer. Held for a burst, never waited on long. */
    final AtomicBoolean txLock = new AtomicBoolean();

    /**
     * Opens and binds; {@code bindFlags} is XDP_COPY or XDP_ZEROCOPY or 0 (kernel's choice), plus
     * need-wakeup. The socket owns {@code umem} from here on, also when this constructor fails.
     */
    XskSocket(int ifindex, int queue, int bindFlags, Umem umem) {
        this.queue = queue;
        this.umem = umem;
        this.needWakeup = (bindFlags & XDP_USE_NEED_WAKEUP) != 0;
        int socket;
        try {
            socket = Libc.socket(AF_XDP, SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        } catch (RuntimeException e) {
            umem.close();
            throw e;
        }
        this.fd = socket;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(32, 8);                 // struct xdp_umem_reg, zeroed
            reg.set(JAVA_LONG, 0, umem.memory.address());
            reg.set(JAVA_LONG, 8, umem.memory.byteSize());
            reg.set(JAVA_INT, 16, Umem.SLOT);                      // chunk size
            reg.set(JAVA_INT, 20, 0);                              // headroom: the kernel's 256 bytes are ours
            reg.set(JAVA_INT, 24, XDP_UMEM_UNALIGNED_CHUNK_FLAG);
            Libc.setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg, "setsockopt(XDP_UMEM_REG)");
            for (int opt : new int[] {XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING, XDP_TX_RING}) {
                Libc.setsockopt(fd, SOL_XDP, opt, a.allocateFrom(JAVA_INT, RING), "setsockopt(ring size)");
            }
            MemorySegment off = a.allocate(128, 8);
            int len = Libc.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off, "getsockopt(XDP_MMAP_OFFSETS)");
            if (len < 128) {
                throw new IllegalStateException("this kernel's AF_XDP is too old (no ring flags; Linux 5.4 or later is needed)");
            }
            rx = ring(off, 0, PGOFF_RX_RING, 16, false, 0);
            tx = ring(off, 32, PGOFF_TX_RING, 16, true, 1);
            fill = ring(off, 64, PGOFF_FILL_RING, 8, true, 2);
            completion = ring(off, 96, PGOFF_COMPLETION_RING, 8, false, 3);
            // Give the kernel its receive frames before binding, so nothing arriving is dropped for want of one.
            int n = fill.free(Umem.RX_SLOTS);
            for (int i = 0; i < n; i++) fill.putAddress(i, umem.rxSlots[i]);
            fill.submit(n);
            for (long data : umem.txData) freeTx[freeCount++] = data;
            MemorySegment sxdp = a.allocate(16, 8);
            sxdp.set(JAVA_SHORT, 0, (short) AF_XDP);
            sxdp.set(JAVA_SHORT, 2, (short) bindFlags);
            sxdp.set(JAVA_INT, 4, ifindex);
            sxdp.set(JAVA_INT, 8, queue);
            Libc.bind(fd, sxdp, "bind(AF_XDP queue " + queue + ")");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private XskRing ring(MemorySegment off, long at, long pgoff, int descSize, boolean weProduce, int slot) {
        long producer = off.get(JAVA_LONG, at);
        long consumer = off.get(JAVA_LONG, at + 8);
        long desc = off.get(JAVA_LONG, at + 16);
        long flags = off.get(JAVA_LONG, at + 24);
        MemorySegment m = Libc.mmapShared(fd, desc + (long) RING * descSize, pgoff, "mmap(AF_XDP ring)");
        maps[slot] = m;
        return new XskRing(m, producer, consumer, flags, desc, RING, descSize, weProduce);
    }

    /** Keeps a received frame's slot until the pipeline is done with it (the next {@link #releaseHeld}). Rx side only. */
    void hold(long slot) {
        held[heldCount++] = slot;
    }

    /** Queues the held slots for the fill ring: the pipeline has finished with the last burst. Rx side only. */
    void releaseHeld() {
        for (int i = 0; i < heldCount; i++) returnFrame(held[i]);
        heldCount = 0;
    }

    /** Queues a slot for the fill ring (see {@link #refill}). Rx side only. */
    void returnFrame(long slot) {
        toFill[toFillCount++] = slot;
    }

    /** Gives queued frames back to the kernel, as many as the fill ring has room for now. Rx side only. */
    void refill() {
        if (toFillCount == 0) return;
        int k = fill.free(toFillCount);
        for (int i = 0; i < k; i++) fill.putAddress(i, toFill[i]);
        fill.submit(k);
        if (k < toFillCount) System.arraycopy(toFill, k, toFill, 0, toFillCount - k);
        toFillCount -= k;
    }

    /** Takes tx frames the kernel has finished sending back into the free stack. Holder of txLock only. */
    void reclaim() {
        int n = completion.available(RING);
        for (int i = 0; i < n; i++) freeTx[freeCount++] = completion.address(i);
        if (n > 0) completion.release(n);
    }

    int freeTxFrames() {
        return freeCount;
    }

    long popTxFrame() {
        return freeTx[--freeCount];
    }

    /** The kernel's own counters for this socket: rx_dropped, rx_ring_full, fill ring empty, ... */
    long[] statistics() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(48, 8);
            Libc.getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, "getsockopt(XDP_STATISTICS)");
            return st.toArray(JAVA_LONG);
        } catch (SysException e) {
            return new long[6];
        }
    }

    @Override
    public void close() {
        for (MemorySegment m : maps) if (m != null) Libc.munmap(m);
        Libc.close(fd);                      // the kernel lets go of the UMEM with its last socket
        umem.close();
    }
}
