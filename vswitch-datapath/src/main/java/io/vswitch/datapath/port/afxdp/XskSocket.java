package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One AF_XDP socket (XSK) bound to one queue of an interface, with its own UMEM: {@link #FRAMES}
 * frames of {@link #FRAME_SIZE} bytes in page-aligned off-heap memory that the kernel and we share.
 *
 * <pre>
 *   UMEM frames:  [0 .. RX_FRAMES)            always in the kernel's hands via the fill ring, or in
 *                                             the rx ring; we copy a received frame out and hand the
 *                                             same frame straight back to the fill ring
 *                 [RX_FRAMES .. FRAMES)       tx frames: a free stack; a frame leaves it into the tx
 *                                             ring and comes back through the completion ring
 * </pre>
 *
 * Received frames are copied into the PMD's batch, because a batch's packets live in the PMD's own
 * pool (one memory, one base address for the whole pipeline); the copy is one memcpy per frame and
 * lets the frame go back to the kernel at once, so the fill ring never runs dry.
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
    private static final long PGOFF_RX_RING = 0;
    private static final long PGOFF_TX_RING = 0x80000000L;
    private static final long PGOFF_FILL_RING = 0x100000000L;
    private static final long PGOFF_COMPLETION_RING = 0x180000000L;
    static final int XDP_COPY = 2;
    static final int XDP_ZEROCOPY = 4;
    static final int XDP_USE_NEED_WAKEUP = 8;

    static final int FRAME_SIZE = 2048;
    /** The kernel keeps XDP_PACKET_HEADROOM (256) in front of received data in each frame. */
    static final int MAX_FRAME = FRAME_SIZE - 256;
    static final int FRAMES = 4096;
    static final int RX_FRAMES = 2048;
    static final int RING = 2048;

    final int fd;
    final int queue;
    final boolean needWakeup;
    private final Arena arena = Arena.ofShared();
    final MemorySegment umem;
    private final MemorySegment[] maps = new MemorySegment[4];
    final XskRing fill;
    final XskRing completion;
    final XskRing rx;
    final XskRing tx;
    private final long[] freeTx = new long[FRAMES - RX_FRAMES];
    /**
     * Received frames on their way back to the fill ring. Normally all go back at once; but the
     * kernel publishes new rx entries before it publishes the fill-ring slots it consumed, so the
     * ring can look full for a moment, and a frame not returned now must not be lost.
     */
    private final long[] toFill = new long[RX_FRAMES];
    private int toFillCount;
    private int freeCount;
    /** Several PMDs may transmit on one port; the tx ring has one producer. Held for a burst, never waited on long. */
    final AtomicBoolean txLock = new AtomicBoolean();

    /** Opens and binds; {@code bindFlags} is XDP_COPY or XDP_ZEROCOPY or 0 (kernel's choice), plus need-wakeup. */
    XskSocket(int ifindex, int queue, int bindFlags) {
        this.queue = queue;
        this.needWakeup = (bindFlags & XDP_USE_NEED_WAKEUP) != 0;
        this.fd = Libc.socket(AF_XDP, SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        try {
            umem = arena.allocate((long) FRAMES * FRAME_SIZE, 4096);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment reg = a.allocate(32, 8);
                reg.set(JAVA_LONG, 0, umem.address());
                reg.set(JAVA_LONG, 8, umem.byteSize());
                reg.set(JAVA_INT, 16, FRAME_SIZE);
                Libc.setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg.asSlice(0, 24), "setsockopt(XDP_UMEM_REG)");
                for (int opt : new int[] {XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING, XDP_TX_RING}) {
                    Libc.setsockopt(fd, SOL_XDP, opt, a.allocateFrom(JAVA_INT, RING), "setsockopt(ring size)");
                }
                MemorySegment off = a.allocate(128, 8);
                Libc.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off, "getsockopt(XDP_MMAP_OFFSETS)");
                rx = ring(off, 0, PGOFF_RX_RING, 16, false, 0);
                tx = ring(off, 32, PGOFF_TX_RING, 16, true, 1);
                fill = ring(off, 64, PGOFF_FILL_RING, 8, true, 2);
                completion = ring(off, 96, PGOFF_COMPLETION_RING, 8, false, 3);
                // Give the kernel its receive frames before binding, so nothing arriving is dropped for want of one.
                int n = fill.free(RX_FRAMES);
                for (int i = 0; i < n; i++) fill.putAddress(i, (long) i * FRAME_SIZE);
                fill.submit(n);
                for (int i = RX_FRAMES; i < FRAMES; i++) freeTx[freeCount++] = (long) i * FRAME_SIZE;
                MemorySegment sxdp = a.allocate(16, 8);
                sxdp.set(JAVA_SHORT, 0, (short) AF_XDP);
                sxdp.set(JAVA_SHORT, 2, (short) bindFlags);
                sxdp.set(JAVA_INT, 4, ifindex);
                sxdp.set(JAVA_INT, 8, queue);
                Libc.bind(fd, sxdp, "bind(AF_XDP queue " + queue + ")");
            }
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

    /** Queues a received frame for the fill ring (see {@link #refill}). Rx side only. */
    void returnFrame(long address) {
        toFill[toFillCount++] = address;
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
        Libc.close(fd);
        arena.close();
    }
}
