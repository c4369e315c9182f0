package io.vswitch.datapath.qos;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A rate limiter that any number of threads may share without a lock: the generic cell rate
 * algorithm (GCRA, ITU-T I.371), a token bucket kept as one number, the <em>theoretical arrival
 * time</em> (TAT). A take of cost {@code c} (its units' time at the rate) at {@code now} moves TAT to
 * {@code max(TAT, now) + c}, and conforms if that stays within the bucket's size (burst units' time)
 * of now: a full bucket is a TAT in the past, each take spends its cost, and time refills it. One compare-and-set per conforming take, none for a refused one, no
 * allocation: cheap enough for a PMD.
 *
 * <p>{@code rate} units per second with room for {@code burst} units back to back. A rate of 0
 * means no limit.
 */
public final class TokenBucket {
    private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE / 2);
    /** Units per second; 0 = unlimited. */
    private volatile long rate;
    /** The bucket's size in time: how far TAT may run ahead of now (burst units at the rate). */
    private volatile long capacityNanos;
    /**
     * Nanoseconds per unit in fixed point ({@link #FRACTION} fraction bits): a take multiplies
     * instead of dividing (a 64-bit division was most of a policed packet's cost).
     */
    private volatile long nanosPerUnit;
    private static final int FRACTION = 20;

    public TokenBucket(long ratePerSecond, long burst) {
        configure(ratePerSecond, burst);
    }

    /** Changes rate and burst; the bucket keeps its current fill. */
    public void configure(long ratePerSecond, long burst) {
        if (ratePerSecond < 0 || burst < 0) throw new IllegalArgumentException("rate and burst must not be negative");
        capacityNanos = ratePerSecond == 0 ? 0 : (long) (Math.max(burst, 1) * 1e9 / ratePerSecond);
        nanosPerUnit = ratePerSecond == 0 ? 0 : (1_000_000_000L << FRACTION) / ratePerSecond;
        rate = ratePerSecond;
    }

    public long ratePerSecond() {
        return rate;
    }

    public long burst() {
        long r = rate;
        return r == 0 ? 0 : Math.round(capacityNanos * (double) r / 1e9);
    }

    /** Takes one unit at time {@code nowNanos} ({@link System#nanoTime}); false if the bucket is empty. */
    public boolean tryTake(long nowNanos) {
        return tryTake(nowNanos, 1);
    }

    /** Would {@code units} fit now? (Takes nothing; for a caller that must check several buckets before taking from any.) */
    public boolean conforms(long nowNanos, long units) {
        long r = rate;
        if (r == 0) return true;
        return Math.max(tat.get(), nowNanos) + cost(units, r) - nowNanos <= capacityNanos;
    }

    /** {@code units} at {@code r} per second, in nanoseconds: a multiplication, or a division if that would overflow. */
    private long cost(long units, long r) {
        long q = nanosPerUnit;
        long product = units * q;
        if (Math.multiplyHigh(units, q) == 0 && product >= 0) return product >>> FRACTION;
        return units * 1_000_000_000L / r;
    }

    /** Takes {@code units} at once (a packet's bits for a kbps meter); false, taking nothing, if they do not fit. */
    public boolean tryTake(long nowNanos, long units) {
        long r = rate;
        if (r == 0) return true;
        long cost = cost(units, r);
        long cap = capacityNanos;
        while (true) {
            long t = tat.get();
            long next = Math.max(t, nowNanos) + cost;
            if (next - nowNanos > cap) return false;
            if (tat.compareAndSet(t, next)) return true;
        }
    }
}
