package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Keeps each bridge's OpenFlow tables in the dataplane equal to vswitchd's. The OpenFlow loop
 * {@link #offer}s a bridge's whole tables (compiled rules) after a change; this thread sends the
 * latest to the dataplane, so a burst of flow-mods becomes one transfer and the OpenFlow loop never
 * waits for the dataplane. Each transfer carries a generation; when state dumps show the
 * dataplane with another one (it restarted, or a transfer failed), the tables are sent again.
 */
public final class FlowSync implements io.vswitch.ofproto.openflow.OfSwitch.DataplaneLink, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FlowSync.class.getName());

    private record Tables(long generation, List<String> rules) {}

    private final BridgeReconciler.DatapathSupplier datapath;
    /** The newest tables of every bridge. */
    private final Map<String, Tables> latest = new ConcurrentHashMap<>();
    /** Bridges whose newest tables the dataplane has not acknowledged. */
    private final Map<String, Boolean> dirty = new ConcurrentHashMap<>();
    private final Semaphore wake = new Semaphore(0);
    /**
     * Bridges whose tables are being sent now, and per bridge the older generation the last state
     * dump showed. A dump that crosses a transfer (a million flows take seconds to send and apply)
     * shows the old generation once; the tables are sent again only when two dumps in a row, with
     * no transfer of the bridge in flight or finished in between, show the same other generation.
     * Re-sending on the first such dump re-sent a million-flow table again and again.
     */
    private final java.util.Set<String> sending = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> behind = new ConcurrentHashMap<>();
    /** The generation whose transfer last failed, per bridge (to log a persistent failure once). */
    private final Map<String, Long> failedGeneration = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    private final java.nio.file.Path runDir;

    /** @param runDir where the dataplane's counters file is (for queue statistics) */
    public FlowSync(BridgeReconciler.DatapathSupplier datapath, java.nio.file.Path runDir) {
        this.datapath = datapath;
        this.runDir = runDir;
        this.thread = Thread.ofPlatform().daemon().name("flow-sync").start(this::loop);
    }

    /** New tables for {@code bridge} (called on the OpenFlow loop). */
    @Override
    public void tables(String bridge, long generation, List<String> rules) {
        latest.put(bridge, new Tables(generation, rules));
        dirty.put(bridge, true);
        wake.release();
    }

    /** Packet-outs go straight to the command ring: they do not wait for table transfers. */
    @Override
    public boolean packetOut(String bridge, int inPort, String actions, byte[] packet) {
        try {
            return datapath.get().packetOut(bridge, inPort, actions, packet);
        } catch (DatapathException e) {
            return false;
        }
    }

    @Override
    public Map<Long, long[]> queueStats(String bridge, String port) {
        return io.vswitch.datapath.ipc.QueueCounters.read(runDir, bridge, port);
    }

    @Override
    public void portAdmin(String bridge, String port, boolean up) {
        try {
            datapath.get().setPortAdminUp(bridge, port, up);
        } catch (DatapathException e) {
            // not attached: the port-mod still holds in the tables
        }
    }

    /** The bridge is gone: nothing more to send for it. */
    public void forget(String bridge) {
        latest.remove(bridge);
        dirty.remove(bridge);
    }

    /** Receives the dataplane's rule counters of a generation of a bridge's tables. */
    @FunctionalInterface
    public interface CounterSink {
        void counters(String bridge, long generation, long[] counters);
    }

    private volatile CounterSink counterSink = (b, g, c) -> { };

    public void onCounters(CounterSink sink) {
        this.counterSink = sink;
    }


    /**
     * Compares what the dataplane runs with the newest tables: re-sends where the generation differs,
     * passes the rule counters on where it is the newest.
     */
    public void check(io.vswitch.datapath.ipc.DatapathState state) {
        latest.forEach((bridge, t) -> {
            Long shown = state.flowGenerations().get(bridge);
            if (shown == null) return;
            long have = shown;                                   // compared as numbers: boxed Longs above 127 are distinct objects
            if (have != t.generation()) {
                if (sending.contains(bridge)) return;
                Long before = behind.put(bridge, have);
                if (before != null && before.longValue() == have) {
                    behind.remove(bridge);
                    dirty.put(bridge, true);
                    wake.release();
                }
            } else {
                behind.remove(bridge);
                io.vswitch.datapath.ipc.FlowCounters c = state.flowCounters().get(bridge);
                if (c != null) counterSink.counters(bridge, have, c.dense());
            }
        });
    }

    private void loop() {
        while (running) {
            try {
                wake.tryAcquire(1, TimeUnit.SECONDS);
                wake.drainPermits();
                for (String bridge : List.copyOf(dirty.keySet())) {
                    Tables t = latest.get(bridge);
                    if (t == null) {
                        dirty.remove(bridge);
                        continue;
                    }
                    DatapathClient dp;
                    try {
                        dp = datapath.get();
                    } catch (DatapathException e) {
                        break;                                // no dataplane: retried every second
                    }
                    dirty.remove(bridge);
                    sending.add(bridge);
                    try {
                        dp.setFlows(bridge, t.generation(), t.rules());
                    } catch (DatapathException e) {
                        // Usually the bridge is not in the dataplane yet (retried every second). A refusal that
                        // persists (rules the dataplane cannot parse) is logged once per generation.
                        Long before = failedGeneration.put(bridge, t.generation());
                        if (before == null || before != t.generation()) {
                            LOG.log(e.getMessage().startsWith("no bridge") ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                                    bridge + ": tables (generation " + t.generation() + ") not taken by the dataplane: " + e.getMessage());
                        }
                        dirty.putIfAbsent(bridge, true);
                        continue;
                    } finally {
                        sending.remove(bridge);
                        behind.remove(bridge);
                    }
                    failedGeneration.remove(bridge);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "sending flow tables failed; retrying", e);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
