package io.vswitch.datapath.pmd;

import io.vswitch.datapath.pipeline.DpPort;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One receive queue of one port, as assigned to a PMD. Its statistics belong to the queue (they
 * survive re-assignment); only the PMD currently polling it writes them.
 */
public final class Rxq {
    public final int portIndex;
    public final String portName;
    public final int queue;
    final AtomicLong packets = new AtomicLong();
    final AtomicLong busyNanos = new AtomicLong();
    /** Packets received in the PMD's current iteration (its own scratch: busy time is shared by packets). */
    int burst;
    /** Polls in a row that threw (the PMD's own scratch). */
    int failures;
    /** While the queue is left alone after failing {@link Pmd#FAILURES_TO_FAULT} polls in a row: until when ({@code nanoTime}); else 0. */
    volatile long pausedUntil;

    public Rxq(DpPort port, int queue) {
        this.portIndex = port.index();
        this.portName = port.name();
        this.queue = queue;
    }

    public long packets() {
        return packets.get();
    }

    public long busyNanos() {
        return busyNanos.get();
    }

    /** Whether the PMD is leaving this queue alone after repeated failures ({@code pmd-rxq-show}: disabled). */
    public boolean paused() {
        long until = pausedUntil;
        return until != 0 && until - System.nanoTime() > 0;
    }
}
