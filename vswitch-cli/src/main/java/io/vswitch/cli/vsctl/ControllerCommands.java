package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Bridge controllers and fail mode, the switch's managers (set-* replaces the whole list), and emer-reset. */
final class ControllerCommands {
    private final Snapshot db;
    private final Bridges bridges;

    ControllerCommands(Snapshot db, Bridges bridges) {
        this.db = db;
        this.bridges = bridges;
    }

    void setController(Command c) throws VsctlException {
        List<String> a = c.args();
        UUID b = bridges.findRealOrDie(a.get(0)).row();
        for (UUID ctl : db.refs(b, "controller")) db.deleteRow(ctl);
        Map<Object, Object> m = new LinkedHashMap<>();
        for (String t : a.subList(1, a.size())) {
            UUID ctl = db.insertRow("Controller");
            db.setString(ctl, "target", t);
            m.put(ctl, null);
        }
        db.put(b, "controller", Datum.of(db.type("Bridge", "controller"), m));
    }

    /** On a fake bridge: its parent's. */
    void getController(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0)).bridgeRow();
        printTargets(c, db.refs(b, "controller"));
    }

    void delController(Command c) throws VsctlException {
        UUID b = bridges.findRealOrDie(c.args().get(0)).row();
        for (UUID ctl : db.refs(b, "controller")) db.deleteRow(ctl);
        db.put(b, "controller", Datum.empty(db.type("Bridge", "controller")));
    }

    void setFailMode(Command c) throws VsctlException {
        UUID b = bridges.findRealOrDie(c.args().get(0)).row();
        String m = c.args().get(1);
        if (!m.equals("standalone") && !m.equals("secure")) throw new VsctlException("fail-mode must be \"standalone\" or \"secure\"");
        db.setString(b, "fail_mode", m);
    }

    /** On a fake bridge: its parent's. */
    void getFailMode(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0)).bridgeRow();
        String m = db.str(b, "fail_mode");
        if (m != null && !m.isEmpty()) c.out().append(m).append('\n');
    }

    void delFailMode(Command c) throws VsctlException {
        UUID b = bridges.findRealOrDie(c.args().get(0)).row();
        db.put(b, "fail_mode", Datum.empty(db.type("Bridge", "fail_mode")));
    }

    void setManager(Command c) {
        for (UUID m : db.refs(db.ovsRow, "manager_options")) db.deleteRow(m);
        Map<Object, Object> ms = new LinkedHashMap<>();
        for (String t : c.args()) {
            UUID m = db.insertRow("Manager");
            db.setString(m, "target", t);
            ms.put(m, null);
        }
        db.put(db.ovsRow, "manager_options", Datum.of(db.type("Open_vSwitch", "manager_options"), ms));
    }

    void getManager(Command c) {
        printTargets(c, db.refs(db.ovsRow, "manager_options"));
    }

    void delManager(Command c) {
        for (UUID m : db.refs(db.ovsRow, "manager_options")) db.deleteRow(m);
        db.put(db.ovsRow, "manager_options", Datum.empty(db.type("Open_vSwitch", "manager_options")));
    }

    /**
     * emer-reset: clears what could stop the switch from forwarding on its own (controllers, managers,
     * mirrors, SSL, flow monitoring, policing, extra settings), keeping bridges, ports and tags.
     */
    void emerReset() {
        clear(db.ovsRow, "manager_options");
        clear(db.ovsRow, "ssl");
        for (UUID b : List.copyOf(db.rows.get("Bridge").keySet())) {
            for (String col : List.of("controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix", "flood_vlans")) clear(b, col);
            ColumnType oc = db.type("Bridge", "other_config");
            Map<Object, Object> keep = new LinkedHashMap<>();
            Map<Object, Object> had = db.get(b, "other_config").asMap(oc);
            if (had.containsKey("hwaddr")) keep.put("hwaddr", had.get("hwaddr"));
            if (!keep.equals(had)) db.put(b, "other_config", Datum.of(oc, keep));
        }
        for (UUID p : List.copyOf(db.rows.get("Port").keySet())) clear(p, "other_config");
        for (UUID i : List.copyOf(db.rows.get("Interface").keySet())) {
            for (String col : List.of("ingress_policing_rate", "ingress_policing_burst")) {
                if (!db.get(i, col).equals(Datum.atom(0L))) db.put(i, col, Datum.atom(0L));
            }
        }
        for (String t : List.of("Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow", "IPFIX")) {
            if (db.table(t) == null) continue;
            for (UUID u : List.copyOf(db.rows.get(t).keySet())) db.deleteRow(u);
        }
    }

    /** Sets a column to its empty value unless it already is. */
    private void clear(UUID row, String col) {
        ColumnType ct = db.type(db.tableOf.get(row), col);
        if (!db.get(row, col).equals(Datum.empty(ct))) db.put(row, col, Datum.empty(ct));
    }

    private void printTargets(Command c, List<UUID> rows) {
        List<String> ts = new ArrayList<>();
        for (UUID u : rows) if (db.row(u) != null) ts.add(db.str(u, "target"));
        ts.sort(null);
        for (String t : ts) c.out().append(t).append('\n');
    }
}
