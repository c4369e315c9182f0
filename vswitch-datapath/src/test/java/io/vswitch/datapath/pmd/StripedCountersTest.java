package io.vswitch.datapath.pmd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * PMDs add to their own stripes without atomics; nothing may be lost when they, a PMD without a
 * stripe and other threads add to the same counters at once.
 */
class StripedCountersTest {
    private static final int ADDS = 2_000_000;

    @Test
    void concurrentPmdsAndOtherThreadsLoseNoAdds() throws InterruptedException {
        StripedCounters c = new StripedCounters(3, 2);
        Thread[] threads = {
            adder(c, 0), adder(c, 1),
            adder(c, 2),                                     // a PMD started after the counters were made: no stripe
            adder(c, -1), adder(c, -1)                       // control threads
        };
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join();
        for (int i = 0; i < 3; i++) assertEquals(threads.length * (long) ADDS * (i + 1), c.get(i), "counter " + i);
    }

    @Test
    void stripesDoNotOverlap() {
        StripedCounters c = new StripedCounters(9, 3);        // more than one cache line per stripe
        for (int i = 0; i < 9; i++) c.add(i % 3, i, 1L << i);
        for (int i = 0; i < 9; i++) assertEquals(1L << i, c.get(i));
    }

    private static Thread adder(StripedCounters c, int pmd) {
        return new Thread(() -> {
            for (int k = 0; k < ADDS; k++) for (int i = 0; i < 3; i++) c.add(pmd, i, i + 1);
        });
    }
}
