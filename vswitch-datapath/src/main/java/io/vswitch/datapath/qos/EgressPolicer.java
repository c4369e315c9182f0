package io.vswitch.datapath.qos;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.Arrays;
import java.util.function.LongFunction;

/**
 * Egress policing in front of a port's transmit (OVS-DPDK's {@code egress-policer} and
 * {@code trtcm-policer}). egress-policer: one committed bucket (cir bytes/s, cbs bytes) for the port.
 * trtcm-policer: each packet is first colored by its queue's RFC 4115 meter (color-blind; a queue
 * the QoS lacks means queue 0), then by the port's (color-aware); red is dropped. Sizes without the
 * Ethernet header, as OVS-DPDK. Any number of PMDs may police at once.
 *
 * <p>Per queue it counts tx_packets, tx_bytes (whole frames) and tx_errors (dropped), summed per run
 * of same-queue packets so a burst usually costs one atomic add per counter.
 */
public final class EgressPolicer {
    private final Trtcm port;
    /** trtcm-policer only (else empty): queue ids sorted, their meters and counters. */
    private final long[] ids;
    private final Trtcm[] meters;
    private final AtomicCounter[][] counters;
    private final int fallback;

    public EgressPolicer(QosSpec spec, LongFunction<AtomicCounter[]> queueCounters) {
        port = new Trtcm(spec.meter());
        boolean perQueue = QosSpec.TRTCM_POLICER.equals(spec.type());
        int n = perQueue ? spec.queues().size() : 0;
        ids = new long[n];
        meters = new Trtcm[n];
        counters = new AtomicCounter[n][];
        int k = 0;
        if (perQueue) {
            for (QosSpec.QueueSpec q : spec.queues().values()) {   // sorted by id
                ids[k] = q.id();
                meters[k] = new Trtcm(q.meter());
                counters[k] = queueCounters.apply(q.id());
                k++;
            }
        }
        fallback = n == 0 ? -1 : Math.max(0, Arrays.binarySearch(ids, 0L));
    }

    /**
     * Polices {@code count} staged packets, keeping those that pass in order (offsets, lengths and
     * queues compacted in place); returns how many remain.
     */
    public int police(long now, long[] offsets, int[] lengths, long[] queues, int count) {
        int kept = 0;
        int run = -1;
        long runPackets = 0, runBytes = 0, runDropped = 0;
        for (int j = 0; j < count; j++) {
            int len = lengths[j];
            int bytes = Math.max(0, len - 14);
            int q = -1;
            int color = Trtcm.GREEN;
            if (fallback >= 0) {
                q = Arrays.binarySearch(ids, queues[j]);
                if (q < 0) q = fallback;
                color = meters[q].colorBlind(now, bytes);
            }
            boolean pass = color != Trtcm.RED && port.colorAware(now, bytes, color) != Trtcm.RED;
            if (q != run) {
                flush(run, runPackets, runBytes, runDropped);
                run = q;
                runPackets = runBytes = runDropped = 0;
            }
            if (!pass) {
                runDropped++;
                continue;
            }
            runPackets++;
            runBytes += len;
            offsets[kept] = offsets[j];
            lengths[kept] = len;
            queues[kept] = queues[j];
            kept++;
        }
        flush(run, runPackets, runBytes, runDropped);
        return kept;
    }

    private void flush(int q, long packets, long bytes, long dropped) {
        if (q < 0) return;
        AtomicCounter[] c = counters[q];
        if (packets > 0) {
            c[0].getAndAdd(packets);
            c[1].getAndAdd(bytes);
        }
        if (dropped > 0) c[2].getAndAdd(dropped);
    }
}
