package io.vswitch.ovsdb.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.BaseType;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * An immutable column value (RFC 7047 &lt;value&gt;): a sorted set of atoms, or a map sorted by key.
 * A scalar column holds a one-element set. Sorting makes equality, diffs and printing canonical.
 */
public final class Datum {
    private final Object[] keys;
    private final Object[] values;   // null for sets

    private Datum(Object[] keys, Object[] values) {
        this.keys = keys;
        this.values = values;
    }

    public static final Datum EMPTY_SET = new Datum(new Object[0], null);

    public static Datum empty(ColumnType t) {
        return t.isMap() ? new Datum(new Object[0], new Object[0]) : EMPTY_SET;
    }

    public static Datum atom(Object a) {
        return new Datum(new Object[] {a}, null);
    }

    /** The column's default: empty, or the type's default atom when at least one element is required. */
    public static Datum defaultValue(ColumnType t) {
        if (t.min() == 0) return empty(t);
        return t.isMap() ? new Datum(new Object[] {t.key().type().defaultAtom()}, new Object[] {t.value().type().defaultAtom()})
                : atom(t.key().type().defaultAtom());
    }

    /** Builds a datum from a key→value map (values null for a set), sorting by key. */
    public static Datum of(ColumnType t, Map<Object, Object> entries) {
        TreeMap<Object, Object> sorted = new TreeMap<>(t.key().type()::compare);
        sorted.putAll(entries);
        Object[] k = sorted.keySet().toArray();
        Object[] v = t.isMap() ? sorted.values().toArray() : null;
        return new Datum(k, v);
    }

    public int size() {
        return keys.length;
    }

    public boolean isMap() {
        return values != null;
    }

    public Object key(int i) {
        return keys[i];
    }

    public Object value(int i) {
        return values[i];
    }

    public List<Object> keys() {
        return List.of(keys);
    }

    /** Key → value (null values for sets), in order. */
    public Map<Object, Object> asMap(ColumnType t) {
        TreeMap<Object, Object> m = new TreeMap<>(t.key().type()::compare);
        for (int i = 0; i < keys.length; i++) m.put(keys[i], values == null ? null : values[i]);
        return m;
    }

    public boolean containsKey(ColumnType t, Object key) {
        return Arrays.binarySearch(keys, key, t.key().type()::compare) >= 0;
    }

    /** Parses a value of type {@code t}; named UUIDs resolve through {@code symbols}. */
    public static Datum parse(ColumnType t, JsonNode n, Map<String, UUID> symbols) throws OvsdbException {
        Map<Object, Object> entries = new java.util.LinkedHashMap<>();
        if (t.isMap()) {
            if (!(n.isArray() && n.size() == 2 && "map".equals(n.get(0).asText()) && n.get(1).isArray())) {
                throw OvsdbException.syntax("expected [\"map\", [...]], got " + Atoms.abbreviate(n));
            }
            for (JsonNode pair : n.get(1)) {
                if (!pair.isArray() || pair.size() != 2) throw OvsdbException.syntax("map element must be [key, value]: " + Atoms.abbreviate(pair));
                Object k = Atoms.parse(t.key().type(), pair.get(0), symbols);
                if (entries.containsKey(k)) throw OvsdbException.syntax("map contains duplicate key " + Atoms.format(k));
                entries.put(k, Atoms.parse(t.value().type(), pair.get(1), symbols));
            }
        } else if (n.isArray() && n.size() == 2 && "set".equals(n.get(0).asText()) && n.get(1).isArray()) {
            for (JsonNode a : n.get(1)) {
                Object k = Atoms.parse(t.key().type(), a, symbols);
                if (entries.containsKey(k)) throw OvsdbException.syntax("set contains duplicate value " + Atoms.format(k));
                entries.put(k, null);
            }
        } else {
            entries.put(Atoms.parse(t.key().type(), n, symbols), null);
        }
        return of(t, entries);
    }

    /** The JSON form: a bare atom for one-element sets, ["set", [...]] otherwise, ["map", [...]] for maps. */
    public JsonNode toJson(ColumnType t) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (values != null) {
            ArrayNode pairs = f.arrayNode();
            for (int i = 0; i < keys.length; i++) {
                pairs.add(f.arrayNode().add(t.key().type().toJson(keys[i])).add(t.value().type().toJson(values[i])));
            }
            return f.arrayNode().add("map").add(pairs);
        }
        if (keys.length == 1) return t.key().type().toJson(keys[0]);
        ArrayNode elems = f.arrayNode();
        for (Object k : keys) elems.add(t.key().type().toJson(k));
        return f.arrayNode().add("set").add(elems);
    }

    /** Checks size limits and every atom's constraints. */
    public void check(ColumnType t, String what) throws OvsdbException {
        if (keys.length < t.min() || keys.length > t.max()) {
            throw OvsdbException.constraint(what + ": " + keys.length + " value(s) where " + t.min() + " to "
                    + (t.max() == ColumnType.UNLIMITED ? "unlimited" : t.max()) + " are allowed");
        }
        for (int i = 0; i < keys.length; i++) {
            checkAtom(t.key(), keys[i], what);
            if (values != null) checkAtom(t.value(), values[i], what);
        }
    }

    private static void checkAtom(BaseType b, Object atom, String what) throws OvsdbException {
        try {
            b.check(atom);
        } catch (OvsdbException e) {
            throw OvsdbException.constraint(what + ": " + e.getMessage());
        }
    }

    /** Calls {@code action} for each UUID this value holds in a {@code refTable} base type. */
    public void forEachRef(ColumnType t, String refTable, Consumer<UUID> action) {
        if (t.key().type() == AtomicType.UUID_ && refTable.equals(t.key().refTable())) for (Object k : keys) action.accept((UUID) k);
        if (values != null && t.value().type() == AtomicType.UUID_ && refTable.equals(t.value().refTable())) {
            for (Object v : values) action.accept((UUID) v);
        }
    }

    /**
     * The update2 "modify" diff from {@code this} to {@code next}: for single-valued columns (max 1,
     * also optional ones) the new value; for sets the symmetric difference; for maps the added keys, the removed keys (old values) and
     * the changed keys (new values). Applying it to the old value with {@link #applyDiff} gives the new.
     */
    public Datum diff(ColumnType t, Datum next) {
        if (t.max() <= 1 && !t.isMap()) return next;      // single-valued (also optional): the new value, as OVS
        Map<Object, Object> a = asMap(t);
        Map<Object, Object> b = next.asMap(t);
        Map<Object, Object> d = new TreeMap<>(t.key().type()::compare);
        for (Map.Entry<Object, Object> e : a.entrySet()) {
            if (!b.containsKey(e.getKey())) d.put(e.getKey(), e.getValue());
            else if (!Objects.equals(e.getValue(), b.get(e.getKey()))) d.put(e.getKey(), b.get(e.getKey()));
        }
        for (Map.Entry<Object, Object> e : b.entrySet()) if (!a.containsKey(e.getKey())) d.put(e.getKey(), e.getValue());
        return of(t, d);
    }

    /** Applies an update2 diff (the inverse of {@link #diff}). */
    public Datum applyDiff(ColumnType t, Datum diff) {
        if (t.max() <= 1 && !t.isMap()) return diff;
        Map<Object, Object> m = asMap(t);
        for (int i = 0; i < diff.keys.length; i++) {
            Object k = diff.keys[i];
            Object v = diff.values == null ? null : diff.values[i];
            if (!m.containsKey(k)) m.put(k, v);
            else if (Objects.equals(m.get(k), v)) m.remove(k);
            else m.put(k, v);
        }
        return of(t, m);
    }

    /** The datum's atoms, for building new datums. */
    public List<Object[]> entries() {
        List<Object[]> out = new ArrayList<>(keys.length);
        for (int i = 0; i < keys.length; i++) out.add(new Object[] {keys[i], values == null ? null : values[i]});
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Datum d && Arrays.equals(keys, d.keys) && Arrays.equals(values, d.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(keys) * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        if (values == null) return keys.length == 1 ? Atoms.format(keys[0]) : Arrays.toString(keys);
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < keys.length; i++) sb.append(i == 0 ? "" : ", ").append(Atoms.format(keys[i])).append('=').append(Atoms.format(values[i]));
        return sb.append('}').toString();
    }
}
