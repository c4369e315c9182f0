package io.vswitch.datapath.qos;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A rate limiter that any number of threads may share without a lock: the generic cell rate
 * algorithm (GCRA, ITU-T I.371), a token bucket kept as one number, the <em>theoretical arrival
 * time</em> (TAT). A take at {@code now} conforms if {@code TAT <= now + tolerance}, and then moves
 * TAT to {@code max(TAT, now) + interval}: a full bucket is a TAT in the past, each take spends one
 * interval, and time refills it. One compare-and-set per conforming take, none for a refused one, no
 * allocation: cheap enough for a PMD.
 *
 * <p>{@code rate} units per second with room for {@code burst} units back to back. A rate of 0
 * means no limit.
 */
public final class TokenBucket {
    private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE / 2);
    /** Nanoseconds one unit costs; 0 = unlimited. */
    private volatile long interval;
    /** How far TAT may run ahead of now: (burst - 1) units. */
    private volatile long tolerance;

    public TokenBucket(long ratePerSecond, long burst) {
        configure(ratePerSecond, burst);
    }

    /** Changes rate and burst; the bucket keeps its current fill. */
    public void configure(long ratePerSecond, long burst) {
        if (ratePerSecond < 0 || burst < 0) throw new IllegalArgumentException("rate and burst must not be negative");
        long i = ratePerSecond == 0 ? 0 : Math.max(1, 1_000_000_000L / ratePerSecond);
        tolerance = i * Math.max(0, Math.max(burst, 1) - 1);
        interval = i;
    }

    public long ratePerSecond() {
        long i = interval;
        return i == 0 ? 0 : 1_000_000_000L / i;
    }

    public long burst() {
        long i = interval;
        return i == 0 ? 0 : tolerance / i + 1;
    }

    /** Takes one unit at time {@code nowNanos} ({@link System#nanoTime}); false if the bucket is empty. */
    public boolean tryTake(long nowNanos) {
        long i = interval;
        if (i == 0) return true;
        long tol = tolerance;
        while (true) {
            long t = tat.get();
            long start = Math.max(t, nowNanos);
            if (start - nowNanos > tol) return false;
            if (tat.compareAndSet(t, start + i)) return true;
        }
    }
}
