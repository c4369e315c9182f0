package io.vswitch.datapath.ipc;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A ring's reader asleep on its doorbell wakes for every message, never only at its timeout. */
class DoorbellTest {
    private static final long MINUTE = 60_000_000_000L;

    /**
     * The channel file mapped twice, as vswitch-dp and vswitchd map it: a ring on one mapping wakes a
     * reader asleep on the other (a shared futex; a private one would sleep out the minute).
     */
    @Test
    void aWriterInTheOtherMappingWakesTheSleepingReader(@TempDir Path dir) throws Exception {
        IpcChannel dataplane = IpcChannel.create(dir, 1, 7), control = IpcChannel.open(dir);
        Thread reader = Thread.ofPlatform().daemon().start(
                () -> dataplane.commandsBell.sleep(MINUTE, () -> dataplane.commands.size() > 0));
        Thread.sleep(200);                                // most likely asleep by now; if not, it sees the message
        assertTrue(control.commands.write(1, new UnsafeBuffer(new byte[8]), 0, 8));
        control.commandsBell.ring();
        reader.join(30_000);
        assertFalse(reader.isAlive(), "the reader still sleeps: the ring did not wake it");
        dataplane.close();                                // only now: a sleeper touches its word when it wakes
        control.close();
    }

    /**
     * Tens of thousands of messages, each written at a random moment of the reader's look-then-sleep,
     * all arrive without the reader ever sleeping out its minute: no wake is lost in the window
     * between its last look at the ring and its sleep.
     */
    @Test
    void noMessageWaitsForTheTimeout() throws Exception {
        int messages = 20_000;
        IpcChannel c = IpcChannel.anonymous(1, 7);      // closed only once the reader is done
        {
            AtomicLong read = new AtomicLong(), sleeps = new AtomicLong();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                while (read.get() < messages) {
                    if (c.commands.read((t, b, o, l) -> read.incrementAndGet()) == 0) {
                        sleeps.incrementAndGet();
                        c.commandsBell.sleep(MINUTE, () -> c.commands.size() > 0);
                    }
                }
            });
            UnsafeBuffer msg = new UnsafeBuffer(new byte[8]);
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                while (!c.commands.write(1, msg, 0, 8)) Thread.onSpinWait();
                c.commandsBell.ring();
                long until = System.nanoTime() + ThreadLocalRandom.current().nextInt(20_000);
                while (System.nanoTime() < until) Thread.onSpinWait();
            }
            reader.join(MINUTE / 2_000_000);
            assertFalse(reader.isAlive(), "a message waited for the reader's timeout: " + read.get() + " of " + messages + " read");
            assertEquals(messages, read.get());
            assertTrue(sleeps.get() > messages / 10, "the reader went to sleep between messages (" + sleeps.get() + " times), so wakes were tested");
            System.out.printf("%d messages, the reader slept %d times, %.1f s%n", messages, sleeps.get(), (System.nanoTime() - t0) / 1e9);
        }
        c.close();
    }
}
