package io.vswitch.ovsdb.db;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Atoms;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.BaseType;
import io.vswitch.ovsdb.schema.ColumnType;
import io.vswitch.ovsdb.schema.TableSchema;

import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * RFC 7047 §5.1 conditions: {@code [column, function, value]} with functions {@code == != < <= > >=
 * includes excludes}; a where clause is their conjunction. {@code _uuid} and {@code _version} are
 * matchable too. Also used for monitor_cond's per-table conditions (where {@code true}/{@code false}
 * are allowed as constant conditions).
 */
public final class Conditions {
    private Conditions() {}

    private static final ColumnType UUID_COLUMN = new ColumnType(BaseType.of(AtomicType.UUID_), null, 1, 1);

    public static Predicate<Row> parse(TableSchema t, JsonNode where, Map<String, UUID> symbols) throws OvsdbException {
        Predicate<Row> all = r -> true;
        for (JsonNode c : where) all = all.and(one(t, c, symbols));
        return all;
    }

    /**
     * A monitor_cond condition: its clauses are ORed (a row is sent if any clause holds, as OVS's
     * {@code ovsdb_condition_match_any_clause}); {@code true}/{@code false} are constant clauses;
     * an absent or empty condition matches every row.
     */
    public static Predicate<Row> parseMonitorCondition(TableSchema t, JsonNode where) throws OvsdbException {
        if (where == null || where.isEmpty()) return r -> true;
        if (!where.isArray()) throw OvsdbException.syntax("a monitor condition must be an array");
        Predicate<Row> p = r -> false;
        for (JsonNode c : where) {
            if (c.isBoolean()) {
                boolean b = c.asBoolean();
                p = p.or(r -> b);
            } else {
                p = p.or(one(t, c, null));
            }
        }
        return p;
    }

    /** If the clause list is exactly [["_uuid", "==", UUID]], that UUID (a direct lookup, no scan). */
    static UUID uuidEquality(JsonNode where, Map<String, UUID> symbols) {
        if (where.size() != 1) return null;
        JsonNode c = where.get(0);
        if (!c.isArray() || c.size() != 3 || !"_uuid".equals(c.get(0).asText()) || !"==".equals(c.get(1).asText())) return null;
        try {
            return (UUID) io.vswitch.ovsdb.data.Atoms.parse(AtomicType.UUID_, c.get(2), symbols);
        } catch (OvsdbException e) {
            return null;
        }
    }

    private static Predicate<Row> one(TableSchema t, JsonNode c, Map<String, UUID> symbols) throws OvsdbException {
        if (!c.isArray() || c.size() != 3 || !c.get(0).isTextual() || !c.get(1).isTextual()) {
            throw OvsdbException.syntax("a condition is [column, function, value], not " + c);
        }
        String column = c.get(0).asText();
        String function = c.get(1).asText();
        ColumnType type;
        java.util.function.Function<Row, Datum> get;
        if (column.equals("_uuid") || column.equals("_version")) {
            type = UUID_COLUMN;
            get = column.equals("_uuid") ? r -> Datum.atom(r.uuid()) : r -> Datum.atom(r.version());
        } else {
            type = t.column(column).type();
            get = r -> r.get(column);
        }
        // The value may have any number of elements (e.g. "includes" a subset), so relax min/max.
        ColumnType relaxed = new ColumnType(type.key(), type.value(), 0, ColumnType.UNLIMITED);
        Datum arg = Datum.parse(relaxed, c.get(2), symbols);
        return switch (function) {
            case "==" -> r -> get.apply(r).equals(arg);
            case "!=" -> r -> !get.apply(r).equals(arg);
            case "includes" -> r -> includes(type, get.apply(r), arg);
            case "excludes" -> r -> excludes(type, get.apply(r), arg);
            case "<", "<=", ">", ">=" -> {
                AtomicType at = type.key().type();
                if (type.value() != null || type.max() != 1 || (at != AtomicType.INTEGER && at != AtomicType.REAL)) {
                    throw OvsdbException.syntax("function \"" + function + "\" applies only to integer or real columns, not to " + column);
                }
                if (arg.size() != 1) throw OvsdbException.syntax("function \"" + function + "\" needs a single value");
                Object v = arg.key(0);
                yield r -> {
                    Datum d = get.apply(r);
                    if (d.size() != 1) return false;
                    int cmp = at.compare(d.key(0), v);
                    return switch (function) {
                        case "<" -> cmp < 0;
                        case "<=" -> cmp <= 0;
                        case ">" -> cmp > 0;
                        default -> cmp >= 0;
                    };
                };
            }
            default -> throw OvsdbException.syntax("unknown function \"" + function + "\" in condition on " + column);
        };
    }

    private static boolean includes(ColumnType t, Datum have, Datum want) {
        for (Object[] kv : want.entries()) {
            if (!have.containsKey(t, kv[0])) return false;
            if (have.isMap() && !Objects.equals(have.asMap(t).get(kv[0]), kv[1])) return false;
        }
        return true;
    }

    private static boolean excludes(ColumnType t, Datum have, Datum want) {
        for (Object[] kv : want.entries()) {
            if (have.containsKey(t, kv[0]) && (!have.isMap() || Objects.equals(have.asMap(t).get(kv[0]), kv[1]))) return false;
        }
        return true;
    }

    static String describe(Object atom) {
        return Atoms.format(atom);
    }
}
