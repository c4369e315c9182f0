package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;

/**
 * An RFC 7047 &lt;type&gt;: a key base type, an optional value base type (a map), and how many
 * elements a value has ({@code min} 0 or 1, {@code max} >= 1 or unlimited).
 */
public record ColumnType(BaseType key, BaseType value, int min, long max) {
    public static final long UNLIMITED = Long.MAX_VALUE;

    public static ColumnType parse(JsonNode n) throws OvsdbException {
        if (n.isTextual()) return new ColumnType(BaseType.of(AtomicType.parse(n.asText())), null, 1, 1);
        if (!n.isObject() || !n.has("key")) throw OvsdbException.syntax("column type must be a string or an object with \"key\": " + n);
        BaseType key = BaseType.parse(n.get("key"));
        BaseType value = n.has("value") ? BaseType.parse(n.get("value")) : null;
        int min = n.has("min") ? n.get("min").asInt() : 1;
        long max = 1;
        if (n.has("max")) max = "unlimited".equals(n.get("max").asText()) ? UNLIMITED : n.get("max").asLong();
        if (min < 0 || min > 1 || max < 1 || max < min) throw OvsdbException.syntax("bad min/max in column type " + n);
        return new ColumnType(key, value, min, max);
    }

    public boolean isMap() {
        return value != null;
    }

    /** A single value with exactly one element: written as a bare atom, never as a set. */
    public boolean isScalar() {
        return min == 1 && max == 1 && value == null;
    }

    public boolean isOptionalScalar() {
        return min == 0 && max == 1 && value == null;
    }
}
