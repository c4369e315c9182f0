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
 * <p><b>Layout.</b> Entries are numbered; their fields are parallel arrays (a record of header
 * and masked key, statistics, the bridge, the program to replay). Entries of one mask form a
 * <em>subtable</em>; a lookup visits the subtables in order of their recent hits (the busiest
 * first) and in each probes one open-addressing index, shared by all subtables, keyed by the
 * masked key hashed with the subtable's number. Megaflows do not overlap in a way that matters:
 * two that both match a packet were translated from packets the tables could not tell apart, so
 * either answer is the same, and the first found wins (no priorities, unlike OpenFlow tables).
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
     * Per entry {@value #RECORD} longs: a header (subtable id + 1 in the high half, 0 for a free
     * entry; the hash in the low half), then the masked key. What a probe compares sits together:
     * a key on a few words costs one or two cache lines.
     */
    private static final int RECORD = 1 + WORDS;
    /** Per entry {@value #STATS} longs: packets, bytes, last use (clock, s), program length. */
    private static final int STATS = 4;

    private int capacity;
    private int limit;
    private int size;
    private long[] records;
    private long[] stats;
    private DpBridge[] bridge;
    private long[][] program;
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
        allocate(Math.min(MIN_CAPACITY, Math.max(limit, 1)));
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
        int at = e * RECORD + 1;
        int[] words = st.words;
        long[] masks = st.wordMasks;
        for (int j = 0; j < words.length; j++) {
            int w = words[j];
            if (records[at + w] != (k[base + w] & masks[j])) return false;
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
        if (size >= limit) return -1;
        Subtable st = subtableFor(t.mask);
        if (st == null) return -1;
        if (freeCount == 0) allocate(Math.min(limit, 2 * capacity));
        int e = free[--freeCount];
        int at = e * RECORD;
        for (int w = 0; w < WORDS; w++) records[at + 1 + w] = t.key[w] & t.mask[w];
        int h = hash(records, at + 1, st);
        records[at] = (long) (st.id + 1) << 32 | (h & 0xffffffffL);
        st.entries++;
        bridge[e] = b;
        if (program[e] == null || program[e].length < t.length) program[e] = new long[Math.max(8, t.length)];
        System.arraycopy(t.program, 0, program[e], 0, t.length);
        int s = e * STATS;
        stats[s] = 0;
        stats[s + 1] = 0;
        stats[s + 2] = now;
        stats[s + 3] = t.length;
        int slot = h & slotMask;
        while (slots[slot] != 0) slot = (slot + 1) & slotMask;
        slots[slot] = e + 1;
        size++;
        return e;
    }

    private Subtable subtableFor(long[] mask) {
        for (int s = 0; s < subtableCount; s++) if (Arrays.equals(order[s].mask, mask)) return order[s];
        if (subtableCount == MAX_SUBTABLES) return null;
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

    /** Counts a packet of {@code length} bytes on entry {@code e} at clock {@code now}. */
    public void hit(int e, int length, int now) {
        int s = e * STATS;
        stats[s]++;
        stats[s + 1] += length;
        stats[s + 2] = now;
    }

    public DpBridge bridge(int e) {
        return bridge[e];
    }

    /** Entry {@code e}'s recorded program (see {@link Translation}); {@link #programLength} longs of it are valid. */
    public long[] program(int e) {
        return program[e];
    }

    public int programLength(int e) {
        return (int) stats[e * STATS + 3];
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
            if (now - (int) stats[e * STATS + 2] >= maxIdleSeconds || view.bridges[b.index()] != b) {
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
        MegaflowFormat.match(sb, records, e * RECORD + 1, byId[(int) (records[e * RECORD] >>> 32) - 1].mask);
        int s = e * STATS;
        sb.append(", packets:").append(stats[s]).append(", bytes:").append(stats[s + 1]).append(", used:");
        if (stats[s] == 0) sb.append("never"); else sb.append(now - stats[s + 2]).append(".0s");
        sb.append(", ");
        MegaflowFormat.actions(sb, program[e], programLength(e));
    }

    /** The first entry in use from {@code from} on, or -1 (for dumps). */
    public int next(int from) {
        for (int e = from; e < capacity; e++) if (records[e * RECORD] != 0) return e;
        return -1;
    }

    private void allocate(int n) {
        int old = capacity;
        if (n <= old) return;
        records = records == null ? new long[n * RECORD] : Arrays.copyOf(records, n * RECORD);
        stats = stats == null ? new long[n * STATS] : Arrays.copyOf(stats, n * STATS);
        bridge = bridge == null ? new DpBridge[n] : Arrays.copyOf(bridge, n);
        program = program == null ? new long[n][] : Arrays.copyOf(program, n);
        int[] f = new int[n];
        if (free != null) System.arraycopy(free, 0, f, 0, freeCount);
        for (int e = n - 1; e >= old; e--) f[freeCount++] = e;
        free = f;
        capacity = n;
        slots = new int[Integer.highestOneBit(2 * n - 1) << 1];
        slotMask = slots.length - 1;
        for (int e = 0; e < old; e++) {
            long header = records[e * RECORD];
            if (header == 0) continue;
            int slot = hashOf(header) & slotMask;
            while (slots[slot] != 0) slot = (slot + 1) & slotMask;
            slots[slot] = e + 1;
        }
    }
}
