package io.vswitch.datapath.qos;

import io.vswitch.datapath.port.PortCounters;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.foreign.Arena;

/**
 * A port's QoS as the PMDs run it: the {@link QosSpec} it was made from, and its ingress policer,
 * egress policer or shaper (each null when not configured). Made by the dataplane's control thread
 * when the QoS changes, published with the port in a new view, and {@link #close}d (queue memory,
 * counters) once no PMD can see it.
 *
 * <p>Per queue four counters live in the counters file, labelled {@code "<bridge> <port> <queue id>
 * <stat>"} with type ids {@link #TYPE_QUEUE}+0..3 (tx_packets, tx_bytes, tx_errors, backlog), so
 * that {@code qos/show} and OpenFlow queue statistics read them without touching a PMD. A port's
 * {@code ovs_rx_qos_drops} and {@code ovs_tx_qos_drops} (OVS-DPDK's names) go to Interface.statistics.
 */
public final class PortQos implements AutoCloseable {
    public static final int TYPE_QUEUE = 160;
    public static final String[] QUEUE_STATS = {"tx_packets", "tx_bytes", "tx_errors", "backlog"};

    public final QosSpec spec;
    public final IngressPolicer ingress;
    public final EgressPolicer policer;
    public final Shaper shaper;
    public final AtomicCounter rxDrops, txDrops;
    private final Arena arena;
    private final java.util.SortedMap<Long, AtomicCounter[]> queueCounters = new java.util.TreeMap<>();

    public PortQos(QosSpec spec, PortCounters port) {
        this.spec = spec;
        this.rxDrops = port.extra("ovs_rx_qos_drops");
        this.txDrops = port.extra("ovs_tx_qos_drops");
        this.ingress = spec.hasIngress() ? new IngressPolicer(spec) : null;
        boolean htb = QosSpec.LINUX_HTB.equals(spec.type());
        this.arena = htb ? Arena.ofShared() : null;
        try {
            this.shaper = htb ? new Shaper(spec, arena, id -> counters(port, id), txDrops) : null;
            this.policer = spec.hasEgress() && !htb ? new EgressPolicer(spec, id -> counters(port, id)) : null;
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
    }

    /** Each queue's {@link #QUEUE_STATS} counters, by queue id (egress-policer has none). */
    public java.util.SortedMap<Long, AtomicCounter[]> queueCounters() {
        return java.util.Collections.unmodifiableSortedMap(queueCounters);
    }

    private AtomicCounter[] counters(PortCounters port, long queue) {
        AtomicCounter[] c = new AtomicCounter[QUEUE_STATS.length];
        for (int s = 0; s < c.length; s++) {
            c[s] = port.manager().newCounter(port.label() + queue + " " + QUEUE_STATS[s], TYPE_QUEUE + s,
                    key -> {
                        key.putInt(0, port.portIndex());
                        key.putLong(4, queue);
                    });
        }
        queueCounters.put(queue, c);
        return c;
    }

    /** Frees the queue memory and the queue counters; call only when no PMD can reach this any more. */
    @Override
    public void close() {
        for (AtomicCounter[] q : queueCounters.values()) for (AtomicCounter c : q) c.close();
        queueCounters.clear();
        if (arena != null) arena.close();
    }
}
