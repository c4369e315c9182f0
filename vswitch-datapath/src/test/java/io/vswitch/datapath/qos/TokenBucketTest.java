package io.vswitch.datapath.qos;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenBucketTest {
    private static final long S = 1_000_000_000L;

    private static int takes(TokenBucket b, long now, int tries) {
        int n = 0;
        for (int i = 0; i < tries; i++) if (b.tryTake(now)) n++;
        return n;
    }

    @Test
    void aFullBucketGivesTheBurstThenTheRate() {
        TokenBucket b = new TokenBucket(1000, 10);
        long t = 5 * S;
        assertEquals(10, takes(b, t, 100), "burst");
        assertFalse(b.tryTake(t));
        assertEquals(1, takes(b, t + S / 1000, 100), "one more per millisecond");
        assertEquals(10, takes(b, t + S, 100), "a second later the bucket is full again, not fuller");
    }

    @Test
    void overALongRunTheRateHolds() {
        TokenBucket b = new TokenBucket(500, 50);
        int n = 0;
        for (long t = 0; t < 10 * S; t += S / 10_000) n += b.tryTake(t) ? 1 : 0;   // offered 10000/s for 10 s
        assertTrue(n >= 5000 && n <= 5050, "500/s for 10 s plus one burst: " + n);
    }

    @Test
    void rateZeroIsUnlimitedAndReconfigurationKeepsTheFill() {
        TokenBucket b = new TokenBucket(0, 0);
        assertEquals(1000, takes(b, 0, 1000));
        b.configure(10, 2);
        assertEquals(2, takes(b, S, 10));
        assertEquals(10, b.ratePerSecond());
        assertEquals(2, b.burst());
    }

    @Test
    void largeUnitsAndHighRatesKeepTheirAccuracy() {
        // 100 Gbit/s: 1500-byte frames cost 120 ns each; fixed point must not drift by more than 0.1 %
        TokenBucket fast = new TokenBucket(100_000_000_000L, 12_000);
        int n = 0;
        for (long t = 0; t < S / 100; t += 10) n += fast.tryTake(t, 12_000) ? 1 : 0;
        assertTrue(Math.abs(n - 83_334) <= 84, "10 ms at 100 Gbit/s of 12 000-bit frames: " + n);
        // 1 unit/s with a take so large that the multiplication would overflow: the division answers
        TokenBucket slow = new TokenBucket(1, 20_000_000);
        assertTrue(slow.tryTake(S, 10_000_000));
        assertTrue(slow.tryTake(S, 10_000_000));
        assertFalse(slow.tryTake(S, 1));
    }
}
