package io.vswitch.datapath;

import io.vswitch.datapath.flow.FlowKeyFormat;
import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pmd.Pmd;
import io.vswitch.datapath.pmd.PmdCounters;
import io.vswitch.datapath.pmd.Rxq;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.qos.PortQos;
import io.vswitch.datapath.qos.QosSpec;
import io.vswitch.datapath.unixctl.UnixctlException;
import io.vswitch.datapath.unixctl.UnixctlServer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The dataplane's unixctl commands, with OVS's names and output formats. */
final class DataplaneCommands {
    private final Datapath dp;
    /** pmd-stats-clear baselines: PMD counters are never reset under a running PMD, we subtract. */
    private final Map<Integer, long[]> pmdBaseline = new HashMap<>();
    private final Map<Rxq, long[]> rxqBaseline = new HashMap<>();
    /** When the PMD statistics were last cleared (or the dataplane started): pmd-perf-show's measurement window. */
    private long clearedAt = System.nanoTime();

    DataplaneCommands(Datapath dp) {
        this.dp = dp;
    }

    void registerAll(UnixctlServer s) {
        s.register("fdb/show", "BRIDGE", 1, 1, a -> fdbShow(a.get(0)));
        s.register("fdb/flush", "[BRIDGE]", 0, 1, a -> fdbFlush(a.isEmpty() ? null : a.get(0)));
        s.register("dpif-netdev/pmd-stats-show", "", 0, 0, a -> pmdStatsShow());
        s.register("dpif-netdev/pmd-stats-clear", "", 0, 0, a -> pmdStatsClear());
        s.register("dpif-netdev/pmd-perf-show", "[-pmd core]", 0, 2, this::pmdPerfShow);
        s.register("dpif-netdev/pmd-rxq-show", "", 0, 0, a -> pmdRxqShow());
        s.register("dpif/show", "", 0, 0, a -> dpifShow());
        s.register("dpctl/show", "[-s]", 0, 1, a -> dpctlShow(a.contains("-s")));
        s.register("dpctl/dump-flows", "[-m]", 0, 1, a -> {
            if (!a.isEmpty() && !a.get(0).equals("-m")) {
                throw new UnixctlException("unknown option '" + a.get(0) + "': dpctl/dump-flows takes only -m (this datapath always shows every field)");
            }
            return dumpFlows();
        });
        s.register("dpctl/del-flows", "", 0, 0, a -> delFlows());
        s.register("qos/show", "interface", 1, 1, a -> qosShow(a.get(0)));
        s.register("qos/show-types", "interface", 1, 1, a -> qosShowTypes(a.get(0)));
        s.register("ovs/route/show", "", 0, 0, a -> tunnel("ovs/route/show", a));
        s.register("ovs/route/add", "ip/plen output_bridge [gw] [src=src_ip]", 2, 4, a -> tunnel("ovs/route/add", a));
        s.register("ovs/route/del", "ip/plen", 1, 1, a -> tunnel("ovs/route/del", a));
        s.register("ovs/route/lookup", "ip_addr", 1, 1, a -> tunnel("ovs/route/lookup", a));
        s.register("tnl/egress_port_range", "[min max]", 0, 2, a -> tunnel("tnl/egress_port_range", a));
        for (String prefix : List.of("tnl/neigh/", "tnl/arp/")) {
            s.register(prefix + "show", "", 0, 0, a -> tunnel("tnl/neigh/show", a));
            s.register(prefix + "flush", "", 0, 0, a -> tunnel("tnl/neigh/flush", a));
            s.register(prefix + "set", "BRIDGE IP MAC", 3, 3, a -> tunnel("tnl/neigh/set", a));
        }
    }

    private String tunnel(String command, List<String> args) throws UnixctlException {
        try {
            return dp.tunnelCommand(command, args);
        } catch (IllegalArgumentException e) {
            throw new UnixctlException(e.getMessage());
        }
    }

    private DpPort port(String name) throws UnixctlException {
        for (DpPort p : dp.view().ports) if (p != null && p.name().equals(name)) return p;
        throw new UnixctlException("no such interface");
    }

    /** OVS's qos/show: the QoS type and settings, then per queue its settings and counters. */
    String qosShow(String name) throws UnixctlException {
        DpPort p = port(name);
        PortQos qos = p.qos();
        if (qos == null || !qos.spec.hasEgress()) return "QoS not configured on " + name + "\n";   // a reply, not an error, as OVS
        QosSpec spec = qos.spec;
        StringBuilder sb = new StringBuilder("QoS: " + name + " " + spec.type() + "\n");
        spec.details().forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        for (QosSpec.QueueSpec q : spec.queues().values()) {
            sb.append('\n').append(q.id() == 0 ? "Default:\n" : "Queue " + q.id() + ":\n");
            spec.details(q).forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
            org.agrona.concurrent.status.AtomicCounter[] c = qos.queueCounters().get(q.id());
            if (c == null) continue;                                   // egress-policer: no queues of its own
            for (int s = 0; s < PortQos.QUEUE_STATS.length; s++) {
                if (s == 3 && qos.shaper == null) continue;            // only a shaper holds packets back
                sb.append("  ").append(PortQos.QUEUE_STATS[s]).append(": ").append(c[s].get()).append('\n');
            }
        }
        return sb.toString();
    }

    String qosShowTypes(String name) throws UnixctlException {
        port(name);
        StringBuilder sb = new StringBuilder();
        for (String t : QosSpec.TYPES) sb.append("QoS type: ").append(t).append('\n');
        return sb.toString();
    }

    private DpBridge bridge(String name) throws UnixctlException {
        DpBridge b = dp.view().bridge(name);
        if (b == null) throw new UnixctlException("no such bridge");
        return b;
    }

    private static String portName(DpPort p) {
        return p.ofport() == DpPort.OFPP_LOCAL ? "LOCAL" : Integer.toString(p.ofport());
    }

    String fdbShow(String bridgeName) throws UnixctlException {
        DpBridge b = bridge(bridgeName);
        DatapathView v = dp.view();
        StringBuilder sb = new StringBuilder(" port  VLAN  MAC                Age\n");
        List<MacTable.Entry> entries = new ArrayList<>(b.macs().entries(dp.now()));
        entries.sort(Comparator.comparingInt(MacTable.Entry::ageSeconds).reversed());
        for (MacTable.Entry e : entries) {
            DpPort p = v.ports[e.port()];
            if (p == null || p.bridgeIndex() != b.index()) continue;
            sb.append(String.format("%5s  %4d  %s  %3d%n", portName(p), e.vlan(), FlowKeyFormat.mac(e.mac()), e.ageSeconds()));
        }
        return sb.toString();
    }

    String fdbFlush(String bridgeName) throws UnixctlException {
        if (bridgeName != null) {
            bridge(bridgeName).macs().flush();
        } else {
            for (DpBridge b : dp.view().bridges) if (b != null) b.macs().flush();
        }
        return "table successfully flushed\n";
    }

    private static long[] values(PmdCounters c) {
        long[] v = new long[PmdCounters.NAMES.length];
        for (int i = 0; i < v.length; i++) v[i] = c.get(i);
        return v;
    }

    synchronized String pmdStatsShow() {
        StringBuilder sb = new StringBuilder();
        for (Pmd p : dp.pmds()) {
            long[] v = values(p.counters());
            long[] base = pmdBaseline.getOrDefault(p.index, new long[v.length]);
            for (int i = 0; i < v.length; i++) v[i] -= base[i];
            long rx = v[0], batches = v[1], tx = v[2], txBatches = v[3], busy = v[4], idle = v[5];
            long total = busy + idle;
            sb.append(String.format("pmd thread numa_id 0 core_id %d:%n", p.core));
            sb.append(String.format("  packets received: %d%n", rx));
            sb.append(String.format("  batches received: %d%n", batches));
            sb.append(String.format("  avg. packets per batch: %.2f%n", batches == 0 ? 0.0 : (double) rx / batches));
            long emc = v[PmdCounters.EMC_HITS], megaflow = v[PmdCounters.MEGAFLOW_HITS], upcalls = v[PmdCounters.UPCALLS];
            sb.append(String.format("  emc hits: %d%n  megaflow hits: %d%n", emc, megaflow));
            sb.append(String.format("  avg. subtable lookups per megaflow hit: %.2f%n",
                    megaflow == 0 ? 0.0 : (double) v[PmdCounters.MEGAFLOW_PROBES] / megaflow));
            sb.append(String.format("  miss with success upcall: %d%n", upcalls));
            sb.append(String.format("  upcalls not installed: %d%n", v[PmdCounters.UPCALLS_UNINSTALLED]));
            sb.append(String.format("  packets sent: %d%n", tx));
            sb.append(String.format("  avg. packets per output batch: %.2f%n", txBatches == 0 ? 0.0 : (double) tx / txBatches));
            sb.append(String.format("  idle ns: %d (%.2f%%)%n", idle, total == 0 ? 0.0 : 100.0 * idle / total));
            sb.append(String.format("  processing ns: %d (%.2f%%)%n", busy, total == 0 ? 0.0 : 100.0 * busy / total));
            if (rx > 0) {
                sb.append(String.format("  avg ns per packet: %.2f (%d/%d)%n", (double) total / rx, total, rx));
                sb.append(String.format("  avg processing ns per packet: %.2f (%d/%d)%n", (double) busy / rx, busy, rx));
            }
            if (v[7] + v[8] + v[9] + v[10] > 0) {
                sb.append(String.format("  packet-ins: %d (rate-limited: %d, lost to a full ring: %d)%n", v[7], v[8], v[9]));
                sb.append(String.format("  packet-outs: %d%n", v[10]));
            }
            if (v[11] + v[12] + v[13] + v[14] > 0) {
                sb.append(String.format("  OpenFlow drops: table miss %d, expired TTL %d, meter %d, group loop %d%n", v[11], v[12], v[13], v[14]));
            }
            long[] t = java.util.Arrays.copyOfRange(v, 15, 24);
            if (java.util.Arrays.stream(t).sum() > 0) {
                sb.append(String.format("  tunnels: encapsulated %d, decapsulated %d, ARP requests %d%n", t[0], t[1], t[8]));
                sb.append(String.format("  tunnel drops: no route %d, no neighbour %d, too big for the MTU %d, malformed %d, no vport %d, other %d%n",
                        t[2], t[3], t[4], t[5], t[6], t[7]));
            }
            sb.append(String.format("  pmd-sleep-max: %d us%n", p.sleepMaxMicros()));
        }
        return sb.toString();
    }

    /**
     * OVS's pmd-perf-show, for what this datapath has: iterations (busy/idle), received packets and
     * the PMD's time per packet, passes through a bridge (received plus recirculated tunnel packets)
     * by the direct NORMAL path or the OpenFlow tables, with the table lookups per pass and the
     * passes through the tables split by cache level (EMC hits, megaflow hits with the subtables
     * probed per hit, upcalls that ran the tables with their lookups; the EMC hits taken as runs of
     * one flow), the megaflows installed, and
     * transmitted packets and batches.
     */
    synchronized String pmdPerfShow(List<String> args) throws UnixctlException {
        int core = -1;
        if (!args.isEmpty()) {
            if (args.size() != 2 || !args.get(0).equals("-pmd")) throw new UnixctlException("Usage: dpif-netdev/pmd-perf-show [-pmd core]");
            try {
                core = Integer.parseInt(args.get(1));
            } catch (NumberFormatException e) {
                throw new UnixctlException("Invalid core: " + args.get(1));
            }
        }
        double seconds = (System.nanoTime() - clearedAt) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Time: %s%nMeasurement duration: %.3f s%n%n",
                java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), seconds));
        for (Pmd p : dp.pmds()) {
            if (core >= 0 && p.core != core) continue;
            long[] v = values(p.counters());
            long[] base = pmdBaseline.getOrDefault(p.index, new long[v.length]);
            for (int i = 0; i < v.length; i++) v[i] -= base[i];
            long iterations = v[6], busyIt = v[PmdCounters.BUSY_ITERATIONS], rx = v[0], tx = v[2], txBatches = v[3], busy = v[4], idle = v[5];
            long normal = v[PmdCounters.NORMAL_PASSES], openflow = v[PmdCounters.OPENFLOW_PASSES], lookups = v[PmdCounters.TABLE_LOOKUPS],
                    probes = v[PmdCounters.SUBTABLE_PROBES], passes = normal + openflow;
            long emc = v[PmdCounters.EMC_HITS], megaflow = v[PmdCounters.MEGAFLOW_HITS], upcalls = v[PmdCounters.UPCALLS];
            long used = busy + idle;
            sb.append(String.format("pmd thread numa_id 0 core_id %d:%n%n", p.core));
            sb.append(String.format("  Iterations:        %12d  (%.2f us/it)%n", iterations, iterations == 0 ? 0.0 : used / 1e3 / iterations));
            sb.append(String.format("  - Used ns:         %12d  (%5.1f %% of the measurement)%n", used, seconds == 0 ? 0.0 : 100.0 * used / (seconds * 1e9)));
            sb.append(String.format("  - idle iterations: %12d  (%5.1f %% of used ns)%n", iterations - busyIt, used == 0 ? 0.0 : 100.0 * idle / used));
            sb.append(String.format("  - busy iterations: %12d  (%5.1f %% of used ns)%n", busyIt, used == 0 ? 0.0 : 100.0 * busy / used));
            if (rx == 0) {
                sb.append(String.format("  Rx packets:        %12d%n  Tx packets:        %12d%n%n", rx, tx));
                continue;
            }
            sb.append(String.format("  Rx packets:        %12d  (%.0f Kpps, %.1f ns/pkt)%n", rx, rx / seconds / 1e3, (double) busy / rx));
            sb.append(String.format("  Datapath passes:   %12d  (%.2f passes/pkt)%n", passes, (double) passes / rx));
            sb.append(String.format("  - NORMAL only:     %12d  (%5.1f %%)%n", normal, passes == 0 ? 0.0 : 100.0 * normal / passes));
            sb.append(String.format("  - OpenFlow tables: %12d  (%5.1f %%)%n", openflow, passes == 0 ? 0.0 : 100.0 * openflow / passes));
            sb.append(String.format("    - EMC hits:      %12d  (%5.1f %%)%n", emc, openflow == 0 ? 0.0 : 100.0 * emc / openflow));
            long runs = v[PmdCounters.EMC_RUN_HITS];
            sb.append(String.format("      - in runs:     %12d  (%5.1f %% of EMC hits: a run of one flow is counted once, output packet by packet)%n",
                    runs, emc == 0 ? 0.0 : 100.0 * runs / emc));
            sb.append(String.format("    - Megaflow hits: %12d  (%5.1f %%, %.2f subtbl lookups/hit)%n", megaflow,
                    openflow == 0 ? 0.0 : 100.0 * megaflow / openflow, megaflow == 0 ? 0.0 : (double) v[PmdCounters.MEGAFLOW_PROBES] / megaflow));
            sb.append(String.format("    - Upcalls:       %12d  (%5.1f %%, %.2f table lookups/upcall, %.2f subtbl lookups/lookup)%n", upcalls,
                    openflow == 0 ? 0.0 : 100.0 * upcalls / openflow, upcalls == 0 ? 0.0 : (double) lookups / upcalls,
                    lookups == 0 ? 0.0 : (double) probes / lookups));
            sb.append(String.format("    - Not installed: %12d  (flow limit or caches off; a pass that runs per packet: packet-in, group, tunnel recirculation)%n",
                    v[PmdCounters.UPCALLS_UNINSTALLED]));
            sb.append(String.format("  Megaflows:         %12d  (evicted: %d)%n", v[PmdCounters.MEGAFLOWS] + base[PmdCounters.MEGAFLOWS],
                    v[PmdCounters.MEGAFLOWS_EVICTED]));
            sb.append(String.format("  Tx packets:        %12d  (%.0f Kpps)%n", tx, tx / seconds / 1e3));
            sb.append(String.format("  Tx batches:        %12d  (%.2f pkts/batch)%n%n", txBatches, txBatches == 0 ? 0.0 : (double) tx / txBatches));
        }
        return sb.toString();
    }

    /**
     * OVS's dpctl/dump-flows for the userspace datapath: every PMD's megaflows, each PMD's under a
     * {@code flow-dump from pmd on cpu core: N} line. The PMDs write their own dumps between two
     * batches (nothing else may read their caches).
     */
    String dumpFlows() throws UnixctlException {
        StringBuilder sb = new StringBuilder();
        for (Pmd p : dp.pmds()) {
            String flows = onPmd(p, (f, v, now) -> f.dumpFlows(v, now));
            if (flows.isEmpty()) continue;
            sb.append("flow-dump from pmd on cpu core: ").append(p.core).append('\n').append(flows);
        }
        return sb.toString();
    }

    /** OVS's dpctl/del-flows: empties every PMD's caches (the next packets are translated again). */
    String delFlows() throws UnixctlException {
        for (Pmd p : dp.pmds()) onPmd(p, (f, v, now) -> Integer.toString(f.flushFlows()));
        return "";
    }

    private static String onPmd(Pmd p, Pmd.ForwarderTask task) throws UnixctlException {
        try {
            return p.onPmd(task).get(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new UnixctlException("pmd on core " + p.core + " did not answer within 2 s (is it running?)");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new UnixctlException("pmd on core " + p.core + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnixctlException("interrupted");
        }
    }

    synchronized String pmdStatsClear() {
        clearedAt = System.nanoTime();
        for (Pmd p : dp.pmds()) pmdBaseline.put(p.index, values(p.counters()));
        for (Rxq q : dp.rxqs().values()) rxqBaseline.put(q, new long[] {q.packets(), q.busyNanos()});
        return "";
    }

    synchronized String pmdRxqShow() {
        StringBuilder sb = new StringBuilder();
        for (Pmd p : dp.pmds()) {
            long[] v = values(p.counters());
            long[] base = pmdBaseline.getOrDefault(p.index, new long[v.length]);
            long total = (v[4] - base[4]) + (v[5] - base[5]);
            sb.append(String.format("pmd thread numa_id 0 core_id %d:%n", p.core));
            sb.append("  isolated : false\n");
            for (Rxq q : p.rxqs()) {
                long[] qb = rxqBaseline.getOrDefault(q, new long[2]);
                long busy = q.busyNanos() - qb[1];
                sb.append(String.format("  port: %-16s queue-id: %2d %-10s  pmd usage: %2d %%   packets: %d%n",
                        q.portName, q.queue, q.paused() ? "(disabled)" : "(enabled)", total == 0 ? 0 : Math.min(100, busy * 100 / total), q.packets() - qb[0]));
            }
            if (p.rxqs().length == 0) sb.append("  (no rx queues assigned)\n");
        }
        return sb.toString();
    }

    String dpifShow() {
        DatapathView v = dp.view();
        StringBuilder sb = new StringBuilder("netdev@vswitch-dp:\n");
        for (DpBridge b : v.bridges) {
            if (b == null) continue;
            sb.append("  ").append(b.name()).append(":\n");
            for (DpPort p : b.ports()) {
                sb.append(String.format("    %s %s/%d: (%s)%s%n", p.name(), portName(p), p.index(), p.type(), vlanText(p)));
            }
        }
        return sb.toString();
    }

    private static String vlanText(DpPort p) {
        var vp = p.vlan();
        return switch (vp.mode()) {
            case ACCESS -> " tag=" + vp.tag();
            case TRUNK -> vp.trunks().isEmpty() ? "" : " trunks=" + io.vswitch.datapath.normal.VlanPolicy.formatTrunks(vp.trunks());
            default -> " vlan_mode=" + vp.mode().ovsName() + " tag=" + vp.tag()
                    + (vp.trunks().isEmpty() ? "" : " trunks=" + io.vswitch.datapath.normal.VlanPolicy.formatTrunks(vp.trunks()));
        };
    }

    String dpctlShow(boolean stats) {
        DatapathView v = dp.view();
        StringBuilder sb = new StringBuilder("netdev@vswitch-dp:\n");
        for (DpPort p : v.ports) {
            if (p == null) continue;
            sb.append(String.format("  port %d: %s (%s)%n", p.index(), p.name(), p.type()));
            if (!stats) continue;
            PortCounters c = p.counters();
            sb.append(String.format("    RX packets:%d errors:%d dropped:%d%n", c.rxPackets.get(), c.rxErrors.get(), c.rxDropped.get()));
            sb.append(String.format("    TX packets:%d errors:%d dropped:%d%n", c.txPackets.get(), c.txErrors.get(), c.txDropped.get()));
            sb.append(String.format("    RX bytes:%d  TX bytes:%d%n", c.rxBytes.get(), c.txBytes.get()));
            p.io().customStats().forEach((k, val) -> sb.append("    ").append(k).append(':').append(val).append('\n'));
        }
        return sb.toString();
    }
}
