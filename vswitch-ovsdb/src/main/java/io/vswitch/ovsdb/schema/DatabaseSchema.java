package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/** An RFC 7047 database schema, parsed, with its JSON as served by {@code get_schema}. */
public record DatabaseSchema(String name, String version, Map<String, TableSchema> tables, ObjectNode json) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static DatabaseSchema parse(JsonNode n) throws OvsdbException {
        if (!n.isObject() || !n.has("name") || !n.has("tables")) throw OvsdbException.syntax("a schema needs \"name\" and \"tables\"");
        Map<String, TableSchema> tables = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = n.get("tables").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            tables.put(e.getKey(), TableSchema.parse(e.getKey(), e.getValue()));
        }
        for (TableSchema t : tables.values()) {
            for (ColumnSchema c : t.columns().values()) {
                for (BaseType b : new BaseType[] {c.type().key(), c.type().value()}) {
                    if (b != null && b.refTable() != null && !tables.containsKey(b.refTable())) {
                        throw OvsdbException.syntax("column " + t.name() + "." + c.name() + " refers to unknown table " + b.refTable());
                    }
                }
            }
        }
        ObjectNode json = n.deepCopy();
        if (!json.has("cksum")) {
            byte[] bytes = n.toString().getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(bytes);
            json.put("cksum", crc.getValue() + " " + bytes.length);
        }
        return new DatabaseSchema(n.get("name").asText(), n.path("version").asText(""), tables, json);
    }

    /** Loads a schema shipped as a class-path resource. */
    public static DatabaseSchema resource(String path) {
        try (InputStream in = DatabaseSchema.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("schema resource " + path + " is missing");
            return parse(JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException | OvsdbException e) {
            throw new IllegalStateException("schema resource " + path + ": " + e.getMessage(), e);
        }
    }

    public TableSchema table(String table) throws OvsdbException {
        TableSchema t = tables.get(table);
        if (t == null) throw OvsdbException.syntax("No table named " + table + ".");
        return t;
    }
}
