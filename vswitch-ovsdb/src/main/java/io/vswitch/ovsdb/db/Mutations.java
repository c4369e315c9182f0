package io.vswitch.ovsdb.db;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.ColumnType;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * RFC 7047 §5.1 mutations: {@code [column, mutator, value]}. Arithmetic ({@code += -= *= /= %=})
 * applies to every element of an integer or real column; {@code insert} adds set elements or map
 * pairs whose key is new; {@code delete} removes set elements, map pairs (given a map) or map keys
 * (given a set). Size limits are checked at commit, like every other value.
 */
final class Mutations {
    private Mutations() {}

    static Row apply(TableSchema t, Row row, JsonNode m, Map<String, UUID> symbols, boolean insertedHere) throws OvsdbException {
        if (!m.isArray() || m.size() != 3 || !m.get(0).isTextual() || !m.get(1).isTextual()) {
            throw OvsdbException.syntax("a mutation is [column, mutator, value], not " + m);
        }
        ColumnSchema c = t.column(m.get(0).asText());
        if (!c.mutable() && !insertedHere) throw OvsdbException.constraint("Cannot mutate immutable column " + c.name() + " in table " + t.name() + ".");
        ColumnType type = c.type();
        String mutator = m.get(1).asText();
        Datum current = row.get(c.name());
        Datum next = switch (mutator) {
            case "+=", "-=", "*=", "/=", "%=" -> arithmetic(type, current, mutator, m.get(2), c.name());
            case "insert" -> insert(type, current, m.get(2), symbols);
            case "delete" -> delete(type, current, m.get(2), symbols);
            default -> throw OvsdbException.syntax("unknown mutator \"" + mutator + "\"");
        };
        return row.with(c.name(), next);
    }

    private static Datum arithmetic(ColumnType type, Datum current, String op, JsonNode arg, String column) throws OvsdbException {
        AtomicType at = type.key().type();
        if (type.isMap() || (at != AtomicType.INTEGER && at != AtomicType.REAL) || (at == AtomicType.REAL && op.equals("%="))) {
            throw OvsdbException.syntax("mutator \"" + op + "\" does not apply to column " + column);
        }
        Object v = io.vswitch.ovsdb.data.Atoms.parse(at, arg, null);
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Object[] kv : current.entries()) {
            Object r;
            if (at == AtomicType.INTEGER) {
                long a = (Long) kv[0];
                long b = (Long) v;
                try {
                    r = switch (op) {
                        case "+=" -> Math.addExact(a, b);
                        case "-=" -> Math.subtractExact(a, b);
                        case "*=" -> Math.multiplyExact(a, b);
                        case "/=" -> {
                            if (b == 0) throw new OvsdbException("domain error", "division by zero");
                            yield a / b;
                        }
                        default -> {
                            if (b == 0) throw new OvsdbException("domain error", "division by zero");
                            yield a % b;
                        }
                    };
                } catch (ArithmeticException e) {
                    throw new OvsdbException("range error", "result of " + a + " " + op + " " + b + " is out of range");
                }
            } else {
                double a = (Double) kv[0];
                double b = (Double) v;
                double d = switch (op) {
                    case "+=" -> a + b;
                    case "-=" -> a - b;
                    case "*=" -> a * b;
                    default -> a / b;
                };
                if (Double.isNaN(d) || Double.isInfinite(d)) throw new OvsdbException("range error", "result of " + a + " " + op + " " + b + " is not finite");
                r = d;
            }
            out.put(r, null);
        }
        if (out.size() < current.size()) {
            // ([1, 2] *= 0): a set cannot hold both results, and silently keeping one would lose data.
            throw new OvsdbException("constraint violation", "Result of \"" + op + "\" operation contains duplicates.");
        }
        return Datum.of(type, out);
    }

    private static Datum insert(ColumnType type, Datum current, JsonNode arg, Map<String, UUID> symbols) throws OvsdbException {
        Datum add = Datum.parse(new ColumnType(type.key(), type.value(), 0, ColumnType.UNLIMITED), arg, symbols);
        Map<Object, Object> m = current.asMap(type);
        for (Object[] kv : add.entries()) m.putIfAbsent(kv[0], kv[1]);
        return Datum.of(type, m);
    }

    private static Datum delete(ColumnType type, Datum current, JsonNode arg, Map<String, UUID> symbols) throws OvsdbException {
        Map<Object, Object> m = current.asMap(type);
        if (type.isMap() && !(arg.isArray() && arg.size() == 2 && "map".equals(arg.get(0).asText()))) {
            // A set of keys: delete those keys, whatever their values.
            ColumnType keys = new ColumnType(type.key(), null, 0, ColumnType.UNLIMITED);
            for (Object[] kv : Datum.parse(keys, arg, symbols).entries()) m.remove(kv[0]);
        } else {
            Datum del = Datum.parse(new ColumnType(type.key(), type.value(), 0, ColumnType.UNLIMITED), arg, symbols);
            for (Object[] kv : del.entries()) {
                if (m.containsKey(kv[0]) && (!type.isMap() || Objects.equals(m.get(kv[0]), kv[1]))) m.remove(kv[0]);
            }
        }
        return Datum.of(type, m);
    }
}
