package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.ChangeSet;
import io.vswitch.ovsdb.db.Conditions;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * One client's monitor of one database (RFC 7047 §4.1.5 and OVS's monitor_cond extensions): which
 * columns of which tables, which kinds of change, which rows (condition), and the notification
 * format: 1 = {@code update} (old/new), 2 = {@code update2} (initial/insert/delete/modify with diffs),
 * 3 = {@code update3} (update2 plus the transaction id).
 */
final class Monitor {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** What is monitored in one table. Several requests for a table are merged. */
    private static final class TableSpec {
        final TableSchema table;
        final Set<String> columns = new LinkedHashSet<>();
        boolean initial, insert, delete, modify;
        Predicate<Row> condition = r -> true;

        TableSpec(TableSchema table) {
            this.table = table;
        }
    }

    final JsonNode id;
    final Database db;
    final int format;
    private final Map<String, TableSpec> tables = new LinkedHashMap<>();

    Monitor(JsonNode id, Database db, int format, JsonNode requests) throws OvsdbException {
        this.id = id;
        this.db = db;
        this.format = format;
        if (requests == null || !requests.isObject()) throw OvsdbException.syntax("monitor requests must be an object");
        var it = requests.fields();
        while (it.hasNext()) {
            var e = it.next();
            TableSchema t = db.schema().table(e.getKey());
            TableSpec spec = new TableSpec(t);
            JsonNode reqs = e.getValue().isArray() ? e.getValue() : F.arrayNode().add(e.getValue());
            for (JsonNode r : reqs) {
                if (!r.isObject()) throw OvsdbException.syntax("a monitor request must be an object");
                if (r.has("columns")) {
                    for (JsonNode c : r.get("columns")) spec.columns.add(t.column(c.asText()).name());
                } else {
                    spec.columns.addAll(t.columns().keySet());
                }
                JsonNode select = r.path("select");
                spec.initial |= select.path("initial").asBoolean(true);
                spec.insert |= select.path("insert").asBoolean(true);
                spec.delete |= select.path("delete").asBoolean(true);
                spec.modify |= select.path("modify").asBoolean(true);
                if (r.has("where")) {
                    if (format == 1) throw OvsdbException.syntax("\"where\" needs monitor_cond");
                    spec.condition = Conditions.parseMonitorCondition(t, r.get("where"));
                }
            }
            tables.put(t.name(), spec);
        }
    }

    /** The initial contents: update (format 1) or update2 (formats 2, 3) JSON. */
    ObjectNode initial() {
        ObjectNode out = F.objectNode();
        for (TableSpec s : tables.values()) {
            if (!s.initial) continue;
            ObjectNode rows = F.objectNode();
            for (Row r : db.rows(s.table.name()).values()) {
                if (!s.condition.test(r)) continue;
                rows.set(r.uuid().toString(), format == 1
                        ? F.objectNode().set("new", r.toJson(s.table, s.columns, false))
                        : F.objectNode().set("initial", r.toJson(s.table, s.columns, true)));
            }
            if (!rows.isEmpty()) out.set(s.table.name(), rows);
        }
        return out;
    }

    /** The notification payload for a committed change set, or null if this monitor sees nothing of it. */
    ObjectNode updates(ChangeSet changes) {
        ObjectNode out = F.objectNode();
        for (Map.Entry<String, Map<UUID, ChangeSet.Change>> e : changes.tables().entrySet()) {
            TableSpec s = tables.get(e.getKey());
            if (s == null) continue;
            ObjectNode rows = F.objectNode();
            for (Map.Entry<UUID, ChangeSet.Change> re : e.getValue().entrySet()) {
                JsonNode u = rowUpdate(s, re.getValue().old(), re.getValue().now());
                if (u != null) rows.set(re.getKey().toString(), u);
            }
            if (!rows.isEmpty()) out.set(s.table.name(), rows);
        }
        return out.isEmpty() ? null : out;
    }

    /** Parses a new condition for a monitored table (validates; changes nothing). */
    Predicate<Row> parseCondition(String table, JsonNode where) throws OvsdbException {
        TableSpec s = tables.get(table);
        if (s == null) throw OvsdbException.syntax("table " + table + " is not monitored by this monitor");
        return Conditions.parseMonitorCondition(s.table, where);
    }

    /** Installs a parsed condition; returns the rows entering ("insert") or leaving ("delete") it. */
    ObjectNode applyCondition(String table, Predicate<Row> after) {
        TableSpec s = tables.get(table);
        Predicate<Row> before = s.condition;
        s.condition = after;
        ObjectNode rows = F.objectNode();
        for (Row r : db.rows(table).values()) {
            boolean was = before.test(r);
            boolean is = after.test(r);
            if (!was && is) rows.set(r.uuid().toString(), F.objectNode().set("insert", r.toJson(s.table, s.columns, true)));
            if (was && !is) rows.set(r.uuid().toString(), F.objectNode().putNull("delete"));
        }
        return rows;
    }

    private JsonNode rowUpdate(TableSpec s, Row old, Row now) {
        boolean was = old != null && s.condition.test(old);
        boolean is = now != null && s.condition.test(now);
        if (!was && !is) return null;
        if (!was) {
            if (!s.insert) return null;
            return format == 1 ? F.objectNode().set("new", now.toJson(s.table, s.columns, false))
                    : F.objectNode().set("insert", now.toJson(s.table, s.columns, true));
        }
        if (!is) {
            if (!s.delete) return null;
            return format == 1 ? F.objectNode().set("old", old.toJson(s.table, s.columns, false)) : F.objectNode().putNull("delete");
        }
        if (!s.modify) return null;
        List<ColumnSchema> changed = new ArrayList<>();
        for (String c : s.columns) if (!old.get(c).equals(now.get(c))) changed.add(s.table.columns().get(c));
        if (changed.isEmpty()) return null;
        if (format == 1) {
            ObjectNode o = F.objectNode();
            ObjectNode oldCols = F.objectNode();
            for (ColumnSchema c : changed) oldCols.set(c.name(), old.get(c.name()).toJson(c.type()));
            o.set("old", oldCols);
            o.set("new", now.toJson(s.table, s.columns, false));
            return o;
        }
        ObjectNode diff = F.objectNode();
        for (ColumnSchema c : changed) {
            Datum d = old.get(c.name()).diff(c.type(), now.get(c.name()));
            diff.set(c.name(), d.toJson(c.type()));
        }
        return F.objectNode().set("modify", diff);
    }
}
