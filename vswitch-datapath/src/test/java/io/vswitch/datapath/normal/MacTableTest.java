package io.vswitch.datapath.normal;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MacTableTest {
    static final long MAC = 0x5254_0000_0001L;

    @Test
    void learnsPerVlanAndLooksUp() {
        MacTable t = new MacTable(100, 300);
        assertTrue(t.learn(10, MAC, 1, 0));
        assertTrue(t.learn(20, MAC, 2, 0));
        assertEquals(1, t.lookup(10, MAC, 0));
        assertEquals(2, t.lookup(20, MAC, 0));
        assertEquals(-1, t.lookup(30, MAC, 0));
        assertEquals(2, t.size());
    }

    @Test
    void refreshingIsNotAChangeButMovingIs() {
        MacTable t = new MacTable(100, 300);
        assertTrue(t.learn(0, MAC, 1, 0));
        assertFalse(t.learn(0, MAC, 1, 5));
        assertTrue(t.learn(0, MAC, 3, 6));
        assertEquals(3, t.lookup(0, MAC, 6));
        assertEquals(1, t.size());
    }

    @Test
    void generationCountsChangesAnswersCouldSeeNotRefreshes() {
        MacTable t = new MacTable(100, 300);
        int g0 = t.generation();
        t.learn(0, MAC, 1, 0);
        int g1 = t.generation();
        assertTrue(g1 != g0, "added");
        t.learn(0, MAC, 1, 5);
        assertEquals(g1, t.generation(), "a refresh changes no answer");
        t.learn(0, MAC, 2, 6);
        int g2 = t.generation();
        assertTrue(g2 != g1, "moved");
        t.flushPort(2);
        assertTrue(t.generation() != g2, "removed");
    }

    @Test
    void entriesAgeOut() {
        MacTable t = new MacTable(100, 10);
        t.learn(0, MAC, 1, 100);
        assertEquals(1, t.lookup(0, MAC, 110));
        assertEquals(-1, t.lookup(0, MAC, 111), "older than mac-aging-time: gone");
        assertEquals(1, t.sweep(111));
        assertEquals(0, t.size());
        t.setAgingSeconds(1000);
        t.learn(0, MAC, 2, 200);
        assertEquals(2, t.lookup(0, MAC, 1100));
    }

    @Test
    void sizeIsBoundedAndTheOldestGoFirst() {
        MacTable t = new MacTable(64, 300);
        for (int i = 0; i < 1000; i++) t.learn(1, MAC + i, 1, i / 10);
        t.sweep(100);
        assertTrue(t.size() <= 64, "size " + t.size());
        assertEquals(1, t.lookup(1, MAC + 999, 100), "the newest entry survives");
        assertEquals(-1, t.lookup(1, MAC, 100), "the oldest entry was evicted");
    }

    /** One MAC in many VLANs (router-on-a-stick, VLAN sub-interfaces): the VLAN must spread the hash. */
    @Test
    void oneAddressInManyVlansFitsTheTable() {
        MacTable t = new MacTable(8192, 300);
        for (int vlan = 0; vlan < 4096; vlan++) assertTrue(t.learn(vlan, MAC, vlan % 7, 0), "vlan " + vlan);
        for (int vlan = 0; vlan < 4096; vlan++) assertEquals(vlan % 7, t.lookup(vlan, MAC, 0), "vlan " + vlan);
        assertEquals(4096, t.size());
    }

    @Test
    void flushPortForgetsOnlyThatPort() {
        MacTable t = new MacTable(100, 300);
        t.learn(0, MAC, 1, 0);
        t.learn(0, MAC + 1, 2, 0);
        assertEquals(1, t.flushPort(1));
        assertEquals(-1, t.lookup(0, MAC, 0));
        assertEquals(2, t.lookup(0, MAC + 1, 0));
    }

    @Test
    void concurrentLearnersNeverProduceWrongAnswers() throws Exception {
        MacTable t = new MacTable(8192, 300);
        int threads = 4;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger wrong = new AtomicInteger();
        Thread[] ts = new Thread[threads];
        for (int k = 0; k < threads; k++) {
            final int port = k;
            ts[k] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int round = 0; round < 200; round++) {
                    for (int i = 0; i < 2000; i++) {
                        long mac = MAC + (port * 100_000L) + i;  // each thread owns its MACs
                        t.learn(port, mac, port, round);
                        int got = t.lookup(port, mac, round);
                        if (got != port && got != -1) wrong.incrementAndGet();
                    }
                }
            });
            ts[k].start();
        }
        go.countDown();
        for (Thread th : ts) th.join();
        assertEquals(0, wrong.get());
        for (int k = 0; k < threads; k++) {
            for (int i = 0; i < 2000; i++) assertEquals(k, t.lookup(k, MAC + (k * 100_000L) + i, 199));
        }
        assertEquals(threads * 2000, t.size());
    }
}
