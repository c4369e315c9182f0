package io.vswitch.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One split virtqueue (virtio 1.x section 2.7) living in guest memory, and its state on our side.
 *
 * <pre>
 *   desc[size]   16 B each: addr u64 (guest physical), len u32, flags u16 (NEXT, WRITE, INDIRECT), next u16
 *   avail        flags u16 | idx u16 | ring[size] u16 (heads the driver offers) | used_event u16
 *   used         flags u16 | idx u16 | ring[size] {id u32, len u32} (heads we return) | avail_event u16
 * </pre>
 *
 * The driver (guest) publishes heads and then {@code avail.idx} with a release store; we read the
 * index with acquire and only then the entries. We write used entries and then {@code used.idx} with
 * a release store. Indexes are free-running 16-bit counters.
 *
 * <p><b>Who touches it.</b> The vhost-user connection thread sets it up and tears it down; PMDs move
 * packets. Both hold {@link #tryLock the ring's lock} while they touch it: a PMD only tries it (a
 * failed try means the ring is being reconfigured, so it skips the ring this burst), and the
 * connection thread holds it for a few field stores. Several PMDs transmitting into one ring spin on
 * it briefly (OVS-DPDK's per-txq lock). Holding the lock is also what makes unmapping safe: the
 * connection thread swaps the memory table under every ring's lock and unmaps the old table after.
 *
 * <p><b>Untrusted input.</b> Every descriptor field is read once into a local (no double fetch);
 * chains are bounded by {@link #MAX_CHAIN} and the table size (a loop ends there); indirect tables
 * must be whole descriptors inside one region and may not nest; addresses are checked against the
 * memory table by {@link MemoryTable}. A bad chain is an error for that packet only.
 */
public final class Virtqueue {
    public static final int MAX_SIZE = 32768;
    /** Longest descriptor chain accepted (Linux uses at most 19, DPDK's limit is 256). */
    public static final int MAX_CHAIN = 256;
    /** Most heads one burst takes (a PMD batch). */
    static final int BURST = io.vswitch.datapath.packet.Batch.MAX;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    /** used.flags: we poll, the driver need not kick. */
    private static final short USED_F_NO_NOTIFY = 1;
    /** avail.flags: the driver polls, we need not interrupt it. */
    private static final int AVAIL_F_NO_INTERRUPT = 1;

    // Plain accesses tolerate any alignment; the two indexes need natural alignment for acquire/release.
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle IDX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(Virtqueue.class, "lock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public final int index;
    @SuppressWarnings("unused") private volatile int lock;

    // ---- configuration (frontend messages), changed only under the lock ----
    int size;
    long descUser;
    long availUser;
    long usedUser;
    long logGuest = -1;
    int lastAvail;
    int lastUsed;
    int kickFd = -1;
    int callFd = -1;
    int errFd = -1;
    /** SET_VRING_ENABLE (or implied by the kick when PROTOCOL_FEATURES is not negotiated). */
    boolean enabled;
    /** Between SET_VRING_KICK and GET_VRING_BASE. */
    boolean started;
    /** Started but not yet checked against the used index in guest memory. */
    boolean syncUsed;
    boolean eventIdx;

    // ---- derived: valid while ready ----
    MemoryTable memory = MemoryTable.EMPTY;
    /** The dirty log while a migration runs (VHOST_F_LOG_ALL), else null. */
    DirtyLog log;
    /** Guest physical address of the used ring (for the log), or -1. */
    long usedGuest = -1;
    MemorySegment desc;
    MemorySegment avail;
    MemorySegment used;
    boolean ready;

    // ---- PMD scratch: a burst's heads and first descriptors, read ahead of the copies ----
    final int[] heads = new int[BURST];
    final long[] firstAddr = new long[BURST];
    final int[] firstLen = new int[BURST];
    /** The first descriptor's flags, or -1 for a head outside the ring. */
    final int[] firstFlags = new int[BURST];
    /** Receive: the region holding the whole first descriptor when it is a frame on its own, else -1. */
    final int[] firstRegion = new int[BURST];
    /** Keeps the read-ahead loads of frame bytes from being optimised away. */
    int touched;

    /** Cuts the guest's large TCP frames (a receive ring once HOST_TSO4/6 is negotiated), else null. */
    TcpSegmenter tso;

    /** The virtio-net header of the frame being received, copied out of guest memory once. */
    final MemorySegment header = java.lang.foreign.Arena.ofAuto().allocate(16, 8);

    // ---- PMD scratch: the current chain, as (guest address, length) pieces ----
    final long[] chainAddr = new long[MAX_CHAIN];
    final int[] chainLen = new int[MAX_CHAIN];
    /** Descriptor chains rejected (hostile or broken driver). */
    long badChains;
    /** Call-fd signals sent. */
    long interrupts;
    /** Frames from the guest dropped as malformed (bad chain, runt). */
    long rxErrors;
    /** Why the last transmit stopped early ({@link VirtioNet#FULL}, {@link VirtioNet#BAD}) or 0. */
    int stopReason;

    Virtqueue(int index) {
        this.index = index;
    }

    public boolean tryLock() {
        return LOCK.compareAndSet(this, 0, 1);
    }

    /** Spins until the lock is free (connection thread and PMDs sharing a tx ring). */
    public void lock() {
        while (!LOCK.compareAndSet(this, 0, 1)) Thread.onSpinWait();
    }

    public void unlock() {
        LOCK.setRelease(this, 0);
    }

    /** Recomputes {@link #ready} and the ring segments from the configuration; call under the lock. */
    void refresh() {
        ready = false;
        desc = avail = used = null;
        if (!started || !enabled || size == 0) return;
        desc = memory.sliceUser(descUser, 16L * size);
        avail = memory.sliceUser(availUser, 6L + 2L * size);
        used = memory.sliceUser(usedUser, 6L + 8L * size);
        if (desc == null || avail == null || used == null || (avail.address() & 1) != 0 || (used.address() & 3) != 0) return;
        usedGuest = logGuest >= 0 ? logGuest : memory.userToGuest(usedUser);
        ready = true;
        if (!eventIdx) used.set(U16, 0, USED_F_NO_NOTIFY);
    }

    // ---- PMD side (lock held) ----

    /** The impossible avail index last counted: a driver stuck on one is counted once, not on every poll. */
    private int badAvail = -1;

    /** Whether the current (impossible) avail index is one not counted yet; remembers it. */
    boolean newBadAvail() {
        int idx = Short.toUnsignedInt((short) IDX.getAcquire(avail, 2L));
        if (idx == badAvail) return false;
        badAvail = idx;
        return true;
    }

    /** Heads the driver has made available and we have not taken; -1 if its index is impossible. */
    int pending() {
        int idx = Short.toUnsignedInt((short) IDX.getAcquire(avail, 2L));
        int n = (idx - lastAvail) & 0xffff;
        return n > size ? -1 : n;
    }

    /** The i-th available head after {@link #lastAvail}. */
    int head(int i) {
        return Short.toUnsignedInt(avail.get(U16, 4L + 2L * ((lastAvail + i) & (size - 1))));
    }

    /**
     * Reads heads {@code from..from+n-1} after {@link #lastAvail} and their first descriptors into
     * {@link #heads} etc. (from index 0). The loads are independent of one another, so the CPU
     * overlaps their cache misses (the guest's core wrote these lines) instead of taking them one
     * frame at a time. Used only to choose the fast path; {@link #walk} reads a chain afresh.
     */
    void readAhead(int from, int n) {
        for (int i = 0; i < n; i++) {
            int head = head(from + i);
            heads[i] = head;
            if (head >= size) {
                firstFlags[i] = -1;
                continue;
            }
            long off = 16L * head;
            firstAddr[i] = desc.get(U64, off);
            firstLen[i] = desc.get(U32, off + 8);
            firstFlags[i] = Short.toUnsignedInt(desc.get(U16, off + 12));
        }
    }

    /**
     * Collects the chain starting at {@code head} into {@link #chainAddr}/{@link #chainLen}; every
     * descriptor must be device-writable ({@code writable}) or device-readable. Returns the number of
     * pieces, or -1 for a malformed chain.
     */
    int walk(int head, boolean writable, long maxBytes) {
        if (head >= size) return -1;
        MemorySegment table = desc;
        int limit = size;
        int i = head;
        int n = 0;
        long total = 0;
        boolean indirect = false;
        while (true) {
            long off = 16L * i;
            long addr = table.get(U64, off);
            int len = table.get(U32, off + 8);
            int flags = Short.toUnsignedInt(table.get(U16, off + 12));
            int next = Short.toUnsignedInt(table.get(U16, off + 14));
            if ((flags & F_INDIRECT) != 0) {
                // Only as the sole descriptor of a direct chain, holding whole descriptors, in one region.
                if (indirect || n > 0 || (flags & F_NEXT) != 0 || len == 0 || (len & 15) != 0 || len / 16 > MAX_SIZE) return -1;
                table = memory.slice(addr, Integer.toUnsignedLong(len));
                if (table == null) return -1;
                limit = len / 16;
                indirect = true;
                i = 0;
                continue;
            }
            if (((flags & F_WRITE) != 0) != writable || len == 0 || n == MAX_CHAIN) return -1;
            total += Integer.toUnsignedLong(len);
            if (total > maxBytes) return -1;
            chainAddr[n] = addr;
            chainLen[n] = len;
            n++;
            if ((flags & F_NEXT) == 0) return n;
            if (next >= limit || n >= limit) return -1;          // out of the table, or a loop
            i = next;
        }
    }

    /** Writes used entry {@code k} (after {@link #lastUsed}); published by {@link #publishUsed}. */
    void putUsed(int k, int id, int len) {
        long off = 4L + 8L * ((lastUsed + k) & (size - 1));
        used.set(U32, off, id);
        used.set(U32, off + 4, len);
    }

    /** Makes {@code count} used entries visible to the driver and takes {@code taken} heads off avail. */
    void publishUsed(int count, int taken) {
        int old = lastUsed;
        lastUsed = (lastUsed + count) & 0xffff;
        lastAvail = (lastAvail + taken) & 0xffff;
        IDX.setRelease(used, 2L, (short) lastUsed);
        if (eventIdx) used.set(U16, 4L + 8L * size, (short) (lastAvail - 1));   // no kicks: we poll
        if (log != null) log.mark(usedGuest, used.byteSize());
        if (callFd >= 0 && count > 0 && wantsInterrupt(old, lastUsed)) {
            interrupts++;
            Notifier.signal(callFd);
        }
    }

    /** Whether the driver asked to be interrupted for used entries {@code old..now} (virtio 2.7.7.2). */
    private boolean wantsInterrupt(int old, int now) {
        VarHandle.fullFence();                              // used.idx store before the driver's fields load
        if (!eventIdx) return (avail.get(U16, 0) & AVAIL_F_NO_INTERRUPT) == 0;
        int usedEvent = Short.toUnsignedInt(avail.get(U16, 4L + 2L * size));
        return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
}
