package io.vswitch.ovsdb.db;

import io.vswitch.ovsdb.data.Uuids;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.log.DurableLog;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;
import io.vswitch.ovsdb.server.OvsdbServer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A database kept in a {@link DurableLog}: each committed transaction is one record (written, then
 * made durable by the server's group {@link #sync}),
 * {@code {"txn": ID, "tables": {TABLE: {UUID: ROW | null}}, "comment": ...}} holding, for an inserted
 * row, its non-default non-ephemeral columns; for a modified row, only the columns that changed (their
 * new values); null for a deleted row; a compacted file starts with
 * {@code {"txn": ID, "snapshot": {TABLE: {UUID: ROW}}}}. Opening replays the file into a fresh
 * {@link Database}; the file is compacted when it has grown to four times its last snapshot.
 */
public final class DatabaseFile implements OvsdbServer.Store, AutoCloseable {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final long COMPACT_AFTER_RECORDS = 1000;
    /**
     * Size of the log right after the last compaction (0 until one happened in this process). The log is
     * compacted once it holds more than {@link #COMPACT_AFTER_RECORDS} records and is over four times
     * that size, as ovsdb-server does: writing a snapshot costs in proportion to the database, so a big
     * database is compacted after proportionally more transactions, and small ones still often.
     */
    private long snapshotBytes;

    private final DurableLog log;
    private final Database db;

    private DatabaseFile(DurableLog log, Database db) {
        this.log = log;
        this.db = db;
    }

    /** Opens (or creates) the file and replays it. */
    public static DatabaseFile open(Path file, DatabaseSchema schema) throws IOException {
        Database db = new Database(schema);
        IOException[] failure = new IOException[1];
        DurableLog log = DurableLog.openJson(file, record -> {
            if (failure[0] != null) return;
            try {
                replay(db, record);
            } catch (OvsdbException e) {
                failure[0] = new IOException(file + ": a record does not fit the schema: " + e.getMessage(), e);
            }
        });
        if (failure[0] != null) {
            log.close();
            throw failure[0];
        }
        return new DatabaseFile(log, db);
    }

    public Database database() {
        return db;
    }

    private static void replay(Database db, JsonNode record) throws OvsdbException {
        JsonNode tables = record.has("snapshot") ? record.get("snapshot") : record.path("tables");
        Map<String, Map<UUID, ChangeSet.Change>> changes = new LinkedHashMap<>();
        if (record.has("snapshot")) {                         // a snapshot replaces everything
            for (TableSchema t : db.schema().tables().values()) {
                Map<UUID, ChangeSet.Change> gone = new LinkedHashMap<>();
                for (Row r : db.rows(t.name()).values()) gone.put(r.uuid(), new ChangeSet.Change(r, null));
                if (!gone.isEmpty()) changes.put(t.name(), gone);
            }
        }
        var it = tables.fields();
        while (it.hasNext()) {
            var te = it.next();
            TableSchema t = db.schema().table(te.getKey());
            Map<UUID, ChangeSet.Change> rows = changes.computeIfAbsent(t.name(), k -> new LinkedHashMap<>());
            var rit = te.getValue().fields();
            while (rit.hasNext()) {
                var re = rit.next();
                UUID uuid = UUID.fromString(re.getKey());
                Row old = record.has("snapshot") ? null : db.rows(t.name()).get(uuid);
                Row now = re.getValue().isNull() ? null : old == null ? parseRow(t, uuid, re.getValue()) : merge(t, old, re.getValue());
                rows.put(uuid, new ChangeSet.Change(old, now));
            }
        }
        db.apply(new ChangeSet(UUID.fromString(record.path("txn").asText("00000000-0000-0000-0000-000000000000")), changes, null));
    }

    /** A modification record: the listed columns take their new values, the others keep theirs. */
    private static Row merge(TableSchema t, Row old, JsonNode json) throws OvsdbException {
        Map<String, Datum> cols = new LinkedHashMap<>(old.columns());
        var it = json.fields();
        while (it.hasNext()) {
            var e = it.next();
            ColumnSchema c = t.column(e.getKey());
            cols.put(c.name(), Datum.parse(c.type(), e.getValue(), null));
        }
        return new Row(old.uuid(), Uuids.random(), cols);
    }

    private static Row parseRow(TableSchema t, UUID uuid, JsonNode json) throws OvsdbException {
        Map<String, Datum> cols = new LinkedHashMap<>();
        for (ColumnSchema c : t.columns().values()) {
            JsonNode v = json.get(c.name());
            cols.put(c.name(), v == null ? Datum.defaultValue(c.type()) : Datum.parse(c.type(), v, null));
        }
        return new Row(uuid, Uuids.random(), cols);
    }

    /** A row as logged: non-default columns, ephemeral ones left out (they do not survive restarts). */
    private static ObjectNode rowJson(TableSchema t, Row r) {
        ObjectNode o = F.objectNode();
        for (ColumnSchema c : t.columns().values()) {
            Datum d = r.get(c.name());
            if (c.ephemeral() || d.equals(Datum.defaultValue(c.type()))) continue;
            o.set(c.name(), d.toJson(c.type()));
        }
        return o;
    }

    /** The log record of one committed transaction (see the class comment). */
    public static ObjectNode record(Database db, ChangeSet changes) {
        ObjectNode rec = F.objectNode().put("txn", changes.txnId().toString());
        ObjectNode tables = rec.putObject("tables");
        changes.tables().forEach((name, rows) -> {
            TableSchema t = db.schema().tables().get(name);
            ObjectNode tj = tables.putObject(name);
            rows.forEach((uuid, c) -> {
                if (c.now() == null) tj.putNull(uuid.toString());
                else if (c.old() == null) tj.set(uuid.toString(), rowJson(t, c.now()));
                else tj.set(uuid.toString(), changedColumns(t, c.old(), c.now()));
            });
        });
        if (changes.comment() != null) rec.put("comment", changes.comment());
        return rec;
    }

    /** A modified row as logged: only the columns that changed (ephemeral ones left out), as OVS logs. */
    private static ObjectNode changedColumns(TableSchema t, Row old, Row now) {
        ObjectNode o = F.objectNode();
        for (ColumnSchema c : t.columns().values()) {
            if (c.ephemeral() || old.get(c.name()).equals(now.get(c.name()))) continue;
            o.set(c.name(), now.get(c.name()).toJson(c.type()));
        }
        return o;
    }

    @Override
    public void sync() throws IOException {
        log.sync();
    }

    @Override
    public void write(Database db, ChangeSet changes) throws IOException {
        ObjectNode rec = record(db, changes);
        log.write(rec);
        if (log.records() > COMPACT_AFTER_RECORDS && log.size() > 4 * snapshotBytes) {
            try {
                compactAfter(db, changes);
            } catch (IOException | RuntimeException e) {
                // The transaction is in the log already: a failed compaction must not report it as
                // failed. The log stays as it was (or refuses writes, which the next sync reports).
                System.getLogger(DatabaseFile.class.getName()).log(System.Logger.Level.WARNING,
                        "compacting the database log failed; will retry: " + e.getMessage());
            }
        }
    }

    /** Compacts to a snapshot of the database as it is once {@code changes} are applied. */
    private void compactAfter(Database db, ChangeSet changes) throws IOException {
        ObjectNode rec = F.objectNode().put("txn", changes.txnId().toString());
        ObjectNode snap = rec.putObject("snapshot");
        for (TableSchema t : db.schema().tables().values()) {
            ObjectNode tj = F.objectNode();
            Map<UUID, ChangeSet.Change> delta = changes.tables().getOrDefault(t.name(), Map.of());
            for (Row r : db.rows(t.name()).values()) if (!delta.containsKey(r.uuid())) tj.set(r.uuid().toString(), rowJson(t, r));
            delta.forEach((uuid, c) -> {
                if (c.now() != null) tj.set(uuid.toString(), rowJson(t, c.now()));
            });
            if (!tj.isEmpty()) snap.set(t.name(), tj);
        }
        log.compact(rec);
        snapshotBytes = log.size();
    }

    public long records() {
        return log.records();
    }

    @Override
    public void close() throws IOException {
        log.close();
    }
}
