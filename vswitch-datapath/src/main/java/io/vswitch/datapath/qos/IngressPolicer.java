package io.vswitch.datapath.qos;

import io.vswitch.datapath.packet.Batch;

/**
 * Ingress policing (Interface {@code ingress_policing_rate}/{@code _burst} in kbit/s and kbit,
 * {@code ingress_policing_kpkts_rate}/{@code _burst} in thousands of packets): run on a received
 * burst before the pipeline sees it, so a policed packet costs no lookup. A packet must fit every
 * configured bucket; the rest are dropped. As OVS-DPDK, a packet's size is counted without its
 * Ethernet header.
 */
public final class IngressPolicer {
    private final TokenBucket bits;
    private final TokenBucket packets;

    public IngressPolicer(QosSpec spec) {
        bits = spec.ingressRate() > 0 ? new TokenBucket(spec.ingressRate() * 1000, spec.ingressBurst() * 1000) : null;
        packets = spec.ingressKpktsRate() > 0 ? new TokenBucket(spec.ingressKpktsRate() * 1000, spec.ingressKpktsBurst() * 1000) : null;
    }

    /** Drops the packets of {@code batch} that exceed the rate, keeping the others in order; returns how many were dropped. */
    public int police(Batch batch, long now) {
        int n = batch.count, kept = 0;
        long partial = batch.partial, keptPartial = 0;         // the marks move with their packets
        for (int i = 0; i < n; i++) {
            int len = batch.length[i];
            long size = 8L * Math.max(0, len - 14);
            if (packets != null && !packets.conforms(now, 1)) continue;
            if (bits != null && !bits.tryTake(now, size)) continue;
            if (packets != null) packets.tryTake(now, 1);
            batch.offset[kept] = batch.offset[i];
            batch.length[kept] = len;
            keptPartial |= (partial >>> i & 1) << kept;
            kept++;
        }
        batch.count = kept;
        batch.partial = keptPartial;
        return n - kept;
    }
}
