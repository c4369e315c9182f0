package io.vswitch.datapath;

import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.qos.PortQos;
import io.vswitch.datapath.qos.QosSpec;
import io.vswitch.datapath.pipeline.OfPipeline;
import io.vswitch.datapath.pmd.Pmd;
import io.vswitch.datapath.qos.TokenBucket;
import io.vswitch.datapath.pmd.PmdCounters;
import io.vswitch.datapath.pmd.Rxq;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProviders;
import io.vswitch.datapath.sys.Membarrier;
import org.agrona.concurrent.status.CountersManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The dataplane's configuration authority (OVS: the dpif-netdev side of {@code dpif_port_add},
 * {@code reconfigure_datapath}): bridges, ports, PMD threads and their rx queue assignment.
 *
 * <p>Every change builds a new immutable {@link DatapathView} and publishes it; resources a PMD could
 * still hold (a closed port's fd, a reused port index) are released only after every PMD has passed
 * a quiescent point. Methods are synchronized among control threads; PMDs never take the lock.
 */
public final class Datapath implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Datapath.class.getName());
    public static final int DEFAULT_MAC_TABLE_SIZE = 8192;
    public static final int DEFAULT_MAC_AGING = 300;
    public static final int POOL_SLOTS = 4096;
    /** Packet-ins per second per bridge when its controllers set no controller_rate_limit (OVS has no limit but its upcall queues). */
    public static final long DEFAULT_PACKET_IN_RATE = 1000;
    /** As OVS: a PMD never sleeps longer than 10 ms, so grace periods and stops stay short. */
    public static final long MAX_PMD_SLEEP_MICROS = 10_000;
    /**
     * Megaflows per PMD at most: each costs some 270 bytes of the dataplane's heap (-Xmx4g), so a
     * million is 270 MB per PMD. OVS's default is the same 200 000.
     */
    public static final long MAX_FLOW_LIMIT = 1_000_000;
    /** OVS refuses a max-idle below 500 ms. */
    public static final long MIN_MAX_IDLE_MS = 500;

    private final AtomicReference<DatapathView> view = new AtomicReference<>(DatapathView.EMPTY);
    private final CountersManager countersManager;
    private final PortProviders providers;
    private final long clockOrigin = System.nanoTime();
    private final long epoch;
    private final BitSet freePortIndexes = new BitSet();
    private final Map<Long, Rxq> rxqs = new HashMap<>();
    private final List<Pmd> pmds = new ArrayList<>();
    private final Map<String, String> config = new TreeMap<>();
    /** Ports' configuration as last requested, by port index (reported back on resynchronisation). */
    private final Map<Integer, PortSpec> specs = new HashMap<>();
    private final io.vswitch.datapath.tunnel.TunnelControl tunnels = new io.vswitch.datapath.tunnel.TunnelControl();
    private long version;
    private long[] cpuMask;
    private long sleepMaxMicros;
    /** other_config:flow-limit and max-idle (ms), as every PMD has them. */
    private int flowLimit = io.vswitch.datapath.pipeline.Forwarder.DEFAULT_FLOW_LIMIT;
    private int maxIdleMillis = io.vswitch.datapath.pipeline.Forwarder.DEFAULT_MAX_IDLE_MS;
    private long emcInsertInvProb = io.vswitch.datapath.pipeline.Forwarder.DEFAULT_EMC_INSERT_INV_PROB;

    private boolean isolatePmdCores;
    /** Where the PMDs write packet-ins (the IPC channel's events ring), or null. */
    private org.agrona.concurrent.ringbuffer.RingBuffer events;
    /** Rung after each packet-in, for the reader sleeping on it. */
    private io.vswitch.datapath.ipc.Doorbell eventsBell;
    /**
     * The CPUs the process may use, read once at start: affinity is per thread, and once other
     * threads are kept off the PMD cores, this thread's own mask no longer says what exists.
     */
    private final long[] processCpus = io.vswitch.datapath.sys.Libc.allowedCpus();

    public Datapath(CountersManager countersManager, PortProviders providers, long epoch) {
        this.countersManager = countersManager;
        this.providers = providers;
        this.epoch = epoch;
        freePortIndexes.set(0, DatapathView.MAX_PORTS);
    }

    public DatapathView view() {
        return view.getAcquire();
    }

    public long epoch() {
        return epoch;
    }

    /** Seconds on the dataplane clock (MAC ages). */
    public int now() {
        return (int) ((System.nanoTime() - clockOrigin) / 1_000_000_000L);
    }

    public synchronized List<Pmd> pmds() {
        return List.copyOf(pmds);
    }

    public synchronized Map<String, String> config() {
        return new TreeMap<>(config);
    }

    // ---- configuration: datapath-wide ----

    /**
     * Applies Open_vSwitch other_config keys the dataplane understands: {@code pmd-cpu-mask} (hex,
     * like OVS), {@code pmd-sleep-max} (µs), the megaflow caches' {@code flow-limit} (0 turns
     * them off) and {@code max-idle} (ms), and the exact-match cache's {@code emc-insert-inv-prob}
     * (0 turns it off). Starts the default PMD if none runs yet.
     */
    public synchronized void configure(Map<String, String> changes) {
        Map<String, String> next = new TreeMap<>(config);
        changes.forEach((k, v) -> {
            if (v == null || v.isEmpty()) next.remove(k); else next.put(k, v);
        });
        long[] mask = io.vswitch.datapath.sys.CpuPlacement.parseMask(next.get("pmd-cpu-mask"), processCpus);
        long sleep = parseNonNegative(next, "pmd-sleep-max", 0, MAX_PMD_SLEEP_MICROS);
        int flowLimit = (int) parseNonNegative(next, "flow-limit", io.vswitch.datapath.pipeline.Forwarder.DEFAULT_FLOW_LIMIT, MAX_FLOW_LIMIT);
        long maxIdle = parseNonNegative(next, "max-idle", io.vswitch.datapath.pipeline.Forwarder.DEFAULT_MAX_IDLE_MS, Integer.MAX_VALUE);
        if (maxIdle < MIN_MAX_IDLE_MS) throw new IllegalArgumentException("invalid max-idle '" + maxIdle + "': use at least " + MIN_MAX_IDLE_MS + " (ms)");
        long emcInvProb = parseNonNegative(next, "emc-insert-inv-prob", io.vswitch.datapath.pipeline.Forwarder.DEFAULT_EMC_INSERT_INV_PROB, 0xFFFF_FFFFL);
        config.clear();
        config.putAll(next);
        if (flowLimit != this.flowLimit || maxIdle != maxIdleMillis) {
            this.flowLimit = flowLimit;
            maxIdleMillis = (int) maxIdle;
            for (Pmd p : pmds) p.cacheSettings(flowLimit, maxIdleMillis);
        }
        if (emcInvProb != emcInsertInvProb) {
            emcInsertInvProb = emcInvProb;
            for (Pmd p : pmds) p.emcInsertion(emcInvProb);
        }
        if (sleep != sleepMaxMicros) {
            sleepMaxMicros = sleep;
            for (Pmd p : pmds) p.setSleepMax(sleep);
        }
        if (!Arrays.equals(mask, cpuMask)) {
            cpuMask = mask;
            restartPmds();
        }
    }

    private static long parseNonNegative(Map<String, String> m, String key, long dflt, long max) {
        String v = m.get(key);
        if (v == null) return dflt;
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0 || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + key + " '" + v + "': use a number from 0 to " + max);
        }
    }

    private static String cpuList(long[] set) {
        return io.vswitch.datapath.sys.CpuPlacement.list(set);
    }

    private void restartPmds() {
        for (Pmd p : pmds) {
            p.assign(new Rxq[0]);
            try {
                p.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pmds.clear();
        int index = 0;
        for (int w = 0; w < cpuMask.length; w++) {
            for (int b = 0; b < 64; b++) {
                if ((cpuMask[w] & (1L << b)) == 0) continue;
                int core = w * 64 + b;
                Pmd p = new Pmd(index, core, view, new PmdCounters(countersManager, index, core), clockOrigin, POOL_SLOTS,
                        events == null ? null : new io.vswitch.datapath.ipc.PacketInWriter(events, eventsBell));
                p.setSleepMax(sleepMaxMicros);
                p.cacheSettings(flowLimit, maxIdleMillis);
                p.emcInsertion(emcInsertInvProb);
                p.start();
                pmds.add(p);
                index++;
            }
        }
        LOG.log(System.Logger.Level.INFO, pmds.size() + " PMD thread(s) on cores " + pmdCores());
        if (isolatePmdCores) keepOtherThreadsOffPmdCores();
        reassignRxqs();
    }

    /**
     * The ring PMDs write packet-ins to and the doorbell they ring after each; set before the first
     * {@link #configure} (PMDs take them when they start).
     */
    public synchronized void packetInsTo(org.agrona.concurrent.ringbuffer.RingBuffer ring, io.vswitch.datapath.ipc.Doorbell bell) {
        if (!pmds.isEmpty()) throw new IllegalStateException("set the packet-in ring before the PMDs start");
        events = ring;
        eventsBell = java.util.Objects.requireNonNull(bell);
    }

    /**
     * Runs a controller's packet-out: {@code frame} through {@code actions} (the rule action format,
     * {@code OfRule.parseActions}) as if received on OpenFlow port {@code inOfport} of {@code bridgeName}
     * (OFPP_CONTROLLER, LOCAL or a port). A PMD runs it, so it leaves on the PMDs' own tx queues.
     */
    public synchronized void packetOut(String bridgeName, int inOfport, long[] actions, byte[] frame) {
        DpBridge b = view.get().bridge(bridgeName);
        if (b == null) throw new IllegalArgumentException("no bridge named " + bridgeName);
        if (frame.length < 14 || frame.length > io.vswitch.datapath.packet.PacketPool.DATA_SIZE) {
            throw new IllegalArgumentException("packet-out of " + frame.length + " bytes: a frame has 14 to "
                    + io.vswitch.datapath.packet.PacketPool.DATA_SIZE + " bytes");
        }
        if (pmds.isEmpty()) throw new IllegalStateException("no PMD runs (pmd-cpu-mask)");
        if (!pmds.get(0).offer(new Pmd.PacketOut(bridgeName, inOfport, actions, frame))) {
            throw new IllegalStateException("too many packet-outs waiting; try again");
        }
    }

    /**
     * Whether PMD cores are kept for PMDs ({@link #keepOtherThreadsOffPmdCores}); the dataplane
     * process turns it on, embedded uses (tests) leave their threads alone.
     */
    public synchronized void isolatePmdCores(boolean on) {
        isolatePmdCores = on;
    }

    /**
     * Moves every other thread of this process (control, vhost-user connections, unixctl, the JVM's
     * GC threads; not its compiler threads, see below) to the allowed cores that run no PMD, as OVS-DPDK keeps its non-PMD
     * threads on {@code dpdk-lcore-mask}: a compiler or GC thread preempting a PMD costs packets.
     * Threads started later inherit the mask of the thread that starts them. Nothing moves when the
     * PMDs have every allowed core.
     */
    private void keepOtherThreadsOffPmdCores() {
        long[] others = io.vswitch.datapath.sys.CpuPlacement.without(processCpus, cpuMask);
        if (Arrays.stream(others).allMatch(w -> w == 0)) {
            LOG.log(System.Logger.Level.INFO, "the PMDs have every core: other threads share them");
            return;
        }
        java.util.Set<Integer> pmdTids = new java.util.HashSet<>();
        for (Pmd p : pmds) {
            for (int i = 0; i < 1000 && p.tid() == 0 && p.isRunning(); i++) LockSupport.parkNanos(1_000_000);
            pmdTids.add(p.tid());
        }
        try {
            // The JIT's compiler threads may use every core: they work only while code warms up (after a
            // start or a new traffic pattern), and confined to a core that a busy peer also polls they took
            // half a minute to compile the PMD's path, which ran three times slower meanwhile.
            int moved = io.vswitch.datapath.sys.CpuPlacement.pinThreads(others, pmdTids, true);
            LOG.log(System.Logger.Level.INFO, moved + " non-PMD thread(s) kept off the PMD cores, on cores " + cpuList(others));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not keep other threads off the PMD cores: " + e.getMessage());
        }
    }

    private String pmdCores() {
        return pmds.stream().map(p -> Integer.toString(p.core)).reduce((a, b) -> a + "," + b).orElse("none");
    }

    // ---- configuration: bridges ----

    /**
     * Creates a bridge, or updates its configuration: other_config's mac-aging-time and
     * mac-table-size, and the packet-in rate limit {@code controller-rate-limit} (packets/s, 0 = none)
     * and {@code controller-burst-limit}, which vswitchd takes from the bridge's Controller rows.
     */
    public synchronized void addBridge(String name, Map<String, String> bridgeConfig) {
        if (cpuMask == null) configure(Map.of());
        checkBridgeName(name);
        int aging = (int) parseNonNegative(bridgeConfig, "mac-aging-time", DEFAULT_MAC_AGING, 1_000_000);
        int size = (int) parseNonNegative(bridgeConfig, "mac-table-size", DEFAULT_MAC_TABLE_SIZE, 1_000_000);
        if (size < 1) throw new IllegalArgumentException("invalid mac-table-size 0: use at least 1");
        long pinRate = parseNonNegative(bridgeConfig, "controller-rate-limit", DEFAULT_PACKET_IN_RATE, 1_000_000_000L);
        long pinBurst = parseNonNegative(bridgeConfig, "controller-burst-limit", Math.max(25, pinRate / 4), 1_000_000_000L);
        DatapathView v = view.get();
        DpBridge existing = v.bridge(name);
        DpBridge[] bridges = v.bridges.clone();
        if (existing != null) {
            MacTable macs = existing.macs();
            if (size > macs.capacity() / 4) {            // keep the table at most a quarter full
                macs = new MacTable(size, aging);
            } else {
                macs.setAgingSeconds(aging);
                macs.setMaxEntries(size);
            }
            existing.packetInLimit().configure(pinRate, pinBurst);
            bridges[existing.index()] = new DpBridge(existing.index(), name, macs, existing.ports(), Map.copyOf(bridgeConfig), existing.flows(),
                    existing.packetInLimit());
        } else {
            int index = -1;
            for (int i = 0; i < bridges.length; i++) if (bridges[i] == null) { index = i; break; }
            if (index < 0) throw new IllegalStateException("too many bridges (" + bridges.length + ")");
            bridges[index] = new DpBridge(index, name, new MacTable(size, aging), new DpPort[0], Map.copyOf(bridgeConfig), null,
                    new TokenBucket(pinRate, pinBurst));
            LOG.log(System.Logger.Level.INFO, "added bridge " + name);
        }
        publish(v.ports, bridges);
    }

    /** Replaces a bridge's OpenFlow tables (PMDs switch to them at their next iteration). */
    public synchronized void setFlows(String bridgeName, OfPipeline flows) {
        DatapathView v = view.get();
        DpBridge b = v.bridge(bridgeName);
        if (b == null) throw new IllegalArgumentException("no bridge named " + bridgeName);
        DpBridge[] bridges = v.bridges.clone();
        flows.adoptMeters(b.flows());                    // unchanged meters keep their buckets' fill
        bridges[b.index()] = b.withFlows(flows);
        publish(v.ports, bridges);
    }

    private static void checkBridgeName(String name) {
        if (name == null || name.isEmpty() || name.length() > 15 || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("invalid bridge name '" + name + "': use 1-15 letters, digits, '_', '.' or '-'");
        }
    }

    public synchronized void deleteBridge(String name) {
        DpBridge b = view.get().bridge(name);
        if (b == null) throw new IllegalArgumentException("no bridge named " + name);
        for (DpPort p : b.ports()) deletePort(name, p.name());
        DatapathView v = view.get();
        DpBridge[] bridges = v.bridges.clone();
        bridges[b.index()] = null;
        publish(v.ports, bridges);
        LOG.log(System.Logger.Level.INFO, "deleted bridge " + name);
    }

    // ---- configuration: ports ----

    /**
     * Adds a port, or reconfigures it in place if a port of that name and type is already on the
     * bridge (VLAN settings and ofport change without reopening the device or losing packets).
     */
    public synchronized void addPort(PortSpec spec) {
        DatapathView v = view.get();
        DpBridge bridge = v.bridge(spec.bridge());
        if (bridge == null) throw new IllegalArgumentException("no bridge named " + spec.bridge());
        if (spec.name() == null || spec.name().isEmpty()) throw new IllegalArgumentException("a port needs a name");
        VlanPolicy vlan = vlanPolicy(spec);
        for (DpPort p : v.ports) {
            if (p == null || !p.name().equals(spec.name())) continue;
            if (p.bridgeIndex() != bridge.index()) {
                throw new IllegalArgumentException("port " + spec.name() + " is already on bridge " + v.bridges[p.bridgeIndex()].name());
            }
            if (!p.type().equals(spec.type())) {
                throw new IllegalArgumentException("port " + spec.name() + " already exists with type " + p.type()
                        + "; delete it first to change its type to " + spec.type());
            }
            if (!p.options().equals(spec.options())) {
                throw new IllegalArgumentException("options of port " + spec.name() + " cannot change in place; delete and re-add it");
            }
            QosSpec qos = QosSpec.parse(spec.qos());        // refused before anything changes
            reconfigurePort(p, vlan, spec.ofport());
            setQos(view.get().ports[p.index()], qos);
            DpPort now = view.get().ports[p.index()];
            specs.put(p.index(), spec.withOfport(now.ofport()));
            return;
        }
        QosSpec qos = QosSpec.parse(spec.qos());
        providers.checkType(spec.type());
        int ofport = spec.ofport() > 0 ? spec.ofport() : freeOfport(bridge);
        for (DpPort p : bridge.ports()) {
            if (p.ofport() == ofport) throw new IllegalArgumentException("ofport " + ofport + " is already used by " + p.name());
        }
        int index = freePortIndexes.nextSetBit(0);
        if (index < 0) throw new IllegalStateException("too many ports (" + DatapathView.MAX_PORTS + ")");
        PortCounters counters = new PortCounters(countersManager, bridge.name(), spec.name(), index);
        Port io;
        try {
            io = providers.open(spec.name(), spec.type(), spec.options(), counters, config);
        } catch (RuntimeException e) {
            counters.close();
            throw e;
        }
        PortQos portQos;
        try {
            portQos = qos.equals(QosSpec.NONE) ? null : new PortQos(qos, counters);
        } catch (RuntimeException | OutOfMemoryError e) {
            io.close();
            counters.close();
            throw e;
        }
        freePortIndexes.clear(index);
        DpPort port = new DpPort(index, ofport, spec.name(), spec.type(), bridge.index(), io, vlan, counters, spec.options(), portQos);
        DpPort[] ports = v.ports.clone();
        ports[index] = port;
        DpPort[] bridgePorts = Arrays.copyOf(bridge.ports(), bridge.ports().length + 1);
        bridgePorts[bridgePorts.length - 1] = port;
        DpBridge[] bridges = v.bridges.clone();
        bridges[bridge.index()] = bridge.withPorts(bridgePorts);
        publish(ports, bridges);
        specs.put(index, spec.withOfport(ofport));
        for (int q = 0; q < io.rxqCount(); q++) rxqs.put(rxqKey(index, q), new Rxq(port, q));
        reassignRxqs();
        refreshTunnels();                                // an internal port's addresses, a vport's routes
        LOG.log(System.Logger.Level.INFO, "added port " + spec.name() + " (type " + spec.type() + ", ofport " + ofport + ") to " + bridge.name());
    }

    private static VlanPolicy vlanPolicy(PortSpec spec) {
        BitSet trunks = VlanPolicy.parseTrunks(spec.trunks());
        VlanPolicy.Mode mode = spec.vlanMode() == null || spec.vlanMode().isEmpty() ? null : VlanPolicy.Mode.parse(spec.vlanMode());
        return new VlanPolicy(mode, spec.tag(), trunks);
    }

    private static int freeOfport(DpBridge bridge) {
        BitSet used = new BitSet();
        for (DpPort p : bridge.ports()) if (p.ofport() < DpPort.OFPP_LOCAL) used.set(p.ofport());
        return used.nextClearBit(1);
    }

    /** Publishes a view in which the port with {@code next}'s index is {@code next} (same bridge); returns that bridge as it was. */
    private DpBridge replace(DpPort next) {
        DatapathView v = view.get();
        DpPort[] ports = v.ports.clone();
        ports[next.index()] = next;
        DpBridge b = v.bridges[next.bridgeIndex()];
        DpPort[] bp = b.ports().clone();
        for (int i = 0; i < bp.length; i++) if (bp[i].index() == next.index()) bp[i] = next;
        DpBridge[] bridges = v.bridges.clone();
        bridges[b.index()] = b.withPorts(bp);
        publish(ports, bridges);
        return b;
    }

    private void reconfigurePort(DpPort p, VlanPolicy vlan, int ofport) {
        DpPort next = p;
        if (!p.vlan().equals(vlan)) next = next.withVlan(vlan);
        if (ofport > 0 && ofport != p.ofport()) next = next.withOfport(ofport);
        if (next == p) return;
        DpBridge b = replace(next);
        if (!p.vlan().equals(vlan)) {
            quiesce();
            b.macs().flushPort(p.index());   // addresses learned in VLANs the port may no longer carry
        }
        LOG.log(System.Logger.Level.INFO, "reconfigured port " + p.name());
    }

    /**
     * Gives a port new QoS (or none): the new policers or shaper are published with the port, and the
     * old ones are freed once no PMD can be using them. Packets the old shaper still held are dropped
     * and counted (tx_dropped, ovs_tx_qos_drops); other ports see nothing of it.
     */
    private void setQos(DpPort p, QosSpec qos) {
        QosSpec have = p.qos() == null ? QosSpec.NONE : p.qos().spec;
        if (have.equals(qos)) return;
        PortQos next = qos.equals(QosSpec.NONE) ? null : new PortQos(qos, p.counters());
        replace(p.withQos(next));
        if (p.qos() != null) {
            quiesce();
            if (p.shaper() != null) {
                int lost = p.shaper().backlog();
                p.counters().txDropped.getAndAdd(lost);
                p.qos().txDrops.getAndAdd(lost);
            }
            p.qos().close();
        }
        LOG.log(System.Logger.Level.INFO, "port " + p.name() + ": QoS " + (next == null ? "removed" : "set " + qos.source()));
    }

    /** Sets a port's device administratively up or down (OpenFlow port-mod); false if it has no device to set. */
    public synchronized boolean setPortAdminUp(String bridgeName, String name, boolean up) {
        DpBridge b = view.get().bridge(bridgeName);
        DpPort p = b == null ? null : b.port(name);
        if (p == null) throw new IllegalArgumentException("no port " + name + " on bridge " + bridgeName);
        return p.io().setAdminUp(up);
    }

    public synchronized void deletePort(String bridgeName, String name) {
        DatapathView v = view.get();
        DpBridge bridge = v.bridge(bridgeName);
        if (bridge == null) throw new IllegalArgumentException("no bridge named " + bridgeName);
        DpPort port = bridge.port(name);
        if (port == null) throw new IllegalArgumentException("bridge " + bridgeName + " has no port named " + name);
        DpPort[] ports = v.ports.clone();
        ports[port.index()] = null;
        DpBridge[] bridges = v.bridges.clone();
        bridges[bridge.index()] = bridge.withPorts(Arrays.stream(bridge.ports()).filter(p -> p != port).toArray(DpPort[]::new));
        rxqs.keySet().removeIf(k -> (int) (k >>> 32) == port.index());
        reassignRxqs();
        publish(ports, bridges);
        quiesce();                                  // no PMD polls or sends to the port any more
        bridge.macs().flushPort(port.index());
        port.io().close();
        if (port.qos() != null) port.qos().close();
        port.counters().close();
        tunnels.portDeleted(port);
        freePortIndexes.set(port.index());
        specs.remove(port.index());
        LOG.log(System.Logger.Level.INFO, "deleted port " + name + " from " + bridgeName);
    }

    // ---- rx queue assignment ----

    private static long rxqKey(int portIndex, int queue) {
        return ((long) portIndex << 32) | queue;
    }

    /**
     * Assigns rx queues to PMDs round-robin in (port, queue) order. A queue that moves is first
     * removed from its old PMD and, after that PMD is quiescent, given to the new one, so two PMDs
     * never poll one queue.
     */
    private void reassignRxqs() {
        if (pmds.isEmpty()) return;
        List<Rxq> all = new ArrayList<>(rxqs.values());
        all.sort((a, b) -> a.portIndex != b.portIndex ? Integer.compare(a.portIndex, b.portIndex) : Integer.compare(a.queue, b.queue));
        List<List<Rxq>> next = new ArrayList<>();
        for (int i = 0; i < pmds.size(); i++) next.add(new ArrayList<>());
        for (int i = 0; i < all.size(); i++) next.get(i % pmds.size()).add(all.get(i));
        boolean moved = false;
        for (int i = 0; i < pmds.size(); i++) {
            List<Rxq> keep = new ArrayList<>(Arrays.asList(pmds.get(i).rxqs()));
            int before = keep.size();
            keep.retainAll(next.get(i));
            if (keep.size() != before) {
                pmds.get(i).assign(keep.toArray(new Rxq[0]));
                moved = true;
            }
        }
        if (moved) quiesce();
        for (int i = 0; i < pmds.size(); i++) pmds.get(i).assign(next.get(i).toArray(new Rxq[0]));
    }

    /** Waits until every running PMD has finished the iteration it was in (bounded; PMDs never wait). */
    private void quiesce() {
        long[] seen = new long[pmds.size()];
        Membarrier.fenceAllThreads();                    // the view store before the counter loads, the PMDs' counter stores before their view loads
        for (int i = 0; i < seen.length; i++) seen[i] = pmds.get(i).quiescentCount();
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int i = 0; i < seen.length; i++) {
            Pmd p = pmds.get(i);
            p.wake();
            while (p.isRunning() && p.quiescentCount() == seen[i]) {
                if (System.nanoTime() > deadline) {
                    LOG.log(System.Logger.Level.ERROR, "pmd" + p.index + " did not quiesce within 10 s (stuck in a system call?)");
                    break;
                }
                LockSupport.parkNanos(20_000);
            }
        }
    }

    private void publish(DpPort[] ports, DpBridge[] bridges) {
        view.set(new DatapathView(ports, bridges, ++version, tunnels.build(ports)));
    }

    // ---- state ----

    public synchronized DatapathState state() {
        DatapathView v = view.get();
        Map<String, Map<String, String>> bridges = new LinkedHashMap<>();
        List<PortSpec> ports = new ArrayList<>();
        Map<String, Map<String, String>> status = new LinkedHashMap<>();
        Map<String, Long> generations = new LinkedHashMap<>();
        Map<String, io.vswitch.datapath.ipc.FlowCounters> flowCounters = new LinkedHashMap<>();
        for (DpBridge b : v.bridges) {
            if (b == null) continue;
            bridges.put(b.name(), b.config());
            generations.put(b.name(), b.flows() == null ? 0L : b.flows().generation);
            flowCounters.put(b.name(), b.flows() == null ? io.vswitch.datapath.ipc.FlowCounters.NONE : b.flows().nonZeroCounters());
            for (DpPort p : b.ports()) {
                ports.add(specs.get(p.index()));
                Map<String, String> st = p.io().status();
                if (v.tunnels.role[p.index()] == io.vswitch.datapath.tunnel.Tunnels.VPORT) {
                    st = new TreeMap<>(st);
                    io.vswitch.datapath.tunnel.TunnelControl.putStatus(p, v.tunnels, v, st);
                }
                status.put(p.name(), st);
            }
        }
        return new DatapathState(epoch, config(), bridges, ports, status, generations, flowCounters);
    }

    /**
     * Periodic housekeeping on the control thread: MAC aging and size limits, and rx queues of ports
     * whose queue count changed (a vhost-user guest enabling more queue pairs).
     */
    public void housekeeping() {
        int now = now();
        for (DpBridge b : view.get().bridges) if (b != null) b.macs().sweep(now);
        tunnels.neighbours().sweep(now);
        refreshTunnels();
        refreshRxqs();
    }

    /** Takes the internal ports' addresses, routes, MACs and MTUs from {@code u} instead of the kernel (tests). */
    public synchronized void useUnderlay(io.vswitch.datapath.tunnel.TunnelControl.Underlay u) {
        tunnels.useUnderlay(u);
        refreshTunnels();
    }

    /** Publishes a new view if the kernel's addresses, routes, MACs or MTUs of the internal ports changed. */
    private synchronized void refreshTunnels() {
        DatapathView v = view.get();
        try {
            if (tunnels.refresh(v.ports)) {
                publish(v.ports, v.bridges);
                LOG.log(System.Logger.Level.INFO, "tunnel endpoints and routes updated");
            }
        } catch (RuntimeException e) {
            // getifaddrs or /proc/net/route unreadable: keep the routes we have, try again next second
            LOG.log(System.Logger.Level.WARNING, "could not read the internal ports' addresses and routes: " + e.getMessage());
        }
    }

    /**
     * The tunnel commands ({@code ovs/route/*}, {@code tnl/neigh/*}): runs {@code command} with
     * {@code args} and returns its reply text; throws {@link IllegalArgumentException} with OVS's error text.
     */
    public synchronized String tunnelCommand(String command, List<String> args) {
        refreshTunnels();                                // show what the kernel says now, not a second ago
        DatapathView v = view.get();
        String reply = switch (command) {
            case "ovs/route/show" -> tunnels.routeShow(v.tunnels.routes);
            case "ovs/route/add" -> tunnels.routeAdd(args, v.ports);
            case "ovs/route/del" -> tunnels.routeDel(args);
            case "ovs/route/lookup" -> tunnels.routeLookup(args, v.tunnels.routes);
            case "tnl/neigh/show", "tnl/arp/show" -> tunnels.neighShow(v, now());
            case "tnl/neigh/flush", "tnl/arp/flush" -> {
                tunnels.neighbours().flush(-1);
                yield "OK\n";
            }
            case "tnl/neigh/set", "tnl/arp/set" -> tunnels.neighSet(args, v, now());
            case "tnl/egress_port_range" -> tunnels.egressPortRange(args);
            default -> throw new IllegalArgumentException("unknown command " + command);
        };
        if (command.equals("ovs/route/add") || command.equals("ovs/route/del") || command.equals("tnl/egress_port_range") && !args.isEmpty()) {
            publish(v.ports, v.bridges);
        }
        return reply;
    }

    private synchronized void refreshRxqs() {
        boolean changed = false;
        for (DpPort p : view.get().ports) {
            if (p == null) continue;
            int want = p.io().rxqCount();
            int have = 0;
            while (rxqs.containsKey(rxqKey(p.index(), have))) have++;
            if (want == have) continue;
            for (int q = have; q < want; q++) rxqs.put(rxqKey(p.index(), q), new Rxq(p, q));
            for (int q = want; q < have; q++) rxqs.remove(rxqKey(p.index(), q));
            LOG.log(System.Logger.Level.INFO, "port " + p.name() + " now has " + want + " rx queue(s)");
            changed = true;
        }
        if (changed) reassignRxqs();
    }

    public Map<Long, Rxq> rxqs() {
        synchronized (this) {
            return new HashMap<>(rxqs);
        }
    }

    @Override
    public synchronized void close() {
        for (DpBridge b : view.get().bridges) {
            if (b != null) deleteBridge(b.name());
        }
        for (Pmd p : pmds) {
            try {
                p.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pmds.clear();
    }
}
