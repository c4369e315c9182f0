package io.vswitch.ovsdb.data;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.schema.AtomicType;

import java.util.Map;
import java.util.UUID;

/** Parsing and printing single atoms (RFC 7047 &lt;atom&gt;). */
public final class Atoms {
    private Atoms() {}

    /**
     * Parses an atom of type {@code t}. {@code symbols} resolves ["named-uuid", NAME] within a
     * transaction (null where named UUIDs are not allowed).
     */
    public static Object parse(AtomicType t, JsonNode n, Map<String, UUID> symbols) throws OvsdbException {
        switch (t) {
            case INTEGER:
                if (n.isIntegralNumber() && n.canConvertToLong()) return n.asLong();
                break;
            case REAL:
                if (n.isNumber()) return n.asDouble();
                break;
            case BOOLEAN:
                if (n.isBoolean()) return n.asBoolean();
                break;
            case STRING:
                if (n.isTextual()) return n.asText();
                break;
            case UUID_:
                if (n.isArray() && n.size() == 2 && n.get(1).isTextual()) {
                    String kind = n.get(0).asText();
                    if (kind.equals("uuid")) {
                        try {
                            return UUID.fromString(n.get(1).asText());
                        } catch (IllegalArgumentException e) {
                            throw OvsdbException.syntax("\"" + n.get(1).asText() + "\" is not a valid UUID");
                        }
                    }
                    if (kind.equals("named-uuid")) {
                        String name = n.get(1).asText();
                        UUID u = symbols == null ? null : symbols.get(name);
                        if (u == null) throw OvsdbException.syntax("named-uuid \"" + name + "\" is not defined in this transaction");
                        return u;
                    }
                }
                break;
            default:
                break;
        }
        throw OvsdbException.syntax("expected " + t.jsonName + ", got " + abbreviate(n));
    }

    static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** An atom for messages: strings quoted, others as they print. */
    public static String format(Object atom) {
        return atom instanceof String s ? "\"" + s + "\"" : String.valueOf(atom);
    }
}
