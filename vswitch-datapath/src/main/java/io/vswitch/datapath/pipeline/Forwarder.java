package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.cache.ExactMatchCache;
import io.vswitch.datapath.cache.MegaflowCache;
import io.vswitch.datapath.cache.Translation;
import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Parser;
import io.vswitch.datapath.ipc.PacketIn;
import io.vswitch.datapath.ipc.PacketInWriter;
import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.L4Checksum;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.Pmd;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.qos.PortQos;
import io.vswitch.datapath.tunnel.Geneve;
import io.vswitch.datapath.tunnel.Gre;
import io.vswitch.datapath.tunnel.OuterHeader;
import io.vswitch.datapath.tunnel.TunnelSpec;
import io.vswitch.datapath.tunnel.Tunnels;
import io.vswitch.datapath.tunnel.Vxlan;

import java.lang.foreign.MemorySegment;

/**
 * Runs one received batch through the pipeline and transmits the result: parse every packet into its
 * flow key, run it through the bridge's OpenFlow tables if vswitchd has sent some (OVS:
 * {@code xlate_actions}), else straight through NORMAL (MAC learning and VLAN-aware forwarding, like
 * OVS's {@code xlate_normal}, which is also what a bridge's default flow does), stage each output
 * per port, then send one burst per output port.
 *
 * <p>One forwarder per PMD; it allocates nothing after construction. Output staging holds packet
 * references (offsets), not copies: a frame flooded to ten ports with the same encapsulation is
 * written ten times from one buffer. Only a different VLAN encapsulation costs a copy.
 */
public final class Forwarder {
    private static final int NO_VARIANT = Integer.MIN_VALUE;

    private final PmdIo io;
    /** Where packet-ins go (the events ring), or null: then output to CONTROLLER drops. */
    private final PacketInWriter packetIns;
    private final long[][] stagedOffset = new long[DatapathView.MAX_PORTS][];
    private final int[][] stagedLength = new int[DatapathView.MAX_PORTS][];
    /** Each staged packet's queue (set_queue; 0 without), for a port with egress QoS. */
    private final long[][] stagedQueue = new long[DatapathView.MAX_PORTS][];
    private final int[] stagedCount = new int[DatapathView.MAX_PORTS];
    /** Per output port: transmit bursts that threw in a row (see {@link #txFailed}); and all such bursts, for the log. */
    private final int[] txFailures = new int[DatapathView.MAX_PORTS];
    /**
     * Whose each count is, by the port's counters (the same object across its reconfigurations, a
     * new one for a new port): a port that takes a deleted one's index starts from none.
     */
    private final PortCounters[] txFailing = new PortCounters[DatapathView.MAX_PORTS];
    private long txErrors;
    private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());
    /**
     * Per port, bit c: staged packet c has a partial TCP/UDP checksum ({@link L4Checksum}), which the
     * port takes as it is (a guest that negotiated GUEST_CSUM); passed on in {@link PmdIo#txPartial}.
     */
    private final long[] stagedPartial = new long[DatapathView.MAX_PORTS];
    private final int[] dirty = new int[DatapathView.MAX_PORTS];
    private int dirtyCount;
    /** Per packet: length of its tagged / untagged copy in spare slot 0 / 1, or NO_VARIANT. */
    private final int[] taggedLen = new int[Batch.MAX + Batch.NESTED];
    private final int[] untaggedLen = new int[Batch.MAX + Batch.NESTED];
    /** Spare slots of the current packet that hold bytes an output refers to (bit k: spare k). */
    private int spareBusy;
    /** Packets an OpenFlow table missed. */
    private long tableMisses;
    /**
     * Passes through a bridge (received packets and recirculated tunnel packets): by the direct
     * NORMAL path, by the OpenFlow tables; table lookups, and subtables probed by them ([0]).
     */
    private long normalPasses, openflowPasses, lookups;
    private final long[] subtableProbes = new long[1];
    private long ttlDrops;
    /**
     * Hits not yet added to the rules' counters: the (few) rules a batch went through, each added
     * with one atomic add per batch. A multi-table pipeline alternates between rules from packet to
     * packet, so only remembering the last rule would cost two atomic adds per rule and packet.
     */
    private static final int HIT_SLOTS = 8;
    private final int[] hitRule = new int[HIT_SLOTS];
    private final OfPipeline[] hitPipeline = new OfPipeline[HIT_SLOTS];
    private final long[] hitPackets = new long[HIT_SLOTS];
    private final long[] hitBytes = new long[HIT_SLOTS];
    private int hitCount, hitLast;
    private long copyFailures;
    private long meterDrops;
    /** Packet-ins written to the events ring, refused by the bridge's rate limit, lost to a full ring. */
    private long packetInsSent;
    private long packetInsLimited;
    private long packetInsLost;
    private long packetOuts;
    /** Per packet while it walks the tables: an output refers to its current bytes; NORMAL did not refuse it on input. */
    private boolean referenced;
    private boolean accepted;
    /** The current batch's tables if they carry port-mod settings, else null (the usual case: no check per output). */
    private OfPipeline portMods;
    /** The packet's action set (write_actions): a bit per action kind with its argument, and its outputs. */
    private long actionSet;
    private final long[] actionSetArg = new long[64];
    private static final int MAX_SET_OUTPUTS = 8;
    private final int[] actionSetOutput = new int[MAX_SET_OUTPUTS];
    private final long[] actionSetOutputArg = new long[MAX_SET_OUTPUTS];
    private int actionSetOutputs;
    private final long[] actionSetRun = new long[2 * (ACTION_SET_ORDER.length + MAX_SET_OUTPUTS)];
    /**
     * Chained groups (a bucket that goes to a group) may loop, as in OVS, which accepts them and
     * stops at translation: a packet follows at most {@link #MAX_GROUP_DEPTH} groups deep and runs
     * at most {@link #MAX_BUCKETS} buckets in all (an all group looping to itself doubles at every
     * level); beyond, the rest is dropped and counted.
     */
    static final int MAX_GROUP_DEPTH = 16, MAX_BUCKETS = 256;
    /** The flow key of a packet an all group clones, restored after each bucket; one per level of chained groups. */
    private final long[][] savedKeys = new long[MAX_GROUP_DEPTH][FlowKey.WORDS];
    private int groupDepth, bucketsLeft;
    private long groupLoopDrops;

    private long txPackets;
    private long txBursts;
    /**
     * The datapath flow caches in front of the OpenFlow tables (OVS: EMC, then dpcls, then an upcall
     * into ofproto): a pass through the tables is recorded ({@link #translation}) and installed as a
     * megaflow; later packets it matches replay the recording instead of looking up every table.
     * Bridges whose tables are just the NORMAL flow bypass them (NORMAL runs per packet either way).
     */
    private final MegaflowCache megaflows = new MegaflowCache(DEFAULT_FLOW_LIMIT);
    private final ExactMatchCache emc = new ExactMatchCache();
    /**
     * The recording of the pass in progress: {@code recordings[d]} for a pass {@code d} tunnel
     * recirculations deep (a recirculated pass is a pass of its own, with its own megaflow, as
     * OVS's recirculation ids make it; its outer pass resumes recording after it).
     */
    private Translation translation;
    private final Translation[] recordings = new Translation[MAX_TUNNEL_DEPTH + 1];
    /** Per packet of the batch: its exact-match hash and the entry the exact-match cache gave for it (-1: none). */
    private final int[] emcHash = new int[Batch.MAX], emcEntry = new int[Batch.MAX];
    public static final int DEFAULT_FLOW_LIMIT = 200_000, DEFAULT_MAX_IDLE_MS = 10_000;
    /** other_config:flow-limit (0: no megaflows, every pass runs the tables) and max-idle (ms); set by the control thread. */
    private volatile int flowLimit = DEFAULT_FLOW_LIMIT, maxIdleMillis = DEFAULT_MAX_IDLE_MS;
    /**
     * other_config:emc-insert-inv-prob, as OVS: a megaflow hit (or a new megaflow) enters the
     * exact-match cache with probability 1/N, so that a few long flows own the EMC instead of every
     * passing flow evicting another (a flow is in after some N packets); 0 turns the EMC off
     * (no lookups either). Kept as an unsigned threshold for a 32-bit random draw (0: off).
     */
    public static final long DEFAULT_EMC_INSERT_INV_PROB = 100;
    private volatile int emcInsertMin = emcThreshold(DEFAULT_EMC_INSERT_INV_PROB);
    /** xorshift state for the EMC insertion draws (per PMD, no sharing). */
    private int emcRandom = 0x9E3779B9;
    private long emcHits, megaflowHits, upcalls, uninstalled, evicted;
    private final long[] megaflowProbes = new long[1];
    /**
     * NORMAL's last answer in each bridge (by bridge index): in a MAC table unchanged since (its
     * generation) and within the same second, a packet with the same input, VLAN and addresses learns
     * nothing new and finds the same output, so a burst of one flow pays for learning and lookup once.
     * One per bridge, because a tunnelled packet takes NORMAL in the overlay and then in the underlay:
     * a single memo would be the other bridge's every time.
     */
    private final NormalMemo[] memos = new NormalMemo[DatapathView.MAX_BRIDGES];

    private static final class NormalMemo {
        MacTable macs;
        int generation, now, in, vlan, out;
        long src, dst;
    }

    /** The view and clock (seconds) of the batch being forwarded: tunnels need them where outputs are staged. */
    private DatapathView current = DatapathView.EMPTY;
    private int clock;
    /**
     * Tunnels: per packet, the offset in front of which an encapsulation header was last written (or
     * a decapsulated outer header lies), -1 if none; a second header there first sends what is staged.
     */
    private final long[] encapAt = new long[Batch.MAX + Batch.NESTED];
    /** Recirculations in progress (encapsulation into the underlay, decapsulation into the overlay). */
    private int tunnelDepth;
    static final int MAX_TUNNEL_DEPTH = Batch.NESTED;
    private final OfPipeline[] savedPortMods = new OfPipeline[MAX_TUNNEL_DEPTH];
    /** ARP requests for missing neighbours, at most one per second per next hop (per PMD): direct-mapped. */
    private final long[] arpAsked = new long[16];
    private final long[] arpAskedAt = new long[16];
    /** The outer packet's action set while a recirculated form of it runs (only copied when not empty). */
    private final long[][] savedSetArg = new long[MAX_TUNNEL_DEPTH][64];
    private final int[][] savedSetOutput = new int[MAX_TUNNEL_DEPTH][MAX_SET_OUTPUTS];
    private final long[][] savedSetOutputArg = new long[MAX_TUNNEL_DEPTH][MAX_SET_OUTPUTS];
    private final long[] tunnelStats = new long[TUNNEL_STATS];
    /**
     * Vport traffic not yet added to the vport's counters: consecutive packets of one vport share one
     * atomic add (added when the vport changes and at the end of the batch).
     */
    private io.vswitch.datapath.port.PortCounters txTally, rxTally;
    private long txTallyPackets, txTallyBytes, rxTallyPackets, rxTallyBytes;
    /** The last route looked up (the view's tunnels, destination, route) and neighbour resolved (while the cache is unchanged, within a second). */
    private Tunnels routedIn;
    private int routedDst, routed;
    private io.vswitch.datapath.tunnel.NeighbourCache resolvedIn;
    private long resolved = -1, resolvedMac;
    private int resolvedGeneration, resolvedAt;
    /** The last neighbour a decapsulated packet taught (port << 32 | ip, MAC, clock): a flow's packets learn once a second. */
    private long learnedKey = -1, learnedMac, learnedAt;
    /** Indexes into {@link #tunnelStats}, in the order of {@code PmdCounters}' tunnel names. */
    public static final int TNL_PUSH = 0, TNL_POP = 1, TNL_NO_ROUTE = 2, TNL_NO_NEIGHBOUR = 3, TNL_TOO_BIG = 4, TNL_POP_ERRORS = 5,
            TNL_POP_NO_PORT = 6, TNL_ERRORS = 7, TNL_ARP_REQUESTS = 8, TUNNEL_STATS = 9;

    public Forwarder(PmdIo io, PacketInWriter packetIns) {
        this.io = io;
        this.packetIns = packetIns;
        for (int d = 0; d <= MAX_TUNNEL_DEPTH; d++) recordings[d] = new Translation();
        translation = recordings[0];
        for (int p = 0; p < DatapathView.MAX_PORTS; p++) {
            stagedOffset[p] = new long[Batch.MAX];
            stagedLength[p] = new int[Batch.MAX];
            stagedQueue[p] = new long[Batch.MAX];
        }
        for (int b = 0; b < memos.length; b++) memos[b] = new NormalMemo();
    }

    public PmdIo io() {
        return io;
    }

    /** Packets sent since construction (single writer: this PMD). */
    public long txPackets() {
        return txPackets;
    }

    /** Output batches that sent at least one packet. */
    public long txBursts() {
        return txBursts;
    }

    /**
     * Forwards {@code batch}, received on {@code in}, through {@code view}. {@code now} is the
     * dataplane clock in seconds (MAC aging).
     */
    public void process(Batch batch, DpPort in, DatapathView view, int now) {
        PortQos qos = in.qos();
        if (qos != null && qos.ingress != null) {       // ingress policing: before any work is spent on the packets
            int policed = qos.ingress.police(batch, System.nanoTime());
            if (policed > 0) {
                in.counters().rxDropped.getAndAdd(policed);
                qos.rxDrops.getAndAdd(policed);
            }
            if (batch.count == 0) return;
        }
        int n = batch.count;
        long bytes = 0;
        for (int i = 0; i < n; i++) bytes += batch.length[i];
        in.counters().rxPackets.getAndAdd(n);
        in.counters().rxBytes.getAndAdd(bytes);

        DpBridge bridge = view.bridges[in.bridgeIndex()];
        if (bridge == null) {
            in.counters().rxDropped.getAndAdd(n);
            return;
        }
        current = view;
        clock = now;
        MemorySegment mem = batch.memory();
        long[] keys = batch.keys;
        int dropped = 0;
        // Tables that are just the default NORMAL flow need no lookup per packet (the common case).
        OfPipeline flows = bridge.flows();
        OfPipeline tables = flows == null || flows.normalOnly() ? null : flows;
        portMods = flows != null && flows.hasPortConfigs() ? flows : null;
        if (portMods != null && (portMods.portConfig(in.ofport()) & (OfPipeline.PORT_DOWN | OfPipeline.NO_RECV)) != 0) {
            in.counters().rxDropped.getAndAdd(n);                // port-mod: down, or not receiving
            return;
        }
        for (int i = 0; i < n; i++) parse(batch, i, mem, keys, in.index());
        int limit = flowLimit;
        if (limit != megaflows.limit()) megaflows.limit(limit);
        boolean cached = tables != null && limit > 0;
        int emcMin = emcInsertMin;
        if (cached && emcMin == 0) {
            java.util.Arrays.fill(emcEntry, 0, n, -1);     // the EMC is off: straight to the megaflows
        } else if (cached) {
            // The batch's hashes and exact-match slots first: independent chains of multiplies and loads overlap.
            for (int i = 0; i < n; i++) {
                int h = ExactMatchCache.hash(keys, i * FlowKey.WORDS);
                emcHash[i] = h;
                emcEntry[i] = emc.lookup(h);
            }
        } else if (tables != null) {
            readAhead += tables.readAhead(keys, n, in.ofport());
            upcalls += n;                                // caches off (flow-limit 0): every pass is a miss that runs the tables
            uninstalled += n;
        }
        notOneOutput = -1;
        for (int i = 0; i < n; i++) {
            clearPacketState();
            int run = cached ? oneOutputRun(batch, i, n, bridge) : 0;
            if (run > 1) {
                replayRun(emcEntry[i], batch, i, run, tables, view, now);
                i += run - 1;
                continue;
            }
            boolean accepted = tables == null ? normal(batch, i, in, bridge, view, now)
                    : cached ? cachedPass(batch, i, in, bridge, tables, view, now, emcHash[i], emcEntry[i])
                    : openflow(batch, i, in, in.ofport(), bridge, tables, view, now);
            if (!accepted) dropped++;
        }
        if (tables == null) normalPasses += n;
        else openflowPasses += n;
        if (flows != null && tables == null) countNormalOnly(flows, n, bytes);
        if (dropped > 0) in.counters().rxDropped.getAndAdd(dropped);
        flushHits();
        flushNormalOnly();
        flushTables();
        flushTallies();
        flush(batch, view);
    }

    /** Parses packet i into its flow key and clears its per-packet state. */
    private void parse(Batch batch, int i, MemorySegment mem, long[] keys, int inIndex) {
        int base = i * FlowKey.WORDS;
        keys[base + FlowKey.W_IN_PORT] = inIndex;
        for (int w = FlowKey.W_METADATA; w < FlowKey.W_ETH_DST; w++) keys[base + w] = 0;
        batch.layers[i] = Parser.parse(mem, batch.offset[i], batch.length[i], keys, base);
        taggedLen[i] = NO_VARIANT;
        untaggedLen[i] = NO_VARIANT;
        encapAt[i] = -1;
    }

    /** Clears what the forwarder keeps about the packet it works on (one packet at a time). */
    private void clearPacketState() {
        referenced = false;
        spareBusy = 0;
        actionSet = 0;
        actionSetOutputs = 0;
    }

    /** Sum of what {@link OfPipeline#readAhead} read, kept so that the JIT cannot drop the reads. */
    private int readAhead;

    /**
     * Runs a packet-out (OVS: {@code ofproto_packet_out}): packet 0 of {@code batch}, which the caller
     * has put at {@code batch.rxOffset(0)}, through {@code actions} as if received on {@code in} (null:
     * from the controller, OpenFlow port {@code inOfport}), then transmits what it produced.
     */
    public void packetOut(Batch batch, DpBridge bridge, DpPort in, int inOfport, long[] actions, DatapathView view, int now) {
        MemorySegment mem = batch.memory();
        OfPipeline tables = bridge.flows();
        portMods = tables != null && tables.hasPortConfigs() ? tables : null;
        current = view;
        clock = now;
        batch.partial = 0;                                // a packet-out's checksums are as the controller sent them
        parse(batch, 0, mem, batch.keys, in == null ? -1 : in.index());
        clearPacketState();
        accepted = true;
        packetOuts++;
        OfPipeline flows = bridge.flows();
        for (int j = 0; j < actions.length; j += 2) {
            if (actions[j] == OfRule.GROUP) {                // group numbers become positions in the current tables
                if (flows == null) return;
                actions = flows.resolve(actions);
                break;
            }
        }
        apply(actions, actions.length, batch, 0, in, inOfport, bridge, view, now, 0, 0);
        flushHits();
        flushNormalOnly();
        flushTables();
        flushTallies();
        flush(batch, view);
    }

    /** The NORMAL action for packet i; false if the packet was dropped on input. {@code in} null: from the controller. */
    private boolean normal(Batch batch, int i, DpPort in, DpBridge bridge, DatapathView view, int now) {
        if (batch.length[i] < 14) return false;
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        int tci = FlowKey.outerTci(keys, base);
        int vlan = in == null ? tci & FlowKey.VLAN_VID_MASK : in.vlan().inputVlan(tci);
        if (vlan < 0) return false;                       // VLAN not carried by the input port
        long src = keys[base + FlowKey.W_ETH_SRC];
        long dst = keys[base + FlowKey.W_ETH_DST];
        if (isReserved(dst)) return false;                // STP, LACP, CDP, ...: never forwarded
        int dlType = FlowKey.dlType(keys, base);
        if ((dlType == FlowKey.ETH_TYPE_VLAN || dlType == FlowKey.ETH_TYPE_QINQ) && (tci & FlowKey.VLAN_PRESENT) == 0) {
            return false;                                 // a truncated VLAN header: dropped, as OVS does
        }
        MacTable macs = bridge.macs();
        int inIndex = in == null ? -1 : in.index();
        if (FlowKey.isMulticast(dst)) {
            if (in != null && !FlowKey.isMulticast(src)) macs.learn(vlan, src, inIndex, now);
        } else {
            int out = learnAndLookup(bridge, vlan, src, dst, inIndex, now);
            if (out >= 0) {
                DpPort port = view.ports[out];
                if (port != null && port.bridgeIndex() == bridge.index() && port.vlan().carries(vlan)) {
                    if (port.index() != inIndex) output(batch, i, port, vlan, tci);
                    return true;                        // learned on the input port: drop, like OVS
                }
            }
        }
        for (DpPort port : bridge.ports()) {            // flood: unknown unicast, broadcast, multicast
            if (port.index() != inIndex) output(batch, i, port, vlan, tci);
        }
        return true;
    }

    /**
     * NORMAL's unicast step: learns {@code src} on the input port ({@code inIndex}, -1: from the
     * controller, learns nothing) and returns the port {@code dst} was learned on, or -1. Packets of
     * one flow come in runs: while the MAC table is unchanged, the last answer is reused.
     */
    private int learnAndLookup(DpBridge bridge, int vlan, long src, long dst, int inIndex, int now) {
        MacTable macs = bridge.macs();
        NormalMemo m = memos[bridge.index()];
        int generation = macs.generation();
        if (macs == m.macs && generation == m.generation && now == m.now && inIndex == m.in && vlan == m.vlan
                && src == m.src && dst == m.dst) {
            return m.out;                                 // as the last packet: learning would change nothing, the lookup neither
        }
        if (inIndex >= 0 && !FlowKey.isMulticast(src)) macs.learn(vlan, src, inIndex, now);
        generation = macs.generation();                   // before the lookup: a change after it makes the memo miss
        int out = macs.lookup(vlan, dst, now);
        m.macs = macs;                                    // the table, not just the index: a new bridge may take the index
        m.generation = generation;
        m.now = now;
        m.in = inIndex;
        m.vlan = vlan;
        m.src = src;
        m.dst = dst;
        m.out = out;
        return out;
    }

    /** Stages packet i (or a copy with the encapsulation {@code port} needs) for output on {@code port}. */
    private void output(Batch batch, int i, DpPort port, int vlan, int tci) {
        VlanPolicy policy = port.vlan();
        if (!policy.carries(vlan)) return;
        boolean wantTag = policy.outputTagged(vlan);
        boolean hasTag = (tci & FlowKey.VLAN_PRESENT) != 0;
        long offset = batch.offset[i];
        int length = batch.length[i];
        if (wantTag) {
            if (!hasTag || (tci & FlowKey.VLAN_VID_MASK) != vlan) {
                if (taggedLen[i] == NO_VARIANT) {
                    if ((spareBusy & 1) != 0) {           // spare 0 holds an OpenFlow copy an output refers to
                        copyFailures++;
                        return;
                    }
                    if ((batch.partial & 1L << i) != 0) completeChecksum(batch, i);   // copies are made whole
                    spareBusy |= 1;
                    int newTci = (hasTag ? tci & 0xe000 : 0) | vlan;
                    taggedLen[i] = hasTag
                            ? VlanEdit.rewrite(batch.memory(), offset, length, taggedOffset(batch, i), newTci)
                            : VlanEdit.push(batch.memory(), offset, length, taggedOffset(batch, i), newTci);
                }
                offset = taggedOffset(batch, i);
                length = taggedLen[i];
            }
        } else if (hasTag && !(vlan == 0 && (tci & 0xe000) != 0 && policy.mode() != VlanPolicy.Mode.ACCESS)) {
            // Untagged output; but a priority tag (VID 0, PCP set) stays on trunks, as OVS keeps it.
            if (length < 18) return;
            if (untaggedLen[i] == NO_VARIANT) {
                if ((spareBusy & 2) != 0) {
                    copyFailures++;
                    return;
                }
                if ((batch.partial & 1L << i) != 0) completeChecksum(batch, i);
                spareBusy |= 2;
                untaggedLen[i] = VlanEdit.pop(batch.memory(), offset, length, batch.spareOffset(i, 1));
            }
            offset = batch.spareOffset(i, 1);
            length = untaggedLen[i];
        }
        stage(port, offset, length, batch, i);
    }

    /** Stages {@code length} bytes at {@code offset} for output on {@code port}: packet i's bytes or a copy of them. */
    private void stage(DpPort port, long offset, int length, Batch batch, int i) {
        if (portMods != null && (portMods.portConfig(port.ofport()) & (OfPipeline.PORT_DOWN | OfPipeline.NO_FWD)) != 0) return;
        int p = port.index();
        byte role = current.tunnels.role[p];
        boolean partial = (batch.partial & 1L << i) != 0;   // only batch packets (i < 32) are ever partial
        if (partial && (role != 0 || !takesPartial(port))) {
            completeChecksum(batch, i);                   // a port (or tunnel, or queue) that needs whole checksums
            partial = false;
        }
        if (role != 0) {
            if (role == Tunnels.VPORT) {
                encapsulate(batch, i, port, offset, length);
                return;
            }
            if (terminate(batch, i, port, offset, length)) return;
        }
        enqueue(p, offset, length, batch.keys[i * FlowKey.WORDS + FlowKey.W_MARK] >>> 32, partial);
    }

    /** Adds a frame to port {@code p}'s outputs of this batch, for its egress {@code queue}. */
    private void enqueue(int p, long offset, int length, long queue, boolean partial) {
        int c = stagedCount[p];
        if (c == Batch.MAX) return;                      // every packet of the batch already goes there (ALL/FLOOD twice)
        if (c == 0) dirty[dirtyCount++] = p;
        stagedOffset[p][c] = offset;
        stagedLength[p][c] = length;
        stagedQueue[p][c] = queue;
        stagedCount[p] = c + 1;
        if (partial) stagedPartial[p] |= 1L << c;
    }

    /** Whether {@code port} is given partial checksums as they are (not through an egress queue or policer, which keep no marks). */
    private static boolean takesPartial(DpPort port) {
        PortQos qos = port.qos();
        return (qos == null || !qos.spec.hasEgress()) && port.io().takesPartialChecksums();
    }

    /**
     * Completes packet i's partial checksum in its bytes (before an edit, a copy, a tunnel, the
     * controller, or a port that needs it whole); outputs staged with the same bytes while they were
     * partial now send them whole, unmarked.
     */
    private void completeChecksum(Batch batch, int i) {
        long offset = batch.offset[i];
        L4Checksum.complete(batch.memory(), offset, batch.length[i]);
        batch.partial &= ~(1L << i);
        for (int d = 0; d < dirtyCount; d++) {
            int p = dirty[d];
            for (long bits = stagedPartial[p]; bits != 0; bits &= bits - 1) {
                int c = Long.numberOfTrailingZeros(bits);
                if (stagedOffset[p][c] == offset) stagedPartial[p] &= ~(1L << c);
            }
        }
    }

    /**
     * Runs packet i through the bridge's OpenFlow tables from table 0: the highest-priority match's
     * actions apply in order, then its goto_table (if any) continues the lookup; a miss drops the
     * packet (OpenFlow 1.3 without a table-miss flow). Actions edit the packet and its flow key, so
     * later tables match what earlier ones made of it. An output refers to the packet's bytes at that
     * moment; an edit after an output first copies the packet to a free spare slot. Returns false
     * if NORMAL refused the packet on input (a VLAN the port does not carry), as without flows.
     */
    private boolean openflow(Batch batch, int i, DpPort in, int inOfport, DpBridge bridge, OfPipeline flows, DatapathView view, int now) {
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        accepted = true;
        int table = 0;
        while (true) {
            Translation t = translation;
            OfRule r = flows.lookup(table, keys, base, inOfport, subtableProbes, t.active() ? t.mask : null);
            lookups++;
            countLookup(flows, table, r != null, 1);
            if (r == null) {
                tableMisses++;
                t.step(Translation.MISS, table);
                return accepted;
            }
            t.rule(table, r.id);
            countHit(flows, r.id, 1, batch.length[i]);
            if (!apply(r.actions, r.actions.length, batch, i, in, inOfport, bridge, view, now, table, r.cookie)) {
                t.refuse();                              // stopped early (meter, TTL, no room to copy): not the same for the next packet
                return accepted;
            }
            if (r.writeMetadata) {
                keys[base + FlowKey.W_METADATA] = (keys[base + FlowKey.W_METADATA] & ~r.metadataMask) | (r.metadata & r.metadataMask);
            }
            if (r.gotoTable < 0) {
                if (actionSet != 0 || actionSetOutputs != 0) runActionSet(batch, i, in, inOfport, bridge, view, now, table, r.cookie);
                return accepted;
            }
            table = r.gotoTable;
        }
    }

    /**
     * Applies actions {@code a} (opcode/argument pairs) to packet i in order; {@code table} and
     * {@code cookie} say which flow they came from (for packet-ins). False if the packet is gone (an
     * expired TTL, no spare slot for a copy).
     */
    private boolean apply(long[] a, int n, Batch batch, int i, DpPort in, int inOfport, DpBridge bridge, DatapathView view, int now,
                          int table, long cookie) {
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        MemorySegment mem = batch.memory();
        int inIndex = in == null ? -1 : in.index();
        boolean firstOutput = true;                      // a rule's w/ actions are its one write_actions
        for (int j = 0; j < n; j += 2) {
            int op = (int) a[j];
            long arg = a[j + 1];
            if (op >= OfRule.WRITE) {                    // write_actions: into the action set, for later
                writeAction(op - OfRule.WRITE, arg, firstOutput);
                if (op - OfRule.WRITE < OfRule.TABLE) firstOutput = false;
                continue;
            }
            if (op == OfRule.CLEAR_ACTIONS) {
                actionSet = 0;
                actionSetOutputs = 0;
                continue;
            }
            if (op >= OfRule.PUSH_VLAN) {                // an edit
                long expired = ttlDrops;
                if (op == OfRule.DEC_TTL) translation.unwildcard(FlowKey.W_L3, DEC_TTL_READS);
                if (!change(batch, i, mem, op, arg, keys, base)) {
                    // As OVS: a TTL that dec_ttl cannot decrement goes to the controllers (reason invalid_ttl; only those that asked get it)
                    if (ttlDrops != expired) packetIn(batch, i, bridge, PacketIn.REASON_INVALID_TTL, table, cookie, inOfport, keys[base + FlowKey.W_METADATA], 0xffff);
                    return false;
                }
                translation.step(op, arg);
                continue;
            }
            if (op == OfRule.METER) {
                translation.step(op, arg);
                OfPipeline flows = bridge.flows();
                if (!meter(flows, flows.meter((int) arg), batch, i, mem, keys, base)) return false;
                continue;
            }
            switch (op) {
                case OfRule.OUTPUT, OfRule.LOCAL -> {
                    DpPort p = bridge.portByOfport(op == OfRule.LOCAL ? DpPort.OFPP_LOCAL : (int) arg);
                    boolean out = p != null && p.index() != inIndex;
                    translation.step(Translation.PORT, out ? p.index() : -1);
                    if (out) stage(p, batch.offset[i], batch.length[i], batch, i);
                }
                case OfRule.IN_PORT, OfRule.FLOOD, OfRule.ALL, OfRule.NORMAL -> {
                    translation.step(op, 0);
                    accepted &= portAction(op, batch, i, in, bridge, view, now);
                }
                case OfRule.CONTROLLER -> packetIn(batch, i, bridge, PacketIn.REASON_ACTION, table, cookie, inOfport, keys[base + FlowKey.W_METADATA], (int) arg);
                case OfRule.GROUP -> {
                    translation.refuse();                // select depends on the 5-tuple, all clones: run per packet
                    if (arg >= 0) group(bridge.flows().group((int) arg), batch, i, in, inOfport, bridge, view, now, table, cookie);   // -1: a bucket's missing group
                }
                case OfRule.TABLE -> {
                    OfPipeline flows = bridge.flows();
                    if (flows != null) accepted &= openflow(batch, i, in, inOfport, bridge, flows, view, now);
                    else accepted &= normal(batch, i, in, bridge, view, now);
                }
                default -> { }
            }
            referenced = true;
        }
        return true;
    }

    /** Bits of the L3 word dec_ttl's outcome depends on: dl_type and the TTL (an expired TTL goes to the controller). */
    private static final long DEC_TTL_READS = 0xff_0000_ffffL;

    /** Runs IN_PORT, FLOOD, ALL or NORMAL for packet i; false if NORMAL refused the packet on input. */
    private boolean portAction(int op, Batch batch, int i, DpPort in, DpBridge bridge, DatapathView view, int now) {
        int inIndex = in == null ? -1 : in.index();
        switch (op) {
            case OfRule.IN_PORT -> {
                if (in != null) stage(in, batch.offset[i], batch.length[i], batch, i);
            }
            case OfRule.FLOOD, OfRule.ALL -> {
                for (DpPort p : bridge.ports()) if (p.index() != inIndex) stage(p, batch.offset[i], batch.length[i], batch, i);
            }
            default -> {
                return normal(batch, i, in, bridge, view, now);
            }
        }
        return true;
    }

    /**
     * A pass of packet i through the bridge's tables by way of the caches: an exact-match hit, else
     * a megaflow hit, replays what the tables did for an earlier packet of that megaflow; a miss (or
     * an entry made from older tables) runs the tables while recording, and installs the result.
     */
    private boolean cachedPass(Batch batch, int i, DpPort in, DpBridge bridge, OfPipeline flows, DatapathView view, int now, int h, int e) {
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        boolean exact = e >= 0 && megaflows.matches(e, keys, base);
        if (!exact) e = megaflows.lookup(keys, base, megaflowProbes);
        if (e >= 0) {
            if (megaflows.bridge(e) == bridge) {
                if (exact) {
                    emcHits++;
                } else {
                    megaflowHits++;
                    insertExact(h, e);
                }
                megaflows.hit(e, 1, batch.length[i], now);
                return replay(e, batch, i, in, bridge, flows, view, now);
            }
            megaflows.remove(e);                         // translated against older tables or ports: translate again
        }
        upcalls++;
        Translation t = translation;
        t.start(keys, base);
        boolean accepted = openflow(batch, i, in, in.ofport(), bridge, flows, view, now);
        if (t.finish()) {
            e = megaflows.insert(t, bridge, now);
            if (e >= 0) insertExact(h, e);
            else uninstalled++;
        } else {
            uninstalled++;
        }
        t.forget();
        return accepted;
    }

    /**
     * The last megaflow entry of this batch found not to be a one-output program, or -1. Only ever
     * skips a run (the packets then replay one by one), so an entry reused within the batch costs
     * nothing but the run.
     */
    private int notOneOutput = -1;

    /** Exact-match hits counted and output as runs of one flow ({@link #replayRun}); pmd-perf-show shows them. */
    private long runPackets;

    public long runPackets() {
        return runPackets;
    }

    /**
     * How many packets from i on are exact-match hits on one megaflow of {@code bridge} whose program
     * is its counters and a single output: 0 or 1 if packet i does not start such a run. A run is
     * counted and output once for all its packets, as OVS executes a batch's packets grouped by flow.
     */
    private int oneOutputRun(Batch batch, int i, int n, DpBridge bridge) {
        int e = emcEntry[i];
        if (e < 0 || i + 1 == n || emcEntry[i + 1] != e || e == notOneOutput || megaflows.bridge(e) != bridge) return 0;
        if (!oneOutput(e)) {
            notOneOutput = e;                            // a flow with edits: its program is not scanned again this batch
            return 0;
        }
        long[] keys = batch.keys;
        int j = i;
        while (j < n && emcEntry[j] == e && megaflows.matches(e, keys, j * FlowKey.WORDS)) j++;
        return j - i;
    }

    /** Whether megaflow {@code e}'s program is rule and table counts and exactly one output to a port. */
    private boolean oneOutput(int e) {
        long[] program = megaflows.programArray(e);
        int from = megaflows.programStart(e);
        int end = from + megaflows.programLength(e);
        int outputs = 0;
        for (int j = from; j < end; j += 2) {
            int op = (int) program[j];
            if (op == Translation.PORT) outputs++;
            else if (op != Translation.RULE && op != Translation.MISS) return false;
        }
        return outputs == 1;
    }

    /**
     * {@link #replay} of a one-output megaflow {@code e} for packets {@code i..i+run-1} (see
     * {@link #oneOutputRun}): the entry, table and rule counters once for all of them, then the
     * output for each, in order.
     */
    private void replayRun(int e, Batch batch, int i, int run, OfPipeline flows, DatapathView view, int now) {
        long bytes = 0;
        for (int k = i; k < i + run; k++) bytes += batch.length[k];
        emcHits += run;
        runPackets += run;
        megaflows.hit(e, run, bytes, now);
        long[] program = megaflows.programArray(e);
        int from = megaflows.programStart(e);
        int end = from + megaflows.programLength(e);
        DpPort out = null;
        for (int j = from; j < end; j += 2) {
            long arg = program[j + 1];
            switch ((int) program[j]) {
                case Translation.RULE, Translation.MISS -> countStep((int) program[j], arg, flows, run, bytes);
                default -> out = arg < 0 ? null : view.ports[(int) arg];
            }
        }
        if (out == null) return;
        accepted = true;
        // Staging cannot remove or reuse entry e (a nested pass removes only an entry of another bridge,
        // and inserting never evicts); the program was read before it anyway.
        for (int k = i; k < i + run; k++) {
            clearPacketState();
            stage(out, batch.offset[k], batch.length[k], batch, k);
            referenced = true;
        }
    }

    /**
     * Runs megaflow {@code e}'s recorded program on packet i: the edits, meters and outputs its
     * translation made, in order, and the OpenFlow counters of the tables and rules it went
     * through. Edits run on this packet's own bytes and parse; NORMAL, FLOOD, ALL, meters and
     * tunnel outputs decide again (they depend on state the tables do not hold).
     */
    private boolean replay(int e, Batch batch, int i, DpPort in, DpBridge bridge, OfPipeline flows, DatapathView view, int now) {
        long[] program = megaflows.programArray(e);
        int from = megaflows.programStart(e);
        int end = from + megaflows.programLength(e);
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        MemorySegment mem = batch.memory();
        accepted = true;
        for (int j = from; j < end; j += 2) {
            int op = (int) program[j];
            long arg = program[j + 1];
            switch (op) {
                case Translation.RULE, Translation.MISS -> countStep(op, arg, flows, 1, batch.length[i]);
                case Translation.PORT -> {
                    DpPort p = arg < 0 ? null : view.ports[(int) arg];
                    if (p != null) stage(p, batch.offset[i], batch.length[i], batch, i);
                    referenced = true;
                }
                case OfRule.METER -> {
                    if (!meter(flows, flows.meter((int) arg), batch, i, mem, keys, base)) return accepted;
                }
                case OfRule.IN_PORT, OfRule.FLOOD, OfRule.ALL, OfRule.NORMAL -> {
                    accepted &= portAction(op, batch, i, in, bridge, view, now);
                    referenced = true;
                }
                default -> {
                    if (!change(batch, i, mem, op, arg, keys, base)) return accepted;
                }
            }
        }
        return accepted;
    }

    /**
     * Puts one action into the packet's action set: one per kind, the last written wins. Outputs
     * (output, in_port, normal, flood, all, local, controller): the outputs of one write_actions
     * replace those written before, and, as in OVS, it may write several.
     */
    private void writeAction(int op, long arg, boolean firstOutputOfInstruction) {
        if (op < OfRule.TABLE) {
            if (firstOutputOfInstruction) actionSetOutputs = 0;
            if (actionSetOutputs < MAX_SET_OUTPUTS) {
                actionSetOutput[actionSetOutputs] = op;
                actionSetOutputArg[actionSetOutputs++] = arg;
            }
        } else {
            actionSet |= 1L << op;
            actionSetArg[op] = arg;
        }
    }

    /**
     * Runs the action set when the packet leaves the tables, in the order OpenFlow 1.3 section 5.10
     * gives: pop, push, decrement TTL, set-fields, then the group if there is one, else the output.
     */
    private void runActionSet(Batch batch, int i, DpPort in, int inOfport, DpBridge bridge, DatapathView view, int now, int table, long cookie) {
        long[] run = actionSetRun;
        int n = 0;
        long set = actionSet;
        for (int op : ACTION_SET_ORDER) {
            if ((set & (1L << op)) == 0) continue;
            run[n++] = op;
            run[n++] = actionSetArg[op];
        }
        if ((set & (1L << OfRule.GROUP)) == 0) {
            for (int k = 0; k < actionSetOutputs; k++) {
                run[n++] = actionSetOutput[k];
                run[n++] = actionSetOutputArg[k];
            }
        }
        actionSet = 0;
        actionSetOutputs = 0;
        if (!apply(run, n, batch, i, in, inOfport, bridge, view, now, table, cookie)) translation.refuse();   // stopped early: as in openflow()
    }

    private static final int[] ACTION_SET_ORDER = {
        OfRule.POP_VLAN, OfRule.PUSH_VLAN, OfRule.DEC_TTL, OfRule.SET_VLAN_VID, OfRule.SET_VLAN_PCP, OfRule.SET_ETH_SRC,
        OfRule.SET_ETH_DST, OfRule.SET_IPV4_SRC, OfRule.SET_IPV4_DST, OfRule.SET_IP_DSCP, OfRule.SET_TP_SRC, OfRule.SET_TP_DST,
        OfRule.SET_IP_ECN, OfRule.SET_ICMP_TYPE, OfRule.SET_ICMP_CODE, OfRule.SET_ARP_OP, OfRule.SET_ARP_SPA, OfRule.SET_ARP_TPA,
        OfRule.SET_ARP_SHA, OfRule.SET_ARP_THA, OfRule.SET_IPV6_SRC_HI, OfRule.SET_IPV6_SRC_LO, OfRule.SET_IPV6_DST_HI,
        OfRule.SET_IPV6_DST_LO, OfRule.SET_IPV6_LABEL, OfRule.SET_TUN_ID, OfRule.SET_ND_TARGET_HI, OfRule.SET_ND_TARGET_LO,
        OfRule.SET_ND_SLL, OfRule.SET_ND_TLL, OfRule.SET_QUEUE, OfRule.SET_TUN_SRC, OfRule.SET_TUN_DST, OfRule.GROUP
    };

    /** Edits packet i (copying it first if an output refers to its bytes); false if it is gone. */
    private boolean change(Batch batch, int i, MemorySegment mem, int op, long arg, long[] keys, int base) {
        if (op == OfRule.SET_QUEUE || op == OfRule.SET_TUN_ID || op == OfRule.SET_TUN_SRC || op == OfRule.SET_TUN_DST) {
            // the flow key only: the bytes (maybe an output's) stay
            edit(batch, i, mem, op, arg, keys, base);
            return true;
        }
        if ((batch.partial & 1L << i) != 0) completeChecksum(batch, i);
        if (referenced) {
            if (!copyToSpare(batch, i)) {
                copyFailures++;
                return false;
            }
            referenced = false;
        }
        if (!edit(batch, i, mem, op, arg, keys, base)) {
            ttlDrops++;                                  // dec_ttl reached zero: dropped
            return false;
        }
        return true;
    }

    /** Meters packet i: false if a drop band took it; a DSCP remark band edits it (IPv4). */
    private boolean meter(OfPipeline flows, OfMeter m, Batch batch, int i, MemorySegment mem, long[] keys, int base) {
        int k = m.band(System.nanoTime(), batch.length[i]);
        countHit(flows, m.counterId, 1, batch.length[i]);
        if (k >= 0) countHit(flows, m.counterId + 1 + k, 1, batch.length[i]);   // the band it exceeded
        if (k < 0) return true;
        if (m.type[k] == OfMeter.DROP) {
            meterDrops++;
            return false;
        }
        if (FlowKey.dlType(keys, base) != FlowKey.ETH_TYPE_IPV4) return true;
        int dscp = FlowKey.nwTos(keys, base) >>> 2;
        int remarked = OfMeter.remark(dscp, m.precLevel[k]);
        return remarked == dscp || change(batch, i, mem, OfRule.SET_IP_DSCP, remarked, keys, base);
    }

    /**
     * Runs packet i through group {@code g} (OpenFlow 1.3 section 5.6): an all group gives every
     * bucket its own clone of the packet (a bucket that edits works on a copy in a spare slot, and
     * the packet goes on after the group as it came in); select takes one live bucket by a hash of
     * the 5-tuple and the weights; indirect its one bucket; fast failover the first live bucket.
     * Without a live bucket the group does nothing.
     */
    private void group(OfGroup g, Batch batch, int i, DpPort in, int inOfport, DpBridge bridge, DatapathView view, int now,
                       int table, long cookie) {
        if (groupDepth == 0) bucketsLeft = MAX_BUCKETS;
        if (groupDepth == MAX_GROUP_DEPTH || bucketsLeft <= 0) {
            groupLoopDrops++;
            return;
        }
        groupDepth++;
        runGroup(g, batch, i, in, inOfport, bridge, view, now, table, cookie, i * FlowKey.WORDS);
        groupDepth--;
    }

    private void runGroup(OfGroup g, Batch batch, int i, DpPort in, int inOfport, DpBridge bridge, DatapathView view, int now,
                          int table, long cookie, int base) {
        OfPipeline flows = bridge.flows();
        countHit(flows, g.counterId, 1, batch.length[i]);
        if (g.type == OfGroup.Type.ALL) {
            long offset = batch.offset[i];
            int length = batch.length[i], layers = batch.layers[i], tagged = taggedLen[i], untagged = untaggedLen[i];
            long[] saved = savedKeys[groupDepth - 1];            // a bucket may go to another group: one saved key per level
            System.arraycopy(batch.keys, base, saved, 0, FlowKey.WORDS);
            for (int k = 0; k < g.buckets() && bucketsLeft-- > 0; k++) {
                countHit(flows, g.counterId + 1 + k, 1, length);
                referenced = true;                       // edits in a bucket copy the packet first
                apply(g.actions[k], g.actions[k].length, batch, i, in, inOfport, bridge, view, now, table, cookie);
                batch.offset[i] = offset;
                batch.length[i] = length;
                batch.layers[i] = layers;
                taggedLen[i] = tagged;
                untaggedLen[i] = untagged;
                System.arraycopy(saved, 0, batch.keys, base, FlowKey.WORDS);
            }
            return;
        }
        int k = switch (g.type) {
            case SELECT -> g.select(flowHash(batch.keys, base));
            case INDIRECT -> 0;
            default -> g.firstLive();
        };
        if (k < 0) return;
        bucketsLeft--;
        countHit(flows, g.counterId + 1 + k, 1, batch.length[i]);
        apply(g.actions[k], g.actions[k].length, batch, i, in, inOfport, bridge, view, now, table, cookie);
    }

    /** A hash of the packet's 5-tuple (IPv4 or IPv6), or of its Ethernet addresses if it is not IP. */
    private static int flowHash(long[] k, int base) {
        final long m = 0x9E3779B97F4A7C15L;
        int dlType = FlowKey.dlType(k, base);
        long h = m;
        if (dlType == 0x0800 || dlType == 0x86dd) {
            h = (h ^ k[base + FlowKey.W_IPV4]) * m;
            for (int w = FlowKey.W_IPV6_SRC_HI; w <= FlowKey.W_IPV6_DST_LO; w++) h = (h ^ k[base + w]) * m;
            h ^= (k[base + FlowKey.W_TP] >>> 32) ^ (long) FlowKey.nwProto(k, base) << 40;
        } else {
            h = (h ^ k[base + FlowKey.W_ETH_SRC]) * m;
            h ^= k[base + FlowKey.W_ETH_DST];
        }
        return FlowKey.avalanche(h);
    }

    /** Sends packet i, as it is now, to the bridge's controllers, within the bridge's packet-in rate. */
    private void packetIn(Batch batch, int i, DpBridge bridge, int reason, int table, long cookie, int inOfport, long metadata, int maxLen) {
        translation.refuse();                            // the controller sees every such packet
        if (portMods != null && (portMods.portConfig(inOfport) & OfPipeline.NO_PACKET_IN) != 0) return;
        if (packetIns == null || !bridge.packetInLimit().tryTake(System.nanoTime())) {
            packetInsLimited++;
            return;
        }
        if ((batch.partial & 1L << i) != 0) completeChecksum(batch, i);    // the controller gets the packet whole
        if (packetIns.write(bridge.name(), reason, table, inOfport, cookie, metadata,
                batch.memory(), batch.offset[i], batch.length[i], maxLen)) {
            packetInsSent++;
        } else {
            packetInsLost++;
        }
    }

    /** Lookups and matches per table of {@link #countedTables} not yet added to its counters (a batch's at once). */
    private final long[] tableLookups = new long[OfPipeline.TABLES];
    private final long[] tableMatches = new long[OfPipeline.TABLES];
    private final int[] touchedTables = new int[OfPipeline.TABLES];
    private int touchedCount;
    private OfPipeline countedTables;

    /**
     * The counters of one recorded step ({@link Translation#RULE}: table lookup and rule hit;
     * {@link Translation#MISS}: table lookup and miss) for {@code packets} packets of {@code bytes} in all.
     */
    private void countStep(int op, long arg, OfPipeline flows, int packets, long bytes) {
        if (op == Translation.RULE) {
            countLookup(flows, (int) (arg >>> 32), true, packets);
            countHit(flows, (int) arg, packets, bytes);
        } else {
            countLookup(flows, (int) arg, false, packets);
            tableMisses += packets;
        }
    }

    private void countLookup(OfPipeline flows, int table, boolean matched, int packets) {
        if (flows != countedTables) {
            flushTables();
            countedTables = flows;
        }
        if (tableLookups[table] == 0) touchedTables[touchedCount++] = table;
        tableLookups[table] += packets;
        if (matched) tableMatches[table] += packets;
    }

    private void flushTables() {
        for (int k = 0; k < touchedCount; k++) {
            int t = touchedTables[k];
            countedTables.countTable(t, tableLookups[t], tableMatches[t]);
            tableLookups[t] = 0;
            tableMatches[t] = 0;
        }
        touchedCount = 0;
        countedTables = null;
    }

    /**
     * Counts {@code packets} packets of {@code bytes} bytes in all on counter {@code id} of {@code flows} (a rule's, or a group's,
     * bucket's, meter's or meter band's: see {@link OfPipeline#hit}): into its slot, or a new one
     * (all slots taken: they are added first).
     */
    private void countHit(OfPipeline flows, int id, int packets, long bytes) {
        int k = hitLast;
        if (hitRule[k] != id || hitPipeline[k] != flows) {
            k = 0;
            while (k < hitCount && (hitRule[k] != id || hitPipeline[k] != flows)) k++;
            if (k == hitCount) {
                if (k == HIT_SLOTS) {
                    flushHits();
                    k = 0;
                }
                hitRule[k] = id;
                hitPipeline[k] = flows;
                hitCount = k + 1;
            }
            hitLast = k;
        }
        hitPackets[k] += packets;
        hitBytes[k] += bytes;
    }

    /**
     * Passes through a bridge whose only rule is the NORMAL flow, not yet added to that rule and to
     * table 0: one bridge at a time, added when the bridge changes and at the end of the batch. A
     * tunnel's underlay pass comes once per packet, and adding each at once cost four locked
     * instructions per packet.
     */
    private OfPipeline normalTally;
    private long normalTallyPackets, normalTallyBytes;

    private void countNormalOnly(OfPipeline flows, long packets, long bytes) {
        if (flows != normalTally) {
            flushNormalOnly();
            normalTally = flows;
        }
        normalTallyPackets += packets;
        normalTallyBytes += bytes;
    }

    private void flushNormalOnly() {
        if (normalTally != null) normalTally.hitNormalOnly(normalTallyPackets, normalTallyBytes);
        normalTally = null;
        normalTallyPackets = normalTallyBytes = 0;
    }

    private void flushHits() {
        for (int k = 0; k < hitCount; k++) hitPipeline[k].hit(hitRule[k], hitPackets[k], hitBytes[k]);
        forgetHits();
    }

    private void forgetHits() {
        for (int k = 0; k < hitCount; k++) {
            hitPipeline[k] = null;
            hitPackets[k] = 0;
            hitBytes[k] = 0;
        }
        hitCount = 0;
        hitLast = 0;
    }

    /** Moves packet i into a spare slot no output refers to; false if both are taken. */
    private boolean copyToSpare(Batch batch, int i) {
        int k = (spareBusy & 2) == 0 ? 1 : (spareBusy & 1) == 0 ? 0 : -1;
        if (k < 0) return false;
        long to = batch.spareOffset(i, k);
        MemorySegment.copy(batch.memory(), batch.offset[i], batch.memory(), to, batch.length[i]);
        batch.offset[i] = to;
        spareBusy |= 1 << k;
        taggedLen[i] = NO_VARIANT;                       // NORMAL's copies were of the old bytes
        untaggedLen[i] = NO_VARIANT;
        return true;
    }

    /** Applies an editing action to packet i's bytes and flow key; false if the packet must be dropped (TTL expired). */
    private static boolean edit(Batch batch, int i, MemorySegment mem, int op, long arg, long[] keys, int base) {
        long off = batch.offset[i];
        int len = batch.length[i];
        long vlan = keys[base + FlowKey.W_VLAN];
        boolean tagged = ((vlan >>> 48) & FlowKey.VLAN_PRESENT) != 0;
        switch (op) {
            case OfRule.PUSH_VLAN -> {
                if (batch.headroom(i) < VlanEdit.TAG || len < VlanEdit.ETH_ADDRS) return true;
                int wireTci = tagged ? (int) (vlan >>> 48) & ~FlowKey.VLAN_PRESENT & 0xffff : 0;   // VID and PCP of the old outer tag
                VlanEdit.pushInPlace(mem, off, (int) arg, wireTci);
                batch.offset[i] = off - VlanEdit.TAG;
                batch.length[i] = len + VlanEdit.TAG;
                batch.layers[i] = shiftLayers(batch.layers[i], VlanEdit.TAG);
                keys[base + FlowKey.W_VLAN] = ((long) (wireTci | FlowKey.VLAN_PRESENT) << 48) | (arg & 0xffff) << 32 | (vlan >>> 32);
            }
            case OfRule.POP_VLAN -> {
                if (!tagged || len < VlanEdit.ETH_ADDRS + VlanEdit.TAG) return true;
                VlanEdit.popInPlace(mem, off);
                batch.offset[i] = off + VlanEdit.TAG;
                batch.length[i] = len - VlanEdit.TAG;
                batch.layers[i] = shiftLayers(batch.layers[i], -VlanEdit.TAG);
                keys[base + FlowKey.W_VLAN] = vlan << 32;
            }
            case OfRule.SET_VLAN_VID, OfRule.SET_VLAN_PCP -> {
                if (!tagged || len < VlanEdit.ETH_ADDRS + VlanEdit.TAG) return true;
                int wire = VlanEdit.tci(mem, off);
                wire = op == OfRule.SET_VLAN_VID ? (wire & 0xf000) | (int) (arg & 0x0fff) : (wire & 0x1fff) | (int) (arg & 7) << 13;
                VlanEdit.setTci(mem, off, wire);
                keys[base + FlowKey.W_VLAN] = (vlan & 0x0000_ffff_ffff_ffffL) | (long) ((wire & ~FlowKey.VLAN_PRESENT) | FlowKey.VLAN_PRESENT) << 48;
            }
            case OfRule.SET_ETH_DST -> {
                VlanEdit.setMac(mem, off, arg);
                keys[base + FlowKey.W_ETH_DST] = arg;
            }
            case OfRule.SET_ETH_SRC -> {
                VlanEdit.setMac(mem, off + 6, arg);
                keys[base + FlowKey.W_ETH_SRC] = arg;
            }
            case OfRule.SET_TUN_ID -> keys[base + FlowKey.W_TUN_ID] = arg;      // metadata for a later tunnel port
            case OfRule.SET_TUN_SRC -> keys[base + FlowKey.W_TUN_IPV4] = arg << 32 | keys[base + FlowKey.W_TUN_IPV4] & 0xffffffffL;
            case OfRule.SET_TUN_DST -> keys[base + FlowKey.W_TUN_IPV4] = keys[base + FlowKey.W_TUN_IPV4] & 0xffffffff00000000L | arg & 0xffffffffL;
            // The queue the packet leaves by (skb_priority, as OVS keeps it); a port without QoS has one queue, so it changes nothing there
            case OfRule.SET_QUEUE -> keys[base + FlowKey.W_MARK] = (arg & 0xffffffffL) << 32 | keys[base + FlowKey.W_MARK] & 0xffffffffL;
            case OfRule.SET_ARP_OP, OfRule.SET_ARP_SPA, OfRule.SET_ARP_TPA, OfRule.SET_ARP_SHA, OfRule.SET_ARP_THA ->
                    ArpEdit.apply(mem, off, batch.layers[i], op, arg, keys, base);
            default -> {
                return IpEdit.apply(mem, off, off + len, batch.layers[i], op, arg, keys, base);
            }
        }
        return true;
    }

    /** The parser's layer offsets after the frame start moved by {@code delta} bytes (NONE stays NONE). */
    private static int shiftLayers(int layers, int delta) {
        int l3 = Parser.l3Offset(layers), l4 = Parser.l4Offset(layers);
        return (l3 == Parser.NONE ? Parser.NONE : l3 + delta) | (l4 == Parser.NONE ? Parser.NONE : l4 + delta) << 16;
    }

    // ---- tunnels (OVS: native tunnelling, ofproto-dpif-xlate.c and netdev-native-tnl.c) ----

    private static final java.lang.foreign.ValueLayout.OfShort U16 =
            java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfLong U64 =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    /** Tunnel counters (see {@code TNL_*}). */
    public long tunnelStat(int stat) {
        return tunnelStats[stat];
    }

    /**
     * Output to a tunnel vport: routes the remote endpoint, finds the next hop's Ethernet address,
     * writes the outer headers into the headroom in front of the frame (no copy) and runs the result
     * through the underlay bridge as if the route's internal port had sent it. Without a route or a
     * neighbour the packet is dropped and counted (a missing neighbour is asked for with an ARP
     * request); a packet that would exceed the internal port's MTU is dropped, never fragmented.
     */
    private void encapsulate(Batch batch, int i, DpPort vport, long offset, int length) {
        Tunnels t = current.tunnels;
        TunnelSpec s = t.spec[vport.index()];
        long[] k = batch.keys;
        int base = i * FlowKey.WORDS;
        long tun = k[base + FlowKey.W_TUN_IPV4];
        int dst = s.remoteFlow() ? (int) tun : s.remoteIp();
        int r = dst == 0 ? -1 : dst == routedDst && t == routedIn ? routed : t.routes.lookup(dst);
        routedIn = t;                                        // a flow's packets come in runs: route once per run
        routedDst = dst;
        routed = r;
        if (r < 0) {
            tunnelDrop(vport, TNL_NO_ROUTE);
            return;
        }
        DpPort out = current.ports[t.routes.port(r)];
        int type = s.type();
        boolean udp = type != TunnelSpec.GRE;
        int header = type == TunnelSpec.VXLAN ? Vxlan.HEADER : type == TunnelSpec.GENEVE ? Geneve.HEADER
                : OuterHeader.ETH + OuterHeader.IPV4 + Gre.length(s.keyed(), s.csum());
        if (out == null || tunnelDepth == MAX_TUNNEL_DEPTH || offset % PacketPool.SLOT_SIZE < header) {
            tunnelDrop(vport, TNL_ERRORS);                   // a tunnel inside tunnels too deep, or no headroom
            return;
        }
        int hop = t.routes.gateway(r) != 0 ? t.routes.gateway(r) : dst;
        long neighbour = (long) out.index() << 32 | (hop & 0xffffffffL);
        int generation = t.neighbours.generation();
        long mac = neighbour == resolved && generation == resolvedGeneration && clock == resolvedAt && t.neighbours == resolvedIn
                ? resolvedMac : t.neighbours.lookup(out.index(), hop, clock);
        resolved = neighbour;
        resolvedGeneration = generation;
        resolvedAt = clock;
        resolvedIn = t.neighbours;
        resolvedMac = mac;
        if (mac < 0) {
            tunnelDrop(vport, TNL_NO_NEIGHBOUR);
            arpRequest(batch, i, out, t.mac[out.index()], t.routes.src(r), hop);
            return;
        }
        int ipLength = header - OuterHeader.ETH + length;
        if (ipLength > t.mtu[out.index()]) {
            tunnelDrop(vport, TNL_TOO_BIG);
            return;
        }
        if (encapAt[i] == offset) flush(batch, current);     // the headroom holds a header that staged outputs still refer to
        encapAt[i] = offset;
        int src = s.localFlow() ? (int) (tun >>> 32) : s.localIp() != 0 ? s.localIp() : t.routes.src(r);
        int dlType = FlowKey.dlType(k, base);
        boolean ip = dlType == FlowKey.ETH_TYPE_IPV4 || dlType == FlowKey.ETH_TYPE_IPV6;
        int innerTos = ip ? FlowKey.nwTos(k, base) : 0;
        int ecn = innerTos & 3;
        int tos = (s.tos() == TunnelSpec.INHERIT ? innerTos & 0xfc : s.tos()) | (ecn == 3 ? 2 : ecn);   // ECN inherited, CE as ECT(0), as OVS
        int ttl = s.ttl() == TunnelSpec.INHERIT ? (ip ? FlowKey.nwTtl(k, base) : TunnelSpec.DEFAULT_TTL) : s.ttl();
        MemorySegment m = batch.memory();
        long at = offset - header;
        OuterHeader.write(m, at, mac, t.mac[out.index()], tos, ttl, s.df(), udp ? OuterHeader.PROTO_UDP : OuterHeader.PROTO_GRE,
                src, dst, ipLength);
        long key = s.outKeyFlow() ? k[base + FlowKey.W_TUN_ID] : s.outKey();
        long tnl = at + OuterHeader.ETH + OuterHeader.IPV4;
        int ports = 0;
        if (udp) {
            int sport = Vxlan.sourcePort(flowHash(k, base), t.sourcePortMin, t.sourcePortSpan);
            if (type == TunnelSpec.VXLAN) Vxlan.write(m, tnl, sport, s.dstPort(), key & 0xffffff, length, s.csum(), src, dst);
            else Geneve.write(m, tnl, sport, s.dstPort(), key & 0xffffff, length, s.csum(), src, dst);
            ports = sport << 16 | s.dstPort();
        } else {
            Gre.write(m, tnl, s.keyed(), key, s.csum(), length);
        }
        pushedEthDst = mac;
        pushedEthSrc = t.mac[out.index()];
        pushedL3 = FlowKey.ETH_TYPE_IPV4 | (long) (udp ? OuterHeader.PROTO_UDP : OuterHeader.PROTO_GRE) << 16 | (long) tos << 24 | (long) ttl << 32;
        pushedIps = (long) src << 32 | (dst & 0xffffffffL);
        pushedPorts = (long) ports << 32;
        if (vport.counters() != txTally) {
            flushTallies();
            txTally = vport.counters();
        }
        txTallyPackets++;
        txTallyBytes += length;
        tunnelStats[TNL_PUSH]++;
        if (!pushedToUnderlay(out, at, length + header)) recirculate(batch, i, out, at, length + header, 0, 0, -1, true);
    }

    /**
     * The underlay's pass of a frame just encapsulated, without recirculating it, when that pass is
     * plain NORMAL to one known port (OVS's {@code tnl_push} followed by the underlay's output in one
     * datapath action list): the internal port's bridge has no tables but the default NORMAL flow
     * and no port-mods, the outer destination MAC is learned on a plain untagged port. It learns,
     * counts the NORMAL flow and stages the frame as that pass would. False (nothing done) when the
     * pass needs the full path: a flood, a reserved destination, a VLAN tag to push, or an output
     * that is itself a tunnel endpoint.
     */
    private boolean pushedToUnderlay(DpPort internal, long at, int length) {
        DpBridge bridge = current.bridges[internal.bridgeIndex()];
        OfPipeline flows = bridge == null ? null : bridge.flows();
        if (bridge == null || flows != null && (!flows.normalOnly() || flows.hasPortConfigs())) return false;
        int vlan = internal.vlan().inputVlan(0);
        long dst = pushedEthDst;
        if (vlan < 0 || FlowKey.isMulticast(dst) || isReserved(dst)) return false;
        int p = learnAndLookup(bridge, vlan, pushedEthSrc, dst, internal.index(), clock);
        DpPort port = p < 0 ? null : current.ports[p];
        if (port == null || port.bridgeIndex() != bridge.index() || current.tunnels.role[p] != 0) return false;
        VlanPolicy policy = port.vlan();
        if (!policy.carries(vlan) || policy.outputTagged(vlan)) return false;
        if (flows != null) countNormalOnly(flows, 1, length);
        if (p != internal.index()) enqueue(p, at, length, 0, false);   // learned on the internal port itself: dropped, as NORMAL does
        referenced = true;                                   // outputs now refer to these bytes
        return true;
    }

    /** Adds the vport traffic counted so far to the vports' counters. */
    private void flushTallies() {
        if (txTally != null && txTallyPackets > 0) {
            txTally.txPackets.getAndAdd(txTallyPackets);
            txTally.txBytes.getAndAdd(txTallyBytes);
        }
        if (rxTally != null && rxTallyPackets > 0) {
            rxTally.rxPackets.getAndAdd(rxTallyPackets);
            rxTally.rxBytes.getAndAdd(rxTallyBytes);
        }
        txTally = rxTally = null;
        txTallyPackets = txTallyBytes = rxTallyPackets = rxTallyBytes = 0;
    }

    /** Where {@link #outerKey} leaves the layers of a frame it describes: IPv4 at 14, its payload at 34. */
    private static final int OUTER_LAYERS = OuterHeader.ETH | (OuterHeader.ETH + OuterHeader.IPV4) << 16;

    /**
     * The flow key of the outer headers {@link #encapsulate} just wrote (what the parser would find
     * there), from the values it wrote rather than read back: wide loads over the narrower stores
     * just made cannot be forwarded from the store buffer and wait for them to reach the cache.
     */
    private long pushedEthDst, pushedEthSrc, pushedL3, pushedIps, pushedPorts;

    /** Writes the pushed headers' flow key into {@code k} at {@code base}; returns its layers. */
    private int outerKey(long[] k, int base) {
        for (int w = FlowKey.W_IPV6_SRC_HI; w < FlowKey.WORDS; w++) k[base + w] = 0;
        k[base + FlowKey.W_VLAN] = 0;
        k[base + FlowKey.W_ETH_DST] = pushedEthDst;
        k[base + FlowKey.W_ETH_SRC] = pushedEthSrc;
        k[base + FlowKey.W_L3] = pushedL3;
        k[base + FlowKey.W_IPV4] = pushedIps;
        k[base + FlowKey.W_TP] = pushedPorts;
        return OUTER_LAYERS;
    }

    private void tunnelDrop(DpPort vport, int stat) {
        tunnelStats[stat]++;
        vport.counters().txDropped.getAndAdd(1);
    }

    /**
     * Output to an internal port with tunnel endpoint addresses (OVS: {@code terminate_native_tunnel}):
     * a VXLAN, Geneve or GRE packet to one of its addresses is checked, decapsulated and continues on the
     * vport that accepts it; one no vport accepts, or with malformed outer headers, is dropped and
     * counted. An ARP reply to the port (or a gratuitous ARP) teaches the neighbour cache and goes on
     * to the kernel like other traffic. True if the packet was consumed.
     */
    private boolean terminate(Batch batch, int i, DpPort port, long offset, int length) {
        Tunnels t = current.tunnels;
        long[] k = batch.keys;
        int base = i * FlowKey.WORDS;
        int dlType = FlowKey.dlType(k, base);
        int p = port.index();
        if (dlType == FlowKey.ETH_TYPE_ARP) {
            int spa = FlowKey.ipv4Src(k, base), tpa = FlowKey.ipv4Dst(k, base);
            long sha = k[base + FlowKey.W_ARP_SHA];
            if (sha != 0 && ((FlowKey.nwProto(k, base) == 2 && t.isLocal(p, tpa)) || spa == tpa)) t.neighbours.learn(p, spa, sha, clock);
            return false;
        }
        if (dlType != FlowKey.ETH_TYPE_IPV4) return false;
        int proto = FlowKey.nwProto(k, base), dstPort = FlowKey.tpDst(k, base);
        int type = proto == OuterHeader.PROTO_UDP ? t.udpTunnel(dstPort) : proto == OuterHeader.PROTO_GRE && t.gre ? TunnelSpec.GRE : 0;
        if (type == 0) return false;
        int dst = FlowKey.ipv4Dst(k, base);
        if (!t.isLocal(p, dst)) return false;
        MemorySegment m = batch.memory();
        long inner = outerHeaders(m, offset, length, type, FlowKey.nwFrag(k, base));
        if (inner < 0) {
            tunnelStats[TNL_POP_ERRORS]++;
            return true;
        }
        long l4 = offset + OuterHeader.ETH + (m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + OuterHeader.ETH) & 0xf) * 4;
        long key = type == TunnelSpec.VXLAN ? Vxlan.vni(m, l4 + 8) : type == TunnelSpec.GENEVE ? Geneve.vni(m, l4 + 8)
                : (Gre.parse(m, l4, (int) (inner - l4)) & 0x100) != 0 ? Gre.key(m, l4) : 0;
        int innerLength = (int) (offset + OuterHeader.ETH + (m.get(U16, offset + OuterHeader.ETH + 2) & 0xffff) - inner);
        int src = FlowKey.ipv4Src(k, base);
        int vp = t.receivingPort(type, dstPort, key, src, dst);
        DpPort vport = vp < 0 ? null : current.ports[vp];
        if (vport == null) {
            tunnelStats[TNL_POP_NO_PORT]++;
            return true;
        }
        if (tunnelDepth == MAX_TUNNEL_DEPTH) {
            tunnelStats[TNL_ERRORS]++;
            return true;
        }
        long sender = (long) p << 32 | (src & 0xffffffffL), senderMac = k[base + FlowKey.W_ETH_SRC];
        if (sender != learnedKey || senderMac != learnedMac || clock != learnedAt) {
            t.neighbours.learn(p, src, senderMac, clock);      // as OVS: the sender answers at that address
            learnedKey = sender;
            learnedMac = senderMac;
            learnedAt = clock;
        }
        if (vport.counters() != rxTally) {
            flushTallies();
            rxTally = vport.counters();
        }
        rxTallyPackets++;
        rxTallyBytes += innerLength;
        tunnelStats[TNL_POP]++;
        recirculate(batch, i, vport, inner, innerLength, key, (long) src << 32 | (dst & 0xffffffffL), inner, false);
        return true;
    }

    /**
     * Checks the outer IPv4 and the VXLAN or Geneve (UDP) or GRE headers ({@code type}) of the frame
     * at {@code offset}; returns the inner frame's offset, or -1 for a fragment, a truncated or
     * inconsistent header, a bad checksum, or an inner frame shorter than an Ethernet header.
     */
    private static long outerHeaders(MemorySegment m, long offset, int length, int type, int frag) {
        if (frag != 0 || length < OuterHeader.ETH + OuterHeader.IPV4 || (m.get(U16, offset + 12) & 0xffff) != FlowKey.ETH_TYPE_IPV4) return -1;
        long ip = offset + OuterHeader.ETH;
        int ihl = (m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, ip) & 0xf) * 4;
        int total = m.get(U16, ip + 2) & 0xffff;
        if (ihl < OuterHeader.IPV4 || total < ihl || OuterHeader.ETH + total > length || !OuterHeader.ipv4ChecksumOk(m, ip, ihl)) return -1;
        long l4 = ip + ihl;
        int available = total - ihl;
        long inner;
        if (type != TunnelSpec.GRE) {
            int udpLength = available < 16 ? 0 : m.get(U16, l4 + 4) & 0xffff;
            if (udpLength < 16 || udpLength > available) return -1;
            int tunnelHeader = type == TunnelSpec.VXLAN ? (Vxlan.vni(m, l4 + 8) < 0 ? -1 : 8) : Geneve.parse(m, l4 + 8, udpLength - 8);
            if (tunnelHeader < 0) return -1;
            if (m.get(U16, l4 + 6) != 0) {                  // a checksum was sent: it must be right
                long pseudo = (m.get(U16, ip + 12) & 0xffff) + (m.get(U16, ip + 14) & 0xffff) + (m.get(U16, ip + 16) & 0xffff)
                        + (m.get(U16, ip + 18) & 0xffff) + OuterHeader.PROTO_UDP + udpLength;
                if (OuterHeader.fold(OuterHeader.sum(m, l4, udpLength, pseudo)) != 0xffff) return -1;
            }
            if (udpLength != available) return -1;           // the IP and UDP lengths disagree
            inner = l4 + 8 + tunnelHeader;
        } else {
            int g = Gre.parse(m, l4, available);
            if (g < 0) return -1;
            inner = l4 + (g & 0xff);
        }
        return ip + total - inner < OuterHeader.ETH ? -1 : inner;
    }

    /**
     * Asks for a missing neighbour: an ARP request from the internal port {@code out} (its MAC and
     * the route's source address) for {@code tpa}, through the underlay bridge as if the port had
     * sent it (OVS: {@code tnl_send_arp_request}). At most one per second per next hop and PMD;
     * built in a spare slot of the packet that missed.
     */
    private void arpRequest(Batch batch, int i, DpPort out, long mac, int spa, int tpa) {
        long key = (long) out.index() << 32 | (tpa & 0xffffffffL);
        int slot = (int) ((key * 0x9E3779B97F4A7C15L) >>> 60);
        long now = System.nanoTime();
        if (arpAsked[slot] == key && now - arpAskedAt[slot] < 1_000_000_000L) return;
        int k = (spareBusy & 2) == 0 ? 1 : (spareBusy & 1) == 0 ? 0 : -1;
        if (k < 0 || tunnelDepth == MAX_TUNNEL_DEPTH) return;
        arpAsked[slot] = key;
        arpAskedAt[slot] = now;
        spareBusy |= 1 << k;
        MemorySegment m = batch.memory();
        long at = batch.spareOffset(i, k);
        VlanEdit.setMac(m, at, 0xffff_ffff_ffffL);
        VlanEdit.setMac(m, at + 6, mac);
        m.set(U16, at + 12, (short) FlowKey.ETH_TYPE_ARP);
        m.set(U16, at + 14, (short) 1);                      // Ethernet
        m.set(U16, at + 16, (short) FlowKey.ETH_TYPE_IPV4);
        m.set(U16, at + 18, (short) 0x0604);                 // hlen 6, plen 4
        m.set(U16, at + 20, (short) 1);                      // request
        VlanEdit.setMac(m, at + 22, mac);
        m.set(U16, at + 28, (short) (spa >>> 16));
        m.set(U16, at + 30, (short) spa);
        VlanEdit.setMac(m, at + 32, 0);
        m.set(U16, at + 38, (short) (tpa >>> 16));
        m.set(U16, at + 40, (short) tpa);
        tunnelStats[TNL_ARP_REQUESTS]++;
        recirculate(batch, i, out, at, 42, 0, 0, -1, false);
    }

    /**
     * Runs {@code length} bytes at {@code offset}, an encapsulated or decapsulated form of packet i
     * (or a frame made for it), through {@code in}'s bridge as if received on {@code in}, with the
     * tunnel metadata given (OVS: recirculation, here without leaving the PMD). The frame is a
     * packet of its own, nested in the batch ({@link Batch#nest}): packet i's offset, length and key
     * stay as they are, only the forwarder's per-pass state is put back afterwards.
     * {@code guarded}: an offset in front of which the bytes may be referenced by staged outputs (a
     * decapsulated packet's outer header), -1 if none. {@code outer}: the frame is one this
     * forwarder just encapsulated, whose flow key {@link #outerKey} writes without parsing.
     */
    private void recirculate(Batch batch, int i, DpPort in, long offset, int length, long tunId, long tunIps, long guarded, boolean outer) {
        DpBridge bridge = current.bridges[in.bridgeIndex()];
        if (bridge == null) return;
        int d = tunnelDepth++;
        translation = recordings[d + 1];                  // the recirculated pass is not part of this packet's megaflow (replay re-runs it)
        boolean wasAccepted = accepted;
        long set = actionSet;
        int setOutputs = actionSetOutputs;
        if (set != 0 || setOutputs != 0) {
            System.arraycopy(actionSetArg, 0, savedSetArg[d], 0, 64);
            System.arraycopy(actionSetOutput, 0, savedSetOutput[d], 0, MAX_SET_OUTPUTS);
            System.arraycopy(actionSetOutputArg, 0, savedSetOutputArg[d], 0, MAX_SET_OUTPUTS);
        }
        savedPortMods[d] = portMods;

        int v = batch.nest(d, i);
        long[] k = batch.keys;
        int base = v * FlowKey.WORDS;
        batch.offset[v] = offset;
        batch.length[v] = length;
        k[base + FlowKey.W_IN_PORT] = in.index();
        for (int w = FlowKey.W_METADATA; w < FlowKey.W_ETH_DST; w++) k[base + w] = 0;
        k[base + FlowKey.W_TUN_ID] = tunId;
        k[base + FlowKey.W_TUN_IPV4] = tunIps;
        batch.layers[v] = outer ? outerKey(k, base) : Parser.parse(batch.memory(), offset, length, k, base);
        taggedLen[v] = NO_VARIANT;
        untaggedLen[v] = NO_VARIANT;
        encapAt[v] = guarded;
        actionSet = 0;
        actionSetOutputs = 0;
        OfPipeline flows = bridge.flows();
        OfPipeline tables = flows == null || flows.normalOnly() ? null : flows;
        portMods = flows != null && flows.hasPortConfigs() ? flows : null;
        // A decapsulated packet's bytes lie inside the outer frame, which outputs may refer to: edits copy first.
        // An encapsulated frame's edits can only touch its new headers (and a frame made here is nobody else's).
        referenced = guarded >= 0;
        accepted = true;
        if (tables == null) {
            normalPasses++;
            normal(batch, v, in, bridge, current, clock);
            if (flows != null) countNormalOnly(flows, 1, length);
        } else if (megaflows.limit() > 0) {
            openflowPasses++;
            int h = emcInsertMin == 0 ? 0 : ExactMatchCache.hash(k, base);
            cachedPass(batch, v, in, bridge, tables, current, clock, h, emcInsertMin == 0 ? -1 : emc.lookup(h));
        } else {
            openflowPasses++;
            upcalls++;                                       // caches off: every pass runs the tables
            uninstalled++;
            openflow(batch, v, in, in.ofport(), bridge, tables, current, clock);
        }

        accepted = wasAccepted;
        actionSet = set;
        actionSetOutputs = setOutputs;
        if (set != 0 || setOutputs != 0) {
            System.arraycopy(savedSetArg[d], 0, actionSetArg, 0, 64);
            System.arraycopy(savedSetOutput[d], 0, actionSetOutput, 0, MAX_SET_OUTPUTS);
            System.arraycopy(savedSetOutputArg[d], 0, actionSetOutputArg, 0, MAX_SET_OUTPUTS);
        }
        portMods = savedPortMods[d];
        savedPortMods[d] = null;
        referenced = true;                                   // outputs now refer to these bytes (or bytes around them)
        tunnelDepth--;
        translation = recordings[d];
    }

    /**
     * Sets the megaflow cache's limits (other_config:flow-limit and max-idle, milliseconds); the
     * PMD applies them at its next batch. A flow limit of 0 turns the caches off.
     */
    public void cacheSettings(int flowLimit, int maxIdleMillis) {
        if (flowLimit < 0 || maxIdleMillis < 1) throw new IllegalArgumentException("flow-limit >= 0, max-idle >= 1 ms");
        this.maxIdleMillis = maxIdleMillis;
        this.flowLimit = flowLimit;
    }

    /** Sets other_config:emc-insert-inv-prob (0 to 2^32-1; 0 turns the EMC off, 1 inserts every time). */
    public void emcInsertion(long invProb) {
        if (invProb < 0 || invProb > 0xFFFF_FFFFL) throw new IllegalArgumentException("emc-insert-inv-prob from 0 to 4294967295");
        emcInsertMin = emcThreshold(invProb);
    }

    private static int emcThreshold(long invProb) {
        return invProb == 0 ? 0 : (int) (0xFFFF_FFFFL / invProb);
    }

    /** Enters megaflow {@code e} into the exact-match cache under hash {@code h}, with probability 1/emc-insert-inv-prob. */
    private void insertExact(int h, int e) {
        int min = emcInsertMin;
        if (min == 0) return;
        int r = emcRandom;
        r ^= r << 13;
        r ^= r >>> 17;
        r ^= r << 5;
        emcRandom = r;
        if (Integer.compareUnsigned(r, min) <= 0) emc.insert(h, e);
    }

    /**
     * Cache upkeep between batches (OVS: revalidators and the idle sweep, here on the PMD itself in
     * small steps): looks at a few megaflows (a full round over 200 000 takes some 10 000 iterations) and removes those that were idle for max-idle or were made
     * from tables or ports since replaced. Returns how many it removed.
     */
    public int upkeep(DatapathView view, int now) {
        int limit = flowLimit;
        if (limit != megaflows.limit()) megaflows.limit(limit);
        int removed = megaflows.sweep(view, now, Math.max(1, (maxIdleMillis + 999) / 1000), SWEEP_BUDGET);
        evicted += removed;
        return removed;
    }

    private static final int SWEEP_BUDGET = 16;

    /** The megaflows as {@code dpctl/dump-flows} lists them, one per line (call on the PMD thread). */
    public String dumpFlows(DatapathView view, int now) {
        StringBuilder sb = new StringBuilder();
        for (int e = megaflows.next(0); e >= 0; e = megaflows.next(e + 1)) {
            megaflows.dump(e, sb, now);
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Removes every megaflow (call on the PMD thread); returns how many there were. */
    public int flushFlows() {
        int n = megaflows.size();
        megaflows.clear();
        emc.clear();
        return n;
    }

    /** Passes answered by the exact-match cache. */
    public long emcHits() {
        return emcHits;
    }

    /** Passes answered by a megaflow (the exact-match cache missed). */
    public long megaflowHits() {
        return megaflowHits;
    }

    /** Subtables probed by megaflow lookups (hits and misses). */
    public long megaflowProbes() {
        return megaflowProbes[0];
    }

    /**
     * Passes that ran the tables (no cached answer: a miss, caches off, or a recirculated tunnel
     * pass): OVS's upcalls. With EMC and megaflow hits they add up to {@link #openflowPasses}.
     */
    public long upcalls() {
        return upcalls;
    }

    /** Upcalls whose result was not installed: flow limit reached or caches off, or a pass that runs per packet (packet-in, group, tunnel recirculation). */
    public long uninstalled() {
        return uninstalled;
    }

    /** Megaflows removed as idle or stale. */
    public long evicted() {
        return evicted;
    }

    /** Megaflows installed now. */
    public int megaflowCount() {
        return megaflows.size();
    }

    /** Packets dropped by an OpenFlow table miss. */
    public long tableMisses() {
        return tableMisses;
    }

    /** Passes through a bridge by the direct NORMAL path (its tables are just the default flow). */
    public long normalPasses() {
        return normalPasses;
    }

    /** Passes through a bridge's OpenFlow tables. */
    public long openflowPasses() {
        return openflowPasses;
    }

    /** OpenFlow table lookups (a pass through several tables makes several). */
    public long tableLookups() {
        return lookups;
    }

    /** Subtables (distinct masks) probed by those lookups. */
    public long subtableProbes() {
        return subtableProbes[0];
    }

    public long packetInsSent() {
        return packetInsSent;
    }

    /** Packet-ins the bridge's rate limit refused (or, without an events ring, could not be sent). */
    public long packetInsLimited() {
        return packetInsLimited;
    }

    /** Packet-ins lost because the events ring was full (vswitchd not reading). */
    public long packetInsLost() {
        return packetInsLost;
    }

    /** Packets a meter's drop band dropped. */
    public long meterDrops() {
        return meterDrops;
    }

    public long packetOuts() {
        return packetOuts;
    }

    /** Packets (or copies) that chained groups took deeper or wider than a packet may go. */
    public long groupLoopDrops() {
        return groupLoopDrops;
    }

    public long ttlDrops() {
        return ttlDrops;
    }

    public long copyFailures() {
        return copyFailures;
    }

    /** The tagged copy starts 4 bytes into the spare slot's headroom: a 2048-byte frame plus a tag still fits. */
    private static long taggedOffset(Batch batch, int i) {
        return batch.spareOffset(i, 0) - VlanEdit.TAG;
    }

    /** OVS's eth_addr_is_reserved: IEEE 802.1D/Q link-local groups and vendor control protocols. */
    private static boolean isReserved(long dst) {
        long oui = dst >>> 24;
        if (oui == 0x0180c2) return (dst & 0xffffff) <= 0x0f;           // 01:80:c2:00:00:00-0f: STP, pause, LACP, LLDP...
        if (oui == 0x00e02b) {                                          // Extreme EDP, EAPS
            long low = dst & 0xffffff;
            return low == 0 || low == 4 || low == 6;
        }
        if (oui == 0x01000c) {                                          // Cisco
            long low = dst & 0xffffff;
            return low == 0 || low == 0xcccccc || low == 0xcccccd || low == 0xcdcdcd || (low >= 0xccccc0 && low <= 0xccccc7);
        }
        return false;
    }

    /** Forgets staged outputs of a batch whose processing failed (the PMD drops that batch). */
    public void abort() {
        for (Translation t : recordings) t.forget();
        translation = recordings[0];
        tunnelDepth = 0;                                  // a batch that failed inside a recirculation
        flushTallies();
        for (int k = 0; k < touchedCount; k++) {
            tableLookups[touchedTables[k]] = 0;
            tableMatches[touchedTables[k]] = 0;
        }
        touchedCount = 0;
        countedTables = null;
        forgetHits();
        normalTally = null;
        normalTallyPackets = normalTallyBytes = 0;
        for (int d = 0; d < dirtyCount; d++) {
            stagedCount[dirty[d]] = 0;
            stagedPartial[dirty[d]] = 0;
        }
        dirtyCount = 0;
    }

    private void flush(Batch batch, DatapathView view) {
        for (int d = 0; d < dirtyCount; d++) {
            int p = dirty[d];
            int count = stagedCount[p];
            stagedCount[p] = 0;
            long partial = stagedPartial[p];
            stagedPartial[p] = 0;
            DpPort port = view.ports[p];
            if (port == null) continue;
            PortQos qos = port.qos();
            if (qos != null && qos.spec.hasEgress()) {
                count = egress(batch, port, qos, p, count);
                if (count == 0) continue;
            }
            io.txPartial = partial;
            int sent;
            try {
                sent = port.io().txBurst(io, batch.memory(), batch.baseAddress(), stagedOffset[p], stagedLength[p], count);
                if (txFailures[p] != 0) txFailures[p] = 0;
            } catch (RuntimeException | InternalError e) {
                io.txPartial = 0;
                txFailed(port, count, e);                // that port's problem: the batch's other outputs still go
                continue;
            }
            io.txPartial = 0;
            long bytes = 0;
            int[] lengths = stagedLength[p];
            for (int j = 0; j < sent; j++) bytes += lengths[j];   // sent packets are a prefix (Port contract)
            port.counters().txPackets.getAndAdd(sent);
            port.counters().txBytes.getAndAdd(bytes);
            txPackets += sent;
            if (sent > 0) txBursts++;                    // an output batch sent something (a full ring's burst is not one): Tx packets / batches stays a batch size
        }
        dirtyCount = 0;
    }

    /**
     * An output port whose transmit threw (a bug, as in {@link Pmd}'s polls):
     * its packets are dropped and counted, and after {@link Pmd#FAILURES_TO_FAULT}
     * failed bursts in a row the port is told ({@code fault(-1, ...)}: a vhost-user port ends the
     * connection). The failure is never laid at the door of the port the packets came from.
     */
    private void txFailed(DpPort port, int count, Throwable e) {
        port.counters().txDropped.getAndAdd(count);
        int p = port.index();
        if (txFailing[p] != port.counters()) {
            txFailing[p] = port.counters();
            txFailures[p] = 0;
        }
        int failures = ++txFailures[p];
        if ((txErrors++ & 1023) == 0) {
            LOG.log(System.Logger.Level.ERROR, "transmit on " + port.name() + " failed (" + txErrors + " so far)", e);
        }
        if (failures < Pmd.FAILURES_TO_FAULT) return;
        txFailures[p] = 0;
        LOG.log(System.Logger.Level.ERROR, port.name() + ": transmit failed " + failures + " bursts in a row (" + e + "): resetting the port");
        port.fault(-1, e);
    }

    /**
     * Egress QoS for the {@code count} packets staged for {@code port}: a policer drops what exceeds
     * its rates and returns what remains to send; a shaper takes copies into its queues and sends
     * what its buckets allow now, returning 0 (nothing left for the caller).
     */
    private int egress(Batch batch, DpPort port, PortQos qos, int p, int count) {
        long now = System.nanoTime();
        if (qos.shaper != null) {
            int dropped = qos.shaper.enqueue(batch.memory(), stagedOffset[p], stagedLength[p], stagedQueue[p], count);
            if (dropped > 0) port.counters().txDropped.getAndAdd(dropped);
            shape(port, now);
            return 0;
        }
        int kept = qos.policer.police(now, stagedOffset[p], stagedLength[p], stagedQueue[p], count);
        if (kept < count) {
            port.counters().txDropped.getAndAdd(count - kept);
            qos.txDrops.getAndAdd(count - kept);
        }
        return kept;
    }

    /** Sends what {@code port}'s shaper may release now (unless another PMD is doing so); returns the count. */
    private int shape(DpPort port, long now) {
        int sent;
        try {
            sent = port.shaper().service(port.io(), io, port.counters(), now);
            if (txFailures[port.index()] != 0) txFailures[port.index()] = 0;
        } catch (RuntimeException | InternalError e) {
            txFailed(port, 0, e);                         // the shaper counted its lost burst as drops
            return 0;
        }
        if (sent > 0) {
            txPackets += sent;
            txBursts++;
        }
        return sent;
    }

    /** Every PMD iteration: releases what the shaped ports' queues may send. Returns the packets sent. */
    public int serviceShapers(DatapathView view) {
        DpPort[] shaped = view.shaped;
        if (shaped.length == 0) return 0;
        long now = System.nanoTime();
        int sent = 0;
        for (DpPort port : shaped) {
            if (port.shaper().backlogged()) sent += shape(port, now);
        }
        return sent;
    }
}
