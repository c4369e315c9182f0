package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;

import java.util.UUID;

/** "show": ovs-vsctl's indented overview of managers, bridges, ports and interfaces. */
final class Show {
    private final Snapshot db;

    Show(Snapshot db) {
        this.db = db;
    }

    void print(StringBuilder o) {
        UUID ovs = db.ovsRow;
        o.append(ovs).append('\n');
        for (UUID m : db.refs(ovs, "manager_options")) {
            if (db.row(m) == null) continue;
            o.append("    Manager ").append(Values.atom(db.str(m, "target"))).append('\n');
            connected(o, m, "        ");
        }
        for (UUID b : db.refs(ovs, "bridges")) {
            if (db.row(b) == null) continue;
            o.append("    Bridge ").append(Values.atom(db.str(b, "name"))).append('\n');
            bridge(o, b);
        }
        Datum v = db.get(ovs, "ovs_version");
        if (v.size() > 0) o.append("    ovs_version: ").append(Values.atom(v.key(0))).append('\n');
    }

    private void bridge(StringBuilder o, UUID b) {
        for (UUID ctl : db.refs(b, "controller")) {
            if (db.row(ctl) == null) continue;
            o.append("        Controller ").append(Values.atom(db.str(ctl, "target"))).append('\n');
            connected(o, ctl, "            ");
        }
        String fm = db.str(b, "fail_mode");
        if (fm != null) o.append("        fail_mode: ").append(Values.atom(fm)).append('\n');
        String dpt = db.str(b, "datapath_type");
        if (dpt != null && !dpt.isEmpty()) o.append("        datapath_type: ").append(Values.atom(dpt)).append('\n');
        for (UUID p : db.refs(b, "ports")) {
            if (db.row(p) == null) continue;
            o.append("        Port ").append(Values.atom(db.str(p, "name"))).append('\n');
            port(o, p);
        }
    }

    private void port(StringBuilder o, UUID p) {
        Datum tag = db.get(p, "tag");
        if (tag.size() > 0) o.append("            tag: ").append(tag.key(0)).append('\n');
        Datum trunks = db.get(p, "trunks");
        if (trunks.size() > 0) o.append("            trunks: ").append(Values.datum(db.type("Port", "trunks"), trunks)).append('\n');
        for (UUID i : db.refs(p, "interfaces")) {
            if (db.row(i) == null) continue;
            o.append("            Interface ").append(Values.atom(db.str(i, "name"))).append('\n');
            String ty = db.str(i, "type");
            if (ty != null && !ty.isEmpty()) o.append("                type: ").append(Values.atom(ty)).append('\n');
            Datum opts = db.get(i, "options");
            if (opts.size() > 0) o.append("                options: ").append(Values.datum(db.type("Interface", "options"), opts)).append('\n');
            Datum e = db.get(i, "error");
            if (e.size() > 0) o.append("                error: ").append(Values.atom(e.key(0))).append('\n');
        }
    }

    /** Only a true is_connected is shown. */
    private void connected(StringBuilder o, UUID u, String indent) {
        Datum d = db.get(u, "is_connected");
        if (d.size() > 0 && Boolean.TRUE.equals(d.key(0))) o.append(indent).append("is_connected: true\n");
    }
}
