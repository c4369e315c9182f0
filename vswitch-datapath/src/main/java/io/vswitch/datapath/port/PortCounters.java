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
    private final AtomicCounter[] all;

    /** Allocates the counters labelled {@code "<bridge> <port> <stat>"}, keyed by the port index. */
    public PortCounters(CountersManager manager, String bridge, String port, int portIndex) {
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

    @Override
    public void close() {
        for (AtomicCounter c : all) c.close();
    }
}
