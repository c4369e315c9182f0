package io.vswitch.ovsdb.db;

import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One database's committed contents. Not thread-safe: the server owns it from a single thread and
 * changes it only by {@link #apply}ing a transaction's {@link ChangeSet}.
 */
public final class Database {
    private final DatabaseSchema schema;
    private final Map<String, Map<UUID, Row>> tables = new LinkedHashMap<>();
    private UUID lastTxnId = new UUID(0, 0);

    public Database(DatabaseSchema schema) {
        this.schema = schema;
        for (TableSchema t : schema.tables().values()) tables.put(t.name(), new LinkedHashMap<>());
    }

    public DatabaseSchema schema() {
        return schema;
    }

    public String name() {
        return schema.name();
    }

    /** The rows of a table (read-only view). */
    public Map<UUID, Row> rows(String table) {
        return Collections.unmodifiableMap(tables.get(table));
    }

    public UUID lastTxnId() {
        return lastTxnId;
    }

    /** Whether any table is marked isRoot; if none is, every table is a root (RFC 7047). */
    boolean isRoot(String table) {
        boolean anyRoot = schema.tables().values().stream().anyMatch(TableSchema::isRoot);
        return !anyRoot || schema.tables().get(table).isRoot();
    }

    public void apply(ChangeSet changes) {
        changes.tables().forEach((table, rows) -> {
            Map<UUID, Row> t = tables.get(table);
            rows.forEach((uuid, c) -> {
                if (c.now() == null) t.remove(uuid); else t.put(uuid, c.now());
            });
        });
        lastTxnId = changes.txnId();
    }
}
