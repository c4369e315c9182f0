package io.vswitch.datapath.port;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * A port's statistics, kept in the dataplane's shared-memory counters file so that tools read them
 * without touching PMDs. PMDs add per burst, never per packet, and without locked instructions:
 * each statistic has a counter per PMD that only that PMD writes (as {@link io.vswitch.datapath.pmd.StripedCounters}),
 * all under the statistic's label, and a shared one other threads add to atomically. Readers sum
 * the counters of a label.
 */
public final class PortCounters implements AutoCloseable {
    /** Counter type ids in the counters file, one per statistic. */
    public static final int TYPE_BASE = 100;
    public static final String[] NAMES = {
        "rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes", "tx_dropped", "tx_errors"
    };

    /** One statistic: a counter per PMD (one writer each) and a shared one; its value is their sum. */
    public static final class Stat {
        private final AtomicCounter shared;
        private final AtomicCounter[] perPmd;

        Stat(AtomicCounter shared, AtomicCounter[] perPmd) {
            this.shared = shared;
            this.perPmd = perPmd;
        }

        /** Adds {@code delta} as PMD {@code pmd}, the only writer of its counter; other threads pass -1. */
        public void add(int pmd, long delta) {
            if (pmd >= 0 && pmd < perPmd.length) perPmd[pmd].getAndAddRelease(delta);   // Agrona: single writer, not atomic
            else shared.getAndAdd(delta);
        }

        public long get() {
            long sum = shared.get();
            for (AtomicCounter c : perPmd) sum += c.get();
            return sum;
        }

        void close() {
            shared.close();
            for (AtomicCounter c : perPmd) c.close();
        }
    }

    public final Stat rxPackets;
    public final Stat rxBytes;
    public final Stat rxDropped;
    public final Stat rxErrors;
    public final Stat txPackets;
    public final Stat txBytes;
    public final Stat txDropped;
    public final Stat txErrors;
    /** Type id of a port type's own counters ({@link #extra}), e.g. vhost-user's {@code tx_retries}. */
    public static final int TYPE_EXTRA = 150;

    private final Stat[] all;
    private final CountersManager manager;
    private final String label;
    private final int portIndex;
    private final java.util.Map<String, AtomicCounter> extras = new java.util.LinkedHashMap<>();

    /**
     * Allocates the counters labelled {@code "<bridge> <port> <stat>"}, keyed by the port index: for
     * each statistic a shared one and one per PMD the datapath runs ({@link io.vswitch.datapath.pmd.StripedCounters#expectedPmds}).
     */
    public PortCounters(CountersManager manager, String bridge, String port, int portIndex) {
        this.manager = manager;
        this.label = bridge + " " + port + " ";
        this.portIndex = portIndex;
        int pmds = io.vswitch.datapath.pmd.StripedCounters.expectedPmds();
        all = new Stat[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            AtomicCounter[] perPmd = new AtomicCounter[pmds];
            for (int p = 0; p < pmds; p++) perPmd[p] = newCounter(i);
            all[i] = new Stat(newCounter(i), perPmd);
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

    private AtomicCounter newCounter(int stat) {
        final int index = portIndex;
        return manager.newCounter(label + NAMES[stat], TYPE_BASE + stat, key -> key.putInt(0, index));
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
        for (Stat c : all) c.close();
        for (AtomicCounter c : extras.values()) c.close();
    }
}
