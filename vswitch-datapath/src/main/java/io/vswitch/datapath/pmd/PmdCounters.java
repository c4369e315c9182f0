package io.vswitch.datapath.pmd;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/** A PMD's statistics in the shared counters file; the PMD is their only writer. */
public final class PmdCounters implements AutoCloseable {
    public static final int TYPE_BASE = 200;
    public static final String[] NAMES = {
        "rx_packets", "rx_batches", "tx_packets", "tx_batches", "busy_ns", "idle_ns", "iterations",
        "packet_ins", "packet_ins_limited", "packet_ins_lost", "packet_outs",
        "table_misses", "ttl_drops", "meter_drops", "group_loop_drops",
        // tunnels, in the order of Forwarder's TNL_* indexes
        "tnl_push", "tnl_pop", "tnl_push_no_route", "tnl_push_no_neighbour", "tnl_push_too_big", "tnl_pop_errors",
        "tnl_pop_no_port", "tnl_errors", "tnl_arp_requests",
        // pmd-perf-show
        "busy_iterations", "normal_passes", "openflow_passes", "table_lookups", "subtable_probes",
        // datapath flow caches
        "emc_hits", "megaflow_hits", "megaflow_probes", "upcalls", "upcalls_uninstalled", "megaflows", "megaflows_evicted",
        "emc_run_hits"
    };
    final AtomicCounter[] all = new AtomicCounter[NAMES.length];

    public PmdCounters(CountersManager manager, int pmd, int core) {
        for (int i = 0; i < NAMES.length; i++) {
            all[i] = manager.newCounter("pmd" + pmd + " core " + core + " " + NAMES[i], TYPE_BASE + i,
                    key -> key.putInt(0, pmd));
        }
    }

    public long get(int stat) {
        return all[stat].get();
    }

    static final int RX_PACKETS = 0;
    static final int RX_BATCHES = 1;
    static final int TX_PACKETS = 2;
    static final int TX_BATCHES = 3;
    static final int BUSY_NS = 4;
    static final int IDLE_NS = 5;
    static final int ITERATIONS = 6;
    static final int PACKET_INS = 7;
    static final int PACKET_INS_LIMITED = 8;
    static final int PACKET_INS_LOST = 9;
    static final int PACKET_OUTS = 10;
    static final int TABLE_MISSES = 11;
    static final int TTL_DROPS = 12;
    static final int METER_DROPS = 13;
    static final int GROUP_LOOP_DROPS = 14;
    /** The first tunnel counter; tunnel counter j is {@code TUNNEL + j}. */
    static final int TUNNEL = 15;
    public static final int BUSY_ITERATIONS = 24, NORMAL_PASSES = 25, OPENFLOW_PASSES = 26, TABLE_LOOKUPS = 27, SUBTABLE_PROBES = 28;
    public static final int EMC_HITS = 29, MEGAFLOW_HITS = 30, MEGAFLOW_PROBES = 31, UPCALLS = 32, UPCALLS_UNINSTALLED = 33,
            MEGAFLOWS = 34, MEGAFLOWS_EVICTED = 35;
    /** EMC hits counted and output as runs of one flow (Forwarder.replayRun). */
    public static final int EMC_RUN_HITS = 36;

    void add(int stat, long delta) {
        all[stat].getAndAddRelease(delta);
    }

    void set(int stat, long value) {
        all[stat].setRelease(value);
    }

    @Override
    public void close() {
        for (AtomicCounter c : all) c.close();
    }
}
