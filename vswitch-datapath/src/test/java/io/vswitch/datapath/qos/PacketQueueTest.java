package io.vswitch.datapath.qos;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketQueueTest {
    @Test
    void fifoAndTailDrop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(PacketQueue.bytes(4));
            PacketQueue q = new PacketQueue(4, m, 0);
            for (int i = 0; i < 4; i++) {
                long p = q.claim(10 + i);
                assertTrue(p >= 0);
                m.set(ValueLayout.JAVA_BYTE, q.slotOffset(p), (byte) i);
                q.publish(p);
            }
            assertEquals(-1, q.claim(10), "full");
            assertEquals(-1, q.claim(PacketQueue.SLOT_SIZE + 1), "too big for a slot");
            assertEquals(4, q.backlog());
            for (int i = 0; i < 4; i++) {
                long at = q.peek();
                assertEquals(i, m.get(ValueLayout.JAVA_BYTE, at));
                assertEquals(10 + i, q.peekLength());
                q.advance();
            }
            assertEquals(-1, q.peek());
            assertEquals(-1, q.claim(10), "advanced slots are not free before release");
            q.release();
            assertEquals(0, q.backlog());
            assertTrue(q.claim(10) >= 0);
        }
    }

    /** Two producers and a consumer: every packet arrives once, intact, in each producer's order. */
    @Test
    void producersNeverCorruptEachOther() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(PacketQueue.bytes(64));
            PacketQueue q = new PacketQueue(64, m, 0);
            int perProducer = 200_000;
            AtomicLong dropped = new AtomicLong();
            Thread[] producers = new Thread[2];
            for (int t = 0; t < 2; t++) {
                final int id = t;
                producers[t] = new Thread(() -> {
                    for (int i = 0; i < perProducer; ) {
                        long p = q.claim(16);
                        if (p < 0) {
                            Thread.onSpinWait();
                            continue;
                        }
                        long at = q.slotOffset(p);
                        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, id);
                        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, i);
                        q.publish(p);
                        i++;
                    }
                });
                producers[t].start();
            }
            long[] next = new long[2];
            long received = 0;
            while (received < 2L * perProducer) {
                long at = q.peek();
                if (at < 0) {
                    q.release();
                    Thread.onSpinWait();
                    continue;
                }
                int who = (int) m.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
                long seq = m.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8);
                assertEquals(next[who], seq, "producer " + who + " out of order or corrupted");
                next[who]++;
                q.advance();
                received++;
                if ((received & 7) == 0) q.release();
            }
            for (Thread t : producers) t.join();
            assertEquals(perProducer, next[0]);
            assertEquals(perProducer, next[1]);
            assertEquals(0, dropped.get());
        }
    }
}
