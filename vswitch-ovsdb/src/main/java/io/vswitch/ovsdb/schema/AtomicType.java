package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vswitch.ovsdb.OvsdbException;

import java.util.UUID;

/**
 * The five RFC 7047 atomic types and their Java representations: integer = {@link Long},
 * real = {@link Double}, boolean = {@link Boolean}, string = {@link String}, uuid = {@link UUID}.
 */
public enum AtomicType {
    INTEGER("integer"), REAL("real"), BOOLEAN("boolean"), STRING("string"), UUID_("uuid");

    public final String jsonName;

    AtomicType(String jsonName) {
        this.jsonName = jsonName;
    }

    public static AtomicType parse(String name) throws OvsdbException {
        for (AtomicType t : values()) if (t.jsonName.equals(name)) return t;
        throw OvsdbException.syntax("unknown atomic type \"" + name + "\"");
    }

    /** The default atom: 0, 0.0, false, "", or the all-zeros UUID. */
    public Object defaultAtom() {
        return switch (this) {
            case INTEGER -> 0L;
            case REAL -> 0.0;
            case BOOLEAN -> false;
            case STRING -> "";
            case UUID_ -> new UUID(0, 0);
        };
    }

    /** Total order of atoms of this type (sets and maps are kept sorted by it). */
    @SuppressWarnings("unchecked")
    public int compare(Object a, Object b) {
        return ((Comparable<Object>) a).compareTo(b);
    }

    /** An atom as JSON; UUIDs as ["uuid", "..."]. */
    public JsonNode toJson(Object atom) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (this) {
            case INTEGER -> f.numberNode((Long) atom);
            case REAL -> f.numberNode((Double) atom);
            case BOOLEAN -> f.booleanNode((Boolean) atom);
            case STRING -> f.textNode((String) atom);
            case UUID_ -> f.arrayNode().add("uuid").add(atom.toString());
        };
    }
}
