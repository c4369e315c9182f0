package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;

/**
 * list and find: select rows (by id, or by column conditions) and hand them to Output; and wait-until,
 * which holds the invocation until a record meets find's conditions.
 */
final class QueryCommands {
    /** Longer operators first, so "!=" is not read as "!" followed by "=". */
    private static final List<String> OPERATORS =
            List.of("!=", "<=", ">=", "{=}", "{!=}", "{<=}", "{>=}", "{<}", "{>}", "{in}", "{not-in}", "=", "<", ">");

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

    /** Thrown while a wait-until condition is false: the invocation waits for a change, then runs again. */
    static final class NotYet extends VsctlException {
        NotYet() {
            super(null, 0);
        }
    }

    /** wait-until TABLE RECORD [COLUMN[:KEY]=VALUE]...: the record need not exist yet. */
    void waitUntil(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        List<Condition> conds = new ArrayList<>();
        for (String cond : c.args().subList(2, c.args().size())) conds.add(parse(t, cond));
        UUID u = records.find(t, c.args().get(1), false);
        if (u == null) throw new NotYet();
        for (Condition cd : conds) if (!matches(u, cd)) throw new NotYet();
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
        if (op == null) {
            throw new VsctlException(cond + ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", \"{=}\", \"{!=}\","
                    + " \"{<}\", \"{>}\", \"{<=}\", \"{>=}\", \"{in}\", or \"{not-in}\" followed by a value.");
        }
        String val = rest.substring(op.length());
        ColumnType ct = db.colType(t, col);
        if (key != null) {
            if (!ct.isMap()) throw new VsctlException("cannot specify key to check for non-map column " + col);
            Object k = Values.parseAtom(ct.key(), key, db.symbols);
            Datum v = Values.parseDatum(new ColumnType(ct.value(), null, 0, ColumnType.UNLIMITED), val, db.symbols);
            return new Condition(col, k, op, v, ct);
        }
        // The whole column: the value must be valid for the column's own type (ovs-vsctl's rule).
        return new Condition(col, null, op, Values.parseDatum(ct, val, db.symbols), ct);
    }

    /** ovs-vsctl's check_condition: a missing map key satisfies only the set ({...}) operators. */
    private boolean matches(UUID u, Condition cd) {
        Datum have = db.readColumn(u, cd.col());
        if (cd.key() == null) return evaluate(have, cd.want(), cd.op());
        int idx = have.keys().indexOf(cd.key());
        if (idx < 0 && !cd.op().startsWith("{")) return false;
        return evaluate(idx < 0 ? Datum.EMPTY_SET : Datum.atom(have.value(idx)), cd.want(), cd.op());
    }

    /** Plain operators compare whole values (size first, then elements); set operators test inclusion. */
    private static boolean evaluate(Datum a, Datum b, String op) {
        return switch (op) {
            case "=", "{=}" -> compare(a, b) == 0;
            case "!=", "{!=}" -> compare(a, b) != 0;
            case "<" -> compare(a, b) < 0;
            case ">" -> compare(a, b) > 0;
            case "<=" -> compare(a, b) <= 0;
            case ">=" -> compare(a, b) >= 0;
            case "{<}" -> b.size() > a.size() && includesAll(a, b);
            case "{>}" -> a.size() > b.size() && includesAll(b, a);
            case "{<=}", "{in}" -> includesAll(a, b);
            case "{>=}" -> includesAll(b, a);
            case "{not-in}" -> entries(a).stream().noneMatch(entries(b)::contains);
            default -> false;
        };
    }

    /** True if every element of {@code a} is in {@code b}. */
    private static boolean includesAll(Datum a, Datum b) {
        return entries(b).containsAll(entries(a));
    }

    private static List<List<Object>> entries(Datum d) {
        List<List<Object>> l = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) l.add(d.isMap() ? List.of(d.key(i), d.value(i)) : List.of(d.key(i)));
        return l;
    }

    /** OVSDB's 3-way datum order: fewer elements first, then element by element (keys, then values). */
    @SuppressWarnings("unchecked")
    private static int compare(Datum a, Datum b) {
        if (a.size() != b.size()) return Integer.compare(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            int r = ((Comparable<Object>) a.key(i)).compareTo(b.key(i));
            if (r != 0) return r;
        }
        if (a.isMap() && b.isMap()) {
            for (int i = 0; i < a.size(); i++) {
                int r = ((Comparable<Object>) a.value(i)).compareTo(b.value(i));
                if (r != 0) return r;
            }
        }
        return 0;
    }
}
