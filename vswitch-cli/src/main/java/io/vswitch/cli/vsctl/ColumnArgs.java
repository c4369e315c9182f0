package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.BaseType;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** "COL[:KEY][=VALUE]" arguments, shared by get/set/create and add-port's trailing settings. */
final class ColumnArgs {
    private final Snapshot db;
    private final Records records;

    ColumnArgs(Snapshot db, Records records) {
        this.db = db;
        this.records = records;
    }

    /** Splits "COL[:KEY][=VALUE]" like ovs-vsctl: [column, key or null, value or null]. */
    static String[] split(String arg, boolean wantValue) throws VsctlException {
        String[] ckv = split(arg);
        checkValue(arg, ckv, wantValue);
        return ckv;
    }

    private static void checkValue(String arg, String[] ckv, boolean wantValue) throws VsctlException {
        if (wantValue != (ckv[2] != null)) throw new VsctlException(arg + ": argument does not end in \"=\" followed by a value.");
    }

    /** {@link #split(String, boolean)} without the value check, for callers that look the column up first. */
    static String[] split(String arg) throws VsctlException {
        Values.Lexer lx = new Values.Lexer(arg);
        String col = lx.token();
        if (col.isEmpty()) throw new VsctlException(arg + ": missing column name");
        String key = null;
        if (lx.peek() == ':') {
            lx.pos++;
            int start = lx.pos;
            key = lx.token();
            if (key.isEmpty() && lx.pos == start) throw new VsctlException(arg + ": missing key");
        }
        String value = null;
        if (lx.peek() == '=') {
            value = arg.substring(lx.pos + 1);
        } else if (!lx.atEnd()) {
            throw new VsctlException(arg + ": trailing garbage \"" + arg.substring(lx.pos) + "\" in argument");
        }
        return new String[] {col, key, value};
    }

    /** Immutable columns may still be written while the row is being inserted. */
    void checkMutable(String t, UUID u, String col) throws VsctlException {
        if (col.equals("_uuid") || (!db.inserted.contains(u) && !db.table(t).columns().get(col).mutable())) {
            throw new VsctlException("cannot modify read-only column " + col + " in table " + t);
        }
    }

    /** Applies one "COL[:KEY]=VALUE" to a row. */
    void set(String t, UUID u, String arg) throws VsctlException {
        String[] ckv = split(arg);
        String col = records.column(t, ckv[0]);   // an unknown column is reported before a missing value
        checkValue(arg, ckv, true);
        checkMutable(t, u, col);
        ColumnType ct = db.type(t, col);
        if (ckv[1] != null) {
            if (!ct.isMap()) throw new VsctlException("cannot specify key to set for non-map column " + col);
            Object k = Values.parseAtom(ct.key(), ckv[1], db.symbols);
            Object v = parseSingle(ct.value(), ckv[2]);
            Map<Object, Object> m = new LinkedHashMap<>(db.get(u, col).asMap(ct));
            m.put(k, v);
            db.put(u, col, Datum.of(ct, m));
        } else {
            db.put(u, col, Values.parseDatum(ct, ckv[2], db.symbols));
        }
    }

    private Object parseSingle(BaseType bt, String s) throws VsctlException {
        ColumnType one = new ColumnType(bt, null, 1, 1);
        return Values.parseDatum(one, s, db.symbols).key(0);
    }
}
