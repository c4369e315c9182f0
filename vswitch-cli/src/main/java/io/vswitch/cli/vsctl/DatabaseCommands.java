package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/** The generic record commands that read or edit single rows: get, set, clear, add, remove, create, destroy. */
final class DatabaseCommands {
    private final Snapshot db;
    private final Records records;
    private final ColumnArgs columns;
    private final StringBuilder err;

    DatabaseCommands(Snapshot db, Records records, ColumnArgs columns, StringBuilder err) {
        this.db = db;
        this.records = records;
        this.columns = columns;
        this.err = err;
    }

    void get(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        UUID u = records.find(t, c.args().get(1), !c.has("--if-exists"));
        String idName = c.opt("--id");
        if (idName != null) {
            if (!idName.startsWith("@")) throw new VsctlException("row id \"" + idName + "\" does not begin with \"@\"");
            if (u != null) {
                UUID earlier = db.symbols.get(idName);
                if (earlier != null && !earlier.equals(u)) throw new VsctlException("row id \"" + idName + "\" was referred to before this get; use it after");
                db.symbols.put(idName, u);
            }
        }
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) {
            String[] ckv = ColumnArgs.split(arg, false);
            String col = records.column(t, ckv[0]);
            ColumnType ct = db.colType(t, col);
            Datum d = db.readColumn(u, col);
            if (ckv[1] != null) {
                if (!ct.isMap()) throw new VsctlException("cannot specify key to get for non-map column " + col);
                Object k = Values.parseAtom(ct.key(), ckv[1], db.symbols);
                Map<Object, Object> m = d.asMap(ct);
                if (!m.containsKey(k)) {
                    if (c.has("--if-exists")) {
                        c.out().append('\n');
                        continue;
                    }
                    throw new VsctlException("no key \"" + ckv[1] + "\" in " + t + " record \"" + c.args().get(1) + "\" column " + col);
                }
                c.out().append(Values.atom(m.get(k))).append('\n');
            } else {
                c.out().append(Values.datum(ct, d)).append('\n');
            }
        }
    }

    void set(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        UUID u = records.find(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) columns.set(t, u, arg);
    }

    void clear(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        UUID u = records.find(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) {
            String col = records.column(t, arg);
            columns.checkMutable(t, u, col);
            ColumnType ct = db.type(t, col);
            if (ct.min() > 0) {
                throw new VsctlException("\"clear\" operation cannot be applied to column " + col + " of table " + t
                        + ", which is not allowed to be empty");
            }
            db.put(u, col, Datum.empty(ct));
        }
    }

    /** "add" merges values in; "remove" takes out values, or for maps either key=value pairs or bare keys. */
    void addOrRemove(Command c, boolean add) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        UUID u = records.find(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        String col = records.column(t, c.args().get(2));
        columns.checkMutable(t, u, col);
        ColumnType ct = db.type(t, col);
        ColumnType loose = new ColumnType(ct.key(), ct.value(), 0, ColumnType.UNLIMITED);
        Map<Object, Object> m = new LinkedHashMap<>(db.get(u, col).asMap(ct));
        for (String v : c.args().subList(3, c.args().size())) {
            if (add) {
                Datum d = Values.parseDatum(loose, v, db.symbols);
                for (int i = 0; i < d.size(); i++) m.put(d.key(i), d.isMap() ? d.value(i) : null);
            } else if (ct.isMap()) {
                removeFromMap(m, ct, loose, v);
            } else {
                Datum d = Values.parseDatum(loose, v, db.symbols);
                for (int i = 0; i < d.size(); i++) m.remove(d.key(i));
            }
        }
        if (m.size() > ct.max()) {
            throw new VsctlException("\"add\" operation would put " + m.size() + " values in column " + col + " of table " + t
                    + " but the maximum number is " + ct.max());
        }
        if (m.size() < ct.min()) {
            throw new VsctlException("\"remove\" operation would put " + m.size() + " values in column " + col + " of table " + t
                    + " but the minimum number is " + ct.min());
        }
        db.put(u, col, Datum.of(ct, m));
    }

    private void removeFromMap(Map<Object, Object> m, ColumnType ct, ColumnType loose, String v) throws VsctlException {
        try {
            Datum d = Values.parseDatum(loose, v, db.symbols);
            for (int i = 0; i < d.size(); i++) {
                if (Objects.equals(m.get(d.key(i)), d.value(i))) m.remove(d.key(i));
            }
        } catch (VsctlException e) {
            ColumnType keys = new ColumnType(ct.key(), null, 0, ColumnType.UNLIMITED);
            Datum d = Values.parseDatum(keys, v, db.symbols);
            for (int i = 0; i < d.size(); i++) m.remove(d.key(i));
        }
    }

    /** The new row's UUID is printed only after commit, once the server has assigned it. */
    void create(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        String id = c.opt("--id");
        if (id != null && !id.startsWith("@")) throw new VsctlException("row id \"" + id + "\" does not begin with \"@\"");
        UUID earlier = id == null ? null : db.symbols.get(id);
        if (earlier != null && db.tableOf.containsKey(earlier)) throw new VsctlException("row id \"" + id + "\" may only be specified on one --id option");
        UUID u = earlier != null ? db.insertRow(t, earlier) : db.insertRow(t);
        if (id != null) {
            db.symbols.put(id, u);
        } else if (!db.table(t).isRoot()) {
            err.append("vsctl: applying \"create\" command to table ").append(t)
                    .append(" without --id option will have no effect\n");
        }
        for (String arg : c.args().subList(1, c.args().size())) columns.set(t, u, arg);
        c.created().add(u);
    }

    void destroy(Command c) throws VsctlException {
        String t = records.tableName(c.args().get(0));
        if (c.has("--all")) {
            for (UUID u : new ArrayList<>(db.rows.get(t).keySet())) db.deleteRow(u);
            return;
        }
        for (String id : c.args().subList(1, c.args().size())) {
            UUID u = records.find(t, id, !c.has("--if-exists"));
            if (u != null) db.deleteRow(u);
        }
    }
}
