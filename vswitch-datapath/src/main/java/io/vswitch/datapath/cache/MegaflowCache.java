package io.vswitch.datapath.cache;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;

import java.util.Arrays;

/**
 * A PMD's megaflow cache (OVS: the {@code dpcls} of {@code lib/dpif-netdev.c}): recorded passes
 * through the OpenFlow tables ({@link Translation}s), each matching every packet equal to the one
 * that was translated under the bits that translation looked at.
 *
 * <p><b>Layout.</b> Entries are numbered; each is a fixed-size record in one {@code long[]}
 * (header, statistics, compact masked key, program) plus its bridge reference. Entries of one mask form a
 * <em>subtable</em>; a lookup visits the subtables in order of their recent hits (the busiest
 * first) and in each probes one open-addressing index, shared by all subtables, keyed by the
 * masked key hashed with the subtable's number. Megaflows do not overlap in a way that matters:
 * two that both match a packet were translated from packets the tables could not tell apart, so
 * either answer is the same, and the first found wins (no priorities, unlike OpenFlow tables).
 *
 * A mask on more than {@value #KEY_WORDS} key words is not cached (no such pass is installed).
 *
 * <p><b>Ownership.</b> One PMD reads and writes its cache; nothing here is shared, so there are
 * no locks or atomics. Other threads see it only through the PMD ({@code dpctl/dump-flows} is
 * answered by the PMD between batches). The arrays grow by doubling up to the flow limit; in the
 * steady state nothing is allocated.
 *
 * <p><b>Staleness.</b> An entry remembers the bridge (tables, ports, settings: one immutable
 * {@link DpBridge}) it was translated against. The forwarder re-translates an entry whose bridge
 * is no longer the current one when a packet hits it; {@link #sweep} removes entries idle longer
 * than max-idle and stale ones, a few per PMD iteration.
 */
public final class MegaflowCache {
    static final int MAX_SUBTABLES = 64;
    private static final int WORDS = FlowKey.WORDS;
    private static final int MIN_CAPACITY = 1024;

    /** A mask and the count of entries with it. */
    static final class Subtable {
        final int id;
        final long[] mask;
        /** The mask's non-zero words and their masks (the loop a probe runs). */
        final int[] words;
        final long[] wordMasks;
        int entries;
        /** Hits since the last re-ordering (halved then, so the order follows recent traffic). */
        long hits;

        Subtable(int id, long[] mask) {
            this.id = id;
            this.mask = mask.clone();
            int n = 0;
            for (long m : mask) if (m != 0) n++;
            words = new int[n];
            wordMasks = new long[n];
            n = 0;
            for (int w = 0; w < WORDS; w++) {
                if (mask[w] == 0) continue;
                words[n] = w;
                wordMasks[n++] = mask[w];
            }
        }
    }

    private final Subtable[] order = new Subtable[MAX_SUBTABLES];
    private final Subtable[] byId = new Subtable[MAX_SUBTABLES];
    private int subtableCount;

    /**
     * Per entry one record of {@value #RECORD} longs (256 bytes, four cache lines read in order): a
     * header (subtable id + 1 in the high half, 0 for a free entry; the hash in the low half),
     * packets, bytes, last use (clock, s, high half) and program length (low half), the masked key
     * compactly (the subtable's words only, at most {@value #KEY_WORDS}), then the program if it
     * fits in {@value #INLINE_PROGRAM} longs (else in {@link #longProgram}). A hit reads one
     * record and the entry's bridge reference, nothing else.
     */
    private static final int RECORD = 32, PACKETS = 1, BYTES = 2, USED_LENGTH = 3, KEY = 4, KEY_WORDS = 12,
            PROGRAM = KEY + KEY_WORDS, INLINE_PROGRAM = RECORD - PROGRAM;

    private int capacity;
    private int limit;
    /** The size at which growing the store failed for want of heap (it is not tried again). */
    private int heapCeiling = Integer.MAX_VALUE;
    private int size;
    private long[] records;
    private DpBridge[] bridge;
    /** Programs too long for their record (a long chain of tables or actions), else null. */
    private long[][] longProgram;
    /** Free entries below {@link #capacity} (a stack). */
    private int[] free;
    private int freeCount;
    /** Open addressing, linear probing, at most half full: entry + 1, or 0 for an empty slot. */
    private int[] slots;
    private int slotMask;
    private int sweepCursor;
    private int orderedAt = Integer.MIN_VALUE;

    public MegaflowCache(int limit) {
        this.limit = limit;
        if (!allocate(Math.min(MIN_CAPACITY, Math.max(limit, 1)))) throw new OutOfMemoryError("no heap for a megaflow cache");
    }

    public int size() {
        return size;
    }

    public int limit() {
        return limit;
    }

    public int subtables() {
        return subtableCount;
    }

    /** Changes the flow limit; lowering it below the entries held empties the cache. */
    public void limit(int n) {
        if (n == limit) return;
        limit = n;
        if (size > n) clear();
    }

    /** Removes every entry. */
    public void clear() {
        for (int e = 0; e < capacity; e++) if (records[e * RECORD] != 0) remove(e);
    }

    /**
     * The entry matching the packet whose key is at {@code keys[base..]}, or -1; on a hit adds the
     * subtables probed to {@code probes[0]} (OVS's "subtable lookups per megaflow hit").
     */
    public int lookup(long[] k, int base, long[] probes) {
        int n = subtableCount;
        for (int s = 0; s < n; s++) {
            Subtable st = order[s];
            int h = hash(k, base, st);
            long header = (long) (st.id + 1) << 32 | (h & 0xffffffffL);
            for (int slot = h & slotMask; ; slot = (slot + 1) & slotMask) {
                int e = slots[slot] - 1;
                if (e < 0) break;
                if (records[e * RECORD] == header && sameKey(e, k, base, st)) {
                    probes[0] += s + 1;
                    st.hits++;
                    return e;
                }
            }
        }
        return -1;
    }

    /** Whether entry {@code e} is in use and matches the packet (an exact-match cache's check). */
    public boolean matches(int e, long[] k, int base) {
        int id = (int) (records[e * RECORD] >>> 32) - 1;
        return id >= 0 && sameKey(e, k, base, byId[id]);
    }

    private boolean sameKey(int e, long[] k, int base, Subtable st) {
        int at = e * RECORD + KEY;
        int[] words = st.words;
        long[] masks = st.wordMasks;
        for (int j = 0; j < words.length; j++) {
            if (records[at + j] != (k[base + words[j]] & masks[j])) return false;
        }
        return true;
    }

    private static int hash(long[] k, int base, Subtable st) {
        long h = 0x9E3779B97F4A7C15L ^ st.id;
        int[] words = st.words;
        long[] masks = st.wordMasks;
        for (int j = 0; j < words.length; j++) {
            h = (h ^ (k[base + words[j]] & masks[j])) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        h *= 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 32));
    }

    /**
     * Adds the megaflow {@code t} recorded (its key under its mask), translated against
     * {@code b}; returns its entry, or -1 if the cache is at its flow limit or has no room for
     * another mask.
     */
    public int insert(Translation t, DpBridge b, int now) {
        if (size >= limit || size >= heapCeiling) return -1;
        Subtable st = subtableFor(t.mask);
        if (st == null) return -1;
        if (freeCount == 0 && !allocate(Math.min(limit, 2 * capacity))) {
            heapCeiling = capacity;                      // the heap holds no bigger store: stay at this size (a pass not installed still forwards)
            System.getLogger(MegaflowCache.class.getName()).log(System.Logger.Level.WARNING,
                    "megaflow cache full at " + capacity + " entries: no heap for more (lower other_config:flow-limit or raise the dataplane's -Xmx)");
            return -1;
        }
        int e = free[--freeCount];
        int at = e * RECORD;
        for (int j = 0; j < st.words.length; j++) records[at + KEY + j] = t.key[st.words[j]] & st.wordMasks[j];
        int h = hash(t.key, 0, st);
        records[at] = (long) (st.id + 1) << 32 | (h & 0xffffffffL);
        st.entries++;
        bridge[e] = b;
        if (t.length <= INLINE_PROGRAM) {
            System.arraycopy(t.program, 0, records, at + PROGRAM, t.length);
            longProgram[e] = null;
        } else {
            longProgram[e] = Arrays.copyOf(t.program, t.length);
        }
        records[at + PACKETS] = 0;
        records[at + BYTES] = 0;
        records[at + USED_LENGTH] = (long) now << 32 | t.length;
        int slot = h & slotMask;
        while (slots[slot] != 0) slot = (slot + 1) & slotMask;
        slots[slot] = e + 1;
        size++;
        return e;
    }

    private Subtable subtableFor(long[] mask) {
        for (int s = 0; s < subtableCount; s++) if (Arrays.equals(order[s].mask, mask)) return order[s];
        if (subtableCount == MAX_SUBTABLES) return null;
        int words = 0;
        for (long m : mask) if (m != 0) words++;
        if (words > KEY_WORDS) return null;
        int id = 0;
        while (byId[id] != null) id++;
        Subtable st = new Subtable(id, mask);
        byId[id] = st;
        order[subtableCount++] = st;
        return st;
    }

    private static int hashOf(long header) {
        return (int) header;
    }

    /** Removes entry {@code e} (backward-shift deletion: no tombstones, probes stay short). */
    public void remove(int e) {
        long header = records[e * RECORD];
        int slot = hashOf(header) & slotMask;
        while (slots[slot] != e + 1) slot = (slot + 1) & slotMask;
        int hole = slot;
        for (int j = (hole + 1) & slotMask; slots[j] != 0; j = (j + 1) & slotMask) {
            int home = hashOf(records[(slots[j] - 1) * RECORD]) & slotMask;
            // move j into the hole unless its home lies cyclically in (hole, j]
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                slots[hole] = slots[j];
                hole = j;
            }
        }
        slots[hole] = 0;
        Subtable st = byId[(int) (header >>> 32) - 1];
        records[e * RECORD] = 0;
        bridge[e] = null;
        longProgram[e] = null;
        if (--st.entries == 0) dropSubtable(st);
        free[freeCount++] = e;
        size--;
    }

    private void dropSubtable(Subtable st) {
        int s = 0;
        while (order[s] != st) s++;
        System.arraycopy(order, s + 1, order, s, subtableCount - s - 1);
        order[--subtableCount] = null;
        byId[st.id] = null;
    }

    /** Counts {@code packets} packets of {@code bytes} bytes in all on entry {@code e} at clock {@code now}. */
    public void hit(int e, int packets, long bytes, int now) {
        int at = e * RECORD;
        records[at + PACKETS] += packets;
        records[at + BYTES] += bytes;
        records[at + USED_LENGTH] = (long) now << 32 | (records[at + USED_LENGTH] & 0xffffffffL);
    }

    public DpBridge bridge(int e) {
        return bridge[e];
    }

    /**
     * The array holding entry {@code e}'s recorded program (see {@link Translation}), which starts
     * at {@link #programStart} and is {@link #programLength} longs long.
     */
    public long[] programArray(int e) {
        long[] p = longProgram[e];
        return p == null ? records : p;
    }

    public int programStart(int e) {
        return longProgram[e] == null ? e * RECORD + PROGRAM : 0;
    }

    public int programLength(int e) {
        return (int) records[e * RECORD + USED_LENGTH];
    }

    /**
     * Background upkeep, {@code budget} entries per call: removes entries idle for
     * {@code maxIdleSeconds} or translated against a bridge {@code view} no longer has; once a
     * second re-orders the subtables by their hits. Returns the entries removed.
     */
    public int sweep(DatapathView view, int now, int maxIdleSeconds, int budget) {
        if (now != orderedAt) reorder(now);
        if (size == 0) return 0;
        int removed = 0;
        for (int n = 0; n < budget; n++) {
            int e = sweepCursor;
            sweepCursor = e + 1 == capacity ? 0 : e + 1;
            if (records[e * RECORD] == 0) continue;
            DpBridge b = bridge[e];
            if (now - (int) (records[e * RECORD + USED_LENGTH] >>> 32) >= maxIdleSeconds || view.bridges[b.index()] != b) {
                remove(e);
                removed++;
            }
        }
        return removed;
    }

    private void reorder(int now) {
        orderedAt = now;
        for (int s = 1; s < subtableCount; s++) {           // insertion sort: a handful of subtables, mostly in order
            Subtable st = order[s];
            int j = s;
            while (j > 0 && order[j - 1].hits < st.hits) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = st;
        }
        for (int s = 0; s < subtableCount; s++) order[s].hits >>>= 1;
    }

    /** Appends entry {@code e} as {@code dpctl/dump-flows} shows it (see {@link MegaflowFormat}). */
    public void dump(int e, StringBuilder sb, int now) {
        int at = e * RECORD;
        Subtable st = byId[(int) (records[at] >>> 32) - 1];
        long[] key = new long[WORDS];
        for (int j = 0; j < st.words.length; j++) key[st.words[j]] = records[at + KEY + j];
        MegaflowFormat.match(sb, key, 0, st.mask);
        sb.append(", packets:").append(records[at + PACKETS]).append(", bytes:").append(records[at + BYTES]).append(", used:");
        if (records[at + PACKETS] == 0) sb.append("never"); else sb.append(now - (records[at + USED_LENGTH] >>> 32)).append(".0s");
        sb.append(", ");
        long[] p = programArray(e);
        int from = programStart(e);
        MegaflowFormat.actions(sb, Arrays.copyOfRange(p, from, from + programLength(e)), programLength(e));
    }

    /** The first entry in use from {@code from} on, or -1 (for dumps). */
    public int next(int from) {
        for (int e = from; e < capacity; e++) if (records[e * RECORD] != 0) return e;
        return -1;
    }

    /**
     * Grows the store to {@code n} entries. The new arrays are made before any is swapped in, so a
     * heap that cannot hold them leaves the cache as it was (false).
     */
    private boolean allocate(int n) {
        int old = capacity;
        if (n <= old) return true;
        long[] r;
        DpBridge[] b;
        long[][] lp;
        int[] f, sl;
        try {
            r = records == null ? new long[n * RECORD] : Arrays.copyOf(records, n * RECORD);
            b = bridge == null ? new DpBridge[n] : Arrays.copyOf(bridge, n);
            lp = longProgram == null ? new long[n][] : Arrays.copyOf(longProgram, n);
            f = new int[n];
            sl = new int[Integer.highestOneBit(2 * n - 1) << 1];
        } catch (OutOfMemoryError e) {
            return false;
        }
        records = r;
        bridge = b;
        longProgram = lp;
        if (free != null) System.arraycopy(free, 0, f, 0, freeCount);
        for (int e = n - 1; e >= old; e--) f[freeCount++] = e;
        free = f;
        capacity = n;
        slots = sl;
        slotMask = slots.length - 1;
        for (int e = 0; e < old; e++) {
            long header = records[e * RECORD];
            if (header == 0) continue;
            int slot = hashOf(header) & slotMask;
            while (slots[slot] != 0) slot = (slot + 1) & slotMask;
            slots[slot] = e + 1;
        }
        return true;
    }
}
