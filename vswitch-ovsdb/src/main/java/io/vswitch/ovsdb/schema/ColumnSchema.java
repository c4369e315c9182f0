package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;

/** A column: its type, and whether it is ephemeral (not logged) and mutable. */
public record ColumnSchema(String name, ColumnType type, boolean ephemeral, boolean mutable) {
    public static ColumnSchema parse(String name, JsonNode n) throws OvsdbException {
        if (!n.has("type")) throw OvsdbException.syntax("column " + name + " has no type");
        return new ColumnSchema(name, ColumnType.parse(n.get("type")),
                n.path("ephemeral").asBoolean(false), n.path("mutable").asBoolean(true));
    }
}
