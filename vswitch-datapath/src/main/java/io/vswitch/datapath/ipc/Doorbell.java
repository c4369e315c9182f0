package io.vswitch.datapath.ipc;

import io.vswitch.datapath.sys.Futex;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

/**
 * Lets the one reader of a ring sleep while the ring is empty, and the ring's writers, in either
 * process, wake it when they publish: a futex word in the channel's shared header. Without it the
 * reader polls, and a poll every millisecond cost a switch at rest some 3 % of a CPU on this
 * paravirtual machine (~35 µs a wake-up), taken from whatever runs beside the PMDs.
 *
 * <p>The reader says ASLEEP, looks at the ring once more, and sleeps only while the word still says
 * ASLEEP; a writer publishes, fences, and if it reads ASLEEP swaps it for AWAKE and wakes the
 * sleeper. A store then a fence then a load on both sides (Dekker): either the reader's second look
 * sees the message or the writer sees ASLEEP, so no message waits for the timeout. A writer pays a
 * fence and a load; the system call only when the reader sleeps. A ring has one reader: one thread
 * at a time may {@link #sleep} (it owns the word's ASLEEP and the call's memory).
 */
public final class Doorbell {
    private static final int AWAKE = 0, ASLEEP = 1;

    private final UnsafeBuffer word;
    private final Futex.Waiter waiter = new Futex.Waiter();   // the reader's

    /** The 4-byte word at {@code offset} (4-aligned) of {@code memory}. */
    Doorbell(UnsafeBuffer memory, int offset) {
        this.word = new UnsafeBuffer(memory.addressOffset() + offset, 4);
    }

    /**
     * Reader: sleeps until a writer rings or {@code timeoutNanos} pass, unless {@code pending} (asked
     * after announcing the sleep) says there is work already.
     */
    public void sleep(long timeoutNanos, BooleanSupplier pending) {
        word.putIntVolatile(0, ASLEEP);
        try {
            if (!pending.getAsBoolean()) Futex.await(waiter, word.addressOffset(), ASLEEP, timeoutNanos);
        } finally {
            word.putIntVolatile(0, AWAKE);
        }
    }

    /** Writer, after publishing: wakes the reader if it sleeps. Allocates nothing (PMDs ring it). */
    public void ring() {
        VarHandle.fullFence();                            // the publication before the load below
        if (word.getIntVolatile(0) == ASLEEP && word.compareAndSetInt(0, ASLEEP, AWAKE)) Futex.wake(word.addressOffset(), 1);
    }
}
