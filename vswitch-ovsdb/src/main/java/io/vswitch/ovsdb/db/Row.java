package io.vswitch.ovsdb.db;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** An immutable row: its UUID, its version (a new UUID per change) and a value for every column. */
public record Row(UUID uuid, UUID version, Map<String, Datum> columns) {
    public Datum get(String column) {
        return columns.get(column);
    }

    public Row with(String column, Datum value) {
        Map<String, Datum> m = new LinkedHashMap<>(columns);
        m.put(column, value);
        return new Row(uuid, version, m);
    }

    /** Columns as JSON; with {@code skipDefaults}, columns at their default are left out (as update2 does). */
    public ObjectNode toJson(TableSchema t, Collection<String> only, boolean skipDefaults) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        for (ColumnSchema c : t.columns().values()) {
            if (only != null && !only.contains(c.name())) continue;
            Datum d = columns.get(c.name());
            if (skipDefaults && d.equals(Datum.defaultValue(c.type()))) continue;
            o.set(c.name(), d.toJson(c.type()));
        }
        return o;
    }
}
