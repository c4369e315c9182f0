package io.vswitch.datapath.port;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.pmd.PmdIo;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * One switch port's I/O, as the PMDs see it.
 *
 * <p>Contract: {@link #rxBurst} is called by exactly one PMD per queue at a time. {@link #txBurst}
 * may be called by several PMDs at once (each passes its own {@link PmdIo}); it copies or consumes
 * the bytes before returning, so the caller may reuse the packet memory right after. Neither may
 * allocate, block, or throw on bad traffic: errors are counted.
 */
public interface Port extends AutoCloseable {
    String name();

    String type();

    /**
     * The rx queues the PMDs should poll. It may change (a vhost-user guest enabling more queue
     * pairs): the dataplane re-reads it every second and adds or removes queues.
     */
    int rxqCount();

    /** Receives up to {@link Batch#MAX} packets into {@code batch} (from index 0); returns the count. */
    int rxBurst(int queue, Batch batch, PmdIo io);

    /**
     * Transmits {@code count} packets; packet j is {@code lengths[j]} bytes at {@code base + offsets[j]}.
     * Returns how many were sent, which are always the first ones: at the first failure the port stops
     * and counts that packet and the rest in its tx_dropped / tx_errors.
     */
    int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count);

    /**
     * Whether the port may be given frames whose TCP/UDP checksum is partial ({@code PmdIo.txPartial}
     * marks them) and hands them on so (a virtio guest that negotiated GUEST_CSUM). Otherwise the
     * pipeline completes such checksums before the port sees the frame. Read once per marked frame.
     */
    default boolean takesPartialChecksums() {
        return false;
    }

    /** Key/value status for {@code show} (e.g. the kernel device, its MAC). */
    default Map<String, String> status() {
        return Map.of();
    }

    /**
     * Sets the port's device administratively up or down (an OpenFlow port-mod); false if the port
     * has no device of its own or it cannot be changed (e.g. it moved to another namespace).
     */
    default boolean setAdminUp(boolean up) {
        return false;
    }

    /**
     * Called by the PMD (on its thread, so it must not block) when polling {@code queue} threw
     * {@link io.vswitch.datapath.pmd.Pmd#FAILURES_TO_FAULT} times in a row, or ({@code queue} -1) when
     * as many transmit bursts in a row threw: a bug met again every time, not traffic. The port
     * should drop the state the failures come from (a vhost-user port ends the connection, so the
     * guest starts afresh); after a receive fault the PMD leaves the queue alone for a second.
     */
    default void fault(int queue, RuntimeException cause) {
    }

    /** Type-specific counters (OVS's "custom statistics"), e.g. per AF_XDP queue; shown by {@code dpctl/show -s}. */
    default Map<String, Long> customStats() {
        return Map.of();
    }

    @Override
    void close();
}
