package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;
import io.vswitch.ovsdb.server.OvsdbTransport;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The database's own remotes from the {@code Manager} table (what ovsdb-server does with
 * {@code --remote=db:Open_vSwitch,Open_vSwitch,manager_options}): the {@code target} of every Manager
 * row referenced by {@code Open_vSwitch.manager_options}. Passive targets ({@code ptcp:}, {@code punix:})
 * listen, so {@code ovs-vsctl set-manager ptcp:6640} opens a TCP port; active ones ({@code tcp:},
 * {@code unix:}) connect out to the manager and keep reconnecting. {@code del-manager} closes them.
 *
 * <p>Every {@link #STATUS_INTERVAL_MS} the rows' {@code is_connected} and {@code status} are brought up
 * to date (state, seconds since connect/disconnect, last error, bound port, connections), as OVS shows them.
 */
public final class ManagerRemotes implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ManagerRemotes.class.getName());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final long STATUS_INTERVAL_MS = 2_500;

    private final OvsdbServer server;
    private final OvsdbTransport transport;
    private final Set<String> fixed;
    private final Set<String> warned = new LinkedHashSet<>();
    /** Binding, closing and status writes wait for the database thread, so they happen here. */
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ovsdb-remotes");
        t.setDaemon(true);
        return t;
    });

    /** @param fixed remotes from the command line and the run dir socket, never closed here */
    public ManagerRemotes(OvsdbServer server, OvsdbTransport transport, Set<String> fixed) {
        this.server = server;
        this.transport = transport;
        this.fixed = Set.copyOf(fixed);
        server.addListener(changes -> {
            if (worker.isShutdown()) return;               // closed: the server may still commit while stopping
            if (changes.tables().containsKey("Manager") || changes.tables().containsKey("Open_vSwitch")) {
                Set<String> targets = targets(server.database());
                worker.execute(() -> update(targets));
            }
        });
        server.call(ManagerRemotes::targets).thenAcceptAsync(this::update, worker);
        worker.scheduleWithFixedDelay(this::writeStatus, STATUS_INTERVAL_MS, STATUS_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    static Set<String> targets(Database db) {
        Set<String> out = new LinkedHashSet<>();
        Row root = OvsdbConfig.root(db);
        if (root == null) return out;
        for (Object u : root.get("manager_options").keys()) {
            Row m = db.rows("Manager").get((UUID) u);
            if (m != null) out.add((String) m.get("target").key(0));
        }
        return out;
    }

    private void update(Set<String> targets) {
        for (String t : targets) {
            try {
                if (t.startsWith("ptcp:") || t.startsWith("punix:")) transport.listen(t);
                else transport.connect(t);
            } catch (IOException | IllegalArgumentException e) {
                if (warned.add(t)) LOG.log(System.Logger.Level.WARNING, "manager " + t + ": " + e.getMessage());
            }
        }
        for (String r : transport.remotes()) {
            if (fixed.contains(r) || targets.contains(r)) continue;
            if (r.startsWith("ptcp:") || r.startsWith("punix:")) transport.unlisten(r);
            else transport.disconnect(r);
        }
    }

    /** One status pass: an update per Manager row whose is_connected or status changed. */
    void writeStatus() {
        try {
            Map<String, OvsdbTransport.RemoteStatus> status = transport.status();
            ArrayNode ops = server.call(db -> statusOps(db, status)).get();
            if (!ops.isEmpty()) server.transact(ops).get();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write manager status: " + e);
        }
    }

    private static ArrayNode statusOps(Database db, Map<String, OvsdbTransport.RemoteStatus> status) {
        ArrayNode ops = F.arrayNode();
        for (Row m : db.rows("Manager").values()) {
            Datum target = m.get("target");
            if (target.size() != 1) continue;
            OvsdbTransport.RemoteStatus s = status.get((String) target.key(0));
            boolean connected = s != null && s.connected();
            Map<String, String> want = s == null ? Map.of() : statusMap(s);
            ObjectNode row = F.objectNode();
            if (!m.get("is_connected").equals(Datum.atom(connected))) row.put("is_connected", connected);
            if (!strings(m.get("status")).equals(want)) {
                ArrayNode pairs = F.arrayNode();
                want.forEach((k, v) -> pairs.add(F.arrayNode().add(k).add(v)));
                row.set("status", F.arrayNode().add("map").add(pairs));
            }
            if (!row.isEmpty()) ops.add(BridgeReconciler.update("Manager", m.uuid(), row));
        }
        return ops;
    }

    /**
     * OVS's keys: a passive remote shows bound_port (TCP) and n_connections (when more than one); an
     * active one its state, sec_since_connect or sec_since_disconnect, and last_error.
     */
    static Map<String, String> statusMap(OvsdbTransport.RemoteStatus s) {
        Map<String, String> m = new LinkedHashMap<>();
        if (!s.active()) {
            if (s.boundPort() > 0) m.put("bound_port", Integer.toString(s.boundPort()));
            if (s.connections() > 1) m.put("n_connections", Integer.toString(s.connections()));
            return new TreeMap<>(m);
        }
        m.put("state", s.state());
        if (s.connected() && s.sinceConnectMs() >= 0) m.put("sec_since_connect", Long.toString(s.sinceConnectMs() / 1000));
        if (!s.connected() && s.sinceDisconnectMs() >= 0) m.put("sec_since_disconnect", Long.toString(s.sinceDisconnectMs() / 1000));
        if (s.lastError() != null) m.put("last_error", s.lastError());
        return new TreeMap<>(m);
    }

    private static Map<String, String> strings(Datum d) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < d.size(); i++) m.put((String) d.key(i), (String) d.value(i));
        return m;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
