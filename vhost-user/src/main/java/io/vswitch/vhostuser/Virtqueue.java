package io.vswitch.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One virtqueue living in guest memory, in either layout the guest negotiated, and its state on our
 * side. The PMD-side operations ({@link #available}, {@link #walk}, {@link #putUsed},
 * {@link #publishUsed}) are the same for both, so {@link VirtioNet} has one receive and one transmit.
 *
 * <p><b>Split</b> (virtio 1.x section 2.7):
 * <pre>
 *   desc[size]   16 B each: addr u64 (guest physical), len u32, flags u16 (NEXT, WRITE, INDIRECT), next u16
 *   avail        flags u16 | idx u16 | ring[size] u16 (heads the driver offers) | used_event u16
 *   used         flags u16 | idx u16 | ring[size] {id u32, len u32} (heads we return) | avail_event u16
 * </pre>
 * The driver (guest) publishes heads and then {@code avail.idx} with a release store; we read the
 * index with acquire and only then the entries. We write used entries and then {@code used.idx} with
 * a release store. Indexes are free-running 16-bit counters.
 *
 * <p><b>Packed</b> (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.8): one ring of descriptors that both
 * sides write, plus two 4-byte event suppression areas (SET_VRING_ADDR's "avail" is the driver's,
 * "used" the device's):
 * <pre>
 *   desc[size]   16 B each: addr u64, len u32, id u16 (buffer id, in a chain's last descriptor), flags u16
 *                flags: NEXT, WRITE, INDIRECT, AVAIL (bit 7), USED (bit 15)
 *   driver area  off_wrap u16 | flags u16 (ENABLE 0, DISABLE 1, DESC 2: when we should interrupt)
 *   device area  off_wrap u16 | flags u16 (we write DISABLE: we poll, the driver need not kick)
 * </pre>
 * A descriptor is available when its AVAIL bit equals the driver's wrap counter and its USED bit
 * does not; a chain is consecutive descriptors. We take chains in ring order and use them in the
 * same order, so chain i's used descriptor goes where its first descriptor was: id and length
 * first, then the flags (AVAIL = USED = our wrap counter) with release, the burst's first chain
 * last so the driver never sees part of a burst. The wrap counters start at 1 and flip at the end
 * of the ring; the size need not be a power of 2.
 *
 * <p><b>Who touches it.</b> The vhost-user connection thread sets it up and tears it down; PMDs move
 * packets. Both hold {@link #tryLock the ring's lock} while they touch it: a PMD only tries it (a
 * failed try means the ring is being reconfigured, so it skips the ring this burst), and the
 * connection thread holds it for a few field stores. Several PMDs transmitting into one ring spin on
 * it briefly (OVS-DPDK's per-txq lock). Holding the lock is also what makes unmapping safe: the
 * connection thread swaps the memory table under every ring's lock and unmaps the old table after.
 *
 * <p><b>Untrusted input.</b> Every descriptor field is read once into a local (no double fetch);
 * chains are bounded by {@link #MAX_CHAIN} and the ring size (a loop ends there); indirect tables
 * must be whole descriptors inside one region and may not nest; addresses are checked against the
 * memory table by {@link MemoryTable}. A bad chain is an error for that packet only.
 */
public final class Virtqueue {
    public static final int MAX_SIZE = 32768;
    /** Longest descriptor chain accepted (Linux uses at most 19, DPDK's limit is 256). */
    public static final int MAX_CHAIN = 256;
    /** Most heads one burst takes (a PMD batch). */
    static final int BURST = io.vswitch.datapath.packet.Batch.MAX;
    /** Most chains one transmit call may take: two buffers for each frame of a burst. */
    static final int WINDOW = 2 * BURST;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    private static final int F_AVAIL = 1 << 7;
    private static final int F_USED = 1 << 15;
    /** Packed event suppression flags. */
    private static final int EVENTS_DISABLE = 1;
    private static final int EVENTS_DESC = 2;
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
    /** VIRTIO_F_RING_PACKED negotiated. */
    boolean packed;
    /**
     * Split: free-running 16-bit indexes. Packed: the ring position (0..size-1) and wrap counter where
     * the next chain starts; the used side is the same place, since every chain taken is used in the
     * burst that takes it (nothing is ever in flight).
     */
    int lastAvail;
    int lastUsed;
    boolean availWrap = true;
    /** The last SET_VRING_BASE value as sent, if one was: read again if the layout it was read for changes (SET_FEATURES after it). */
    int baseSent;
    boolean baseGiven;
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
    /** Guest physical address of the used ring (packed: the descriptor ring) for the log, or -1. */
    long usedGuest = -1;
    MemorySegment desc;
    MemorySegment avail;
    MemorySegment used;
    boolean ready;

    // ---- PMD scratch: a burst's heads and first descriptors, read ahead of the copies ----
    /** Split: the chains' heads. Packed: the positions of their first descriptors. */
    final int[] heads = new int[WINDOW];
    final long[] firstAddr = new long[WINDOW];
    final int[] firstLen = new int[WINDOW];
    /** The first descriptor's NEXT/WRITE/INDIRECT flags, or -1 for a chain that cannot be right. */
    final int[] firstFlags = new int[WINDOW];
    /** Receive: the region holding the whole first descriptor when it is a frame on its own, else -1. */
    final int[] firstRegion = new int[WINDOW];
    /** Packed: each chain's buffer id, number of descriptors, wrap counter at its start, used length. */
    private final int[] ids = new int[WINDOW];
    private final int[] counts = new int[WINDOW];
    private final boolean[] wraps = new boolean[WINDOW];
    private final int[] usedLens = new int[WINDOW];
    /** Packed: where the scan for more chains goes on. */
    private int scanPos;
    private boolean scanWrap;
    /** Keeps the read-ahead loads of frame bytes from being optimised away. */
    int touched;

    /** Cuts the guest's large TCP frames (a receive ring once HOST_TSO4/6 is negotiated), else null. */
    TcpSegmenter tso;

    /**
     * Whether the guest may ask for work in the virtio-net headers of its frames (CSUM or HOST_TSO4/6
     * negotiated). Without these features the spec has the driver zero flags and gso_type, and the
     * switch does not read the header at all, as DPDK's vhost library does not: a frame from DPDK has
     * its header on a cache line of its own, in front of the 64-byte aligned frame.
     */
    boolean hostOffloads;

    /** The virtio-net header of the frame being received, copied out of guest memory once. */
    final MemorySegment header = java.lang.foreign.Arena.ofAuto().allocate(16, 8);

    // ---- PMD scratch: the current chain, as (guest address, length) pieces ----
    final long[] chainAddr = new long[MAX_CHAIN];
    final int[] chainLen = new int[MAX_CHAIN];
    /** Descriptor chains rejected (hostile or broken driver). */
    long badChains;
    /** Call-fd signals sent. */
    long interrupts;
    /** Frames with a partial checksum (NEEDS_CSUM): taken from the guest so, or given to it so. */
    long partialChecksums;
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
        seenAvail = -1;
        desc = avail = used = null;
        if (!started || !enabled || size == 0 || !packed && Integer.bitCount(size) != 1) return;
        if (packed && lastAvail >= size) return;          // a base beyond the ring: never usable
        desc = memory.sliceUser(descUser, 16L * size);
        avail = memory.sliceUser(availUser, packed ? 4 : 6L + 2L * size);
        used = memory.sliceUser(usedUser, packed ? 4 : 6L + 8L * size);
        if (desc == null || avail == null || used == null || (avail.address() & (packed ? 3 : 1)) != 0 || (used.address() & 3) != 0
                || packed && (desc.address() & 15) != 0) {
            return;                                       // misaligned: the flags and indexes need atomic access
        }
        usedGuest = packed ? memory.userToGuest(descUser) : logGuest >= 0 ? logGuest : memory.userToGuest(usedUser);
        ready = true;
        if (packed) used.set(U16, 2, (short) EVENTS_DISABLE);
        else if (!eventIdx) used.set(U16, 0, USED_F_NO_NOTIFY);
    }

    /** SET_VRING_BASE: split, the next avail index; packed, positions and wrap counters (vhost-user spec). */
    void setBase(int base) {
        baseSent = base;
        baseGiven = true;
        if (!packed) {
            lastAvail = lastUsed = base & 0xffff;
            return;
        }
        lastAvail = base & 0x7fff;                      // the used half (bits 16-31) can only say the same:
        availWrap = (base & 0x8000) != 0;               // we keep nothing in flight
    }

    /** GET_VRING_BASE: what {@link #setBase} takes to resume here. */
    int base() {
        if (!packed) return lastAvail;
        int half = lastAvail | (availWrap ? 0x8000 : 0);
        return half | half << 16;
    }

    /**
     * Packed, when a started ring first becomes usable: where the ring itself says to resume, or -1 if
     * that is where the base already points. A frontend whose backend died cannot know how far it
     * got (QEMU then sends the base of the previous start; a split ring has its used index in guest
     * memory for that, a packed one nothing). The ring shows it: in ring order the driver's available
     * descriptors (AVAIL != USED) start at the oldest one, where the run begins or the AVAIL bit breaks
     * its lap pattern (it flips only at position 0); with none available, the used descriptors of the
     * current lap end where the USED bit breaks that pattern. Returns {@code position | wrap << 15}.
     */
    int packedResumePoint() {
        int start = -1;
        int boundary = -1;
        int prev = Short.toUnsignedInt(desc.get(U16, 16L * (size - 1) + 14));
        for (int i = 0; i < size; i++) {
            int flags = Short.toUnsignedInt(desc.get(U16, 16L * i + 14));
            boolean avail = (flags & F_AVAIL) != 0;
            boolean usedBit = (flags & F_USED) != 0;
            boolean prevAvail = (prev & F_AVAIL) != 0;
            boolean prevUsed = (prev & F_USED) != 0;
            boolean flip = i == 0;                        // the lap pattern: bits flip at position 0 only
            if (avail != usedBit && start < 0 && (prevAvail == prevUsed || (prevAvail != flip) != avail)) {
                start = i | (avail ? 0x8000 : 0);
            }
            if (avail == usedBit && boundary < 0 && (prevUsed != flip) != usedBit) boundary = i | (usedBit ? 0 : 0x8000);
            prev = flags;
        }
        int resume = start >= 0 ? start : boundary >= 0 ? boundary : 0x8000;
        return resume == (lastAvail | (availWrap ? 0x8000 : 0)) ? -1 : resume;
    }

    // ---- PMD side (lock held) ----

    /** The impossible avail index last counted: a driver stuck on one is counted once, not on every poll. */
    private int badAvail = -1;

    /** Whether the current (impossible) avail index is one not counted yet; remembers it (split only). */
    boolean newBadAvail() {
        if (packed) return false;
        int idx = Short.toUnsignedInt((short) IDX.getAcquire(avail, 2L));
        if (idx == badAvail) return false;
        badAvail = idx;
        return true;
    }

    /**
     * Whether the driver has made a chain available that this queue has not taken yet: one load, so
     * that an idle poll ends here (see {@link VirtioNet#hasWork}). True for an impossible split avail
     * index as well, so that {@link #available} reports it.
     */
    boolean hasAvail() {
        if (packed) return isAvailable(Short.toUnsignedInt((short) IDX.getAcquire(desc, 16L * lastAvail + 14)), availWrap);
        int idx = Short.toUnsignedInt((short) IDX.getAcquire(avail, 2L));
        seenAvail = idx;                                  // also when nothing is new: never one of an earlier poll
        return idx != lastAvail;
    }

    /**
     * Split: the avail index {@link #hasAvail} loaded, for the {@link #available} right after it
     * (in the same poll, under the same lock), or -1. Loading it again would often cost another
     * trip of its line from the driver's core (which keeps adding to it): once per burst, ~2.5 % of
     * a packet when that trip is long (docs/perf.md, "Alternating variants in one process").
     */
    private int seenAvail = -1;

    /**
     * Makes up to {@code max} more of the driver's chains visible as chains {@code have..} of this
     * burst, reading their first descriptors into {@link #heads} etc. Returns the new number of
     * chains (at most {@link #WINDOW}), or -1 if the split avail index is impossible. The loads are
     * independent of one another, so the CPU overlaps their cache misses (the guest's core wrote these
     * lines) instead of taking them one frame at a time. {@link #walk} reads a chain afresh.
     */
    int available(int have, int max) {
        max = Math.min(max, WINDOW - have);
        return packed ? scanPacked(have, max) : readAhead(have, max);
    }

    private int readAhead(int have, int max) {
        int idx = seenAvail;
        seenAvail = -1;
        if (idx < 0 || have > 0) idx = Short.toUnsignedInt((short) IDX.getAcquire(avail, 2L));
        int pending = (idx - lastAvail) & 0xffff;
        if (pending > size) return -1;
        int n = Math.min(pending - have, max);
        for (int i = have; i < have + n; i++) {
            int head = Short.toUnsignedInt(avail.get(U16, 4L + 2L * ((lastAvail + i) & (size - 1))));
            heads[i] = head;
            if (head >= size) {
                firstFlags[i] = -1;
                continue;
            }
            long off = 16L * head;
            firstAddr[i] = desc.get(U64, off);
            firstLen[i] = desc.get(U32, off + 8);
            firstFlags[i] = Short.toUnsignedInt(desc.get(U16, off + 12)) & (F_NEXT | F_WRITE | F_INDIRECT);
        }
        return Math.max(have, have + n);
    }

    /** Whether the packed descriptor flags say "available" for wrap counter {@code wrap}. */
    private static boolean isAvailable(int flags, boolean wrap) {
        return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) != wrap;
    }

    private int scanPacked(int have, int max) {
        int pos = have == 0 ? lastAvail : scanPos;
        boolean wrap = have == 0 ? availWrap : scanWrap;
        int i = have;
        for (; i < have + max; i++) {
            long off = 16L * pos;
            int flags = Short.toUnsignedInt((short) IDX.getAcquire(desc, off + 14));   // then the rest of it
            if (!isAvailable(flags, wrap)) break;
            heads[i] = pos;
            wraps[i] = wrap;
            firstAddr[i] = desc.get(U64, off);
            firstLen[i] = desc.get(U32, off + 8);
            int first = flags & (F_NEXT | F_WRITE | F_INDIRECT);
            int count = 1;
            int last = pos;
            boolean lastWrap = wrap;
            while ((flags & F_NEXT) != 0) {                 // the chain goes on in the next slot
                if (count == Math.min(size, MAX_CHAIN)) {
                    first = -1;                             // too long (or all NEXT): consumed as bad
                    break;
                }
                if (++last == size) {
                    last = 0;
                    lastWrap = !lastWrap;
                }
                flags = Short.toUnsignedInt((short) IDX.getAcquire(desc, 16L * last + 14));
                if (!isAvailable(flags, lastWrap)) return finishScan(i, pos, wrap);   // not all written yet
                count++;
            }
            firstFlags[i] = first;
            ids[i] = Short.toUnsignedInt(desc.get(U16, 16L * last + 12));
            counts[i] = count;
            pos += count;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        return finishScan(i, pos, wrap);
    }

    private int finishScan(int n, int pos, boolean wrap) {
        scanPos = pos;
        scanWrap = wrap;
        return n;
    }

    /**
     * Collects chain {@code t} of this burst into {@link #chainAddr}/{@link #chainLen}; every
     * descriptor must be device-writable ({@code writable}) or device-readable. Returns the number of
     * pieces, or -1 for a malformed chain.
     */
    int walk(int t, boolean writable, long maxBytes) {
        if (firstFlags[t] < 0) return -1;
        return packed ? walkPacked(t, writable, maxBytes) : walkSplit(heads[t], writable, maxBytes);
    }

    private int walkSplit(int head, boolean writable, long maxBytes) {
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

    private int walkPacked(int t, boolean writable, long maxBytes) {
        int pos = heads[t];
        int count = counts[t];
        long total = 0;
        for (int n = 0; n < count; n++) {
            long off = 16L * pos;
            long addr = desc.get(U64, off);
            int len = desc.get(U32, off + 8);
            int flags = Short.toUnsignedInt(desc.get(U16, off + 14));
            if ((flags & F_INDIRECT) != 0) {
                // Only as the sole descriptor of its chain, holding whole descriptors, in one region.
                if (count != 1 || len == 0 || (len & 15) != 0 || len / 16 > MAX_CHAIN) return -1;
                MemorySegment table = memory.slice(addr, Integer.toUnsignedLong(len));
                if (table == null) return -1;
                int entries = len / 16;
                for (int e = 0; e < entries; e++) {      // only WRITE counts in an indirect entry
                    long a = table.get(U64, 16L * e);
                    int l = table.get(U32, 16L * e + 8);
                    int f = Short.toUnsignedInt(table.get(U16, 16L * e + 14));
                    if (((f & F_WRITE) != 0) != writable || l == 0) return -1;
                    total += Integer.toUnsignedLong(l);
                    if (total > maxBytes) return -1;
                    chainAddr[e] = a;
                    chainLen[e] = l;
                }
                return entries;
            }
            if (((flags & F_WRITE) != 0) != writable || len == 0) return -1;
            total += Integer.toUnsignedLong(len);
            if (total > maxBytes) return -1;
            chainAddr[n] = addr;
            chainLen[n] = len;
            if (++pos == size) pos = 0;
        }
        return count;
    }

    /** Returns chain {@code t} of this burst to the driver with {@code len} bytes written; published by {@link #publishUsed}. */
    void putUsed(int t, int len) {
        if (packed) {
            // Kept aside: the used descriptor overwrites the chain's first, so it is written only
            // when published (a frame undone for want of buffers leaves the ring untouched).
            usedLens[t] = len;
            return;
        }
        long off = 4L + 8L * ((lastUsed + t) & (size - 1));
        used.set(U32, off, heads[t]);
        used.set(U32, off + 4, len);
    }

    /** Makes chains {@code 0..n-1} of this burst, all put with {@link #putUsed}, visible to the driver as used. */
    void publishUsed(int n) {
        if (n == 0) return;
        if (packed) {
            publishPacked(n);
            return;
        }
        int old = lastUsed;
        lastUsed = (lastUsed + n) & 0xffff;
        lastAvail = (lastAvail + n) & 0xffff;
        IDX.setRelease(used, 2L, (short) lastUsed);
        if (eventIdx) used.set(U16, 4L + 8L * size, (short) (lastAvail - 1));   // no kicks: we poll
        if (log != null) log.mark(usedGuest, used.byteSize());
        if (callFd >= 0 && wantsInterrupt(old, lastUsed)) {
            interrupts++;
            Notifier.signal(callFd);
        }
    }

    private void publishPacked(int n) {
        for (int t = n - 1; t >= 0; t--) {                  // the first chain last
            long off = 16L * heads[t];
            int len = usedLens[t];
            desc.set(U16, off + 12, (short) ids[t]);
            desc.set(U32, off + 8, len);
            IDX.setRelease(desc, off + 14, (short) ((wraps[t] ? F_AVAIL | F_USED : 0) | (len > 0 ? F_WRITE : 0)));
        }
        if (log != null) {
            for (int t = 0; t < n; t++) log.mark(usedGuest + 16L * heads[t], 16);
        }
        int old = lastAvail;
        int pos = heads[n - 1] + counts[n - 1];
        boolean wrap = wraps[n - 1];
        if (pos >= size) {
            pos -= size;
            wrap = !wrap;
        }
        lastAvail = pos;
        availWrap = wrap;
        if (callFd >= 0 && wantsInterruptPacked(old, pos)) {
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

    /** Packed: the driver's event suppression area says whether to interrupt for positions {@code old..now} (2.8.10). */
    private boolean wantsInterruptPacked(int old, int now) {
        VarHandle.fullFence();                              // used flags stores before the driver's fields load
        int flags = avail.get(U16, 2) & 3;
        if (flags != EVENTS_DESC) return flags != EVENTS_DISABLE;
        if (!eventIdx) return true;
        int offWrap = Short.toUnsignedInt(avail.get(U16, 0));
        int event = offWrap & 0x7fff;
        if (now <= old) old -= size;                        // positions wrapped in between
        if ((offWrap >>> 15 != 0) != availWrap) event -= size;      // our used wrap counter is the avail one
        return ((now - event - 1) & 0xffff) < ((now - old) & 0xffff);
    }
}
