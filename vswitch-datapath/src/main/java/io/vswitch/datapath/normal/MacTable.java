package io.vswitch.datapath.normal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bridge's MAC learning table, keyed by (VLAN, MAC), shared by all PMDs without locks.
 *
 * <p>Open addressing in two parallel {@code long[]}s. A key word is
 * {@code VALID | vlan << 48 | mac}; special key words mark {@link #EMPTY}, {@link #TOMBSTONE}
 * (deleted) and {@link #BUSY} (being written). A value word is {@code port << 32 | lastSeenSeconds}.
 * Lookups probe at most {@link #PROBE} slots from the hash position and stop at an empty slot.
 *
 * <p>Concurrency: a learner claims a free slot by CAS-ing its key to {@code BUSY}, writes the
 * value, then publishes the key with a release store, so a reader never pairs a new key with a
 * stale value. A reader double-checks the key after reading the value. Refreshing an existing
 * entry only writes when the second or the port changed, so steady traffic does not bounce cache
 * lines between PMDs. Aging and the size bound are enforced by {@link #sweep} on the dataplane's
 * housekeeping thread; when the table is at its limit, or (rarely, the table has four slots per
 * entry) its probe window is full, a learner evicts the oldest entry of its probe window instead of
 * growing it (OVS evicts the table-wide oldest; this is the lock-free approximation).
 *
 * <p>Output ports are re-checked against the VLAN policy on every use, so even a racy read can
 * never send a frame to a port outside its VLAN.
 */
public final class MacTable {
    public static final int PROBE = 16;
    static final long EMPTY = 0;
    static final long TOMBSTONE = 1;
    static final long BUSY = 2;
    private static final long VALID = 1L << 63;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] keys;
    private final long[] values;
    private final int mask;
    private final AtomicInteger count = new AtomicInteger();
    /**
     * Counts changes that can alter a lookup's answer (an entry added, moved, revived, removed; the
     * aging time): a PMD may reuse an answer while this and the second stay the same.
     */
    private final AtomicInteger generation = new AtomicInteger();
    private volatile int maxEntries;
    private volatile int agingSeconds;

    /**
     * @param maxEntries   {@code mac-table-size}: learned entries kept at most
     * @param agingSeconds {@code mac-aging-time}: an entry not refreshed for this long is gone
     */
    public MacTable(int maxEntries, int agingSeconds) {
        // Four slots per entry: at ≤ 25% load, runs of 16 occupied slots (a full probe window, where a
        // learner must evict instead of adding) are vanishingly rare; at 50% a 16k table had them.
        int capacity = Integer.highestOneBit(Math.max(64, maxEntries) * 2 - 1) << 2;
        this.keys = new long[capacity];
        this.values = new long[capacity];
        this.mask = capacity - 1;
        this.maxEntries = maxEntries;
        this.agingSeconds = agingSeconds;
    }

    /** Changes the aging time now; a larger size limit needs a new table (capacity is fixed). */
    public void setAgingSeconds(int seconds) {
        this.agingSeconds = seconds;
        generation.incrementAndGet();
    }

    public void setMaxEntries(int max) {
        this.maxEntries = Math.min(max, keys.length / 2);
    }

    public int maxEntries() {
        return maxEntries;
    }

    public int agingSeconds() {
        return agingSeconds;
    }

    public int capacity() {
        return keys.length;
    }

    public int size() {
        return count.get();
    }

    public int generation() {
        return generation.getAcquire();
    }

    private static long key(int vlan, long mac) {
        return VALID | ((long) (vlan & 0xfff) << 48) | (mac & 0xffff_ffff_ffffL);
    }

    /** A full mix: VLAN bits 48-59 must reach the low index bits too. */
    private static int hash(long key) {
        return io.vswitch.datapath.flow.FlowKey.avalanche(key);
    }

    private boolean expired(long value, int now) {
        return now - (int) value > agingSeconds;
    }

    /** The port learned for (vlan, mac), or -1. */
    public int lookup(int vlan, long mac, int now) {
        long key = key(vlan, mac);
        int h = hash(key);
        for (int p = 0; p < PROBE; p++) {
            int i = (h + p) & mask;
            long k = (long) LONGS.getAcquire(keys, i);
            if (k == key) {
                long v = (long) LONGS.getAcquire(values, i);
                if ((long) LONGS.getAcquire(keys, i) != key || expired(v, now)) return -1;
                return (int) (v >>> 32);
            }
            if (k == EMPTY) return -1;
        }
        return -1;
    }

    /**
     * Learns that (vlan, mac) is behind {@code port} at time {@code now} (seconds).
     * Returns true if the entry is new or moved to another port.
     */
    public boolean learn(int vlan, long mac, int port, int now) {
        long key = key(vlan, mac);
        long value = ((long) port << 32) | (now & 0xffff_ffffL);
        int h = hash(key);
        attempts:
        for (int attempt = 0; attempt < 8; attempt++) {
            int free = -1;
            int oldest = -1;
            long oldestValue = 0;
            boolean busy = false;
            for (int p = 0; p < PROBE; p++) {
                int i = (h + p) & mask;
                long k = (long) LONGS.getAcquire(keys, i);
                if (k == key) {
                    long v = (long) LONGS.getAcquire(values, i);
                    if (v == value) return false;
                    // Own the slot while rewriting it, so a slot re-used for another key meanwhile
                    // (aged out, evicted) never gets this key's port. At most once a second per MAC.
                    if (!LONGS.compareAndSet(keys, i, key, BUSY)) continue attempts;   // changed under us: rescan
                    LONGS.setRelease(values, i, value);
                    LONGS.setRelease(keys, i, key);
                    boolean changed = (int) (v >>> 32) != port || expired(v, now);
                    if (changed) generation.incrementAndGet();
                    return changed;
                }
                if (k == BUSY) {
                    busy = true;                          // maybe this very key, being written
                } else if (k == EMPTY || k == TOMBSTONE) {
                    if (free < 0) free = i;
                    if (k == EMPTY) break;
                } else if (k != BUSY) {
                    long v = (long) LONGS.getAcquire(values, i);
                    if (expired(v, now)) {
                        if (free < 0) free = i;
                    } else if (oldest < 0 || (int) v - (int) oldestValue < 0) {
                        oldest = i;
                        oldestValue = v;
                    }
                }
            }
            if (busy) {                                   // don't add a duplicate of a key being published
                Thread.onSpinWait();
                continue;
            }
            boolean full = count.get() >= maxEntries;
            int target = free;
            if (full && oldest >= 0) target = oldest;   // replace the oldest instead of growing
            if (target < 0) target = oldest;
            if (target < 0) return false;                 // window busy: learn on a later packet
            long seen = (long) LONGS.getAcquire(keys, target);
            if (seen == BUSY || seen == key) continue;
            if (!LONGS.compareAndSet(keys, target, seen, BUSY)) continue;
            if (seen == EMPTY || seen == TOMBSTONE) count.incrementAndGet();
            LONGS.setRelease(values, target, value);
            LONGS.setRelease(keys, target, key);
            generation.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Removes expired entries and, if over the size limit, the oldest ones. Housekeeping thread only. */
    public int sweep(int now) {
        int removed = removeIf((k, v) -> expired(v, now));
        int excess = count.get() - maxEntries;
        if (excess > 0) {
            long[] ages = new long[keys.length];
            int n = 0;
            for (int i = 0; i < keys.length; i++) {
                if (((long) LONGS.getAcquire(keys, i) & VALID) != 0) {
                    ages[n++] = ((long) (int) (long) LONGS.getAcquire(values, i) << 32) | i;
                }
            }
            Arrays.sort(ages, 0, n);
            for (int j = 0; j < n && excess > 0; j++) {
                int i = (int) ages[j];
                long k = (long) LONGS.getAcquire(keys, i);
                if ((k & VALID) != 0 && remove(i, k)) {
                    removed++;
                    excess--;
                }
            }
        }
        return removed;
    }

    private boolean remove(int i, long expectedKey) {
        if (LONGS.compareAndSet(keys, i, expectedKey, TOMBSTONE)) {
            count.decrementAndGet();
            generation.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Removes the live entries matching {@code which(key, value)} (control path); returns how many. */
    private int removeIf(java.util.function.BiPredicate<Long, Long> which) {
        int removed = 0;
        for (int i = 0; i < keys.length; i++) {
            long k = (long) LONGS.getAcquire(keys, i);
            if ((k & VALID) != 0 && which.test(k, (long) LONGS.getAcquire(values, i)) && remove(i, k)) removed++;
        }
        return removed;
    }

    /** Forgets everything learned on {@code port} (the port was deleted or changed VLANs). */
    public int flushPort(int port) {
        return removeIf((k, v) -> (int) (v >>> 32) == port);
    }

    public int flush() {
        return removeIf((k, v) -> true);
    }

    /** One learned entry, for {@code fdb/show}. */
    public record Entry(int port, int vlan, long mac, int ageSeconds) {}

    /** A consistent-enough copy of the live entries (control path). */
    public List<Entry> entries(int now) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            long k = (long) LONGS.getAcquire(keys, i);
            if ((k & VALID) == 0) continue;
            long v = (long) LONGS.getAcquire(values, i);
            if (expired(v, now)) continue;
            out.add(new Entry((int) (v >>> 32), (int) (k >>> 48) & 0xfff, k & 0xffff_ffff_ffffL, now - (int) v));
        }
        return out;
    }
}
