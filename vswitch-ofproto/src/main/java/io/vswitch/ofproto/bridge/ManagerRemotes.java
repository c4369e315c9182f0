package io.vswitch.ofproto.bridge;

import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;
import io.vswitch.ovsdb.server.OvsdbTransport;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.UUID;

/**
 * The database's own listening remotes (what ovsdb-server does with
 * {@code --remote=db:Open_vSwitch,Open_vSwitch,manager_options}): the {@code target} of every
 * {@code Manager} row referenced by {@code Open_vSwitch.manager_options}, so {@code ovs-vsctl
 * set-manager ptcp:6640} opens a TCP port and {@code del-manager} closes it. Passive targets only
 * ({@code ptcp:}, {@code punix:}); active ones ({@code tcp:}, {@code unix:}, where the server would
 * connect out) are logged and ignored for now.
 */
public final class ManagerRemotes {
    private static final System.Logger LOG = System.getLogger(ManagerRemotes.class.getName());

    private final OvsdbTransport transport;
    private final Set<String> fixed;
    private final Set<String> warned = new LinkedHashSet<>();
    /** Binding and closing sockets waits for the database thread's event loop, so it happens here. */
    private final java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ovsdb-remotes");
        t.setDaemon(true);
        return t;
    });

    /** @param fixed remotes from the command line and the run dir socket, never closed here */
    public ManagerRemotes(OvsdbServer server, OvsdbTransport transport, Set<String> fixed) {
        this.transport = transport;
        this.fixed = Set.copyOf(fixed);
        server.addListener(changes -> {
            if (changes.tables().containsKey("Manager") || changes.tables().containsKey("Open_vSwitch")) {
                Set<String> targets = targets(server.database());
                worker.execute(() -> update(targets));
            }
        });
        server.call(ManagerRemotes::targets).thenAcceptAsync(this::update, worker);
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
            if (!t.startsWith("ptcp:") && !t.startsWith("punix:")) {
                if (warned.add(t)) LOG.log(System.Logger.Level.WARNING, "manager " + t + ": only passive remotes (ptcp:, punix:) are supported");
                continue;
            }
            try {
                transport.listen(t);
            } catch (IOException | IllegalArgumentException e) {
                if (warned.add(t)) LOG.log(System.Logger.Level.WARNING, "manager " + t + ": " + e.getMessage());
            }
        }
        for (String r : transport.remotes()) {
            if (!fixed.contains(r) && !targets.contains(r)) transport.unlisten(r);
        }
    }
}
