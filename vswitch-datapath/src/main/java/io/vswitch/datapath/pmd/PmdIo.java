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
    /**
     * During a {@code txBurst}: bit j, packet j has a partial TCP/UDP checksum ({@code L4Checksum}) to
     * hand on as such. Only ever set for a port whose {@code takesPartialChecksums()} said yes.
     */
    public long txPartial;

    public PmdIo(int pmdIndex, Arena arena) {
        this.pmdIndex = pmdIndex;
        this.errno = Libc.newErrnoSlot(arena);
    }
}
