package io.vswitch.vhostuser;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A PMD enters a ring with a plain store and a load; the connection thread's lock must still never
 * overlap a PMD's burst (it unmaps guest memory under that lock).
 */
class VirtqueueGuardTest {
    @Test
    void theConnectionThreadWaitsForThePmdInsideAndKeepsPmdsOut() throws Exception {
        Virtqueue vq = new Virtqueue(0);
        assertTrue(vq.enter());
        CountDownLatch locked = new CountDownLatch(1);
        Thread connection = new Thread(() -> {
            vq.lock();
            locked.countDown();
        });
        connection.start();
        assertFalse(locked.await(200, TimeUnit.MILLISECONDS), "lock() returned while a PMD was inside");
        vq.leave();
        assertTrue(locked.await(10, TimeUnit.SECONDS));
        assertFalse(vq.enter(), "a PMD entered a ring being changed");
        vq.unlock();
        assertTrue(vq.enter());
        vq.leave();
    }

    /**
     * A PMD thread enters and leaves in a loop and checks, while inside, that the "memory" the
     * connection thread takes away under the lock is there; the connection thread takes it away
     * and gives it back thousands of times.
     */
    @Test
    void aPmdNeverSeesTheRingChangingUnderIt() throws Exception {
        Virtqueue vq = new Virtqueue(0);
        int[] mapped = {1};
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong bursts = new AtomicLong(), violations = new AtomicLong();
        Thread pmd = new Thread(() -> {
            long n = 0, bad = 0;
            while (!stop.getOpaque()) {
                if (!vq.enter()) continue;
                for (int k = 0; k < 4; k++) if (mapped[0] != 1) bad++;
                vq.leave();
                n++;
            }
            bursts.set(n);
            violations.set(bad);
        });
        pmd.start();
        for (int i = 0; i < 5_000; i++) {
            vq.lock();
            mapped[0] = 0;                                   // "unmapped" for a microsecond
            long until = System.nanoTime() + 1_000;
            while (System.nanoTime() < until) Thread.onSpinWait();
            mapped[0] = 1;
            vq.unlock();
        }
        stop.setOpaque(true);
        pmd.join(10_000);
        assertTrue(bursts.get() > 0);
        assertEquals(0, violations.get(), "bursts that saw the ring mid-change, of " + bursts.get());
    }
}
