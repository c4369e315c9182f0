package io.vswitch.datapath.port.afxdp;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One of an AF_XDP socket's four single-producer/single-consumer rings, mapped from the kernel: a
 * producer index, a consumer index, a flags word and a power-of-two array of descriptors.
 *
 * <p>The indices are free-running 32-bit counters; the slot of index i is {@code i & mask}. Each side
 * reads the other side's index with acquire and publishes its own with release (the kernel uses
 * smp_load_acquire / smp_store_release), so descriptor contents written before a release are seen by
 * the side that acquires the index. Each side also caches the other's index and re-reads it only when
 * the cache says the ring is full (producer) or empty (consumer), which keeps cache-line traffic down.
 *
 * <p>The fill and completion rings carry 8-byte frame addresses; the rx and tx rings carry 16-byte
 * {@code struct xdp_desc} (address, length, options). One thread at a time per ring.
 */
final class XskRing {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final int NEED_WAKEUP = 1;

    private final MemorySegment map;
    private final long producer;
    private final long consumer;
    private final long flags;
    private final long desc;
    private final int descSize;
    final int size;
    private final int mask;
    /** Our own index (the one we advance) and our cached copy of the other side's. */
    private int local;
    private int cachedOther;

    XskRing(MemorySegment map, long producer, long consumer, long flags, long desc, int size, int descSize, boolean weProduce) {
        this.map = map;
        this.producer = producer;
        this.consumer = consumer;
        this.flags = flags;
        this.desc = desc;
        this.size = size;
        this.mask = size - 1;
        this.descSize = descSize;
        this.local = weProduce ? (int) INT.getAcquire(map, producer) : (int) INT.getAcquire(map, consumer);
        this.cachedOther = weProduce ? (int) INT.getAcquire(map, consumer) + size : (int) INT.getAcquire(map, producer);
    }

    // ---- producer side (fill, tx) ----

    /** How many slots (up to {@code want}) may be written now. */
    int free(int want) {
        int free = cachedOther - local;
        if (free < want) {
            cachedOther = (int) INT.getAcquire(map, consumer) + size;
            free = cachedOther - local;
        }
        return Math.min(free, want);
    }

    /** Writes the address of slot {@code local + i} (fill ring). */
    void putAddress(int i, long address) {
        map.set(JAVA_LONG, desc + (long) ((local + i) & mask) * descSize, address);
    }

    /** Writes descriptor {@code local + i} (tx ring). */
    void putDesc(int i, long address, int length) {
        long at = desc + (long) ((local + i) & mask) * descSize;
        map.set(JAVA_LONG, at, address);
        map.set(JAVA_INT, at + 8, length);
        map.set(JAVA_INT, at + 12, 0);
    }

    /** Publishes {@code n} written slots to the kernel. */
    void submit(int n) {
        local += n;
        INT.setRelease(map, producer, local);
    }

    // ---- consumer side (rx, completion) ----

    /** How many entries (up to {@code want}) are ready to read. */
    int available(int want) {
        int ready = cachedOther - local;
        if (ready == 0) {
            cachedOther = (int) INT.getAcquire(map, producer);
            ready = cachedOther - local;
        }
        return Math.min(ready, want);
    }

    /** Address of entry {@code local + i} (completion ring, or an rx descriptor's address). */
    long address(int i) {
        return map.get(JAVA_LONG, desc + (long) ((local + i) & mask) * descSize);
    }

    /** Length of rx descriptor {@code local + i}. */
    int length(int i) {
        return map.get(JAVA_INT, desc + (long) ((local + i) & mask) * descSize + 8);
    }

    /** Gives {@code n} read entries back to the kernel. */
    void release(int n) {
        local += n;
        INT.setRelease(map, consumer, local);
    }

    /** With XDP_USE_NEED_WAKEUP: the kernel asks to be kicked before it looks at this ring again. */
    boolean needsWakeup() {
        return ((int) INT.getAcquire(map, flags) & NEED_WAKEUP) != 0;
    }

    /** Entries the producer has published and the consumer has not yet taken (for statistics). */
    int pending() {
        return (int) INT.getAcquire(map, producer) - (int) INT.getAcquire(map, consumer);
    }
}
