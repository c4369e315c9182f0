package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.db.ChangeSet;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Transaction;
import io.vswitch.ovsdb.schema.DatabaseSchema;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The OVSDB server (RFC 7047 plus the OVS extensions ovs-vsctl 3.x uses): the {@code Open_vSwitch}
 * database, the {@code _Server} database describing it, sessions, monitors and locks.
 *
 * <p>One thread owns everything (the "database thread"): it is the single Netty event loop that also
 * does the connections' I/O, so a request read from a socket is executed on the spot, with no hand-over
 * between threads; in-process users submit tasks to the same loop. That makes every transaction atomic
 * and ordered with no locks, and guarantees what RFC 7047 clients expect: a client receives the updates
 * caused by its own transaction before the transaction's reply, because both are written from this
 * thread, in that order, to the same channel.
 *
 * <p>Durability with group commit: each committed transaction is written to the {@link Store} at once,
 * but the replies and updates it produces wait in the outbox. The first of them schedules a flush task,
 * which the event loop runs after it has read and executed everything its sockets had for it in this
 * round; the flush syncs the store once and only then writes the outbox out. No client is ever told of
 * a change that is not on disk, and a burst of transactions (pipelined or from many clients) costs one
 * fsync.
 */
public final class OvsdbServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OvsdbServer.class.getName());
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Where committed transactions go: written in commit order, acknowledged only after {@link #sync}. */
    public interface Store {
        void write(Database db, ChangeSet changes) throws IOException;

        void sync() throws IOException;
    }

    private final EventLoopGroup loopGroup = new NioEventLoopGroup(1, r -> {
        Thread t = new Thread(r, "ovsdb");
        t.setDaemon(true);
        return t;
    });
    private final EventLoop loop = loopGroup.next();
    private final List<Runnable> outbox = new ArrayList<>();
    /** Sessions written to since the last flush: their channels are flushed once per group. */
    private final Set<Session> written = new LinkedHashSet<>();
    /**
     * The most recent commits, oldest first, so that a client reconnecting with monitor_cond_since gets
     * only what it missed (ovsdb-server keeps such a history too). After a restart it is empty, and
     * such a client gets the full contents.
     */
    private final ArrayDeque<ChangeSet> history = new ArrayDeque<>();
    static final int HISTORY = 1000;
    /** Row changes the history may hold in all (each keeps an old and a new row), e.g. statistics writes. */
    static final int HISTORY_ROWS = 20_000;
    private int historyRows;
    /** Changes of the current group, told to listeners once they are on disk. */
    private final List<ChangeSet> committed = new ArrayList<>();
    /** In-process transactions of the current group, failed if its sync fails. */
    private final List<CompletableFuture<?>> inProcess = new ArrayList<>();
    private boolean unsynced;
    private boolean flushScheduled;
    private IOException storeFailure;
    private final Database db;
    private final ServerDatabase serverDb;
    private final Store store;
    private final List<Session> sessions = new ArrayList<>();
    private final List<Consumer<ChangeSet>> listeners = new ArrayList<>();
    private final Map<String, Deque<Session>> locks = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();

    /** A transaction blocked in a "wait" with a timeout, retried after every commit. */
    private record Pending(Session session, JsonNode id, JsonNode ops, long started) {}

    /** Whether a retry of the pending transactions is scheduled (every 100 ms while one with a timeout waits). */
    private boolean retryArmed;

    public OvsdbServer(Database db, Store store) {
        this.db = db;
        this.store = store;
        this.serverDb = new ServerDatabase(db.schema());
    }

    /**
     * Runs the transaction path on a scratch database until the JIT has compiled it (see {@link Warmup});
     * for long-running servers, before they start serving.
     */
    public static void warmUp(DatabaseSchema schema) {
        long t0 = System.nanoTime();
        try {
            Warmup.run(schema, 4, 1000);
            LOG.log(System.Logger.Level.INFO, "ovsdb transaction path warmed up in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (IOException | OvsdbException | RuntimeException e) {
            // Only a warm-up: it touched nothing real, and the server works without it.
            LOG.log(System.Logger.Level.WARNING, "ovsdb warm-up failed: " + e);
        }
    }

    /** The event loop that is the database thread; the transport does its I/O on it. */
    EventLoopGroup eventLoop() {
        return loopGroup;
    }

    /** Queues output of the current group; it leaves after the group's sync. Database thread only. */
    void emit(Runnable send) {
        outbox.add(send);
        scheduleFlush();
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(this::flush);
        }
    }

    /** Marks a session's channel for the flush at the end of the group. Database thread only. */
    void written(Session s) {
        written.add(s);
    }

    /** Ends a group: sync once, then let its output out. */
    private void flush() {
        flushScheduled = false;
        if (unsynced) {
            unsynced = false;
            try {
                store.sync();
            } catch (IOException | RuntimeException e) {
                // Nothing of this group may be acknowledged: drop its output, fail in-process
                // callers, disconnect clients, refuse further writes.
                LOG.log(System.Logger.Level.ERROR, "cannot sync the database log; refusing further changes", e);
                storeFailure = e instanceof IOException io ? io : new IOException(e);
                outbox.clear();
                committed.clear();
                written.clear();
                for (CompletableFuture<?> f : inProcess) f.completeExceptionally(storeFailure);
                inProcess.clear();
                sessions.forEach(Session::disconnect);
                return;
            }
        }
        for (ChangeSet changes : committed) {
            for (Consumer<ChangeSet> l : listeners) {
                try {
                    l.accept(changes);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "database listener failed", e);
                }
            }
        }
        committed.clear();
        for (Runnable r : outbox) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "ovsdb output failed", e);
            }
        }
        outbox.clear();
        inProcess.clear();
        for (Session s : written) s.flush();
        written.clear();
    }

    public Database database() {
        return db;
    }

    /** Runs {@code f} on the database thread (consistent reads for in-process users). */
    public <T> CompletableFuture<T> call(Function<Database, T> f) {
        return CompletableFuture.supplyAsync(() -> f.apply(db), loop);
    }

    /** Called on the database thread with each commit that changed something, once it is on disk. */
    public void addListener(Consumer<ChangeSet> l) {
        loop.execute(() -> listeners.add(l));
    }

    /** An in-process transaction (e.g. the bridge reconciler writing status); completes with the result array. */
    public CompletableFuture<ArrayNode> transact(ArrayNode ops) {
        CompletableFuture<ArrayNode> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                Transaction.Result r = new Transaction(db, lock -> false, 0).execute(ops);
                commit(r);
                inProcess.add(f);
                emit(() -> f.complete(r.results()));
            } catch (Transaction.WouldBlock e) {
                f.completeExceptionally(new IllegalStateException("in-process transactions may not wait"));
            } catch (RuntimeException | IOException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    // ---- sessions (called by the transport) ----

    void open(Session s) {
        onLoop(() -> sessions.add(s));
    }

    void closed(Session s) {
        onLoop(() -> {
            sessions.remove(s);
            pending.removeIf(p -> p.session == s);
            for (Map.Entry<String, Deque<Session>> e : locks.entrySet()) {
                Deque<Session> q = e.getValue();
                boolean wasOwner = q.peekFirst() == s;
                q.remove(s);
                if (wasOwner && !q.isEmpty()) q.peekFirst().notify("locked", F.arrayNode().add(e.getKey()));
            }
            locks.values().removeIf(Deque::isEmpty);
        });
    }

    /** Handles one message; on the database thread (where the transport reads) it runs at once. */
    void request(Session s, JsonNode msg) {
        onLoop(() -> handle(s, msg));
    }

    private void onLoop(Runnable r) {
        if (loop.inEventLoop()) r.run();
        else loop.execute(r);
    }

    private void handle(Session s, JsonNode msg) {
        if (storeFailure != null) {
            // What is in memory may not be on disk: serve nothing from it, as ovsdb-server stops.
            if (msg.hasNonNull("id")) s.error(msg.get("id"), "I/O error", "the database log failed (" + storeFailure.getMessage()
                    + "); nothing is served until the server is restarted");
            emit(s::disconnect);                        // after the error has gone out, not before
            return;
        }
        try {
            dispatch(s, msg);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "ovsdb request " + msg.path("method").asText() + " failed", e);
            if (msg.hasNonNull("id")) s.error(msg.get("id"), "internal error", e.toString());
        }
    }

    private void dispatch(Session s, JsonNode msg) {
        JsonNode id = msg.get("id");
        if (msg.has("result") || (msg.has("error") && !msg.has("method"))) {
            return;                                      // a reply to our own request (e.g. echo): nothing to do
        }
        String method = msg.path("method").asText(null);
        JsonNode params = msg.get("params");
        if (method == null || params == null || !params.isArray()) {
            if (id != null && !id.isNull()) s.error(id, "syntax error", "a request needs \"method\" and a \"params\" array");
            return;
        }
        boolean notification = id == null || id.isNull();
        try {
            JsonNode result = switch (method) {
                case "echo" -> params;
                case "list_dbs" -> F.arrayNode().add(db.name()).add(ServerDatabase.NAME);
                case "get_schema" -> database(params.path(0).asText()).schema().json();
                case "transact" -> transact(s, id, params);
                case "cancel" -> cancel(s, params);
                case "monitor" -> monitor(s, params, 1);
                case "monitor_cond" -> monitor(s, params, 2);
                case "monitor_cond_since" -> monitor(s, params, 3);
                case "monitor_cond_change" -> monitorCondChange(s, params);
                case "monitor_cancel" -> monitorCancel(s, params);
                case "lock" -> lock(s, params, false);
                case "steal" -> lock(s, params, true);
                case "unlock" -> unlock(s, params);
                case "set_db_change_aware" -> F.objectNode();
                default -> throw new OvsdbException("unknown method", "unknown method \"" + method + "\"");
            };
            if (!notification && result != null) s.reply(id, result);
        } catch (OvsdbException e) {
            if (notification) return;
            if (e.error().equals("unknown method")) s.error(id, "unknown method", null);
            else s.error(id, e.error(), e.getMessage());
        }
    }

    private Database database(String name) throws OvsdbException {
        if (name.equals(db.name())) return db;
        if (name.equals(ServerDatabase.NAME)) return serverDb.database();
        throw new OvsdbException("unknown database", "unknown database \"" + name + "\"");
    }

    // ---- transact ----

    private JsonNode transact(Session s, JsonNode id, JsonNode params) throws OvsdbException {
        if (params.isEmpty()) throw OvsdbException.syntax("transact needs a database name");
        Database target = database(params.get(0).asText());
        if (target != db) throw new OvsdbException("not allowed", "the " + target.name() + " database is read-only");
        ArrayNode ops = F.arrayNode();
        for (int i = 1; i < params.size(); i++) ops.add(params.get(i));
        return run(s, id, ops, System.currentTimeMillis());
    }

    /** Runs a transaction; returns its result, or null if it is now pending (replied later). */
    private JsonNode run(Session s, JsonNode id, ArrayNode ops, long started) {
        long now = System.currentTimeMillis();
        try {
            Transaction.Result r = new Transaction(db, s::ownsLock, now - started).execute(ops);
            try {
                commit(r);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot write the database log", e);
                ArrayNode failed = r.results().deepCopy();
                failed.add(new OvsdbException("I/O error", "could not write the database log: " + e.getMessage()).toJson());
                return failed;
            }
            return r.results();
        } catch (Transaction.WouldBlock b) {
            pending.add(new Pending(s, id, ops, started));   // the timeout is the wait's own, checked on each retry
            if (b.timeoutMs != Long.MAX_VALUE && !retryArmed) {   // only a deadline needs the timer: an idle server sets none
                retryArmed = true;
                loop.schedule(() -> {
                    retryArmed = false;
                    retryPending();                       // what still waits arms the next one
                }, 100, TimeUnit.MILLISECONDS);
            }
            return null;
        }
    }

    /** Makes a transaction's changes durable, applies them, and tells monitors and listeners. */
    private void commit(Transaction.Result r) throws IOException {
        ChangeSet changes = r.changes();
        if (changes == null || changes.isEmpty()) return;
        if (storeFailure != null) throw new IOException("the database log failed earlier: " + storeFailure.getMessage());
        store.write(db, changes);
        unsynced = true;
        db.apply(changes);
        for (Session s : sessions) s.changed(changes, db);
        committed.add(changes);
        history.addLast(changes);
        historyRows += rowCount(changes);
        while (history.size() > HISTORY || (historyRows > HISTORY_ROWS && history.size() > 1)) {
            historyRows -= rowCount(history.removeFirst());
        }
        scheduleFlush();
        if (!pending.isEmpty()) loop.execute(this::retryPending);
    }

    private void retryPending() {
        if (pending.isEmpty()) return;
        List<Pending> again = new ArrayList<>(pending);
        pending.clear();
        for (Pending p : again) {
            try {
                JsonNode result = run(p.session, p.id, (ArrayNode) p.ops, p.started);
                if (result != null) p.session.reply(p.id, result);
            } catch (RuntimeException e) {                // one broken transaction does not drop the others
                LOG.log(System.Logger.Level.ERROR, "retrying a waiting transaction failed", e);
                p.session.error(p.id, "internal error", e.toString());
            }
        }
    }

    private JsonNode cancel(Session s, JsonNode params) {
        JsonNode target = params.path(0);
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.session == s && p.id.equals(target)) {
                it.remove();
                s.error(p.id, "canceled", "canceled by request");
            }
        }
        return null;                                     // cancel is a notification: no reply of its own
    }

    // ---- monitors ----

    private JsonNode monitor(Session s, JsonNode params, int format) throws OvsdbException {
        if (params.size() < 3) throw OvsdbException.syntax("monitor needs [db, monitor-id, requests]");
        Database target = database(params.get(0).asText());
        JsonNode monitorId = params.get(1);
        if (s.monitors.containsKey(monitorId)) throw OvsdbException.syntax("duplicate monitor ID " + monitorId);
        Monitor m = new Monitor(monitorId, target, format, params.get(2));
        s.monitors.put(monitorId, m);
        if (format == 3 && target == db) {
            ChangeSet missed = since(params.path(3).asText(""));
            if (missed != null) {
                ObjectNode updates = missed.isEmpty() ? null : m.updates(missed);
                return F.arrayNode().add(true).add(target.lastTxnId().toString()).add(updates == null ? F.objectNode() : updates);
            }
        }
        ObjectNode initial = m.initial();
        if (format == 3) return F.arrayNode().add(false).add(target.lastTxnId().toString()).add(initial);
        return initial;
    }

    private static int rowCount(ChangeSet c) {
        int n = 0;
        for (Map<UUID, ChangeSet.Change> rows : c.tables().values()) n += rows.size();
        return n;
    }

    /**
     * Everything committed after transaction {@code lastId}, merged into one change set (per row: the
     * row as it was then, and as it is now), or null if {@code lastId} is not in the history.
     */
    private ChangeSet since(String lastId) {
        UUID last;
        try {
            last = UUID.fromString(lastId);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (last.equals(db.lastTxnId())) return new ChangeSet(last, Map.of(), null);
        List<ChangeSet> after = new ArrayList<>();
        boolean found = false;
        for (ChangeSet c : history) {
            if (found) after.add(c);
            else if (c.txnId().equals(last)) found = true;
        }
        if (!found) return null;
        Map<String, Map<UUID, ChangeSet.Change>> merged = new java.util.LinkedHashMap<>();
        for (ChangeSet c : after) {
            c.tables().forEach((table, rows) -> {
                Map<UUID, ChangeSet.Change> m = merged.computeIfAbsent(table, t -> new java.util.LinkedHashMap<>());
                rows.forEach((uuid, ch) -> {
                    ChangeSet.Change prev = m.get(uuid);
                    m.put(uuid, new ChangeSet.Change(prev == null ? ch.old() : prev.old(), ch.now()));
                });
            });
        }
        for (Map<UUID, ChangeSet.Change> rows : merged.values()) rows.values().removeIf(ch -> ch.old() == null && ch.now() == null);
        return new ChangeSet(db.lastTxnId(), merged, null);
    }

    /** Validates everything first (as ovsdb-server does), then renames the monitor and swaps conditions. */
    private JsonNode monitorCondChange(Session s, JsonNode params) throws OvsdbException {
        if (params.size() < 3 || !params.get(2).isObject()) throw OvsdbException.syntax("monitor_cond_change needs [monitor-id, new-monitor-id, changes]");
        Monitor m = s.monitors.get(params.get(0));
        if (m == null) throw new OvsdbException("unknown monitor", "no monitor " + params.get(0));
        if (m.format == 1) throw OvsdbException.syntax("monitor_cond_change applies to monitor_cond monitors only");
        if (!params.get(1).equals(params.get(0)) && s.monitors.containsKey(params.get(1))) {
            throw OvsdbException.syntax("duplicate monitor ID " + params.get(1));
        }
        Map<String, java.util.function.Predicate<io.vswitch.ovsdb.db.Row>> parsed = new java.util.LinkedHashMap<>();
        var it = params.get(2).fields();
        while (it.hasNext()) {
            var e = it.next();
            JsonNode reqs = e.getValue().isArray() ? e.getValue() : F.arrayNode().add(e.getValue());
            for (JsonNode req : reqs) parsed.put(e.getKey(), m.parseCondition(e.getKey(), req.get("where")));
        }
        s.monitors.remove(params.get(0));
        s.monitors.put(params.get(1), m);
        ObjectNode updates = F.objectNode();
        parsed.forEach((table, cond) -> {
            ObjectNode rows = m.applyCondition(table, cond);
            if (!rows.isEmpty()) updates.set(table, rows);
        });
        if (!updates.isEmpty()) s.sendUpdate(params.get(1), m.format, updates, m.db.lastTxnId());
        return F.objectNode();
    }

    private JsonNode monitorCancel(Session s, JsonNode params) throws OvsdbException {
        if (s.monitors.remove(params.path(0)) == null) throw new OvsdbException("unknown monitor", "no monitor " + params.path(0));
        return F.objectNode();
    }

    // ---- locks ----

    private JsonNode lock(Session s, JsonNode params, boolean steal) throws OvsdbException {
        String name = params.path(0).asText("");
        if (name.isEmpty()) throw OvsdbException.syntax("lock needs a name");
        Deque<Session> q = locks.computeIfAbsent(name, k -> new ArrayDeque<>());
        if (steal) {
            Session owner = q.peekFirst();
            q.remove(s);
            q.addFirst(s);
            if (owner != null && owner != s) owner.notify("stolen", F.arrayNode().add(name));
            return F.objectNode().put("locked", true);
        }
        if (q.contains(s)) throw OvsdbException.syntax("lock \"" + name + "\" already requested by this session");
        q.addLast(s);
        return F.objectNode().put("locked", q.peekFirst() == s);
    }

    private JsonNode unlock(Session s, JsonNode params) {
        String name = params.path(0).asText("");
        Deque<Session> q = locks.get(name);
        if (q != null) {
            boolean wasOwner = q.peekFirst() == s;
            q.remove(s);
            if (wasOwner && !q.isEmpty()) q.peekFirst().notify("locked", F.arrayNode().add(name));
            if (q.isEmpty()) locks.remove(name);
        }
        return F.objectNode();
    }

    boolean owns(Session s, String lock) {
        Deque<Session> q = locks.get(lock);
        return q != null && q.peekFirst() == s;
    }

    /** Runs what is queued (a pending flush included), then stops the database thread. */
    @Override
    public void close() {
        loopGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /** All live sessions' count (diagnostics). */
    public CompletableFuture<Integer> sessionCount() {
        return CompletableFuture.supplyAsync(sessions::size, loop);
    }

}
