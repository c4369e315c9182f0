package io.vswitch.datapath.sys;

import java.lang.foreign.Arena;
import java.lang.invoke.VarHandle;

/**
 * An asymmetric memory fence (membarrier(2), {@code MEMBARRIER_CMD_PRIVATE_EXPEDITED}): one call
 * from a control thread acts as a full fence on every thread of this process at that moment, so the
 * threads that run hot loops can order their stores with plain release stores and no fence of their
 * own. A PMD's end-of-iteration store would otherwise be a locked instruction, which drains the
 * core's store buffer: after a burst of copies into a guest's buffers that means waiting for those
 * cache lines to come over from the guest's core, once per iteration.
 *
 * <p>Registered once per process at class load; without it (a kernel older than 4.14, or a seccomp
 * filter) {@link #AVAILABLE} is false and the hot side must fence itself.
 */
public final class Membarrier {
    private Membarrier() {}

    private static final long SYS_MEMBARRIER = 324;   // x86-64
    private static final long CMD_QUERY = 0;
    private static final long CMD_PRIVATE_EXPEDITED = 1 << 3;
    private static final long CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    /** True when {@link #fenceAllThreads()} is a fence on every thread of the process. */
    public static final boolean AVAILABLE = register();

    private static boolean register() {
        try (Arena a = Arena.ofConfined()) {
            long supported = Libc.syscall(Libc.newErrnoSlot(a), SYS_MEMBARRIER, CMD_QUERY, 0, 0);
            if (supported < 0 || (supported & CMD_PRIVATE_EXPEDITED) == 0) return false;
            return Libc.syscall(Libc.newErrnoSlot(a), SYS_MEMBARRIER, CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /**
     * Orders the caller's memory accesses and those of every other running thread of the process as
     * a full fence in each would (an inter-processor interrupt to the CPUs running them). Falls back
     * to a fence of the caller's only when {@link #AVAILABLE} is false.
     */
    public static void fenceAllThreads() {
        if (!AVAILABLE) {
            VarHandle.fullFence();
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            if (Libc.syscall(Libc.newErrnoSlot(a), SYS_MEMBARRIER, CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
                throw new IllegalStateException("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after it was registered");
            }
        }
    }
}
