package io.vswitch.ofproto.bridge;

import io.vswitch.ofproto.openflow.BridgeView;
import io.vswitch.ofproto.openflow.OfConnection;
import io.vswitch.ofproto.openflow.OfSwitch;
import io.vswitch.ofproto.openflow.OfTransport;
import io.vswitch.ofproto.openflow.Versions;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Gives every bridge in the database its OpenFlow side (OVS: {@code bridge_configure_remotes} and
 * {@code connmgr}): an {@link OfSwitch}, the management socket {@code <rundir>/<bridge>.mgmt} that
 * ovs-ofctl finds with no configuration, and one endpoint per {@code Controller} target — listening
 * for {@code ptcp:}/{@code punix:}, connecting (and reconnecting) for {@code tcp:}/{@code unix:}.
 *
 * <p>After every commit the database is read on its own thread and the result handed to the
 * OpenFlow event loop, which owns all of this state.
 */
public final class OpenFlowBridges implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OpenFlowBridges.class.getName());
    /** As often as OVS refreshes Controller status. */
    private static final long STATUS_INTERVAL_MS = 2500;

    /** One Controller row's settings. */
    record ControllerConfig(UUID row, String target, int probeSeconds, int maxBackoffSeconds) {}

    /** A bridge as read from the database. */
    record BridgeConfig(BridgeView view, List<ControllerConfig> controllers) {}

    private final class Bridge {
        final OfSwitch sw;
        final OfTransport.Endpoint mgmt;
        final Map<ControllerConfig, OfTransport.Endpoint> controllers = new HashMap<>();

        Bridge(OfSwitch sw, OfTransport.Endpoint mgmt) {
            this.sw = sw;
            this.mgmt = mgmt;
        }
    }

    private final OvsdbServer server;
    private final Path runDir;
    private final FlowSync flows;
    private final OfTransport transport = new OfTransport();
    private final Map<String, Bridge> bridges = new LinkedHashMap<>();
    private volatile boolean closed;

    public OpenFlowBridges(OvsdbServer server, Path runDir, FlowSync flows) {
        this.server = server;
        this.runDir = runDir;
        this.flows = flows;
        flows.onCounters((bridge, generation, counters) -> transport.loop().execute(() -> {
            Bridge b = bridges.get(bridge);
            if (b != null) b.sw.dataplaneCounters(generation, counters);
        }));

        server.addListener(changes -> refresh());
        refresh();
        transport.loop().scheduleWithFixedDelay(this::writeStatus, STATUS_INTERVAL_MS, STATUS_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Writes each Controller row's {@code is_connected}, {@code role} and {@code status} (OVS's keys:
     * {@code state}, {@code sec_since_connect}) where they changed. Runs on the OpenFlow loop; the
     * database work is chained, not waited for.
     */
    private void writeStatus() {
        if (closed) return;
        Map<UUID, ControllerStatus> now = new HashMap<>();
        for (Bridge b : bridges.values()) {
            for (ControllerConfig c : b.controllers.keySet()) {
                OfConnection conn = b.sw.connectionTo(c.target());
                boolean passive = c.target().startsWith("p");
                Map<String, String> status = new TreeMap<>();
                if (!passive) status.put("state", conn != null ? "ACTIVE" : "BACKOFF");
                if (conn != null) status.put("sec_since_connect", Long.toString(conn.connectedSeconds()));
                String role = conn == null ? null : switch (conn.role()) {
                    case ROLE_MASTER -> "master";
                    case ROLE_SLAVE -> "slave";
                    default -> "other";
                };
                now.put(c.row(), new ControllerStatus(conn != null, role, status));
            }
        }
        server.call(db -> statusOps(db, now)).thenAccept(ops -> {
            if (!ops.isEmpty()) server.transact(ops);
        });
    }

    private record ControllerStatus(boolean connected, String role, Map<String, String> status) {}

    private static com.fasterxml.jackson.databind.node.ArrayNode statusOps(Database db, Map<UUID, ControllerStatus> now) {
        var f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        var ops = f.arrayNode();
        now.forEach((uuid, st) -> {
            Row c = db.rows("Controller").get(uuid);
            if (c == null) return;
            var row = f.objectNode();
            if (!c.get("is_connected").equals(Datum.atom(st.connected()))) row.put("is_connected", st.connected());
            Datum role = st.role() == null ? Datum.EMPTY_SET : Datum.atom(st.role());
            if (!c.get("role").equals(role)) {
                if (st.role() == null) row.set("role", f.arrayNode().add("set").add(f.arrayNode())); else row.put("role", st.role());
            }
            Map<String, String> have = new TreeMap<>();
            for (Object[] kv : c.get("status").entries()) have.put((String) kv[0], (String) kv[1]);
            // sec_since_connect alone changing is not worth a commit every interval
            Map<String, String> haveCore = new TreeMap<>(have), wantCore = new TreeMap<>(st.status());
            haveCore.remove("sec_since_connect");
            wantCore.remove("sec_since_connect");
            if (!haveCore.equals(wantCore) || have.containsKey("sec_since_connect") != st.status().containsKey("sec_since_connect")) {
                var pairs = f.arrayNode();
                st.status().forEach((k, v) -> pairs.add(f.arrayNode().add(k).add(v)));
                row.set("status", f.arrayNode().add("map").add(pairs));
            }
            if (!row.isEmpty()) ops.add(BridgeReconciler.update("Controller", uuid, row));
        });
        return ops;
    }

    /** Re-reads the bridges and applies them on the OpenFlow loop. */
    public void refresh() {
        server.call(OpenFlowBridges::read).thenAccept(configs -> transport.loop().execute(() -> apply(configs)));
    }

    /** Listeners created by the last {@link #apply}s whose binding has not been waited for (OpenFlow loop only). */
    private final List<java.util.concurrent.Future<?>> pendingBinds = new ArrayList<>();

    /**
     * Applies the database as it is now and waits (at most {@code timeoutMs}) until the new
     * listeners are bound: the bridge reconciler calls this before it writes {@code cur_cfg}, so
     * once {@code vsctl add-br br0} returns, {@code ovs-ofctl show br0} finds the bridge's socket
     * (as with OVS).
     */
    public void awaitApplied(long timeoutMs) {
        try {
            List<java.util.concurrent.Future<?>> binds = server.call(OpenFlowBridges::read).thenApplyAsync(configs -> {
                apply(configs);
                List<java.util.concurrent.Future<?>> b = List.copyOf(pendingBinds);
                pendingBinds.clear();
                return b;
            }, transport.loop()).get(timeoutMs, TimeUnit.MILLISECONDS);
            for (var b : binds) b.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "OpenFlow endpoints not ready in time: " + e);
        }
    }

    /** The switch of {@code bridge}, for tests and appctl (call on the OpenFlow loop). */
    public OfSwitch bridge(String name) {
        Bridge b = bridges.get(name);
        return b == null ? null : b.sw;
    }

    /** Packet-ins read from the dataplane (on the packet-in thread): handed to their bridges on the OpenFlow loop. */
    public void packetIns(List<io.vswitch.datapath.ipc.PacketIn> batch) {
        transport.loop().execute(() -> {
            Set<OfSwitch> touched = new java.util.HashSet<>();
            for (io.vswitch.datapath.ipc.PacketIn p : batch) {
                Bridge b = bridges.get(p.bridge());
                if (b == null) continue;
                b.sw.packetIn(p);
                touched.add(b.sw);
            }
            touched.forEach(OfSwitch::flushConnections);
        });
    }

    /** {@code ofproto/trace BRIDGE FLOW}: the walk of a packet through the bridge's tables (runs on the OpenFlow loop). */
    public String trace(String bridge, String flow) throws Exception {
        return call(() -> {
            Bridge b = bridges.get(bridge);
            if (b == null) throw new IllegalArgumentException("no bridge named " + bridge);
            return b.sw.trace(flow);
        });
    }

    /** Runs {@code task} on the OpenFlow loop and waits for its result. */
    public <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
        return transport.loop().submit(task).get();
    }

    private void apply(Map<String, BridgeConfig> configs) {
        if (closed) return;
        for (String name : List.copyOf(bridges.keySet())) {
            if (!configs.containsKey(name)) remove(name);
        }
        configs.forEach((name, cfg) -> {
            Bridge b = bridges.get(name);
            if (b == null) {
                OfSwitch sw = new OfSwitch(cfg.view(), transport.loop(), flows);
                String mgmt = "punix:" + runDir.resolve(name + ".mgmt");
                try {
                    b = new Bridge(sw, transport.listen(mgmt, sw, OfConnection.Kind.SERVICE, 0));
                    pendingBinds.add(b.mgmt.ready());
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.ERROR, name + ": cannot listen on " + mgmt + ": " + e.getMessage());
                    return;
                }
                bridges.put(name, b);
                LOG.log(System.Logger.Level.INFO, name + ": OpenFlow on " + mgmt);
            } else {
                b.sw.update(cfg.view());
            }
            Set<ControllerConfig> want = Set.copyOf(cfg.controllers());
            for (ControllerConfig c : List.copyOf(b.controllers.keySet())) {
                if (!want.contains(c)) b.controllers.remove(c).close();
            }
            for (ControllerConfig c : want) {
                if (b.controllers.containsKey(c)) continue;
                try {
                    boolean passive = c.target().startsWith("p");
                    OfTransport.Endpoint ep = passive ? transport.listen(c.target(), b.sw, OfConnection.Kind.PRIMARY, c.probeSeconds())
                            : transport.connect(c.target(), b.sw, c.probeSeconds(), c.maxBackoffSeconds());
                    b.controllers.put(c, ep);
                    pendingBinds.add(ep.ready());
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, name + ": controller " + c.target() + ": " + e.getMessage());
                }
            }
        });
    }

    private void remove(String name) {
        Bridge b = bridges.remove(name);
        flows.forget(name);
        b.controllers.values().forEach(OfTransport.Endpoint::close);
        b.mgmt.close();
        b.sw.close();
    }

    /** Reads every bridge's OpenFlow-relevant settings (runs on the database thread). */
    static Map<String, BridgeConfig> read(Database db) {
        Map<String, BridgeConfig> out = new TreeMap<>();
        for (Row br : db.rows("Bridge").values()) {
            String name = string(br.get("name"));
            if (name == null) continue;
            long dpid = 0;
            String hex = string(br.get("datapath_id"));
            if (hex != null) {
                try {
                    dpid = Long.parseUnsignedLong(hex, 16);
                } catch (NumberFormatException ignored) {
                    // not written yet: zero until the reconciler derives it
                }
            }
            List<Integer> versions = new ArrayList<>();
            for (Object p : br.get("protocols").keys()) {
                Integer v = Versions.BY_NAME.get((String) p);
                if (v != null) versions.add(v);
            }
            versions.sort(null);
            boolean secure = "secure".equals(string(br.get("fail_mode")));
            List<BridgeView.PortView> ports = new ArrayList<>();
            for (Object portUuid : br.get("ports").keys()) {
                Row port = db.rows("Port").get((UUID) portUuid);
                if (port == null) continue;
                for (Object ifUuid : port.get("interfaces").keys()) {
                    Row iface = db.rows("Interface").get((UUID) ifUuid);
                    if (iface == null || iface.get("ofport").size() != 1) continue;
                    long ofport = (Long) iface.get("ofport").key(0);
                    if (ofport <= 0) continue;
                    Map<String, Long> stats = new TreeMap<>();
                    for (Object[] kv : iface.get("statistics").entries()) stats.put((String) kv[0], (Long) kv[1]);
                    ports.add(new BridgeView.PortView((int) ofport, string(iface.get("name")), string(iface.get("mac_in_use")),
                            !"down".equals(string(iface.get("admin_state"))), "up".equals(string(iface.get("link_state"))), stats,
                            OvsdbConfig.queues(db, port, iface)));
                }
            }
            ports.sort((a, b) -> Integer.compare(a.ofport(), b.ofport()));
            List<ControllerConfig> controllers = new ArrayList<>();
            for (Object cUuid : br.get("controller").keys()) {
                Row c = db.rows("Controller").get((UUID) cUuid);
                if (c == null || string(c.get("target")) == null) continue;
                long probeMs = c.get("inactivity_probe").size() == 1 ? (Long) c.get("inactivity_probe").key(0) : 5000;
                long backoffMs = c.get("max_backoff").size() == 1 ? (Long) c.get("max_backoff").key(0) : 8000;
                controllers.add(new ControllerConfig(c.uuid(), string(c.get("target")), (int) Math.max(0, probeMs / 1000), (int) Math.max(1, backoffMs / 1000)));
            }
            out.put(name, new BridgeConfig(new BridgeView(name, dpid, versions, secure, ports), controllers));
        }
        return out;
    }

    private static String string(Datum d) {
        return d.size() == 1 ? (String) d.key(0) : null;
    }

    @Override
    public void close() {
        closed = true;
        try {
            transport.loop().submit(() -> List.copyOf(bridges.keySet()).forEach(this::remove)).get();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing OpenFlow: " + e.getMessage());
        }
        transport.close();
    }
}
