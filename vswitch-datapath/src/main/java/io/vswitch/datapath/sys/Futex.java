package io.vswitch.datapath.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * futex(2) on a 32-bit word: a thread sleeps in the kernel while the word holds a value, until
 * another thread, in this process or in one that maps the same file, wakes it. The words live in
 * shared file mappings, so these are the shared operations (no {@code FUTEX_PRIVATE_FLAG}).
 */
public final class Futex {
    private Futex() {}

    private static final long SYS_FUTEX = 202;          // x86-64
    private static final long FUTEX_WAIT = 0, FUTEX_WAKE = 1;
    private static final int EAGAIN = 11, EINTR = 4, ETIMEDOUT = 110;

    /** A sleeping thread's own memory for the call (its timeout and errno): one per thread that waits. */
    public static final class Waiter {
        private final MemorySegment timespec;
        private final MemorySegment errno;

        public Waiter() {
            Arena arena = Arena.ofAuto();
            timespec = arena.allocate(16, 8);
            errno = Libc.newErrnoSlot(arena);
        }
    }

    /**
     * Sleeps while the word at {@code address} holds {@code expected}, until woken, a signal, or
     * {@code timeoutNanos}; returns at once if it holds another value. Throws {@link SysException} on
     * any other error (the address is not mapped): a caller that went on would poll in a tight loop.
     */
    public static void await(Waiter w, long address, int expected, long timeoutNanos) {
        w.timespec.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
        w.timespec.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
        if (Libc.syscall(w.errno, SYS_FUTEX, address, FUTEX_WAIT, expected & 0xffffffffL, w.timespec.address()) == 0) return;
        int e = Libc.errno(w.errno);
        if (e != EAGAIN && e != EINTR && e != ETIMEDOUT) throw new SysException("futex wait", e);
    }

    /** Wakes up to {@code count} threads sleeping on the word at {@code address}. Allocates nothing. */
    public static void wake(long address, int count) {
        Libc.syscallFast(SYS_FUTEX, address, FUTEX_WAKE, count);
    }
}
