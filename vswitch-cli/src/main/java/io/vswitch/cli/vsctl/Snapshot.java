package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.client.OvsdbClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.BaseType;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.ColumnType;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The whole database, read once at start; commands edit this copy and the changes they leave
 * (inserted, modified, deleted rows) become the one transaction we send, as ovs-vsctl's IDL does.
 */
final class Snapshot {
    static final String DB = "Open_vSwitch";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    final DatabaseSchema schema;
    final Map<String, LinkedHashMap<UUID, Map<String, Datum>>> rows = new HashMap<>();
    final Set<UUID> inserted = new LinkedHashSet<>();
    final Map<UUID, String> tableOf = new HashMap<>();
    final Set<UUID> deleted = new LinkedHashSet<>();
    final Map<UUID, Set<String>> modified = new LinkedHashMap<>();
    /** "@name" row ids bound by --id, or referred to before the command that binds them, in this invocation. */
    final Map<String, UUID> symbols = new HashMap<>();

    /** Fails if a row id was referred to but no command created (or found) its row. */
    void checkSymbols() throws VsctlException {
        for (Map.Entry<String, UUID> e : symbols.entrySet()) {
            if (!tableOf.containsKey(e.getValue())) {
                throw new VsctlException("row id \"" + e.getKey() + "\" is referenced but never created (e.g. with \"-- --id=" + e.getKey() + " create ...\")");
            }
        }
    }
    /** The Open_vSwitch root row; inserted if the database is empty, like "init". */
    UUID ovsRow;

    private Snapshot(DatabaseSchema schema) {
        this.schema = schema;
    }

    static Snapshot read(OvsdbClient c) throws IOException, OvsdbClient.TimeoutException {
        Snapshot s = new Snapshot(fetchSchema(c));
        s.load(c);
        if (s.ovsRow == null) s.ovsRow = s.insertRow(DB);
        return s;
    }

    private static DatabaseSchema fetchSchema(OvsdbClient c) throws IOException, OvsdbClient.TimeoutException {
        JsonNode s = c.call("get_schema", F.arrayNode().add(DB));
        try {
            return DatabaseSchema.parse(s);
        } catch (OvsdbException e) {
            throw new IOException("bad schema: " + e.getMessage());
        }
    }

    private void load(OvsdbClient c) throws IOException, OvsdbClient.TimeoutException {
        ArrayNode params = F.arrayNode().add(DB);
        List<String> names = new ArrayList<>(schema.tables().keySet());
        for (String t : names) {
            ObjectNode op = params.addObject();
            op.put("op", "select");
            op.put("table", t);
            op.putArray("where");
        }
        JsonNode res = c.call("transact", params);
        for (int k = 0; k < names.size(); k++) {
            String t = names.get(k);
            TableSchema ts = schema.tables().get(t);
            LinkedHashMap<UUID, Map<String, Datum>> m = new LinkedHashMap<>();
            rows.put(t, m);
            for (JsonNode r : res.get(k).path("rows")) {
                UUID u = UUID.fromString(r.get("_uuid").get(1).asText());
                Map<String, Datum> row = new HashMap<>();
                for (ColumnSchema cs : ts.columns().values()) {
                    JsonNode v = r.get(cs.name());
                    try {
                        row.put(cs.name(), v == null ? Datum.defaultValue(cs.type()) : Datum.parse(cs.type(), v, null));
                    } catch (OvsdbException e) {
                        throw new IOException("bad row: " + e.getMessage());
                    }
                }
                m.put(u, row);
                tableOf.put(u, t);
                if (t.equals(DB) && ovsRow == null) ovsRow = u;
            }
        }
    }

    // ---- reading ----

    TableSchema table(String t) {
        return schema.tables().get(t);
    }

    ColumnType type(String t, String col) {
        return table(t).columns().get(col).type();
    }

    /** Like type(), but also knows the implicit _uuid column. */
    ColumnType colType(String t, String col) {
        if (col.equals("_uuid")) return new ColumnType(BaseType.of(AtomicType.UUID_), null, 1, 1);
        return type(t, col);
    }

    Map<String, Datum> row(UUID u) {
        String t = tableOf.get(u);
        return t == null ? null : rows.get(t).get(u);
    }

    Datum get(UUID u, String col) {
        return row(u).get(col);
    }

    /** Like get(), but also knows the implicit _uuid column. */
    Datum readColumn(UUID u, String col) {
        if (col.equals("_uuid")) return Datum.atom(u);
        return get(u, col);
    }

    String str(UUID u, String col) {
        Datum d = get(u, col);
        return d.size() == 0 ? null : (String) d.key(0);
    }

    List<UUID> refs(UUID u, String col) {
        List<UUID> l = new ArrayList<>();
        for (Object o : get(u, col).keys()) l.add((UUID) o);
        return l;
    }

    // ---- editing (recorded for the transaction) ----

    void put(UUID u, String col, Datum d) {
        row(u).put(col, d);
        if (!inserted.contains(u)) modified.computeIfAbsent(u, k -> new LinkedHashSet<>()).add(col);
    }

    void setString(UUID u, String col, String s) {
        put(u, col, Datum.atom(s));
    }

    void addToSet(UUID u, String col, Object atom) {
        ColumnType ct = type(tableOf.get(u), col);
        Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
        m.put(atom, null);
        put(u, col, Datum.of(ct, m));
    }

    void removeFromSet(UUID u, String col, Object atom) {
        ColumnType ct = type(tableOf.get(u), col);
        Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
        m.remove(atom);
        put(u, col, Datum.of(ct, m));
    }

    UUID insertRow(String t) {
        return insertRow(t, UUID.randomUUID());
    }

    /** Inserts a row with a UUID chosen before (a row id referred to before its create command). */
    UUID insertRow(String t, UUID u) {
        Map<String, Datum> row = new HashMap<>();
        for (ColumnSchema cs : table(t).columns().values()) row.put(cs.name(), Datum.defaultValue(cs.type()));
        rows.get(t).put(u, row);
        tableOf.put(u, t);
        inserted.add(u);
        return u;
    }

    void deleteRow(UUID u) {
        String t = tableOf.get(u);
        if (t == null) return;
        rows.get(t).remove(u);
        if (!inserted.remove(u)) deleted.add(u);
        modified.remove(u);
    }

    // ---- OVSDB JSON ----

    /** A datum in OVSDB's wire form; rows not yet inserted are referred to by their uuid-name. */
    JsonNode json(ColumnType t, Datum d) {
        if (t.isMap()) {
            ArrayNode pairs = F.arrayNode();
            for (Object[] e : Values.sortedEntries(t, d)) pairs.addArray().add(atomJson(e[0])).add(atomJson(e[1]));
            return F.arrayNode().add("map").add(pairs);
        }
        List<Object[]> es = Values.sortedEntries(t, d);
        if (es.size() == 1) return atomJson(es.get(0)[0]);
        ArrayNode set = F.arrayNode();
        for (Object[] e : es) set.add(atomJson(e[0]));
        return F.arrayNode().add("set").add(set);
    }

    private JsonNode atomJson(Object a) {
        if (a instanceof UUID u) {
            if (inserted.contains(u)) return F.arrayNode().add("named-uuid").add(namedUuid(u));
            return F.arrayNode().add("uuid").add(u.toString());
        }
        if (a instanceof Long l) return F.numberNode(l);
        if (a instanceof Double d) return F.numberNode(d);
        if (a instanceof Boolean b) return F.booleanNode(b);
        return F.textNode((String) a);
    }

    static String namedUuid(UUID u) {
        return "row" + u.toString().replace('-', '_');
    }
}
