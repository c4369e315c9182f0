package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Bridge controllers and fail mode, and the switch's managers. set-* replaces the whole list. */
final class ControllerCommands {
    private final Snapshot db;
    private final Bridges bridges;

    ControllerCommands(Snapshot db, Bridges bridges) {
        this.db = db;
        this.bridges = bridges;
    }

    void setController(Command c) throws VsctlException {
        List<String> a = c.args();
        UUID b = bridges.findOrDie(a.get(0));
        for (UUID ctl : db.refs(b, "controller")) db.deleteRow(ctl);
        Map<Object, Object> m = new LinkedHashMap<>();
        for (String t : a.subList(1, a.size())) {
            UUID ctl = db.insertRow("Controller");
            db.setString(ctl, "target", t);
            m.put(ctl, null);
        }
        db.put(b, "controller", Datum.of(db.type("Bridge", "controller"), m));
    }

    void getController(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0));
        printTargets(c, db.refs(b, "controller"));
    }

    void delController(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0));
        for (UUID ctl : db.refs(b, "controller")) db.deleteRow(ctl);
        db.put(b, "controller", Datum.empty(db.type("Bridge", "controller")));
    }

    void setFailMode(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0));
        String m = c.args().get(1);
        if (!m.equals("standalone") && !m.equals("secure")) throw new VsctlException("fail-mode must be \"standalone\" or \"secure\"");
        db.setString(b, "fail_mode", m);
    }

    void getFailMode(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0));
        String m = db.str(b, "fail_mode");
        if (m != null && !m.isEmpty()) c.out().append(m).append('\n');
    }

    void delFailMode(Command c) throws VsctlException {
        UUID b = bridges.findOrDie(c.args().get(0));
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

    private void printTargets(Command c, List<UUID> rows) {
        List<String> ts = new ArrayList<>();
        for (UUID u : rows) if (db.row(u) != null) ts.add(db.str(u, "target"));
        ts.sort(null);
        for (String t : ts) c.out().append(t).append('\n');
    }
}
