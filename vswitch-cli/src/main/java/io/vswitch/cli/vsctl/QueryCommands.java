package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** list and find: select rows (by id, or by column conditions) and hand them to Output. */
final class QueryCommands {
    /** Longer operators first, so "!=" is not read as "!" followed by "=". */
    private static final List<String> OPERATORS =
            List.of("!=", "<=", ">=", "{=}", "{!=}", "{<=}", "{>=}", "{<}", "{>}", "=", "<", ">");

    private final Snapshot db;
    private final Records records;
    private final Output output;

    QueryCommands(Snapshot db, Records records, Output output) {
        this.db = db;
        this.records = records;
        this.output = output;
    }

    /** One find condition: COLUMN[:KEY] OP VALUE. key is null when the whole column is compared. */
    private record Condition(String col, Object key, String op, Datum want, ColumnType type) {}

    void list(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        List<String> cols = columns(t, c);
        List<UUID> us = new ArrayList<>();
        if (c.args().size() == 1) {
            us.addAll(db.rows.get(t).keySet());
        } else {
            for (String id : c.args().subList(1, c.args().size())) {
                UUID u = records.find(t, id, !c.has("--if-exists"));
                if (u != null) us.add(u);
            }
        }
        output.rows(c.out(), t, cols, us);
    }

    void find(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        List<String> cols = columns(t, c);
        List<Condition> conds = new ArrayList<>();
        for (String cond : c.args().subList(1, c.args().size())) conds.add(parse(t, cond));
        List<UUID> us = new ArrayList<>();
        for (UUID u : db.rows.get(t).keySet()) {
            boolean ok = true;
            for (Condition cd : conds) ok &= matches(u, cd);
            if (ok) us.add(u);
        }
        output.rows(c.out(), t, cols, us);
    }

    /** --columns, else _uuid followed by every column in name order. */
    private List<String> columns(String t, Command c) throws VsctlException {
        String spec = c.opt("--columns");
        List<String> cols = new ArrayList<>();
        if (spec == null) {
            cols.add("_uuid");
            cols.addAll(new TreeMap<>(db.table(t).columns()).keySet());
        } else {
            for (String s : spec.split(",")) cols.add(records.column(t, s.trim()));
        }
        return cols;
    }

    private Condition parse(String t, String cond) throws VsctlException {
        Values.Lexer lx = new Values.Lexer(cond);
        String col = records.column(t, lx.token());
        String key = null;
        if (lx.peek() == ':') {
            lx.pos++;
            key = lx.token();
        }
        String rest = cond.substring(lx.pos);
        String op = null;
        for (String o : OPERATORS) {
            if (rest.startsWith(o)) {
                op = o;
                break;
            }
        }
        if (op == null) throw new VsctlException(cond + ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", \"{=}\", \"{!=}\", \"{<}\", \"{>}\", \"{<=}\", or \"{>=}\" followed by a value.");
        String val = rest.substring(op.length());
        ColumnType ct = db.colType(t, col);
        if (key != null) {
            if (!ct.isMap()) throw new VsctlException("cannot specify key to check for non-map column " + col);
            Object k = Values.parseAtom(ct.key(), key, db.symbols);
            Datum v = Values.parseDatum(new ColumnType(ct.value(), null, 0, ColumnType.UNLIMITED), val, db.symbols);
            return new Condition(col, k, op, v, ct);
        }
        Datum want = Values.parseDatum(new ColumnType(ct.key(), ct.value(), 0, ColumnType.UNLIMITED), val, db.symbols);
        return new Condition(col, null, op, want, ct);
    }

    private boolean matches(UUID u, Condition cd) {
        Datum have = db.readColumn(u, cd.col());
        Map<Object, Object> h;
        if (cd.key() != null) {
            Map<Object, Object> m = have.asMap(cd.type());
            h = new LinkedHashMap<>();
            if (m.containsKey(cd.key())) h.put(m.get(cd.key()), null);
        } else {
            h = have.asMap(cd.type());
        }
        Datum want = cd.want();
        Map<Object, Object> w = new LinkedHashMap<>();
        for (int i = 0; i < want.size(); i++) w.put(want.key(i), want.isMap() ? want.value(i) : null);
        return compare(h, w, cd.op());
    }

    /** Set operators ({...}) compare whole values; plain ordering needs one atom on each side. */
    private static boolean compare(Map<Object, Object> h, Map<Object, Object> w, String op) {
        boolean eq = h.equals(w);
        boolean includes = h.entrySet().containsAll(w.entrySet());
        boolean included = w.entrySet().containsAll(h.entrySet());
        return switch (op) {
            case "=", "{=}" -> eq;
            case "!=", "{!=}" -> !eq;
            case "{<=}" -> included;
            case "{>=}" -> includes;
            case "{<}" -> included && !eq;
            case "{>}" -> includes && !eq;
            case "<", ">", "<=", ">=" -> {
                if (h.size() != 1 || w.size() != 1) yield false;
                Object a = h.keySet().iterator().next();
                Object b = w.keySet().iterator().next();
                @SuppressWarnings("unchecked")
                int r = ((Comparable<Object>) a).compareTo(b);
                yield switch (op) {
                    case "<" -> r < 0;
                    case ">" -> r > 0;
                    case "<=" -> r <= 0;
                    default -> r >= 0;
                };
            }
            default -> false;
        };
    }
}
