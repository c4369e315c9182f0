package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Resolves user-typed table, column and record names the way ovs-vsctl does. */
final class Records {
    private final Snapshot db;

    Records(Snapshot db) {
        this.db = db;
    }

    /** Exact (case-insensitive) table name, else a unique prefix. */
    String tableName(String name) throws VsctlException {
        String match = null;
        for (String t : db.schema.tables().keySet()) {
            if (t.equalsIgnoreCase(name)) return t;
        }
        for (String t : db.schema.tables().keySet()) {
            if (t.toLowerCase().startsWith(name.toLowerCase())) {
                if (match != null) throw new VsctlException("multiple table names match \"" + name + "\"");
                match = t;
            }
        }
        if (match == null) throw new VsctlException("unknown table \"" + name + "\"");
        return match;
    }

    /** Exact column name, else one matching with '-' for '_' and any case, else a unique such prefix. */
    String column(String t, String name) throws VsctlException {
        List<String> cols = new ArrayList<>(db.table(t).columns().keySet());
        cols.add("_uuid");
        for (String col : cols) if (col.equals(name)) return col;
        List<String> matches = new ArrayList<>();
        for (String col : cols) if (norm(col).equals(norm(name))) matches.add(col);
        if (matches.isEmpty()) for (String col : cols) if (norm(col).startsWith(norm(name))) matches.add(col);
        if (matches.size() == 1) return matches.get(0);
        if (matches.size() > 1) throw new VsctlException(t + " contains more than one column whose name matches \"" + name + "\"");
        throw new VsctlException(t + " does not contain a column whose name matches \"" + name + "\"");
    }

    private static String norm(String s) {
        return s.toLowerCase().replace('-', '_');
    }

    /** ovs-vsctl's record identifiers: UUID, then the table's name column (possibly via a referrer). */
    UUID find(String t, String id, boolean mustExist) throws VsctlException {
        if (Values.isUuid(id)) {
            UUID u = UUID.fromString(id);
            if (db.rows.get(t).containsKey(u)) return u;
        }
        UUID found = switch (t) {
            case "Open_vSwitch" -> id.equals(".") && db.rows.get(t).size() == 1 ? db.rows.get(t).keySet().iterator().next() : null;
            case "SSL" -> id.equals(".") && db.rows.get(Snapshot.DB).size() == 1
                    ? single(db.get(db.rows.get(Snapshot.DB).keySet().iterator().next(), "ssl")) : null;
            case "Bridge", "Port", "Interface", "Mirror", "Flow_Table" -> byName(t, "name", id);
            case "Manager" -> byName(t, "target", id);
            case "Controller" -> via(id, "Bridge", "controller");
            case "NetFlow" -> via(id, "Bridge", "netflow");
            case "sFlow" -> via(id, "Bridge", "sflow");
            case "IPFIX" -> via(id, "Bridge", "ipfix");
            case "AutoAttach" -> via(id, "Bridge", "auto_attach");
            case "QoS" -> via(id, "Port", "qos");
            default -> null;
        };
        if (found == null && id.length() >= 4 && id.matches("[0-9a-fA-F-]+")) {
            for (UUID u : db.rows.get(t).keySet()) {
                if (u.toString().startsWith(id.toLowerCase())) {
                    if (found != null) throw new VsctlException("multiple rows in " + t + " match \"" + id + "\"");
                    found = u;
                }
            }
        }
        if (found == null && mustExist) throw new VsctlException("no row \"" + id + "\" in table " + t);
        return found;
    }

    private static UUID single(Datum d) {
        return d.size() == 1 ? (UUID) d.key(0) : null;
    }

    private UUID byName(String t, String col, String id) throws VsctlException {
        UUID found = null;
        for (var e : db.rows.get(t).entrySet()) {
            Datum d = e.getValue().get(col);
            if (d.size() == 1 && id.equals(d.key(0))) {
                if (found != null) throw new VsctlException("multiple rows in " + t + " match \"" + id + "\"");
                found = e.getKey();
            }
        }
        return found;
    }

    /** Rows without a name of their own are named by the bridge (or port) that refers to them. */
    private UUID via(String id, String refTable, String col) throws VsctlException {
        UUID r = byName(refTable, "name", id);
        return r == null ? null : single(db.get(r, col));
    }
}
