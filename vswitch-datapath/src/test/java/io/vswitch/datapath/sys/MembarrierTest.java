package io.vswitch.datapath.sys;

import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PMD's quiescence store relies on {@link Membarrier} to be ordered before its next load. This
 * is the store-buffering litmus test (Dekker): one thread stores x with a plain release store and
 * then loads y, as a PMD stores its quiescent count and loads the view; the other stores y, fences
 * every thread, and loads x, as the control thread does. Both loads seeing 0 means a store was
 * still in a store buffer while the other thread's load ran. x86 allows that when only the control
 * thread fences (with {@code VarHandle.fullFence()} in place of the membarrier, this test saw it 26
 * to 219 times in each of three runs); the membarrier must forbid it. Both threads start each trial at the same clock
 * reading, on cache lines neither has touched.
 */
class MembarrierTest {
    private static final int TRIALS = 20_000;
    /** Ints per cache line: each trial's x and y on lines of their own. */
    private static final int LINE = 16;
    private static final long SPACING_NANOS = 20_000;
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    @Test
    void registeredOnThisKernel() {
        assertTrue(Membarrier.AVAILABLE, "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) needs Linux 4.14 or later; PMDs fall back to a locked store per iteration");
    }

    @Test
    void aFenceOfAllThreadsOrdersAnotherThreadsPlainStoreBeforeItsLoad() throws InterruptedException {
        int[] x = new int[TRIALS * LINE], y = new int[TRIALS * LINE];
        int[] seenByHot = new int[TRIALS], seenByControl = new int[TRIALS];
        long origin = System.nanoTime() + 50_000_000;
        Thread hot = new Thread(() -> {
            for (int t = 0; t < TRIALS; t++) {
                long at = origin + t * SPACING_NANOS;
                while (System.nanoTime() < at) Thread.onSpinWait();
                INTS.setRelease(x, t * LINE, 1);
                seenByHot[t] = (int) INTS.getAcquire(y, t * LINE);
            }
        });
        hot.start();
        for (int t = 0; t < TRIALS; t++) {
            long at = origin + t * SPACING_NANOS;
            while (System.nanoTime() < at) Thread.onSpinWait();
            INTS.setRelease(y, t * LINE, 1);
            Membarrier.fenceAllThreads();
            seenByControl[t] = (int) INTS.getAcquire(x, t * LINE);
        }
        hot.join(60_000);
        int both = 0;
        for (int t = 0; t < TRIALS; t++) if (seenByHot[t] == 0 && seenByControl[t] == 0) both++;
        assertEquals(0, both, "trials in which neither thread saw the other's store");
    }
}
