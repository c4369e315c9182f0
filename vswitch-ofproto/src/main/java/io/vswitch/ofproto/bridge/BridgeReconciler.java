package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;

import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the dataplane equal to the database (OVS: vswitchd's main loop around
 * {@code bridge_reconfigure}). Woken by every commit (and every 2 s, which picks up link changes),
 * it reads the desired configuration, hands it to the {@link Reconciler}, then writes the outcome
 * back: {@code Interface.ofport} and {@code error}, what the port's provider reports
 * ({@code admin_state}/{@code link_state} from the device's flags, {@code mac_in_use}, {@code mtu},
 * the rest as {@code status}), {@code Bridge.datapath_id} (from the local port's MAC, as OVS derives it), and
 * finally {@code Open_vSwitch.cur_cfg = next_cfg}, which is what ovs-vsctl (without --no-wait) waits
 * for. Status is written only where it differs, so its own commit settles at once.
 */
public final class BridgeReconciler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BridgeReconciler.class.getName());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Supplies the current dataplane connection or explains why there is none. */
    @FunctionalInterface
    public interface DatapathSupplier {
        DatapathClient get() throws DatapathException;
    }

    private final OvsdbServer server;
    private final Reconciler reconciler;
    private final DatapathSupplier datapath;
    private final Semaphore wake = new Semaphore(0);
    private volatile java.util.function.Consumer<io.vswitch.datapath.ipc.DatapathState> stateListener = s -> { };
    private volatile boolean running = true;
    private final Thread thread;

    public BridgeReconciler(OvsdbServer server, Reconciler reconciler, DatapathSupplier datapath) {
        this.server = server;
        this.reconciler = reconciler;
        this.datapath = datapath;
        server.addListener(changes -> poke());
        thread = Thread.ofPlatform().daemon().name("bridge-reconciler").start(this::loop);
        poke();
    }

    private volatile Runnable beforeCurCfg = () -> { };

    /** Runs after a configuration was applied and before {@code cur_cfg} says so (e.g. wait for OpenFlow sockets). */
    public void beforeCurCfg(Runnable hook) {
        this.beforeCurCfg = hook;
    }

    /** Hears every state dump of the dataplane (e.g. to see which flow tables it runs). */
    public void onDataplaneState(java.util.function.Consumer<io.vswitch.datapath.ipc.DatapathState> listener) {
        this.stateListener = listener;
    }

    /** Asks for a reconciliation soon (coalesced). */
    public void poke() {
        wake.release();
    }

    private void loop() {
        while (running) {
            try {
                // Woken by commits; otherwise every 2 s only the status is refreshed, which picks up link
                // changes (OVS: the netdev change seq) without retrying refused ports or settings.
                boolean woken = wake.tryAcquire(2, TimeUnit.SECONDS);
                wake.drainPermits();
                reconcileOnce(woken);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | ExecutionException e) {
                LOG.log(System.Logger.Level.ERROR, "reconciliation failed; retrying", e);
                sleepThenRetry();
            }
        }
    }

    private void sleepThenRetry() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        poke();
    }

    /** One full pass; returns normally also when the dataplane is away (it is retried when it comes back). */
    void reconcileOnce() throws InterruptedException, ExecutionException {
        reconcileOnce(true);
    }

    /** Applies the configuration (if {@code apply}) and writes the status back. */
    private void reconcileOnce(boolean apply) throws InterruptedException, ExecutionException {
        OvsdbConfig.Snapshot want = server.call(OvsdbConfig::read).get();
        if (!apply && wake.availablePermits() > 0) return;     // a commit came in: the full pass comes next
        DatapathClient dp;
        try {
            dp = datapath.get();
        } catch (DatapathException e) {
            return;                                   // no dataplane yet: cur_cfg stays behind, as with OVS
        }
        try {
            if (apply) reconciler.reconcile(want.config(), dp);
        } catch (DatapathException e) {
            LOG.log(System.Logger.Level.WARNING, "dataplane: " + e.getMessage());
            sleepThenRetry();
            return;
        }
        Map<String, String> errors = reconciler.portErrors();
        Map<String, String> qosErrors = reconciler.qosErrors();
        Map<String, Map<String, String>> portStatus;
        try {
            io.vswitch.datapath.ipc.DatapathState state = dp.dumpState();
            portStatus = state.portStatus();
            stateListener.accept(state);
        } catch (DatapathException e) {
            portStatus = null;                        // unknown: leave those columns as they are
        }
        Map<String, Map<String, String>> status = portStatus;
        if (apply) beforeCurCfg.run();
        ArrayNode ops = server.call(db -> statusOps(db, want, errors, qosErrors, status, apply)).get();
        if (!ops.isEmpty()) {
            ArrayNode result = server.transact(ops).get();
            for (var r : result) if (r.has("error")) LOG.log(System.Logger.Level.WARNING, "status update refused: " + r);
        }
    }

    /** The updates that bring status columns up to date (empty if they already are). */
    private static ArrayNode statusOps(Database db, OvsdbConfig.Snapshot want, Map<String, String> errors, Map<String, String> qosErrors,
                                       Map<String, Map<String, String>> portStatus, boolean applied) {
        ArrayNode ops = F.arrayNode();
        for (Map.Entry<String, UUID> e : want.interfaceRows().entrySet()) {
            Row iface = db.rows("Interface").get(e.getValue());
            if (iface == null) continue;
            String error = errors.get(e.getKey());
            long ofport = error != null ? -1 : want.config().bridges.values().stream()
                    .filter(b -> b.ports.containsKey(e.getKey())).findFirst().map(b -> (long) b.ports.get(e.getKey()).ofport).orElse(-1L);
            ObjectNode row = F.objectNode();
            if (!iface.get("ofport").equals(Datum.atom(ofport))) row.put("ofport", ofport);
            // A refused QoS leaves the port working (with its previous QoS); it is only reported.
            String shown = error != null ? error : qosErrors.get(e.getKey());
            Datum wantError = shown == null ? Datum.EMPTY_SET : Datum.atom(shown);
            if (!iface.get("error").equals(wantError)) {
                if (shown == null) row.set("error", F.arrayNode().add("set").add(F.arrayNode())); else row.put("error", shown);
            }
            if (portStatus == null && error == null) {
                if (!row.isEmpty()) ops.add(update("Interface", iface.uuid(), row));
                continue;
            }
            Map<String, String> st = error == null ? portStatus.getOrDefault(e.getKey(), Map.of()) : Map.of();
            for (String col : new String[] {"admin_state", "link_state"}) {
                // The device's own state where the dataplane can see it (not after it moved to another namespace).
                String state = error != null ? "down" : st.getOrDefault(col, "up");
                if (!iface.get(col).equals(Datum.atom(state))) row.put(col, state);
            }
            String mac = st.get("mac");
            Long mtu = parseLong(st.get("mtu"));
            if (!iface.get("mac_in_use").equals(mac == null ? Datum.EMPTY_SET : Datum.atom(mac))) {
                row.set("mac_in_use", mac == null ? emptySet() : F.textNode(mac));
            }
            if (!iface.get("mtu").equals(mtu == null ? Datum.EMPTY_SET : Datum.atom(mtu))) {
                row.set("mtu", mtu == null ? emptySet() : F.numberNode(mtu));
            }
            Map<String, String> rest = new TreeMap<>(st);
            rest.keySet().removeAll(java.util.List.of("mac", "mtu", "admin_state", "link_state"));
            if (!stringMap(iface.get("status")).equals(rest)) row.set("status", mapJson(rest));
            if (!row.isEmpty()) ops.add(update("Interface", iface.uuid(), row));
        }
        for (Row br : portStatus == null ? java.util.List.<Row>of() : db.rows("Bridge").values()) {
            Datum name = br.get("name");
            if (name.size() != 1) continue;
            String mac = portStatus.getOrDefault((String) name.key(0), Map.of()).get("mac");
            String dpid = mac == null ? null : "0000" + mac.replace(":", "");
            if (dpid != null && !br.get("datapath_id").equals(Datum.atom(dpid))) {
                ops.add(update("Bridge", br.uuid(), F.objectNode().put("datapath_id", dpid)));
            }
        }
        Row root = OvsdbConfig.root(db);
        if (root != null && applied) {                    // cur_cfg only after the configuration was applied
            Datum cur = root.get("cur_cfg");
            long have = cur.size() == 1 ? (Long) cur.key(0) : 0;
            if (have < want.nextCfg()) ops.add(update("Open_vSwitch", root.uuid(), F.objectNode().put("cur_cfg", want.nextCfg())));
        }
        return ops;
    }

    private static Long parseLong(String s) {
        try {
            return s == null ? null : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static ArrayNode emptySet() {
        return F.arrayNode().add("set").add(F.arrayNode());
    }

    private static Map<String, String> stringMap(Datum d) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < d.size(); i++) m.put((String) d.key(i), (String) d.value(i));
        return m;
    }

    private static ArrayNode mapJson(Map<String, String> m) {
        ArrayNode pairs = F.arrayNode();
        m.forEach((k, v) -> pairs.add(F.arrayNode().add(k).add(v)));
        return F.arrayNode().add("map").add(pairs);
    }

    static ObjectNode update(String table, UUID uuid, ObjectNode row) {
        ObjectNode op = F.objectNode().put("op", "update").put("table", table);
        op.set("where", F.arrayNode().add(F.arrayNode().add("_uuid").add("==").add(F.arrayNode().add("uuid").add(uuid.toString()))));
        op.set("row", row);
        return op;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
