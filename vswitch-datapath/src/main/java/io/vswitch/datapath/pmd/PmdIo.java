package io.vswitch.datapath.pmd;

import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Per-PMD scratch that ports use during I/O calls (so they need no thread-locals or allocation). */
public final class PmdIo {
    /** Index of the PMD (ports with per-thread tx queues select one with it). */
    public final int pmdIndex;
    /** errno capture for this PMD's system calls. */
    public final MemorySegment errno;

    public PmdIo(int pmdIndex, Arena arena) {
        this.pmdIndex = pmdIndex;
        this.errno = Libc.newErrnoSlot(arena);
    }
}
