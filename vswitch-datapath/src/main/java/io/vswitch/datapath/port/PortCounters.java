package io.vswitch.datapath.port;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * A port's statistics, kept in the dataplane's shared-memory counters file so that tools read them
 * without touching PMDs. PMDs add per burst, never per packet.
 */
public final class PortCounters implements AutoCloseable {
    /** Counter type ids in the counters file, one per statistic. */
    public static final int TYPE_BASE = 100;
    public static final String[] NAMES = {
        "rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes", "tx_dropped", "tx_errors"
    };

    public final AtomicCounter rxPackets;
    public final AtomicCounter rxBytes;
    public final AtomicCounter rxDropped;
    public final AtomicCounter rxErrors;
    public final AtomicCounter txPackets;
    public final AtomicCounter txBytes;
    public final AtomicCounter txDropped;
    public final AtomicCounter txErrors;
    /** Type id of a port type's own counters ({@link #extra}), e.g. vhost-user's {@code tx_retries}. */
    public static final int TYPE_EXTRA = 150;

    private final AtomicCounter[] all;
    private final CountersManager manager;
    private final String label;
    private final int portIndex;
    private final java.util.Map<String, AtomicCounter> extras = new java.util.LinkedHashMap<>();

    /** Allocates the counters labelled {@code "<bridge> <port> <stat>"}, keyed by the port index. */
    public PortCounters(CountersManager manager, String bridge, String port, int portIndex) {
        this.manager = manager;
        this.label = bridge + " " + port + " ";
        this.portIndex = portIndex;
        all = new AtomicCounter[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            final int index = portIndex;
            all[i] = manager.newCounter(bridge + " " + port + " " + NAMES[i], TYPE_BASE + i,
                    key -> key.putInt(0, index));
        }
        rxPackets = all[0];
        rxBytes = all[1];
        rxDropped = all[2];
        rxErrors = all[3];
        txPackets = all[4];
        txBytes = all[5];
        txDropped = all[6];
        txErrors = all[7];
    }

    public long get(int stat) {
        return all[stat].get();
    }

    /**
     * A counter of the port type's own (OVS's custom statistics that also appear in
     * {@code Interface.statistics}, e.g. {@code tx_retries}), labelled like the standard ones.
     * Called when the port is opened or reconfigured, never on a PMD; a second call with the same
     * name returns the same counter.
     */
    public synchronized AtomicCounter extra(String stat) {
        final int index = portIndex;
        return extras.computeIfAbsent(stat, s -> manager.newCounter(label + s, TYPE_EXTRA, key -> key.putInt(0, index)));
    }

    /** The port's label prefix ({@code "<bridge> <port> "}) and index, for counters that belong to it (its queues). */
    public String label() {
        return label;
    }

    public int portIndex() {
        return portIndex;
    }

    public CountersManager manager() {
        return manager;
    }

    @Override
    public synchronized void close() {
        for (AtomicCounter c : all) c.close();
        for (AtomicCounter c : extras.values()) c.close();
    }
}
