package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vswitch.ofproto.table.FlowCheck;
import io.vswitch.ofproto.table.FlowEntry;
import io.vswitch.ofproto.table.FlowTables;
import io.vswitch.ofproto.table.GroupTable;
import io.vswitch.ofproto.table.MeterTable;
import io.vswitch.ofproto.table.OxmMatch;
import io.vswitch.ofproto.table.RuleCompiler;
import org.projectfloodlight.openflow.protocol.OFAggregateStatsRequest;
import org.projectfloodlight.openflow.protocol.OFBadRequestCode;
import org.projectfloodlight.openflow.protocol.OFBundleFailedCode;
import org.projectfloodlight.openflow.protocol.OFCapabilities;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.projectfloodlight.openflow.protocol.OFControllerRoleReason;
import org.projectfloodlight.openflow.protocol.OFEchoRequest;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowMod;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.OFFlowRemovedReason;
import org.projectfloodlight.openflow.protocol.OFFlowStatsEntry;
import org.projectfloodlight.openflow.protocol.OFFlowStatsRequest;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFPacketInReason;
import org.projectfloodlight.openflow.protocol.OFPacketOut;
import org.projectfloodlight.openflow.protocol.OFPortConfig;
import org.projectfloodlight.openflow.protocol.OFPortDesc;
import org.projectfloodlight.openflow.protocol.OFPortFeatures;
import org.projectfloodlight.openflow.protocol.OFPortReason;
import org.projectfloodlight.openflow.protocol.OFPortState;
import org.projectfloodlight.openflow.protocol.OFPortStatsEntry;
import org.projectfloodlight.openflow.protocol.OFPortStatsRequest;
import org.projectfloodlight.openflow.protocol.OFRoleRequest;
import org.projectfloodlight.openflow.protocol.OFRoleRequestFailedCode;
import org.projectfloodlight.openflow.protocol.OFSetConfig;
import org.projectfloodlight.openflow.protocol.OFStatsReplyFlags;
import org.projectfloodlight.openflow.protocol.OFStatsRequest;
import org.projectfloodlight.openflow.protocol.OFTableStatsEntry;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.types.DatapathId;
import org.projectfloodlight.openflow.types.OFBufferId;
import org.projectfloodlight.openflow.types.MacAddress;
import org.projectfloodlight.openflow.types.OFAuxId;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U64;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * A bridge as OpenFlow sees it (OVS: {@code ofproto} with its {@code connmgr}): the flow tables, the
 * connections of controllers and tools, their roles, and the answers to their requests. Confined to
 * the OpenFlow event loop: no locks, and replies leave in request order, so a BARRIER_REPLY follows
 * everything before it.
 */
public final class OfSwitch {
    private static final System.Logger LOG = System.getLogger(OfSwitch.class.getName());
    /** Room for a multipart reply's body: 64 KiB minus its 16-byte header. */
    private static final int MAX_BODY = 65535 - 16;

    /** What the switch sends to the dataplane (vswitchd: {@code FlowSync}). */
    public interface DataplaneLink {
        /** A bridge's compiled tables, after every change. */
        void tables(String bridge, long generation, List<String> rules);

        /** A packet-out (actions in the dataplane's format); false if the dataplane cannot take it now. */
        boolean packetOut(String bridge, int inPort, String actions, byte[] packet);

        /** A port-mod's up/down for the port's device (best effort: not every port has one). */
        void portAdmin(String bridge, String port, boolean up);

        /** A port's queue counters by queue id: tx_packets, tx_bytes, tx_errors (empty: none, or no dataplane). */
        default Map<Long, long[]> queueStats(String bridge, String port) {
            return Map.of();
        }
    }

    private final String name;
    private final GroupTable groups = new GroupTable();
    private final MeterTable meters = new MeterTable();
    private final FlowTables tables = new FlowTables(groups::exists, meters::exists);
    private final java.util.concurrent.Executor loop;
    private final DataplaneLink sink;
    private boolean publishPending;
    /** The flows of the last published generation, in rule order, with their counts at that moment. */
    private List<FlowEntry> published = List.of();
    /** The groups of the last published generation, after the rules in the counter order. */
    private List<GroupTable.Group> publishedGroups = List.of();
    private List<MeterTable.Meter> publishedMeters = List.of();
    /** Packets looked up in / matched by each table, as the dataplane last reported, and their values at the last publication. */
    private final long[] tableLookups = new long[FlowTables.TABLES], tableMatches = new long[FlowTables.TABLES];
    private long[] publishedLookups = new long[FlowTables.TABLES], publishedMatches = new long[FlowTables.TABLES];
    /** Starts from the clock, so a restarted vswitchd never reuses a generation the dataplane has. */
    private long generation = System.currentTimeMillis() << 16;
    private final Set<OfConnection> connections = new LinkedHashSet<>();
    private BridgeView view;
    private U64 generationId;

    /** A switch whose tables go nowhere (tests of the OpenFlow side alone). */
    public OfSwitch(BridgeView view) {
        this(view, Runnable::run, NO_DATAPLANE);
    }

    private static final DataplaneLink NO_DATAPLANE = new DataplaneLink() {
        @Override
        public void tables(String bridge, long generation, List<String> rules) {
        }

        @Override
        public boolean packetOut(String bridge, int inPort, String actions, byte[] packet) {
            return false;
        }

        @Override
        public void portAdmin(String bridge, String port, boolean up) {
        }
    };

    /** {@code loop} is the OpenFlow event loop (publishing is deferred to the end of the current work there). */
    public OfSwitch(BridgeView view, java.util.concurrent.Executor loop, DataplaneLink sink) {
        this.name = view.name();
        this.view = view;
        this.loop = loop;
        this.sink = sink;
        if (!view.secure()) addDefaultFlow();
        changed();
        if (loop instanceof java.util.concurrent.ScheduledExecutorService ses) {
            expiry = ses.scheduleWithFixedDelay(this::expire, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private java.util.concurrent.ScheduledFuture<?> expiry;

    /**
     * Removes flows whose hard or idle timeout has passed (checked every second; "idle" means the
     * dataplane's counters, refreshed every 2 s, showed no new packet), with FLOW_REMOVED where asked.
     */
    void expire() {
        List<FlowTables.Expired> gone = tables.expire(System.nanoTime());
        for (FlowTables.Expired x : gone) {
            if (x.entry().flags().contains(OFFlowModFlags.SEND_FLOW_REM)) {
                flowRemoved(x.entry(), x.reason() == 0 ? OFFlowRemovedReason.IDLE_TIMEOUT : OFFlowRemovedReason.HARD_TIMEOUT);
            }
        }
        if (!gone.isEmpty()) {
            changed();
            for (OfConnection c : connections) if (c.ready()) c.flush();
        }
    }

    /**
     * Schedules one publication of the tables for all changes made until then: at once if nothing was
     * published in the last {@link #PUBLISH_DELAY_MS} plus 20 ms per 1000 flows (a reactive
     * controller's flow is in effect in milliseconds), else when that window ends, so a burst of flow-mods (add-flows of many flows)
     * becomes a few transfers of whole tables, not one per flow.
     */
    private void changed() {
        if (publishPending) return;
        publishPending = true;
        if (loop instanceof java.util.concurrent.ScheduledExecutorService ses) {
            // Each publication costs in proportion to the tables (compile, transfer, the dataplane's
            // parse), so the window grows with them: a burst then costs a bounded number of
            // publications, whatever its size.
            long windowNanos = (PUBLISH_DELAY_MS + published.size() / 50) * 1_000_000L;
            long wait = lastPublishNanos + windowNanos - System.nanoTime();
            if (wait <= 0) ses.execute(this::publish);        // after the rest of this read: one transfer for all of it
            else ses.schedule(this::publish, wait, java.util.concurrent.TimeUnit.NANOSECONDS);
        } else {
            loop.execute(this::publish);
        }
    }

    private static final long PUBLISH_DELAY_MS = 100;
    private long lastPublishNanos = System.nanoTime() - PUBLISH_DELAY_MS * 1_000_000L;

    private void publish() {
        publishPending = false;
        lastPublishNanos = System.nanoTime();
        List<String> rules = new ArrayList<>();
        List<FlowEntry> all = tables.all();                  // the dataplane orders each table by priority itself
        List<FlowEntry> sent = new ArrayList<>(all.size());
        // Entries are immutable: one compiled before and not replaced since compiles the same.
        java.util.IdentityHashMap<FlowEntry, String> compiled = new java.util.IdentityHashMap<>(all.size() * 2);
        for (FlowEntry e : all) {
            String line = this.compiled.get(e);
            if (line == null) {
                try {
                    line = io.vswitch.ofproto.table.RuleCompiler.compile(e);
                } catch (IllegalArgumentException x) {
                    // FlowCheck admits only what compiles; should they ever disagree, lose this flow, not the tables
                    LOG.log(System.Logger.Level.ERROR, name + ": flow not sent to the dataplane: " + x.getMessage());
                    continue;
                }
            }
            compiled.put(e, line);
            rules.add(line);
            sent.add(e);
        }
        List<GroupTable.Group> sentGroups = List.copyOf(groups.all());
        for (GroupTable.Group g : sentGroups) rules.add(RuleCompiler.group(g, this::portLive));
        List<MeterTable.Meter> sentMeters = List.copyOf(meters.all());
        for (MeterTable.Meter m : sentMeters) rules.add(RuleCompiler.meter(m));
        portConfig.forEach((ofport, bits) -> {
            if (byNumber(view).containsKey(ofport)) rules.add(RuleCompiler.port(ofport, bits));
        });
        published = sent;
        publishedLookups = tableLookups.clone();              // the new generation's counters start at 0
        publishedMatches = tableMatches.clone();
        publishedGroups = sentGroups;
        publishedMeters = sentMeters;
        this.compiled = compiled;
        sink.tables(name, ++generation, rules);
    }

    /** The rule line of every published entry (by identity). */
    private java.util.IdentityHashMap<FlowEntry, String> compiled = new java.util.IdentityHashMap<>();

    /**
     * The dataplane's counters for the rules of {@code gen}: a new generation starts its counters at
     * zero, so a flow's count is what it had when the generation was published plus the dataplane's.
     */
    public void dataplaneCounters(long gen, long[] counters) {
        int slots = published.size();
        for (GroupTable.Group g : publishedGroups) slots += 1 + g.buckets().size();
        for (MeterTable.Meter m : publishedMeters) slots += 1 + m.bands().size();
        if (gen != generation || counters.length != 2 * slots + 2 * FlowTables.TABLES) return;
        for (int t = 0; t < FlowTables.TABLES; t++) {
            tableLookups[t] = publishedLookups[t] + counters[2 * slots + 2 * t];
            tableMatches[t] = publishedMatches[t] + counters[2 * slots + 2 * t + 1];
        }
        for (int i = 0; i < published.size(); i++) {
            FlowEntry at = published.get(i);
            if (counters[2 * i] != 0 || counters[2 * i + 1] != 0) {
                tables.setCounts(at, at.packets() + counters[2 * i], at.bytes() + counters[2 * i + 1]);
            }
        }
        int at = published.size();
        for (GroupTable.Group g : publishedGroups) {
            long[][] c = plus(counters, at, g.packets(), g.bytes(), g.bucketPackets(), g.bucketBytes());
            groups.setCounts(g, c[0][0], c[1][0], c[2], c[3]);
            at += 1 + g.buckets().size();
        }
        for (MeterTable.Meter m : publishedMeters) {
            long[][] c = plus(counters, at, m.packets(), m.bytes(), m.bandPackets(), m.bandBytes());
            meters.setCounts(m, c[0][0], c[1][0], c[2], c[3]);
            at += 1 + m.bands().size();
        }
    }

    /**
     * A group's or meter's counts (its own, then its buckets' or bands') as published, plus the
     * dataplane's since, which start at slot {@code at} of {@code counters}: {packets}, {bytes},
     * per-part packets, per-part bytes.
     */
    private static long[][] plus(long[] counters, int at, long packets, long bytes, long[] partPackets, long[] partBytes) {
        int n = partPackets.length;
        long[] pp = new long[n], pb = new long[n];
        for (int k = 0; k < n; k++) {
            pp[k] = partPackets[k] + counters[2 * (at + 1 + k)];
            pb[k] = partBytes[k] + counters[2 * (at + 1 + k) + 1];
        }
        return new long[][] {{packets + counters[2 * at]}, {bytes + counters[2 * at + 1]}, pp, pb};
    }

    /** Whether OpenFlow port {@code ofport} is up (a group bucket watching it is live). */
    private boolean portLive(int ofport) {
        for (BridgeView.PortView p : view.ports()) if (p.ofport() == ofport) return live(p, portConfigOf(p));
        return false;
    }

    /** A port's config bits as OpenFlow sees them: its port-mods, and PORT_DOWN while its device is (or was asked to be) down. */
    private Set<OFPortConfig> portConfigOf(BridgeView.PortView p) {
        Set<OFPortConfig> config = EnumSet.noneOf(OFPortConfig.class);
        config.addAll(portConfig.getOrDefault(p.ofport(), Set.of()));
        Boolean asked = adminOverride.get(p.ofport());
        if (!(asked != null ? asked : p.adminUp())) config.add(OFPortConfig.PORT_DOWN);
        return config;
    }

    /** Whether a port is live: not down, and its link up (assumed up while a port-mod "up" waits for the device). */
    private boolean live(BridgeView.PortView p, Set<OFPortConfig> config) {
        return !config.contains(OFPortConfig.PORT_DOWN) && (Boolean.TRUE.equals(adminOverride.get(p.ofport())) || p.linkUp());
    }

    /** A new bridge not in secure fail mode starts with {@code priority=0 actions=NORMAL}, as in OVS. */
    private void addDefaultFlow() {
        OFFactory f = org.projectfloodlight.openflow.protocol.OFFactories.getFactory(org.projectfloodlight.openflow.protocol.OFVersion.OF_13);
        List<OFAction> normal = List.of(f.actions().output(OFPort.NORMAL, 0));
        try {
            tables.apply(f.buildFlowAdd().setPriority(0).setInstructions(List.of(f.instructions().applyActions(normal))).build(), System.nanoTime());
        } catch (OfError e) {
            throw new IllegalStateException(e);
        }
    }

    public String name() {
        return name;
    }

    public FlowTables tables() {
        return tables;
    }

    /** {@code ofproto/trace}: a packet in OVS's flow syntax through these tables (see {@link FlowTrace}). */
    public String trace(String flow) {
        return FlowTrace.trace(name, flow, tables, groups);
    }

    /** Versions a connection may negotiate: ours, limited by {@code Bridge.protocols}. */
    List<Integer> versions() {
        List<Integer> v = new ArrayList<>(Versions.SUPPORTED);
        if (!view.versions().isEmpty()) v.retainAll(view.versions());
        return v;
    }

    /** A negotiated connection that came through {@code target}, or null. */
    public OfConnection connectionTo(String target) {
        for (OfConnection c : connections) if (c.ready() && c.remote().equals(target)) return c;
        return null;
    }

    void connected(OfConnection c) {
        connections.add(c);
    }

    void disconnected(OfConnection c) {
        connections.remove(c);
    }

    /** Takes a fresh view of the bridge; tells every connection about ports that came, went or changed. */
    public void update(BridgeView next) {
        Map<Integer, BridgeView.PortView> before = byNumber(view), after = byNumber(next);
        view = next;
        portConfig.keySet().retainAll(after.keySet());             // a port that went forgets its port-mods
        adminOverride.keySet().retainAll(after.keySet());
        after.forEach((n, p) -> adminOverride.remove(n, p.adminUp()));   // the device caught up
        if (!groups.all().isEmpty() && !liveness(before).equals(liveness(after))) changed();   // watched ports decide buckets
        for (OfConnection c : connections) {
            if (!c.ready()) continue;
            OFFactory f = c.factory();
            before.forEach((n, p) -> {
                if (!after.containsKey(n) && c.wantsPortStatus(OFPortReason.DELETE)) c.send(f.buildPortStatus().setReason(OFPortReason.DELETE).setDesc(portDesc(f, p)).build());
            });
            after.forEach((n, p) -> {
                BridgeView.PortView old = before.get(n);
                if (old == null) {
                    if (c.wantsPortStatus(OFPortReason.ADD)) c.send(f.buildPortStatus().setReason(OFPortReason.ADD).setDesc(portDesc(f, p)).build());
                } else if (!old.equals(p) && c.wantsPortStatus(OFPortReason.MODIFY)) {
                    c.send(f.buildPortStatus().setReason(OFPortReason.MODIFY).setDesc(portDesc(f, p)).build());
                }
            });
            c.flush();
        }
    }

    private static Map<Integer, Boolean> liveness(Map<Integer, BridgeView.PortView> ports) {
        Map<Integer, Boolean> m = new java.util.HashMap<>();
        ports.forEach((n, p) -> m.put(n, p.linkUp() && p.adminUp()));
        return m;
    }

    private static Map<Integer, BridgeView.PortView> byNumber(BridgeView v) {
        Map<Integer, BridgeView.PortView> m = new LinkedHashMap<>();
        for (BridgeView.PortView p : v.ports()) m.put(p.ofport(), p);
        return m;
    }

    /** Closes every connection (the bridge is gone). */
    public void close() {
        if (expiry != null) expiry.cancel(false);
        for (OfConnection c : List.copyOf(connections)) c.close();
    }

    /** Answers one decoded message from {@code c}; {@code raw} is its encoding (quoted in errors). */
    void handle(OfConnection c, OFMessage m, byte[] raw) {
        OFFactory f = c.factory();
        try {
            switch (m.getType()) {
                case HELLO, ECHO_REPLY -> { }
                case ECHO_REQUEST -> c.send(f.buildEchoReply().setXid(m.getXid()).setData(((OFEchoRequest) m).getData()).build());
                case FEATURES_REQUEST -> featuresReply(c, m.getXid());
                case GET_CONFIG_REQUEST -> c.send(f.buildGetConfigReply().setXid(m.getXid()).setFlags(Set.of()).setMissSendLen(c.missSendLen()).build());
                case SET_CONFIG -> c.setMissSendLen(((OFSetConfig) m).getMissSendLen());
                case SET_ASYNC -> c.setAsync((org.projectfloodlight.openflow.protocol.OFAsyncSet) m);
                case GET_ASYNC_REQUEST -> c.send(c.asyncReply(m.getXid()));
                case QUEUE_GET_CONFIG_REQUEST -> {
                    OFPort port = ((org.projectfloodlight.openflow.protocol.OFQueueGetConfigRequest) m).getPort();
                    checkQueuePort(port);
                    // The port's queues without rate properties: OVS, too, reports none (its rates are not in 1/1000 of a link speed).
                    List<org.projectfloodlight.openflow.protocol.OFPacketQueue> queues = new ArrayList<>();
                    for (BridgeView.PortView p : view.ports()) {
                        if (!matchesPort(port, p.ofport())) continue;
                        for (long id : p.queues()) {
                            queues.add(f.buildPacketQueue().setPort(ofPort(p.ofport())).setQueueId(id).setProperties(List.of()).build());
                        }
                    }
                    c.send(f.buildQueueGetConfigReply().setXid(m.getXid()).setPort(port).setQueues(queues).build());
                }
                // Answered once everything before it is in the tables, as OVS does; the dataplane
                // takes the tables within PUBLISH_DELAY_MS plus the transfer. (Waiting for the
                // dataplane too would cost ovs-ofctl add-flows, which sends a barrier after every
                // flow, one whole-table transfer per flow.)
                case BARRIER_REQUEST -> c.send(f.buildBarrierReply().setXid(m.getXid()).build());
                case ROLE_REQUEST -> role(c, (OFRoleRequest) m);
                case FLOW_MOD -> flowMod(c, (OFFlowMod) m);
                case PACKET_OUT -> packetOut(c, (OFPacketOut) m);
                case GROUP_MOD -> groupMod(c, (org.projectfloodlight.openflow.protocol.OFGroupMod) m);
                case METER_MOD -> meterMod(c, (org.projectfloodlight.openflow.protocol.OFMeterMod) m);
                case PORT_MOD -> portMod(c, (org.projectfloodlight.openflow.protocol.OFPortMod) m);
                case STATS_REQUEST -> stats(c, (OFStatsRequest<?>) m);
                case BUNDLE_CONTROL -> bundleControl(c, (org.projectfloodlight.openflow.protocol.OFBundleCtrlMsg) m);
                case BUNDLE_ADD_MESSAGE -> bundleAdd(c, (org.projectfloodlight.openflow.protocol.OFBundleAddMsg) m, raw);
                default -> throw OfError.badRequest(OFBadRequestCode.BAD_TYPE, m.getType() + " is not supported yet");
            }
        } catch (OfError e) {
            LOG.log(System.Logger.Level.DEBUG, name + ": " + c.remote() + ": refused " + m.getType() + ": " + e.getMessage());
            c.reply(e, raw);
        } catch (RuntimeException e) {
            // A message the codec accepted but our handling did not foresee: refuse it, keep the connection.
            LOG.log(System.Logger.Level.WARNING, name + ": " + c.remote() + ": failed to handle " + m.getType(), e);
            c.reply(OfError.badRequest(OFBadRequestCode.EPERM, "internal error: " + e), raw);
        }
    }

    private void featuresReply(OfConnection c, long xid) {
        if (Of10.is10(c.factory())) {                           // 1.0 lists the ports here and says which actions it has
            OFFactory f = c.factory();
            c.send(f.buildFeaturesReply().setXid(xid).setDatapathId(DatapathId.of(view.datapathId())).setNBuffers(0)
                    .setNTables((short) FlowTables.TABLES).setCapabilities(EnumSet.of(OFCapabilities.FLOW_STATS, OFCapabilities.TABLE_STATS,
                            OFCapabilities.PORT_STATS, OFCapabilities.QUEUE_STATS, OFCapabilities.ARP_MATCH_IP))
                    .setActions(EnumSet.of(org.projectfloodlight.openflow.protocol.OFActionType.OUTPUT, org.projectfloodlight.openflow.protocol.OFActionType.ENQUEUE,
                            org.projectfloodlight.openflow.protocol.OFActionType.SET_VLAN_VID, org.projectfloodlight.openflow.protocol.OFActionType.SET_VLAN_PCP,
                            org.projectfloodlight.openflow.protocol.OFActionType.STRIP_VLAN, org.projectfloodlight.openflow.protocol.OFActionType.SET_DL_SRC,
                            org.projectfloodlight.openflow.protocol.OFActionType.SET_DL_DST, org.projectfloodlight.openflow.protocol.OFActionType.SET_NW_SRC,
                            org.projectfloodlight.openflow.protocol.OFActionType.SET_NW_DST, org.projectfloodlight.openflow.protocol.OFActionType.SET_NW_TOS,
                            org.projectfloodlight.openflow.protocol.OFActionType.SET_TP_SRC, org.projectfloodlight.openflow.protocol.OFActionType.SET_TP_DST))
                    .setPorts(view.ports().stream().map(p -> portDesc(f, p)).toList()).build());
            return;
        }
        OFMessage reply = c.factory().buildFeaturesReply().setXid(xid).setDatapathId(DatapathId.of(view.datapathId()))
                .setNBuffers(0).setNTables((short) FlowTables.TABLES).setAuxiliaryId(OFAuxId.MAIN)
                .setCapabilities(EnumSet.of(OFCapabilities.FLOW_STATS, OFCapabilities.TABLE_STATS, OFCapabilities.PORT_STATS,
                        OFCapabilities.GROUP_STATS, OFCapabilities.QUEUE_STATS)).build();
        if (!Versions.hasProperties(c.factory())) {
            c.send(reply);
            return;
        }
        // From 1.4 we also say BUNDLES (bit 9, as OVS does), which openflowj knows only in 1.5: set it in the encoding.
        ByteBuf b = Unpooled.buffer(32);
        reply.writeTo(b);
        b.setByte(26, b.getByte(26) | 0x02);                    // capabilities: the big-endian word at 24..27; bit 9 is 0x02 of byte 26
        c.sendEncoded(b);
    }

    /**
     * BUNDLE_CONTROL (OpenFlow 1.4 section 7.3.9.1): open, close, commit or discard a bundle of
     * this connection. Every bundle is applied atomically and in order, whatever its flags ask.
     */
    private void bundleControl(OfConnection c, org.projectfloodlight.openflow.protocol.OFBundleCtrlMsg m) throws OfError {
        int id = m.getBundleId().getInt();
        OfBundle b = c.bundles.get(id);
        org.projectfloodlight.openflow.protocol.OFBundleCtrlType reply;
        switch (m.getBundleCtrlType()) {
            case OPEN_REQUEST -> {
                if (b != null) throw OfError.bundleFailed(OFBundleFailedCode.BUNDLE_EXIST, "bundle " + id + " is open");
                if (c.bundles.size() >= OfBundle.MAX_OPEN) throw OfError.bundleFailed(OFBundleFailedCode.OUT_OF_BUNDLES, "at most " + OfBundle.MAX_OPEN + " open bundles");
                c.bundles.put(id, new OfBundle(m.getFlags()));
                reply = org.projectfloodlight.openflow.protocol.OFBundleCtrlType.OPEN_REPLY;
            }
            case CLOSE_REQUEST -> {
                if (b == null) throw OfError.bundleFailed(OFBundleFailedCode.BAD_ID, "no bundle " + id);
                if (b.closed()) throw OfError.bundleFailed(OFBundleFailedCode.BUNDLE_CLOSED, "bundle " + id + " is closed");
                b.close();
                reply = org.projectfloodlight.openflow.protocol.OFBundleCtrlType.CLOSE_REPLY;
            }
            case COMMIT_REQUEST -> {
                if (b == null) throw OfError.bundleFailed(OFBundleFailedCode.BAD_ID, "no bundle " + id);
                if (!b.flags.equals(m.getFlags())) throw OfError.bundleFailed(OFBundleFailedCode.BAD_FLAGS, "flags " + m.getFlags() + " differ from the bundle's " + b.flags);
                c.bundles.remove(id);                            // committed or failed, it is gone
                commit(c, b);
                reply = org.projectfloodlight.openflow.protocol.OFBundleCtrlType.COMMIT_REPLY;
            }
            case DISCARD_REQUEST -> {
                if (c.bundles.remove(id) == null) throw OfError.bundleFailed(OFBundleFailedCode.BAD_ID, "no bundle " + id);
                reply = org.projectfloodlight.openflow.protocol.OFBundleCtrlType.DISCARD_REPLY;
            }
            default -> throw OfError.bundleFailed(OFBundleFailedCode.BAD_TYPE, m.getBundleCtrlType() + " is a reply");
        }
        var answer = c.factory().buildBundleCtrlMsg().setXid(m.getXid()).setBundleId(m.getBundleId()).setBundleCtrlType(reply).setFlags(m.getFlags());
        if (Of15.is15(c.factory())) answer.setProperties(List.of());                 // openflowj has them from 1.5 on
        c.send(answer.build());
    }

    /** BUNDLE_ADD_MESSAGE: a flow-mod or group-mod, checked for what can be checked alone, kept for the commit. */
    private void bundleAdd(OfConnection c, org.projectfloodlight.openflow.protocol.OFBundleAddMsg m, byte[] raw) throws OfError {
        OFMessage inner = m.getData();                       // 1.5 bundle-adds arrive in 1.4's form (Of15.bundleAddIn)
        if (inner.getXid() != m.getXid()) throw OfError.bundleFailed(OFBundleFailedCode.MSG_BAD_XID, "the message's xid differs from the bundle-add's");
        if (inner.getType() != org.projectfloodlight.openflow.protocol.OFType.FLOW_MOD && inner.getType() != org.projectfloodlight.openflow.protocol.OFType.GROUP_MOD) {
            throw OfError.bundleFailed(OFBundleFailedCode.MSG_UNSUP, inner.getType() + " cannot be bundled (flow-mods and group-mods can)");
        }
        if (c.role() == OFControllerRole.ROLE_SLAVE) throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not change flows");
        int id = m.getBundleId().getInt();
        OfBundle b = c.bundles.get(id);
        if (b == null) {                                     // an add opens the bundle it names (1.4 section 7.3.9.6)
            if (c.bundles.size() >= OfBundle.MAX_OPEN) throw OfError.bundleFailed(OFBundleFailedCode.OUT_OF_BUNDLES, "at most " + OfBundle.MAX_OPEN + " open bundles");
            c.bundles.put(id, b = new OfBundle(m.getFlags()));
        }
        int at = 16, len = (raw[at + 2] & 0xff) << 8 | (raw[at + 3] & 0xff);   // the message follows the 16-byte bundle-add header
        b.add(java.util.Arrays.copyOfRange(raw, at, at + len), m.getFlags());
    }

    /**
     * Applies a bundle's messages in order, all or none: on the first refusal the tables return to
     * what they were, nobody hears of flows removed meanwhile, the refused message gets its own
     * ERROR and the commit fails with MSG_FAILED. The dataplane sees only the end result.
     */
    private void commit(OfConnection c, OfBundle b) throws OfError {
        FlowTables.Snapshot flows = tables.snapshot();
        GroupTable.Snapshot before = groups.snapshot();
        List<Runnable> notices = new ArrayList<>();
        deferredNotices = notices;
        try {
            for (byte[] raw : b.messages()) {
                OFMessage m = null;
                try {
                    m = OfConnection.decode(raw);
                    if (m instanceof OFFlowMod fm) flowMod(c, fm);
                    else groupMod(c, (org.projectfloodlight.openflow.protocol.OFGroupMod) m);
                } catch (OfError e) {
                    tables.restore(flows);
                    groups.restore(before);
                    c.reply(e, raw);
                    throw OfError.bundleFailed(OFBundleFailedCode.MSG_FAILED, "message " + (m == null ? "?" : m.getType()) + " failed: " + e.getMessage());
                } catch (org.projectfloodlight.openflow.exceptions.OFParseError e) {
                    throw new IllegalStateException("a bundled message that decoded once no longer does", e);
                }
            }
        } finally {
            deferredNotices = null;
        }
        notices.forEach(Runnable::run);
        changed();
    }

    /** While a bundle commits: what to tell the connections once it has succeeded (else null). */
    private List<Runnable> deferredNotices;

    /** Roles (OpenFlow 1.3 section 6.3.5): one master; a newer master demotes the old one; stale generation ids are refused. */
    private void role(OfConnection c, OFRoleRequest r) throws OfError {
        OFControllerRole want = r.getRole();
        if (want == OFControllerRole.ROLE_MASTER || want == OFControllerRole.ROLE_SLAVE) {
            U64 gen = r.getGenerationId();
            if (generationId != null && gen.getValue() - generationId.getValue() < 0) {
                throw OfError.roleRequestFailed(OFRoleRequestFailedCode.STALE, "generation id " + gen + " is older than " + generationId);
            }
            generationId = gen;
        }
        if (want == OFControllerRole.ROLE_MASTER) {
            for (OfConnection other : connections) {
                if (other != c && other.role() == OFControllerRole.ROLE_MASTER) {
                    other.setRole(OFControllerRole.ROLE_SLAVE);
                    if (other.ready() && other.wantsRoleStatus(OFControllerRoleReason.MASTER_REQUEST.ordinal())) {   // OpenFlow 1.4: tell it
                        other.send(other.factory().buildRoleStatus().setRole(OFControllerRole.ROLE_SLAVE)
                                .setReason(OFControllerRoleReason.MASTER_REQUEST).setGenerationId(r.getGenerationId()).setProperties(List.of()).build());
                        other.flush();
                    }
                }
            }
        }
        if (want != OFControllerRole.ROLE_NOCHANGE) c.setRole(want);
        c.send(c.factory().buildRoleReply().setXid(r.getXid()).setRole(c.role())
                .setGenerationId(generationId == null ? U64.ZERO : generationId).build());
    }

    private void flowMod(OfConnection c, OFFlowMod fm) throws OfError {
        if (c.role() == OFControllerRole.ROLE_SLAVE) {
            throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not change flows");
        }
        boolean v10 = Of10.is10(c.factory());
        if (v10) fm = Of10.flowModIn(fm);
        else if (Of15.is15(c.factory())) fm = Of15.flowModIn(fm);
        FlowTables.Outcome out = tables.apply(fm, System.nanoTime(), v10);
        if (v10 && out.changed() == 0 && (fm.getCommand() == OFFlowModCommand.MODIFY || fm.getCommand() == OFFlowModCommand.MODIFY_STRICT)) {
            out = tables.apply(Of10.addFor(fm), System.nanoTime());
        }
        if (out.changed() > 0) changed();
        for (FlowEntry e : out.removed()) {
            if (e.flags().contains(OFFlowModFlags.SEND_FLOW_REM)) flowRemoved(e, OFFlowRemovedReason.DELETE);
        }
    }

    /**
     * A controller's packet-out, checked here and run by a PMD. Refused: from a slave; a buffer id (we
     * buffer nothing, like OVS); an in_port that is not a port number, LOCAL or CONTROLLER; actions
     * the dataplane cannot run; no frame, or one larger than a packet buffer. A dataplane that cannot
     * take it (not attached, its queue full) loses it, as a busy switch drops packets.
     */
    private void packetOut(OfConnection c, OFPacketOut po) throws OfError {
        if (c.role() == OFControllerRole.ROLE_SLAVE) throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not send packets");
        if (!po.getBufferId().equals(OFBufferId.NO_BUFFER)) {
            throw OfError.badRequest(OFBadRequestCode.BUFFER_UNKNOWN, "buffer " + po.getBufferId() + ": this switch buffers no packets");
        }
        OFPort in = Of15.is15(c.factory()) ? inPortOf(po.getMatch()) : po.getInPort();
        long n = in.getPortNumber() & 0xffffffffL;
        if (in.equals(OFPort.ANY)) in = OFPort.CONTROLLER;                       // OVS takes ANY as "none"
        else if (n == 0 || (n > 0xffffff00L && !in.equals(OFPort.LOCAL) && !in.equals(OFPort.CONTROLLER))) {
            throw OfError.badRequest(OFBadRequestCode.BAD_PORT, "in_port " + in + " is not a port");
        }
        byte[] data = po.getData();
        if (data.length < 14 || data.length > MAX_PACKET_OUT) {
            throw OfError.badRequest(OFBadRequestCode.BAD_PACKET, "a packet-out needs a frame of 14 to " + MAX_PACKET_OUT + " bytes, not " + data.length);
        }
        List<OFAction> asked = Of10.is10(c.factory()) ? Of10.actionsIn(po.getActions(), Of10.ANY) : po.getActions();
        FlowCheck.actions(asked, null, group -> false);
        String actions;
        try {
            actions = RuleCompiler.actions(asked);
        } catch (IllegalArgumentException e) {
            throw OfError.badAction(org.projectfloodlight.openflow.protocol.OFBadActionCode.BAD_TYPE, e.getMessage());
        }
        int inPort = in.equals(OFPort.LOCAL) ? 65534 : in.getPortNumber();
        if (!sink.packetOut(name, inPort, actions, data)) {
            LOG.log(System.Logger.Level.DEBUG, name + ": packet-out lost: the dataplane could not take it");
        }
    }

    /** A 1.5 packet-out's in_port: the match's, or CONTROLLER when it has none (OVS's default). */
    private static OFPort inPortOf(Match m) {
        OFPort p = m.get(org.projectfloodlight.openflow.protocol.match.MatchField.IN_PORT);
        return p == null ? OFPort.CONTROLLER : p;
    }

    private static final long OFQUEUE_ALL = 0xffffffffL;

    private static boolean matchesPort(OFPort want, int ofport) {
        return want.equals(OFPort.ANY) || want.equals(OFPort.ALL) || (want.equals(OFPort.LOCAL) ? 65534 : want.getPortNumber()) == ofport;
    }

    /** A queue request's port must be ANY or one of the bridge's (OpenFlow's QUEUE_OP_FAILED/BAD_PORT otherwise). */
    private void checkQueuePort(OFPort port) throws OfError {
        if (port.equals(OFPort.ANY) || port.equals(OFPort.ALL)) return;
        int n = port.equals(OFPort.LOCAL) ? 65534 : port.getPortNumber();
        if (!byNumber(view).containsKey(n)) throw OfError.queueOpFailed("no port " + port);
    }

    /** The dataplane's packet buffers hold 2048 bytes. */
    private static final int MAX_PACKET_OUT = 2048;

    /**
     * A packet-in from the dataplane, to every connection that takes asynchronous messages: controllers
     * that are not slaves, and service connections (ovs-ofctl monitor) that asked with a non-zero
     * miss_send_len, as OVS does. OVS's OpenFlow 1.3 reason for a controller action, table-miss flows
     * included, is ACTION.
     */
    public void packetIn(io.vswitch.datapath.ipc.PacketIn p) {
        for (OfConnection c : connections) {
            if (!c.ready() || !c.wantsPacketIn(p.reason())) continue;
            if (c.kind() == OfConnection.Kind.SERVICE && c.missSendLen() == 0) continue;
            OFFactory f = c.factory();
            // A controller action says its own max_len; other reasons (an expired TTL) take the connection's miss_send_len.
            byte[] data = p.reason() == io.vswitch.datapath.ipc.PacketIn.REASON_ACTION || p.data().length <= c.missSendLen()
                    ? p.data() : java.util.Arrays.copyOf(p.data(), c.missSendLen());
            if (Of10.is10(f)) {                                 // 1.0: the in_port is a field; no table, cookie or match
                c.send(f.buildPacketIn().setBufferId(OFBufferId.NO_BUFFER).setTotalLen(p.totalLength()).setInPort(ofPort(p.inPort()))
                        .setReason(p.reason() == io.vswitch.datapath.ipc.PacketIn.REASON_NO_MATCH ? OFPacketInReason.NO_MATCH : OFPacketInReason.ACTION)
                        .setData(data).build());
                continue;
            }
            org.projectfloodlight.openflow.protocol.match.Match.Builder match = f.buildMatch()
                    .setExact(org.projectfloodlight.openflow.protocol.match.MatchField.IN_PORT, ofPort(p.inPort()));
            if (p.metadata() != 0) {
                match.setExact(org.projectfloodlight.openflow.protocol.match.MatchField.METADATA,
                        org.projectfloodlight.openflow.types.OFMetadata.ofRaw(p.metadata()));
            }
            c.send(f.buildPacketIn().setBufferId(OFBufferId.NO_BUFFER).setTotalLen(p.totalLength())
                    .setReason(p.reason() == io.vswitch.datapath.ipc.PacketIn.REASON_INVALID_TTL ? OFPacketInReason.INVALID_TTL
                            : p.reason() == io.vswitch.datapath.ipc.PacketIn.REASON_NO_MATCH ? OFPacketInReason.NO_MATCH : OFPacketInReason.ACTION)
                    .setTableId(TableId.of(p.table())).setCookie(U64.of(p.cookie())).setMatch(match.build()).setData(data).build());
        }
    }

    /** Sends what {@link #packetIn} queued (once per batch of packet-ins). */
    public void flushConnections() {
        for (OfConnection c : connections) if (c.ready()) c.flush();
    }

    /** A group-mod; deleting a group deletes the flows that use it (FLOW_REMOVED reason GROUP_DELETE), as in OVS. */
    private void groupMod(OfConnection c, org.projectfloodlight.openflow.protocol.OFGroupMod gm) throws OfError {
        if (c.role() == OFControllerRole.ROLE_SLAVE) throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not change groups");
        List<Long> deleted = groups.apply(gm, System.nanoTime());
        OFFactory f = c.factory();
        for (long id : deleted) {
            FlowTables.Outcome out = tables.apply(f.buildFlowDelete().setTableId(TableId.ALL).setOutGroup(OFGroup.of((int) id)).build(), System.nanoTime());
            for (FlowEntry e : out.removed()) {
                if (e.flags().contains(OFFlowModFlags.SEND_FLOW_REM)) flowRemoved(e, OFFlowRemovedReason.GROUP_DELETE);
            }
        }
        changed();
    }

    /**
     * A port-mod (OVS: {@code ofproto_port_mod}): the port must exist and the hardware address match;
     * the config bits PORT_DOWN, NO_RECV, NO_FWD and NO_PACKET_IN apply under the mask (the
     * dataplane drops what the port receives or should send, or leaves it out of packet-ins), and
     * the connections hear of it with a port-status. The advertised features are ignored.
     */
    private void portMod(OfConnection c, org.projectfloodlight.openflow.protocol.OFPortMod pm) throws OfError {
        if (c.role() == OFControllerRole.ROLE_SLAVE) throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not change ports");
        int ofport = pm.getPortNo().equals(OFPort.LOCAL) ? 65534 : pm.getPortNo().getPortNumber();
        BridgeView.PortView port = byNumber(view).get(ofport);
        if (port == null) throw OfError.portModFailed(org.projectfloodlight.openflow.protocol.OFPortModFailedCode.BAD_PORT, "no port " + pm.getPortNo());
        if (port.mac() != null && !MacAddress.of(port.mac()).equals(pm.getHwAddr())) {
            throw OfError.portModFailed(org.projectfloodlight.openflow.protocol.OFPortModFailedCode.BAD_HW_ADDR,
                    "port " + pm.getPortNo() + " has address " + port.mac() + ", not " + pm.getHwAddr());
        }
        Set<OFPortConfig> supported = EnumSet.of(OFPortConfig.PORT_DOWN, OFPortConfig.NO_RECV, OFPortConfig.NO_FWD, OFPortConfig.NO_PACKET_IN);
        for (OFPortConfig bit : pm.getMask()) {
            if (!supported.contains(bit)) {
                throw OfError.portModFailed(org.projectfloodlight.openflow.protocol.OFPortModFailedCode.BAD_CONFIG, bit + " is not an OpenFlow 1.3 port setting");
            }
        }
        Set<OFPortConfig> before = portConfig.getOrDefault(ofport, Set.of());
        OFPortDesc described = portDesc(c.factory(), port);
        Set<OFPortConfig> after = EnumSet.noneOf(OFPortConfig.class);
        for (OFPortConfig bit : supported) {
            if (pm.getMask().contains(bit) ? pm.getConfig().contains(bit) : before.contains(bit)) after.add(bit);
        }
        if (pm.getMask().contains(OFPortConfig.PORT_DOWN)) {
            // As OVS does, up/down also goes to the device; until the device's state comes back
            // through the database, the port is described as the port-mod asked.
            boolean up = !pm.getConfig().contains(OFPortConfig.PORT_DOWN);
            sink.portAdmin(name, port.name(), up);
            adminOverride.put(ofport, up);
        }
        if (after.isEmpty()) portConfig.remove(ofport); else portConfig.put(ofport, after);
        if (after.equals(before) && portDesc(c.factory(), port).equals(described)) return;   // nothing to tell or to send
        for (OfConnection other : connections) {
            if (other.ready() && other.wantsPortStatus(OFPortReason.MODIFY)) other.send(other.factory().buildPortStatus().setReason(OFPortReason.MODIFY).setDesc(portDesc(other.factory(), port)).build());
        }
        changed();
    }

    /** The admin state a port-mod asked for, until the port's device reports it (by OpenFlow port number). */
    private final Map<Integer, Boolean> adminOverride = new java.util.HashMap<>();

    /** Port-mod settings by OpenFlow port number (ports without any are absent). */
    private final Map<Integer, Set<OFPortConfig>> portConfig = new java.util.HashMap<>();

    /** A meter-mod; deleting a meter deletes the flows that use it (FLOW_REMOVED reason METER_DELETE), as in OVS. */
    private void meterMod(OfConnection c, org.projectfloodlight.openflow.protocol.OFMeterMod mm) throws OfError {
        if (c.role() == OFControllerRole.ROLE_SLAVE) throw OfError.badRequest(OFBadRequestCode.IS_SLAVE, "a slave controller may not change meters");
        for (long id : meters.apply(mm, System.nanoTime())) {
            for (FlowEntry e : tables.removeIf(e -> e.usesMeter(id))) {
                if (e.flags().contains(OFFlowModFlags.SEND_FLOW_REM)) flowRemoved(e, OFFlowRemovedReason.METER_DELETE);
            }
        }
        changed();
    }

    /** FLOW_REMOVED to every controller connection that may receive asynchronous messages. */
    private void flowRemoved(FlowEntry e, OFFlowRemovedReason reason) {
        if (deferredNotices != null) {                       // a bundle being committed may yet fail
            deferredNotices.add(() -> flowRemoved(e, reason));
            return;
        }
        long age = (System.nanoTime() - e.createdNanos()) / 1_000_000 * 1_000_000;
        for (OfConnection c : connections) {
            if (!c.ready() || c.kind() != OfConnection.Kind.PRIMARY) continue;
            // OpenFlow 1.3 has no METER_DELETE reason (1.4 added it): such flows are reported as deleted.
            OFFlowRemovedReason why = reason == OFFlowRemovedReason.METER_DELETE && c.factory().getVersion().compareTo(org.projectfloodlight.openflow.protocol.OFVersion.OF_14) < 0
                    ? OFFlowRemovedReason.DELETE : reason;
            if (!c.wantsFlowRemoved(why.ordinal())) continue;
            if (Of10.is10(c.factory())) {
                if (why.ordinal() > OFFlowRemovedReason.DELETE.ordinal()) why = OFFlowRemovedReason.DELETE;       // 1.0 knows no group or meter deletes
                c.send(c.factory().buildFlowRemoved().setCookie(e.cookie()).setPriority(e.priority()).setReason(why)
                        .setIdleTimeout(e.idleTimeout()).setMatch(Of10.matchOut(c.factory(), e.match()))
                        .setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L)
                        .setPacketCount(U64.of(e.packets())).setByteCount(U64.of(e.bytes())).build());
                continue;
            }
            var m = c.factory().buildFlowRemoved().setCookie(e.cookie()).setPriority(e.priority()).setReason(why)
                    .setTableId(TableId.of(e.table())).setIdleTimeout(e.idleTimeout()).setHardTimeout(e.hardTimeout()).setMatch(e.match());
            if (Of15.is15(c.factory())) {
                m.setStats(Of15.flowStats(age, System.nanoTime() - e.usedNanos(), e.packets(), e.bytes()));
            } else {
                m.setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L)
                        .setPacketCount(U64.of(e.packets())).setByteCount(U64.of(e.bytes()));
            }
            c.send(m.build());
        }
    }

    private void stats(OfConnection c, OFStatsRequest<?> req) throws OfError {
        OFFactory f = c.factory();
        long xid = req.getXid();
        switch (req.getStatsType()) {
            case DESC -> c.send(f.buildDescStatsReply().setXid(xid).setMfrDesc("vswitch").setHwDesc("vswitch userspace datapath")
                    .setSwDesc("0.1.0").setSerialNum("None").setDpDesc(name).build());
            case PORT_DESC -> c.send(f.buildPortDescStatsReply().setXid(xid)
                    .setEntries(view.ports().stream().map(p -> portDesc(f, p)).toList()).build());
            case TABLE_FEATURES -> {
                if (Of15.is15(f)) multipartEncoded(c, xid, 12, TableFeatures.all(f).stream().map(Of15::tableFeatures).toList());
                else multipart(c, TableFeatures.all(f), (entries, more) -> f.buildTableFeaturesStatsReply().setXid(xid).setFlags(more).setEntries(entries).build());
            }
            case FLOW -> {
                OFFlowStatsRequest r = (OFFlowStatsRequest) req;
                long now = System.nanoTime();
                List<OFFlowStatsEntry> entries = new ArrayList<>();
                boolean v10 = Of10.is10(f);
                List<FlowEntry> chosen = v10 ? select10(r.getTableId(), r.getMatch(), r.getOutPort())
                        : select(r.getTableId(), r.getMatch(), r.getOutPort(), r.getOutGroup(), r.getCookie(), r.getCookieMask());
                for (FlowEntry e : chosen) {
                    long age = (now - e.createdNanos()) / 1_000_000 * 1_000_000;        // milliseconds, as OVS keeps them
                    if (v10) {
                        entries.add(f.buildFlowStatsEntry().setTableId(TableId.of(e.table())).setMatch(Of10.matchOut(f, e.match()))
                                .setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L).setPriority(e.priority())
                                .setIdleTimeout(e.idleTimeout()).setHardTimeout(e.hardTimeout()).setCookie(e.cookie())
                                .setPacketCount(U64.of(e.packets())).setByteCount(U64.of(e.bytes())).setActions(Of10.actionsOut(f, e.instructions())).build());
                        continue;
                    }
                    var b = f.buildFlowStatsEntry().setTableId(TableId.of(e.table())).setPriority(e.priority()).setIdleTimeout(e.idleTimeout())
                            .setHardTimeout(e.hardTimeout()).setFlags(e.flags()).setCookie(e.cookie()).setMatch(e.match());
                    if (Of15.is15(f)) {
                        b.setStats(Of15.flowStats(age, now - e.usedNanos(), e.packets(), e.bytes())).setInstructions(Of15.instructionsOut(f, e.instructions()));
                    } else {
                        b.setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L)
                                .setPacketCount(U64.of(e.packets())).setByteCount(U64.of(e.bytes())).setInstructions(e.instructions());
                    }
                    entries.add(b.build());
                }
                multipart(c, entries, (list, more) -> f.buildFlowStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case AGGREGATE -> {
                OFAggregateStatsRequest r = (OFAggregateStatsRequest) req;
                long packets = 0, bytes = 0, count = 0;
                for (FlowEntry e : Of10.is10(f) ? select10(r.getTableId(), r.getMatch(), r.getOutPort())
                        : select(r.getTableId(), r.getMatch(), r.getOutPort(), r.getOutGroup(), r.getCookie(), r.getCookieMask())) {
                    packets += e.packets();
                    bytes += e.bytes();
                    count++;
                }
                c.send(Of15.is15(f) ? f.buildAggregateStatsReply().setXid(xid).setStats(Of15.aggregateStats(count, packets, bytes)).build()
                        : f.buildAggregateStatsReply().setXid(xid).setPacketCount(U64.of(packets)).setByteCount(U64.of(bytes)).setFlowCount(count).build());
            }
            case TABLE -> {
                List<OFTableStatsEntry> entries = new ArrayList<>();
                for (int t = 0; t < FlowTables.TABLES; t++) {
                    var b = f.buildTableStatsEntry().setTableId(TableId.of(t)).setActiveCount(tables.count(t))
                            .setLookupCount(U64.of(tableLookups[t])).setMatchedCount(U64.of(tableMatches[t]));
                    if (Of10.is10(f)) b.setName(t == 0 ? "classifier" : "table" + t).setWildcards(0x3fffff).setMaxEntries(1_000_000);
                    entries.add(b.build());
                }
                multipart(c, entries, (list, more) -> f.buildTableStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case PORT -> {
                OFPort which = ((OFPortStatsRequest) req).getPortNo();
                List<OFPortStatsEntry> entries = new ArrayList<>();
                for (BridgeView.PortView p : view.ports()) {
                    if (!which.equals(OFPort.ANY) && !which.equals(ofPort(p.ofport()))) continue;
                    var b = f.buildPortStatsEntry().setPortNo(ofPort(p.ofport()))
                            .setRxPackets(U64.of(p.stat("rx_packets"))).setTxPackets(U64.of(p.stat("tx_packets")))
                            .setRxBytes(U64.of(p.stat("rx_bytes"))).setTxBytes(U64.of(p.stat("tx_bytes")))
                            .setRxDropped(U64.of(p.stat("rx_dropped"))).setTxDropped(U64.of(p.stat("tx_dropped")))
                            .setRxErrors(U64.of(p.stat("rx_errors"))).setTxErrors(U64.of(p.stat("tx_errors")));
                    if (!Of10.is10(f)) b.setDurationSec(0).setDurationNsec(0);
                    if (Versions.hasProperties(f)) {
                        b.setProperties(List.of(f.buildPortStatsPropEthernet().setRxFrameErr(U64.ZERO).setRxOverErr(U64.ZERO)
                                .setRxCrcErr(U64.ZERO).setCollisions(U64.ZERO).build()));
                    } else {
                        b.setRxFrameErr(U64.ZERO).setRxOverErr(U64.ZERO).setRxCrcErr(U64.ZERO).setCollisions(U64.ZERO);
                    }
                    entries.add(b.build());
                }
                c.send(f.buildPortStatsReply().setXid(xid).setEntries(entries).build());
            }
            case GROUP -> {
                OFGroup which = ((org.projectfloodlight.openflow.protocol.OFGroupStatsRequest) req).getGroup();
                long now = System.nanoTime();
                List<org.projectfloodlight.openflow.protocol.OFGroupStatsEntry> entries = new ArrayList<>();
                for (GroupTable.Group g : groups.all()) {
                    if (!which.equals(OFGroup.ALL) && (which.getGroupNumber() & 0xffffffffL) != g.id()) continue;
                    long age = (now - g.createdNanos()) / 1_000_000 * 1_000_000;
                    List<org.projectfloodlight.openflow.protocol.OFBucketCounter> buckets = new ArrayList<>();
                    for (int k = 0; k < g.buckets().size(); k++) {
                        buckets.add(f.buildBucketCounter().setPacketCount(U64.of(g.bucketPackets()[k])).setByteCount(U64.of(g.bucketBytes()[k])).build());
                    }
                    entries.add(f.buildGroupStatsEntry().setGroup(OFGroup.of((int) g.id())).setRefCount(refCount(g.id()))
                            .setPacketCount(U64.of(g.packets())).setByteCount(U64.of(g.bytes()))
                            .setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L).setBucketStats(buckets).build());
                }
                multipart(c, entries, (list, more) -> f.buildGroupStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case GROUP_DESC -> {
                if (Of15.is15(f)) {
                    groupDesc15(c, (org.projectfloodlight.openflow.protocol.OFGroupDescStatsRequest) req);
                    return;
                }
                List<org.projectfloodlight.openflow.protocol.OFGroupDescStatsEntry> entries = new ArrayList<>();
                for (GroupTable.Group g : groups.all()) {
                    entries.add(f.buildGroupDescStatsEntry().setGroup(OFGroup.of((int) g.id())).setGroupType(g.type()).setBuckets(g.buckets()).build());
                }
                multipart(c, entries, (list, more) -> f.buildGroupDescStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case METER -> {
                long which = ((org.projectfloodlight.openflow.protocol.OFMeterStatsRequest) req).getMeterId() & 0xffffffffL;
                long now = System.nanoTime();
                List<org.projectfloodlight.openflow.protocol.OFMeterStats> entries = new ArrayList<>();
                for (MeterTable.Meter m : meters.all()) {
                    if (which != MeterTable.ALL && which != m.id()) continue;
                    long age = (now - m.createdNanos()) / 1_000_000 * 1_000_000;
                    List<org.projectfloodlight.openflow.protocol.OFMeterBandStats> bands = new ArrayList<>();
                    for (int k = 0; k < m.bands().size(); k++) {
                        bands.add(f.buildMeterBandStats().setPacketBandCount(U64.of(m.bandPackets()[k])).setByteBandCount(U64.of(m.bandBytes()[k])).build());
                    }
                    long flows = tables.select(FlowTables.ALL, OxmMatch.any(), OFPort.ANY, OFGroup.ANY, U64.ZERO, U64.ZERO).stream()
                            .filter(e -> e.usesMeter(m.id())).count();
                    var b = f.buildMeterStats();
                    if (Of15.is15(f)) b.setRefCount(flows); else b.setFlowCount(flows);      // renamed in 1.5
                    entries.add(b.setMeterId(m.id()).setPacketInCount(U64.of(m.packets()))
                            .setByteInCount(U64.of(m.bytes())).setDurationSec(age / 1_000_000_000L).setDurationNsec(age % 1_000_000_000L)
                            .setBandStats(bands).build());
                }
                multipart(c, entries, (list, more) -> f.buildMeterStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case METER_CONFIG -> {
                long which = ((org.projectfloodlight.openflow.protocol.OFMeterConfigStatsRequest) req).getMeterId() & 0xffffffffL;
                List<org.projectfloodlight.openflow.protocol.OFMeterConfig> entries = new ArrayList<>();
                for (MeterTable.Meter m : meters.all()) {
                    if (which == MeterTable.ALL || which == m.id()) {
                        entries.add(f.buildMeterConfig().setMeterId(m.id()).setFlags(m.flags()).setEntries(m.bands()).build());
                    }
                }
                multipart(c, entries, (list, more) -> f.buildMeterConfigStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case QUEUE -> {
                var q = (org.projectfloodlight.openflow.protocol.OFQueueStatsRequest) req;
                checkQueuePort(q.getPortNo());
                long queue = q.getQueueId() & 0xffffffffL;
                List<org.projectfloodlight.openflow.protocol.OFQueueStatsEntry> entries = new ArrayList<>();
                boolean found = false;
                for (BridgeView.PortView p : view.ports()) {
                    if (!matchesPort(q.getPortNo(), p.ofport()) || p.queues().isEmpty()) continue;
                    Map<Long, long[]> stats = sink.queueStats(name, p.name());
                    for (long id : p.queues()) {
                        if (queue != OFQUEUE_ALL && queue != id) continue;
                        found = true;
                        long[] s = stats.getOrDefault(id, new long[3]);
                        var e = f.buildQueueStatsEntry().setPortNo(ofPort(p.ofport())).setQueueId(id)
                                .setTxPackets(U64.of(s[0])).setTxBytes(U64.of(s[1])).setTxErrors(U64.of(s[2]));
                        if (f.getVersion().compareTo(org.projectfloodlight.openflow.protocol.OFVersion.OF_13) >= 0) {
                            e.setDurationSec(0xffffffffL).setDurationNsec(0xffffffffL);   // OVS: duration unknown
                        }
                        entries.add(e.build());
                    }
                }
                // As OVS: asking for one queue that the port(s) lack is an error.
                if (queue != OFQUEUE_ALL && !found) throw OfError.badQueue("no queue " + queue + " on port " + q.getPortNo());
                multipart(c, entries, (list, more) -> f.buildQueueStatsReply().setXid(xid).setFlags(more).setEntries(list).build());
            }
            case METER_FEATURES -> {
                // 1.5.1 added a features word; OVS reads the 16-byte 1.3 body in every version, so that is what it gets.
                OFFactory body = Of15.is15(f) ? org.projectfloodlight.openflow.protocol.OFFactories.getFactory(org.projectfloodlight.openflow.protocol.OFVersion.OF_13) : f;
                OFMessage reply = body.buildMeterFeaturesStatsReply().setXid(xid).setFeatures(body.buildMeterFeatures()
                        .setMaxMeter(MeterTable.MAX_METER).setBandTypes(1 << 1 | 1 << 2)                  // drop, dscp_remark
                        .setCapabilities(0xf).setMaxBands((short) MeterTable.MAX_BANDS).setMaxColor((short) 0).build()).build();
                if (body == f) {
                    c.send(reply);
                } else {
                    ByteBuf b = Unpooled.buffer(32);
                    reply.writeTo(b);
                    c.sendEncoded(b.setByte(0, 6));
                }
            }
            case GROUP_FEATURES -> c.send(f.buildGroupFeaturesStatsReply().setXid(xid).setTypes(0xf)
                    .setCapabilities(EnumSet.of(org.projectfloodlight.openflow.protocol.OFGroupCapabilities.SELECT_WEIGHT,
                            org.projectfloodlight.openflow.protocol.OFGroupCapabilities.SELECT_LIVENESS,
                            org.projectfloodlight.openflow.protocol.OFGroupCapabilities.CHAINING))
                    .setMaxGroupsAll(GroupTable.MAX_GROUP).setMaxGroupsSelect(GroupTable.MAX_GROUP)
                    .setMaxGroupsIndirect(GroupTable.MAX_GROUP).setMaxGroupsFf(GroupTable.MAX_GROUP)
                    .setActionsAll(GROUP_ACTIONS).setActionsSelect(GROUP_ACTIONS).setActionsIndirect(GROUP_ACTIONS).setActionsFf(GROUP_ACTIONS).build());
            default -> throw OfError.badRequest(OFBadRequestCode.BAD_STAT, req.getStatsType() + " statistics are not supported yet");
        }
    }

    /** GROUP_DESC in OpenFlow 1.5 (of every group, or of the one asked for), coded by {@link Of15}, in as many replies as 64 KiB requires. */
    private void groupDesc15(OfConnection c, org.projectfloodlight.openflow.protocol.OFGroupDescStatsRequest req) {
        OFGroup which = req.getGroup();
        List<ByteBuf> entries = new ArrayList<>();
        for (GroupTable.Group g : groups.all()) {
            if (!which.equals(OFGroup.ALL) && (which.getGroupNumber() & 0xffffffffL) != g.id()) continue;
            ByteBuf e = Unpooled.buffer(64);
            Of15.writeGroupDesc(e, g.type(), g.id(), g.buckets(), g.type() == org.projectfloodlight.openflow.protocol.OFGroupType.SELECT);
            entries.add(e);
        }
        multipartEncoded(c, req.getXid(), 7, entries);
    }

    /** A multipart reply of type {@code type} from entries encoded here, in as many messages as 64 KiB requires (1.5 only). */
    private static void multipartEncoded(OfConnection c, long xid, int type, List<ByteBuf> entries) {
        int i = 0;
        do {
            ByteBuf reply = Unpooled.buffer(256);
            reply.writeByte(6).writeByte(19).writeShort(0).writeInt((int) xid).writeShort(type).writeShort(0).writeZero(4);
            while (i < entries.size() && (reply.readableBytes() == 16 || reply.readableBytes() - 16 + entries.get(i).readableBytes() <= MAX_BODY)) {
                reply.writeBytes(entries.get(i++));
            }
            if (i < entries.size()) reply.setShort(12, 1);                       // REPLY_MORE
            reply.setShort(2, reply.readableBytes());
            c.sendEncoded(reply);
        } while (i < entries.size());
    }

    /**
     * Actions a bucket may hold, as the OpenFlow 1.3 action-type bitmap: output (0), push/pop VLAN
     * (17, 18), group (22: chaining), dec_nw_ttl (24), set_field (25).
     */
    private static final long GROUP_ACTIONS = 1L | 1L << 17 | 1L << 18 | 1L << 22 | 1L << 24 | 1L << 25;

    /** Flows that use group {@code id}. */
    private long refCount(long id) {
        return tables.select(FlowTables.ALL, OxmMatch.any(), OFPort.ANY, OFGroup.of((int) id), U64.ZERO, U64.ZERO).size();
    }

    /** The flows a 1.0 statistics request names (1.0 filters by neither cookie nor group). */
    private List<FlowEntry> select10(TableId table, Match match, OFPort outPort) {
        return tables.select(table.getValue(), OxmMatch.of(Of10.matchIn(match)), outPort, OFGroup.ANY, U64.ZERO, U64.ZERO);
    }

    private List<FlowEntry> select(TableId table, Match match, OFPort outPort, OFGroup outGroup, U64 cookie, U64 cookieMask) {
        return tables.select(table.getValue(), OxmMatch.of(match), outPort, outGroup, cookie, cookieMask);
    }

    /** Sends {@code entries} in as many replies as 64 KiB requires, all but the last flagged REPLY_MORE. */
    private static <E extends org.projectfloodlight.openflow.protocol.Writeable> void multipart(
            OfConnection c, List<E> entries, BiFunction<List<E>, Set<OFStatsReplyFlags>, OFMessage> reply) {
        ByteBuf scratch = Unpooled.buffer(256);
        List<E> chunk = new ArrayList<>();
        int size = 0;
        for (E e : entries) {
            scratch.clear();
            e.writeTo(scratch);
            int len = scratch.readableBytes();
            if (size + len > MAX_BODY && !chunk.isEmpty()) {
                c.send(reply.apply(chunk, EnumSet.of(OFStatsReplyFlags.REPLY_MORE)));
                chunk = new ArrayList<>();
                size = 0;
            }
            chunk.add(e);
            size += len;
        }
        c.send(reply.apply(chunk, Set.of()));
    }

    /** The OpenFlow 1.1+ number of a port (the database says 65534 for LOCAL, the 16-bit OFPP_LOCAL). */
    static OFPort ofPort(int ofport) {
        return ofport == 65534 ? OFPort.LOCAL : OFPort.ofInt(ofport);
    }

    /** A port's description: its device's state, with what port-mods set on top (a port-mod "down" takes the link down too, as in OVS). */
    private OFPortDesc portDesc(OFFactory f, BridgeView.PortView p) {
        Set<OFPortConfig> config = portConfigOf(p);
        boolean live = live(p, config);
        OFPortDesc.Builder b = f.buildPortDesc().setPortNo(ofPort(p.ofport()))
                .setHwAddr(p.mac() == null ? MacAddress.NONE : MacAddress.of(p.mac())).setName(p.name())
                .setConfig(config)
                .setState(live ? EnumSet.of(OFPortState.LIVE) : EnumSet.of(OFPortState.LINK_DOWN));
        if (Of10.is10(f)) {                                     // 1.0: no LIVE state, no speeds
            return b.setState(live ? Set.of() : EnumSet.of(OFPortState.LINK_DOWN)).setCurr(EnumSet.of(OFPortFeatures.PF_10GB_FD, OFPortFeatures.PF_COPPER))
                    .setAdvertised(Set.of()).setSupported(Set.of()).setPeer(Set.of()).build();
        }
        if (Versions.hasProperties(f)) {
            // OpenFlow 1.4 moved the Ethernet features into a property (the same bits: 10GB_FD is 1 << 6, COPPER 1 << 11)
            return b.setProperties(List.of(f.buildPortDescPropEthernet().setCurr(1 << 6 | 1 << 11).setAdvertised(0).setSupported(0).setPeer(0)
                    .setCurrSpeed(10_000_000).setMaxSpeed(0).build())).build();
        }
        return b.setCurr(EnumSet.of(OFPortFeatures.PF_10GB_FD, OFPortFeatures.PF_COPPER))
                .setAdvertised(Set.of()).setSupported(Set.of()).setPeer(Set.of())
                .setCurrSpeed(10_000_000).setMaxSpeed(0).build();
    }
}
