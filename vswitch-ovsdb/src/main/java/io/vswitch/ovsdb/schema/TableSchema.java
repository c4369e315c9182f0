package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A table: columns, root-ness (rows not garbage-collected), row limit and unique indexes. */
public record TableSchema(String name, Map<String, ColumnSchema> columns, boolean isRoot, long maxRows, List<List<String>> indexes) {
    public static TableSchema parse(String name, JsonNode n) throws OvsdbException {
        Map<String, ColumnSchema> cols = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = n.path("columns").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith("_")) throw OvsdbException.syntax("column name " + e.getKey() + " is reserved");
            cols.put(e.getKey(), ColumnSchema.parse(e.getKey(), e.getValue()));
        }
        List<List<String>> indexes = new ArrayList<>();
        for (JsonNode idx : n.path("indexes")) {
            List<String> cs = new ArrayList<>();
            for (JsonNode c : idx) {
                if (!cols.containsKey(c.asText())) throw OvsdbException.syntax("index of table " + name + " names unknown column " + c.asText());
                cs.add(c.asText());
            }
            indexes.add(cs);
        }
        return new TableSchema(name, cols, n.path("isRoot").asBoolean(false),
                n.has("maxRows") ? n.get("maxRows").asLong() : Long.MAX_VALUE, indexes);
    }

    /** The column, or a "syntax error" naming the table, as ovsdb-server words it. */
    public ColumnSchema column(String column) throws OvsdbException {
        ColumnSchema c = columns.get(column);
        if (c == null) throw OvsdbException.syntax("Table " + name + " has no column named " + column + ".");
        return c;
    }
}
