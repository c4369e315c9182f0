package io.vswitch.ovsdb.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Atoms;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

/**
 * An RFC 7047 &lt;base-type&gt;: an atomic type with optional constraints (enum, integer/real range,
 * string length) and, for uuids, a reference to a table (strong or weak).
 */
public record BaseType(AtomicType type, Set<Object> enumValues, long minInteger, long maxInteger,
                       double minReal, double maxReal, long minLength, long maxLength,
                       String refTable, boolean weakRef) {

    public static BaseType of(AtomicType t) {
        return new BaseType(t, null, Long.MIN_VALUE, Long.MAX_VALUE, -Double.MAX_VALUE, Double.MAX_VALUE, 0, Long.MAX_VALUE, null, false);
    }

    public static BaseType parse(JsonNode n) throws OvsdbException {
        if (n.isTextual()) return of(AtomicType.parse(n.asText()));
        if (!n.isObject() || !n.has("type")) throw OvsdbException.syntax("base type must be a string or an object with \"type\": " + n);
        AtomicType t = AtomicType.parse(n.get("type").asText());
        Set<Object> enums = null;
        if (n.has("enum")) {
            enums = new TreeSet<>(t::compare);
            JsonNode e = n.get("enum");
            if (e.isArray() && e.size() == 2 && "set".equals(e.get(0).asText()) && e.get(1).isArray()) {
                for (JsonNode a : e.get(1)) enums.add(Atoms.parse(t, a, null));
            } else {
                enums.add(Atoms.parse(t, e, null));
            }
        }
        String ref = n.has("refTable") ? n.get("refTable").asText() : null;
        boolean weak = n.has("refType") && "weak".equals(n.get("refType").asText());
        if (n.has("refType") && !weak && !"strong".equals(n.get("refType").asText())) {
            throw OvsdbException.syntax("refType must be \"strong\" or \"weak\"");
        }
        return new BaseType(t, enums,
                n.has("minInteger") ? n.get("minInteger").asLong() : Long.MIN_VALUE,
                n.has("maxInteger") ? n.get("maxInteger").asLong() : Long.MAX_VALUE,
                n.has("minReal") ? n.get("minReal").asDouble() : -Double.MAX_VALUE,
                n.has("maxReal") ? n.get("maxReal").asDouble() : Double.MAX_VALUE,
                n.has("minLength") ? n.get("minLength").asLong() : 0,
                n.has("maxLength") ? n.get("maxLength").asLong() : Long.MAX_VALUE,
                ref, weak);
    }

    public boolean isStrongRef() {
        return refTable != null && !weakRef;
    }

    /** Checks one atom against this type's constraints. */
    public void check(Object atom) throws OvsdbException {
        if (enumValues != null && !enumValues.contains(atom)) {
            throw OvsdbException.constraint(Atoms.format(atom) + " is not one of the allowed values (" + enumValues.stream()
                    .map(Atoms::format).reduce((a, b) -> a + ", " + b).orElse("") + ")");
        }
        switch (type) {
            case INTEGER -> {
                long v = (Long) atom;
                if (v < minInteger || v > maxInteger) {
                    throw OvsdbException.constraint(v + " is not in the valid range " + minInteger + " to " + maxInteger + " (inclusive)");
                }
            }
            case REAL -> {
                double v = (Double) atom;
                if (v < minReal || v > maxReal) throw OvsdbException.constraint(v + " is not in the valid range " + minReal + " to " + maxReal);
            }
            case STRING -> {
                long len = ((String) atom).getBytes(StandardCharsets.UTF_8).length;
                if (len < minLength || len > maxLength) {
                    throw OvsdbException.constraint("\"" + atom + "\" length " + len + " is not in the valid range " + minLength + " to " + maxLength);
                }
            }
            default -> { }
        }
    }
}
