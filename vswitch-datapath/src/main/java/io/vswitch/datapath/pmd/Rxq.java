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
}
