package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.client.OvsdbClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Turns the snapshot's edits into one "transact" and, unless --no-wait, waits for ovs-vswitchd to apply it. */
final class Transaction {
    private static final String DB = Snapshot.DB;
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final OvsdbClient client;
    private final Snapshot db;

    Transaction(OvsdbClient client, Snapshot db) {
        this.client = client;
        this.db = db;
    }

    /** Sends the transaction; returns next_cfg to wait for, or -1. */
    long commit(List<Command> cmds, boolean wait) throws VsctlException, IOException, OvsdbClient.TimeoutException {
        ArrayNode params = F.arrayNode().add(DB);
        addInserts(params);
        addUpdates(params);
        addDeletes(params);
        if (params.size() == 1) return -1;
        if (wait) addNextCfgBump(params);
        ObjectNode comment = params.addObject();
        comment.put("op", "comment");
        comment.put("comment", "vsctl: " + String.join(" ", cmds.stream().map(x -> x.name()).toList()));
        JsonNode res = client.call("transact", params);
        for (int k = 0; k < res.size(); k++) {
            JsonNode r = res.get(k);
            if (r != null && r.has("error")) throw new VsctlException("transaction error: " + r);
        }
        // "create" prints the UUIDs the server assigned; inserts come first, in insertion order.
        List<UUID> ins = new ArrayList<>(db.inserted);
        for (Command cmd : cmds) {
            for (UUID u : cmd.created()) {
                int idx = ins.indexOf(u);
                cmd.out().append(res.get(idx).get("uuid").get(1).asText()).append('\n');
            }
        }
        if (!wait) return -1;
        JsonNode sel = res.get(params.size() - 3);
        return sel.get("rows").get(0).get("next_cfg").asLong();
    }

    /** Default-valued columns are left out, as the IDL does. */
    private void addInserts(ArrayNode params) {
        for (UUID u : db.inserted) {
            String t = db.tableOf.get(u);
            ObjectNode op = params.addObject();
            op.put("op", "insert");
            op.put("table", t);
            ObjectNode row = op.putObject("row");
            for (var e : db.row(u).entrySet()) {
                ColumnType ct = db.type(t, e.getKey());
                if (e.getValue().equals(Datum.defaultValue(ct))) continue;
                row.set(e.getKey(), db.json(ct, e.getValue()));
            }
            op.put("uuid-name", Snapshot.namedUuid(u));
        }
    }

    private void addUpdates(ArrayNode params) {
        for (var e : db.modified.entrySet()) {
            UUID u = e.getKey();
            String t = db.tableOf.get(u);
            ObjectNode op = params.addObject();
            op.put("op", "update");
            op.put("table", t);
            op.set("where", whereUuid(u));
            ObjectNode row = op.putObject("row");
            for (String col : e.getValue()) row.set(col, db.json(db.type(t, col), db.get(u, col)));
        }
    }

    private void addDeletes(ArrayNode params) {
        for (UUID u : db.deleted) {
            if (!db.table(db.tableOf.get(u)).isRoot()) continue;   // like the IDL: ovsdb-server garbage-collects it
            ObjectNode op = params.addObject();
            op.put("op", "delete");
            op.put("table", db.tableOf.get(u));
            op.set("where", whereUuid(u));
        }
    }

    /** next_cfg += 1, then read it back: ovs-vswitchd sets cur_cfg to it once it has caught up. */
    private void addNextCfgBump(ArrayNode params) {
        ObjectNode mut = params.addObject();
        mut.put("op", "mutate");
        mut.put("table", DB);
        mut.set("where", db.inserted.contains(db.ovsRow) ? F.arrayNode() : whereUuid(db.ovsRow));
        mut.putArray("mutations").addArray().add("next_cfg").add("+=").add(1);
        ObjectNode sel = params.addObject();
        sel.put("op", "select");
        sel.put("table", DB);
        sel.set("where", db.inserted.contains(db.ovsRow) ? F.arrayNode() : whereUuid(db.ovsRow));
        sel.putArray("columns").add("next_cfg");
    }

    private static ArrayNode whereUuid(UUID u) {
        ArrayNode w = F.arrayNode();
        w.addArray().add("_uuid").add("==").add(F.arrayNode().add("uuid").add(u.toString()));
        return w;
    }

    /** Monitors cur_cfg until it reaches nextCfg; the caller's deadline bounds the wait. */
    void waitForCfg(long nextCfg) throws IOException, OvsdbClient.TimeoutException {
        ObjectNode req = F.objectNode();
        req.putObject(DB).putArray("columns").add("cur_cfg");
        JsonNode init = client.call("monitor", F.arrayNode().add(DB).add("vsctl-cur-cfg").add(req));
        if (reached(init, nextCfg)) return;
        while (true) {
            JsonNode n = client.nextNotification();
            if ("update".equals(n.path("method").asText()) && reached(n.path("params").path(1), nextCfg)) return;
        }
    }

    private static boolean reached(JsonNode updates, long nextCfg) {
        for (JsonNode row : updates.path(DB)) {
            JsonNode nw = row.path("new");
            if (nw.has("cur_cfg") && nw.get("cur_cfg").asLong() >= nextCfg) return true;
        }
        return false;
    }
}
