package io.vswitch.ovsdb.server;

import io.vswitch.ovsdb.data.Uuids;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.ChangeSet;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The read-only {@code _Server} database: one {@code Database} row per served database, with its
 * schema as a JSON string. ovs-vsctl 3.x reads the Open_vSwitch schema from here before anything else.
 */
final class ServerDatabase {
    static final String NAME = "_Server";

    private final Database database;

    ServerDatabase(DatabaseSchema served) {
        DatabaseSchema schema = DatabaseSchema.resource("/io/vswitch/ovsdb/_server.ovsschema");
        database = new Database(schema);
        TableSchema t = schema.tables().get("Database");
        Map<UUID, ChangeSet.Change> rows = new LinkedHashMap<>();
        for (DatabaseSchema s : new DatabaseSchema[] {served, schema}) {
            Map<String, Datum> cols = new LinkedHashMap<>();
            for (ColumnSchema c : t.columns().values()) cols.put(c.name(), Datum.defaultValue(c.type()));
            cols.put("name", Datum.atom(s.name()));
            cols.put("model", Datum.atom("standalone"));
            cols.put("connected", Datum.atom(true));
            cols.put("leader", Datum.atom(true));
            cols.put("schema", Datum.atom(s.json().toString()));
            UUID uuid = Uuids.random();
            rows.put(uuid, new ChangeSet.Change(null, new Row(uuid, Uuids.random(), cols)));
        }
        Map<String, Map<UUID, ChangeSet.Change>> tables = new LinkedHashMap<>();
        tables.put("Database", rows);
        database.apply(new ChangeSet(new UUID(0, 0), tables, null));
    }

    Database database() {
        return database;
    }
}
