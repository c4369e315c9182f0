package io.vswitch.datapath.tunnel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * IPv4 neighbours (IP to Ethernet address) on the switch's internal ports, learned by snooping
 * ARP replies that reach the port (OVS: {@code lib/tnl-neigh-cache.c}); the encapsulation of
 * every tunnelled packet reads it. Shared by all PMDs without locks, like the MAC table:
 * open addressing in parallel arrays, a writer claims a slot by CAS-ing its key to {@link #BUSY},
 * writes the value, then publishes the key with a release store; a reader reads key, value, key.
 *
 * <p>A key is {@code VALID | port << 32 | ip}; a value is {@code mac << 16 | (seconds & 0xffff)}:
 * the time of the last update on the dataplane clock, so an entry idle for {@link #IDLE_SECONDS}
 * (OVS: 15 minutes) is missing to lookups and removed by {@link #sweep}.
 */
public final class NeighbourCache {
    public static final int IDLE_SECONDS = 15 * 60;
    private static final int CAPACITY = 4096, PROBE = 16;
    private static final long EMPTY = 0, TOMBSTONE = 1, BUSY = 2, VALID = 1L << 63;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] keys = new long[CAPACITY];
    private final long[] values = new long[CAPACITY];
    /** Counts changes (a new or moved address, a removal): a PMD may reuse a lookup while it stays the same. */
    private final java.util.concurrent.atomic.AtomicInteger generation = new java.util.concurrent.atomic.AtomicInteger();

    public int generation() {
        return generation.getAcquire();
    }

    /** One entry, for {@code tnl/neigh/show}. */
    public record Entry(int port, int ip, long mac, int ageSeconds) {}

    private static long key(int port, int ip) {
        return VALID | (long) port << 32 | (ip & 0xffffffffL);
    }

    private static int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & (CAPACITY - 1);
    }

    /** The Ethernet address of {@code ip} on internal port {@code port}, or -1. */
    public long lookup(int port, int ip, int now) {
        long k = key(port, ip);
        int s = slot(k);
        for (int i = 0; i < PROBE; i++, s = (s + 1) & (CAPACITY - 1)) {
            long have = (long) LONGS.getAcquire(keys, s);
            if (have == EMPTY) return -1;
            if (have != k) continue;
            long v = (long) LONGS.getAcquire(values, s);
            if ((long) LONGS.getAcquire(keys, s) != k) return -1;
            if (age(v, now) >= IDLE_SECONDS) return -1;
            return v >>> 16;
        }
        return -1;
    }

    private static int age(long value, int now) {
        return (now - (int) value) & 0xffff;
    }

    /** Learns or refreshes {@code ip} at {@code mac}; false if the table has no room near its slot. */
    public boolean learn(int port, int ip, long mac, int now) {
        long k = key(port, ip);
        long v = mac << 16 | (now & 0xffff);
        int s = slot(k);
        int free = -1;
        for (int i = 0; i < PROBE; i++, s = (s + 1) & (CAPACITY - 1)) {
            long have = (long) LONGS.getAcquire(keys, s);
            if (have == k) {
                long was = (long) LONGS.getAcquire(values, s);
                if (was != v) {
                    LONGS.setRelease(values, s, v);
                    if (was >>> 16 != mac) generation.incrementAndGet();
                }
                return true;
            }
            if (have == TOMBSTONE && free < 0) free = s;
            if (have == EMPTY) {
                if (free < 0) free = s;
                break;
            }
        }
        if (free < 0) return false;
        long was = (long) LONGS.getAcquire(keys, free);
        if ((was != EMPTY && was != TOMBSTONE) || !LONGS.compareAndSet(keys, free, was, BUSY)) return false;  // lost a race: the next reply learns
        LONGS.setRelease(values, free, v);
        LONGS.setRelease(keys, free, k);
        generation.incrementAndGet();
        return true;
    }

    /** Removes every entry ({@code tnl/neigh/flush}), or those of one port when it goes away ({@code port} >= 0). */
    public void flush(int port) {
        for (int s = 0; s < CAPACITY; s++) {
            long k = (long) LONGS.getAcquire(keys, s);
            if ((k & VALID) != 0 && (port < 0 || (int) (k >>> 32 & 0x7fffffff) == port)) remove(s, k);
        }
    }

    /** Removes entries idle for {@link #IDLE_SECONDS} (the control thread, periodically). */
    public void sweep(int now) {
        for (int s = 0; s < CAPACITY; s++) {
            long k = (long) LONGS.getAcquire(keys, s);
            if ((k & VALID) != 0 && age((long) LONGS.getAcquire(values, s), now) >= IDLE_SECONDS) remove(s, k);
        }
    }

    private void remove(int s, long k) {
        if (LONGS.compareAndSet(keys, s, k, TOMBSTONE)) generation.incrementAndGet();
    }

    public List<Entry> entries(int now) {
        List<Entry> out = new ArrayList<>();
        for (int s = 0; s < CAPACITY; s++) {
            long k = (long) LONGS.getAcquire(keys, s);
            if ((k & VALID) == 0) continue;
            long v = (long) LONGS.getAcquire(values, s);
            if (age(v, now) < IDLE_SECONDS) out.add(new Entry((int) (k >>> 32 & 0x7fffffff), (int) k, v >>> 16, age(v, now)));
        }
        return out;
    }
}
