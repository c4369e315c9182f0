package io.vswitch.ovsdb.db;

import io.vswitch.ovsdb.data.Uuids;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.ColumnType;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Executes one RFC 7047 {@code transact} against a {@link Database} (§5.2): all ten operations, then
 * the commit-time rules — weak references to deleted rows are dropped, unreferenced rows of non-root
 * tables are garbage-collected, strong references must resolve, every value must fit its column's
 * type, {@code maxRows} and unique indexes must hold. Nothing touches the database until all of that
 * passed; the result is a {@link ChangeSet} to apply, or the error objects to return.
 *
 * <p>Works on a copy-on-write overlay: {@code changed} maps a row to its new version, or to null when
 * deleted; reads fall through to the committed rows.
 */
public final class Transaction {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Thrown by a {@code wait} whose condition does not hold yet but whose timeout has not expired. */
    public static final class WouldBlock extends Exception {
        public final long timeoutMs;

        WouldBlock(long timeoutMs) {
            super(null, null, false, false);
            this.timeoutMs = timeoutMs;
        }
    }

    /** Lets {@code assert} ask whether the requesting session owns a lock. */
    public interface LockOwner {
        boolean owns(String lock);
    }

    /** The outcome: the JSON result array, and the changes if it committed with some. */
    public record Result(ArrayNode results, ChangeSet changes, boolean durable) {}

    private final Database db;
    private final Map<String, Map<UUID, Row>> changed = new LinkedHashMap<>();
    private final Map<String, UUID> symbols = new HashMap<>();
    private final Set<UUID> inserted = new HashSet<>();
    private final LockOwner locks;
    private final long waitedMs;
    private String comment;
    private boolean durable;

    /**
     * @param waitedMs how long this transaction has already been waiting (for {@code wait} timeouts)
     */
    public Transaction(Database db, LockOwner locks, long waitedMs) {
        this.db = db;
        this.locks = locks;
        this.waitedMs = waitedMs;
    }

    /** Runs the operations (params after the database name). */
    public Result execute(JsonNode operations) throws WouldBlock {
        ArrayNode results = F.arrayNode();
        int n = operations.size();
        if (!operations.isArray()) {
            results.add(OvsdbException.syntax("transact operations must be an array").toJson());
            return new Result(results, null, false);
        }
        // uuid-names may be referred to before their insert, so all are assigned first; a bad one is
        // reported at its own operation, after the ones before it ran (as ovsdb-server reports it).
        int badAt = n;
        OvsdbException bad = null;
        try {
            declareSymbols(operations);
        } catch (SymbolError e) {
            badAt = e.index;
            bad = e.error;
        }
        for (int i = 0; i < n; i++) {
            try {
                if (i == badAt) throw bad;
                results.add(operation(operations.get(i)));
            } catch (OvsdbException e) {
                results.add(e.toJson());
                for (int j = i + 1; j < n; j++) results.addNull();
                return new Result(results, null, false);
            }
        }
        try {
            ChangeSet changes = commit();
            return new Result(results, changes, durable);
        } catch (OvsdbException e) {
            results.add(e.toJson());               // a commit failure is one extra element (RFC 7047 §4.1.3)
            return new Result(results, null, false);
        }
    }

    /** A bad uuid-name (or a non-object operation) found while declaring symbols, and where. */
    private static final class SymbolError extends Exception {
        final int index;
        final OvsdbException error;

        SymbolError(int index, OvsdbException error) {
            super(null, null, false, false);
            this.index = index;
            this.error = error;
        }
    }

    /** Assigns every insert's uuid-name its UUID before any operation runs (as ovsdb-server does). */
    private void declareSymbols(JsonNode operations) throws SymbolError {
        for (int i = 0; i < operations.size(); i++) {
            JsonNode op = operations.get(i);
            if (!op.isObject()) throw new SymbolError(i, OvsdbException.syntax("an operation must be an object: " + op));
            if (!"insert".equals(op.path("op").asText()) || !op.has("uuid-name")) continue;
            String name = op.get("uuid-name").asText();
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new SymbolError(i, OvsdbException.syntax("bad uuid-name \"" + name + "\""));
            if (symbols.containsKey(name)) {
                throw new SymbolError(i, new OvsdbException("duplicate uuid-name", "This \"uuid-name\" appeared on an earlier \"insert\" operation."));
            }
            UUID u = Uuids.random();
            if (op.has("uuid")) {
                try {
                    u = UUID.fromString(op.get("uuid").asText());
                } catch (IllegalArgumentException e) {
                    throw new SymbolError(i, OvsdbException.syntax("\"uuid\" is not a UUID: " + op.get("uuid")));
                }
            }
            symbols.put(name, u);
        }
    }

    private JsonNode operation(JsonNode op) throws OvsdbException, WouldBlock {
        String kind = op.path("op").asText("");
        return switch (kind) {
            case "insert" -> insert(op);
            case "select" -> select(op);
            case "update" -> update(op);
            case "mutate" -> mutate(op);
            case "delete" -> delete(op);
            case "wait" -> waitOp(op);
            case "commit" -> {
                durable = op.path("durable").asBoolean(false);
                yield F.objectNode();
            }
            case "abort" -> throw new OvsdbException("aborted", "aborted by request");
            case "comment" -> {
                comment = comment == null ? op.path("comment").asText() : comment + "\n" + op.path("comment").asText();
                yield F.objectNode();
            }
            case "assert" -> {
                String lock = op.path("lock").asText();
                if (!locks.owns(lock)) throw new OvsdbException("not owner", "lock \"" + lock + "\" is not owned by this session");
                yield F.objectNode();
            }
            default -> throw OvsdbException.syntax("unknown operation \"" + kind + "\"");
        };
    }

    // ---- reading the working state ----

    private Row row(String table, UUID uuid) {
        Map<UUID, Row> t = changed.get(table);
        if (t != null && t.containsKey(uuid)) return t.get(uuid);
        return db.rows(table).get(uuid);
    }

    /** All live rows of a table in the working state. */
    private List<Row> rows(String table) {
        List<Row> out = new ArrayList<>();
        Map<UUID, Row> t = changed.getOrDefault(table, Map.of());
        for (Row r : db.rows(table).values()) if (!t.containsKey(r.uuid())) out.add(r);
        for (Row r : t.values()) if (r != null) out.add(r);
        return out;
    }

    private void put(String table, UUID uuid, Row row) {
        changed.computeIfAbsent(table, k -> new LinkedHashMap<>()).put(uuid, row);
    }

    private TableSchema table(JsonNode op) throws OvsdbException {
        if (!op.has("table")) throw OvsdbException.syntax("operation \"" + op.path("op").asText() + "\" needs a \"table\"");
        return db.schema().table(op.get("table").asText());
    }

    private List<Row> matching(TableSchema t, JsonNode op) throws OvsdbException {
        JsonNode where = op.get("where");
        if (where == null || !where.isArray()) throw OvsdbException.syntax("operation \"" + op.path("op").asText() + "\" needs a \"where\" array");
        Predicate<Row> p = Conditions.parse(t, where, symbols);
        UUID byUuid = Conditions.uuidEquality(where, symbols);
        if (byUuid != null) {                           // the common case (ovs-vsctl): one row by _uuid
            Row r = row(t.name(), byUuid);
            return r != null && p.test(r) ? List.of(r) : List.of();
        }
        List<Row> out = new ArrayList<>();
        for (Row r : rows(t.name())) if (p.test(r)) out.add(r);
        return out;
    }

    // ---- the operations ----

    private JsonNode insert(JsonNode op) throws OvsdbException {
        TableSchema t = table(op);
        UUID uuid = op.has("uuid-name") ? symbols.get(op.get("uuid-name").asText()) : null;
        if (uuid == null && op.has("uuid")) {
            try {
                uuid = UUID.fromString(op.get("uuid").asText());
            } catch (IllegalArgumentException e) {
                throw OvsdbException.syntax("\"uuid\" is not a UUID: " + op.get("uuid"));
            }
        }
        if (uuid == null) uuid = Uuids.random();
        if (row(t.name(), uuid) != null) throw new OvsdbException("duplicate uuid", "row " + uuid + " already exists in table " + t.name());
        Map<String, Datum> cols = new LinkedHashMap<>();
        for (ColumnSchema c : t.columns().values()) cols.put(c.name(), Datum.defaultValue(c.type()));
        JsonNode values = op.path("row");
        if (!values.isMissingNode() && !values.isObject()) throw OvsdbException.syntax("\"row\" must be an object");
        var it = values.fields();
        while (it.hasNext()) {
            var e = it.next();
            ColumnSchema c = t.column(e.getKey());
            cols.put(c.name(), Datum.parse(c.type(), e.getValue(), symbols));
        }
        put(t.name(), uuid, new Row(uuid, Uuids.random(), cols));
        inserted.add(uuid);
        return F.objectNode().set("uuid", F.arrayNode().add("uuid").add(uuid.toString()));
    }

    private JsonNode select(JsonNode op) throws OvsdbException {
        TableSchema t = table(op);
        List<String> columns = columnList(t, op.get("columns"));
        ArrayNode out = F.arrayNode();
        for (Row r : matching(t, op)) out.add(project(t, r, columns));
        return F.objectNode().set("rows", out);
    }

    /** The requested columns (null: all, plus _uuid and _version). */
    private static List<String> columnList(TableSchema t, JsonNode columns) throws OvsdbException {
        if (columns == null) return null;
        if (!columns.isArray()) throw OvsdbException.syntax("\"columns\" must be an array");
        List<String> out = new ArrayList<>();
        for (JsonNode c : columns) {
            String name = c.asText();
            if (!name.equals("_uuid") && !name.equals("_version")) t.column(name);
            out.add(name);
        }
        return out;
    }

    private static ObjectNode project(TableSchema t, Row r, List<String> columns) {
        ObjectNode o = F.objectNode();
        if (columns == null || columns.contains("_uuid")) o.set("_uuid", F.arrayNode().add("uuid").add(r.uuid().toString()));
        if (columns == null || columns.contains("_version")) o.set("_version", F.arrayNode().add("uuid").add(r.version().toString()));
        for (ColumnSchema c : t.columns().values()) {
            if (columns == null || columns.contains(c.name())) o.set(c.name(), r.get(c.name()).toJson(c.type()));
        }
        return o;
    }

    private JsonNode update(JsonNode op) throws OvsdbException {
        TableSchema t = table(op);
        JsonNode values = op.get("row");
        if (values == null || !values.isObject()) throw OvsdbException.syntax("update needs a \"row\" object");
        Map<String, Datum> set = new LinkedHashMap<>();
        var it = values.fields();
        while (it.hasNext()) {
            var e = it.next();
            ColumnSchema c = t.column(e.getKey());
            set.put(c.name(), Datum.parse(c.type(), e.getValue(), symbols));
        }
        List<Row> rows = matching(t, op);
        for (Row r : rows) {
            Map<String, Datum> cols = new LinkedHashMap<>(r.columns());
            for (Map.Entry<String, Datum> e : set.entrySet()) {
                if (!t.columns().get(e.getKey()).mutable() && !inserted.contains(r.uuid()) && !e.getValue().equals(r.get(e.getKey()))) {
                    throw OvsdbException.constraint("Cannot update immutable column " + e.getKey() + " in table " + t.name() + ".");
                }
                cols.put(e.getKey(), e.getValue());
            }
            put(t.name(), r.uuid(), new Row(r.uuid(), r.version(), cols));
        }
        return F.objectNode().put("count", rows.size());
    }

    private JsonNode mutate(JsonNode op) throws OvsdbException {
        TableSchema t = table(op);
        JsonNode mutations = op.get("mutations");
        if (mutations == null || !mutations.isArray()) throw OvsdbException.syntax("mutate needs a \"mutations\" array");
        List<Row> rows = matching(t, op);
        for (Row r : rows) {
            Row next = r;
            for (JsonNode m : mutations) next = Mutations.apply(t, next, m, symbols, inserted.contains(r.uuid()));
            put(t.name(), r.uuid(), next);
        }
        return F.objectNode().put("count", rows.size());
    }

    private JsonNode delete(JsonNode op) throws OvsdbException {
        TableSchema t = table(op);
        List<Row> rows = matching(t, op);
        for (Row r : rows) put(t.name(), r.uuid(), null);
        return F.objectNode().put("count", rows.size());
    }

    private JsonNode waitOp(JsonNode op) throws OvsdbException, WouldBlock {
        TableSchema t = table(op);
        List<String> columns = columnList(t, op.get("columns"));
        if (columns == null) columns = new ArrayList<>(t.columns().keySet());
        String until = op.path("until").asText("");
        if (!until.equals("==") && !until.equals("!=")) throw OvsdbException.syntax("wait \"until\" must be \"==\" or \"!=\"");
        JsonNode expected = op.get("rows");
        if (expected == null || !expected.isArray()) throw OvsdbException.syntax("wait needs a \"rows\" array");
        Set<Map<String, Datum>> want = new HashSet<>();
        for (JsonNode er : expected) {
            Map<String, Datum> m = new HashMap<>();
            var it = er.fields();
            while (it.hasNext()) {
                var e = it.next();
                ColumnSchema c = t.column(e.getKey());
                m.put(c.name(), Datum.parse(c.type(), e.getValue(), symbols));
            }
            want.add(m);
        }
        Set<Map<String, Datum>> have = new HashSet<>();
        for (Row r : matching(t, op)) {
            Map<String, Datum> m = new HashMap<>();
            for (String c : columns) if (r.columns().containsKey(c)) m.put(c, r.get(c));
            have.add(m);
        }
        boolean equal = want.equals(have);
        if (equal == until.equals("==")) return F.objectNode();
        long timeout = op.has("timeout") ? op.get("timeout").asLong() : Long.MAX_VALUE;
        if (waitedMs >= timeout) throw new OvsdbException("timed out", "\"wait\" timed out");
        throw new WouldBlock(timeout);
    }

    // ---- commit ----

    private ChangeSet commit() throws OvsdbException {
        collectGarbage();
        checkReferences();
        UUID txnId = Uuids.random();
        Map<String, Map<UUID, ChangeSet.Change>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<UUID, Row>> e : changed.entrySet()) {
            TableSchema t = db.schema().tables().get(e.getKey());
            Map<UUID, ChangeSet.Change> rows = new LinkedHashMap<>();
            for (Map.Entry<UUID, Row> re : e.getValue().entrySet()) {
                Row old = db.rows(t.name()).get(re.getKey());
                Row now = re.getValue();
                if (old == null && now == null) continue;                      // inserted and deleted again
                if (old != null && now != null && old.columns().equals(now.columns())) continue;
                if (now != null) {
                    for (ColumnSchema c : t.columns().values()) {
                        now.get(c.name()).check(c.type(), t.name() + " column " + c.name());
                    }
                    now = new Row(now.uuid(), Uuids.random(), now.columns());
                }
                rows.put(re.getKey(), new ChangeSet.Change(old, now));
            }
            if (rows.isEmpty()) continue;
            out.put(t.name(), rows);
            checkTableLimits(t);
        }
        return new ChangeSet(txnId, out, comment);
    }

    /** A row's identity across tables. */
    private record RowId(String table, UUID uuid) {}

    /** Calls {@code action} with every strong (or weak) reference a row holds. */
    private void forEachRef(TableSchema t, Row r, boolean strong, java.util.function.BiConsumer<String, UUID> action) {
        for (ColumnSchema c : t.columns().values()) {
            ColumnType ct = c.type();
            for (var b : new io.vswitch.ovsdb.schema.BaseType[] {ct.key(), ct.value()}) {
                if (b != null && b.refTable() != null && b.weakRef() != strong) r.get(c.name()).forEachRef(ct, b.refTable(), u -> action.accept(b.refTable(), u));
            }
        }
    }

    /** Which of {@code targets} some live row refers to strongly: one scan of the tables that can refer to them. */
    private Set<RowId> referencedStrongly(Set<RowId> targets) {
        Set<String> targetTables = new HashSet<>();
        for (RowId id : targets) targetTables.add(id.table());
        Set<RowId> found = new HashSet<>();
        for (TableSchema s : db.schema().tables().values()) {
            List<ColumnSchema> refs = new ArrayList<>();
            for (ColumnSchema c : s.columns().values()) {
                ColumnType ct = c.type();
                if ((ct.key().isStrongRef() && targetTables.contains(ct.key().refTable()))
                        || (ct.value() != null && ct.value().isStrongRef() && targetTables.contains(ct.value().refTable()))) refs.add(c);
            }
            if (refs.isEmpty()) continue;
            for (Row r : rows(s.name())) {
                forEachRef(s, r, true, (tt, u) -> {
                    RowId id = new RowId(tt, u);
                    if (targets.contains(id)) found.add(id);
                });
            }
        }
        return found;
    }

    /**
     * Garbage collection, incrementally (as OVS counts references): the only rows that can have become
     * unreferenced are rows inserted by this transaction and rows the old version of a changed row
     * referred to strongly. Each candidate in a non-root table that nothing refers to strongly is
     * deleted, which makes the rows it referred to candidates in turn. Then weak references to the
     * deleted rows are dropped.
     */
    private void collectGarbage() {
        java.util.ArrayDeque<RowId> candidates = new java.util.ArrayDeque<>();
        for (Map.Entry<String, Map<UUID, Row>> e : changed.entrySet()) {
            TableSchema t = db.schema().tables().get(e.getKey());
            for (Map.Entry<UUID, Row> re : e.getValue().entrySet()) {
                Row old = db.rows(t.name()).get(re.getKey());
                Row now = re.getValue();
                if (old == null && now != null) candidates.add(new RowId(t.name(), re.getKey()));
                if (old != null) {
                    Set<RowId> still = new HashSet<>();
                    if (now != null) forEachRef(t, now, true, (tt, u) -> still.add(new RowId(tt, u)));
                    forEachRef(t, old, true, (tt, u) -> {
                        RowId id = new RowId(tt, u);
                        if (!still.contains(id)) candidates.add(id);
                    });
                }
            }
        }
        // A candidate that survives a round (still referenced) is checked again if its referrer is
        // deleted later: each round deletes at least one row or ends, so this terminates.
        while (!candidates.isEmpty()) {                    // one scan per round, not per candidate
            Set<RowId> round = new HashSet<>();
            for (RowId id : candidates) {
                if (!db.isRoot(id.table()) && row(id.table(), id.uuid()) != null) round.add(id);
            }
            candidates.clear();
            if (round.isEmpty()) break;
            Set<RowId> referenced = referencedStrongly(round);
            for (RowId id : round) {
                if (referenced.contains(id)) continue;
                Row r = row(id.table(), id.uuid());
                put(id.table(), id.uuid(), null);
                forEachRef(db.schema().tables().get(id.table()), r, true, (tt, u) -> candidates.add(new RowId(tt, u)));
            }
        }
        pruneWeakRefs();
    }

    /**
     * Drops weak references to rows that do not exist: in the rows this transaction changed, and — if it
     * deleted rows — in every row of the tables that can refer to them.
     */
    private void pruneWeakRefs() {
        for (Map.Entry<String, Map<UUID, Row>> e : new ArrayList<>(changed.entrySet())) {
            TableSchema t = db.schema().tables().get(e.getKey());
            for (Row r : new ArrayList<>(e.getValue().values())) {
                if (r == null) continue;
                Row pruned = pruneWeakRefs(t, r);
                if (pruned != r) put(t.name(), r.uuid(), pruned);
            }
        }
        Set<String> tablesWithDeletes = new HashSet<>();
        changed.forEach((table, rows) -> {
            if (rows.containsValue(null)) tablesWithDeletes.add(table);
        });
        if (tablesWithDeletes.isEmpty()) return;
        for (TableSchema t : db.schema().tables().values()) {
            boolean relevant = t.columns().values().stream().anyMatch(c -> weakTo(c.type(), tablesWithDeletes));
            if (!relevant) continue;
            for (Row r : rows(t.name())) {
                Row pruned = pruneWeakRefs(t, r);
                if (pruned != r) put(t.name(), r.uuid(), pruned);
            }
        }
    }

    private static boolean weakTo(ColumnType ct, Set<String> tables) {
        return (ct.key().refTable() != null && ct.key().weakRef() && tables.contains(ct.key().refTable()))
                || (ct.value() != null && ct.value().refTable() != null && ct.value().weakRef() && tables.contains(ct.value().refTable()));
    }

    private Row pruneWeakRefs(TableSchema t, Row r) {
        Row out = r;
        for (ColumnSchema c : t.columns().values()) {
            ColumnType ct = c.type();
            boolean weakKey = ct.key().type() == AtomicType.UUID_ && ct.key().refTable() != null && ct.key().weakRef();
            boolean weakValue = ct.value() != null && ct.value().type() == AtomicType.UUID_ && ct.value().refTable() != null && ct.value().weakRef();
            if (!weakKey && !weakValue) continue;
            Datum d = out.get(c.name());
            Map<Object, Object> kept = new LinkedHashMap<>();
            boolean dropped = false;
            for (Object[] kv : d.entries()) {
                boolean dead = (weakKey && row(ct.key().refTable(), (UUID) kv[0]) == null)
                        || (weakValue && row(ct.value().refTable(), (UUID) kv[1]) == null);
                if (dead) dropped = true; else kept.put(kv[0], kv[1]);
            }
            if (dropped) out = out.with(c.name(), Datum.of(ct, kept));
        }
        return out;
    }

    /**
     * Strong references must resolve: every changed row's references must point at live rows, and no
     * live row may still refer to a row this transaction deleted.
     */
    private void checkReferences() throws OvsdbException {
        Set<RowId> deleted = new HashSet<>();
        changed.forEach((table, rows) -> rows.forEach((uuid, r) -> {
            if (r == null && db.rows(table).containsKey(uuid)) deleted.add(new RowId(table, uuid));
        }));
        if (!deleted.isEmpty()) {
            Set<RowId> still = referencedStrongly(deleted);
            if (!still.isEmpty()) {
                RowId id = still.iterator().next();
                throw new OvsdbException("referential integrity violation", "cannot delete " + id.table() + " row "
                        + id.uuid() + " because of remaining strong reference(s)");
            }
        }
        for (Map.Entry<String, Map<UUID, Row>> e : changed.entrySet()) {
            TableSchema t = db.schema().tables().get(e.getKey());
            for (Map.Entry<UUID, Row> re : e.getValue().entrySet()) {
                Row now = re.getValue();
                if (now == null) continue;
                List<RowId> missing = new ArrayList<>();
                forEachRef(t, now, true, (tt, u) -> {
                    if (row(tt, u) == null) missing.add(new RowId(tt, u));
                });
                if (!missing.isEmpty()) {
                    throw new OvsdbException("referential integrity violation", "Table " + t.name() + " row " + now.uuid()
                            + " references nonexistent row " + missing.get(0).uuid() + " in table " + missing.get(0).table() + ".");
                }
            }
        }
    }

    private void checkTableLimits(TableSchema t) throws OvsdbException {
        List<Row> all = rows(t.name());
        if (all.size() > t.maxRows()) {
            throw OvsdbException.constraint("transaction causes \"" + t.name() + "\" table to contain " + all.size()
                    + " rows, greater than the schema-defined limit of " + t.maxRows() + " row(s)");
        }
        for (List<String> index : t.indexes()) {
            Map<List<Datum>, UUID> seen = new HashMap<>();
            for (Row r : all) {
                List<Datum> key = new ArrayList<>();
                for (String c : index) key.add(r.get(c));
                UUID other = seen.putIfAbsent(key, r.uuid());
                if (other != null) {
                    throw OvsdbException.constraint("Transaction causes multiple rows in \"" + t.name() + "\" table to have identical values ("
                            + key.stream().map(Datum::toString).reduce((a, b) -> a + ", " + b).orElse("") + ") for index on column"
                            + (index.size() > 1 ? "s " : " ") + String.join(", ", index) + ".  Rows " + other + " and " + r.uuid() + ".");
                }
            }
        }
    }
}
