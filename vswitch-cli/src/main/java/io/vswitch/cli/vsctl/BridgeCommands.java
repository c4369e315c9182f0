package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.data.Datum;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** add-br, del-br, list-br, br-exists, add-port, del-port, list-ports, list-ifaces, port-to-br, iface-to-br. */
final class BridgeCommands {
    private final Snapshot db;
    private final Bridges bridges;
    private final ColumnArgs columns;

    BridgeCommands(Snapshot db, Bridges bridges, ColumnArgs columns) {
        this.db = db;
        this.bridges = bridges;
        this.columns = columns;
    }

    void addBr(Command c) throws VsctlException {
        List<String> a = c.args();
        String name = a.get(0);
        if (a.size() == 2) throw new VsctlException("'add-br' command takes exactly 1 or 3 arguments");
        if (a.size() == 3) throw new VsctlException("fake bridges are not supported by vsctl");
        UUID b = bridges.find(name);
        if (b != null) {
            if (c.has("--may-exist")) return;
            throw new VsctlException("cannot create a bridge named " + name + " because a bridge named " + name + " already exists");
        }
        UUID[] bp = bridges.findPort(name);
        if (bp != null) {
            throw new VsctlException("cannot create a bridge named " + name + " because a port named " + name
                    + " already exists on bridge " + db.str(bp[0], "name"));
        }
        UUID[] bpi = bridges.findIface(name);
        if (bpi != null) {
            throw new VsctlException("cannot create a bridge named " + name + " because an interface named " + name
                    + " already exists on bridge " + db.str(bpi[0], "name"));
        }
        UUID iface = db.insertRow("Interface");
        db.setString(iface, "name", name);
        db.setString(iface, "type", "internal");
        UUID port = db.insertRow("Port");
        db.setString(port, "name", name);
        db.put(port, "interfaces", Datum.atom(iface));
        b = db.insertRow("Bridge");
        db.setString(b, "name", name);
        db.put(b, "ports", Datum.atom(port));
        db.addToSet(db.ovsRow, "bridges", b);
    }

    void delBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        UUID b = bridges.find(name);
        if (b == null) {
            if (c.has("--if-exists")) return;
            throw new VsctlException("no bridge named " + name);
        }
        for (UUID p : db.refs(b, "ports")) {
            if (db.row(p) == null) continue;
            for (UUID i : db.refs(p, "interfaces")) db.deleteRow(i);
            db.deleteRow(p);
        }
        for (String col : List.of("controller", "mirrors", "netflow", "sflow", "ipfix", "auto_attach")) {
            for (Object o : db.get(b, col).keys()) {
                if (db.type("Bridge", col).key().isStrongRef()) db.deleteRow((UUID) o);
            }
        }
        db.deleteRow(b);
        db.removeFromSet(db.ovsRow, "bridges", b);
    }

    void listBr(Command c) {
        for (String n : bridges.sortedNames(bridges.all())) c.out().append(n).append('\n');
    }

    /** Exit status 2, no message, when the bridge is missing. */
    void brExists(Command c) throws VsctlException {
        if (bridges.find(c.args().get(0)) == null) throw new VsctlException(null, 2);
    }

    void addPort(Command c) throws VsctlException {
        List<String> a = c.args();
        String brName = a.get(0);
        String name = a.get(1);
        UUID b = bridges.findOrDie(brName);
        UUID[] bp = bridges.findPort(name);
        if (c.has("--may-exist") && bp != null) {
            if (!bp[0].equals(b)) {
                throw new VsctlException("\"--may-exist add-port " + brName + " " + name + "\" but " + name
                        + " is actually attached to bridge " + db.str(bp[0], "name"));
            }
            return;
        }
        if (bridges.find(name) != null) {
            throw new VsctlException("cannot create a port named " + name + " because a bridge named " + name + " already exists");
        }
        if (bp != null) {
            throw new VsctlException("cannot create a port named " + name + " because a port named " + name
                    + " already exists on bridge " + db.str(bp[0], "name"));
        }
        UUID[] bpi = bridges.findIface(name);
        if (bpi != null) {
            throw new VsctlException("cannot create an interface named " + name + " because a port named "
                    + db.str(bpi[1], "name") + " already exists on bridge " + db.str(bpi[0], "name"));
        }
        UUID iface = db.insertRow("Interface");
        db.setString(iface, "name", name);
        UUID port = db.insertRow("Port");
        db.setString(port, "name", name);
        db.put(port, "interfaces", Datum.atom(iface));
        for (String setting : a.subList(2, a.size())) columns.set("Port", port, setting);
        db.addToSet(b, "ports", port);
    }

    void delPort(Command c) throws VsctlException {
        List<String> a = c.args();
        String target = a.get(a.size() - 1);
        UUID b = a.size() == 2 ? bridges.findOrDie(a.get(0)) : null;
        if (bridges.find(target) != null) {
            throw new VsctlException("cannot delete port " + target + " because it is the local port for bridge " + target
                    + " (deleting this port requires deleting the entire bridge)");
        }
        UUID[] bp = bridges.findPort(target);
        if (bp == null && c.has("--with-iface")) {
            UUID[] bpi = bridges.findIface(target);
            if (bpi != null) bp = new UUID[] {bpi[0], bpi[1]};
        }
        if (bp == null) {
            if (c.has("--if-exists")) return;
            throw new VsctlException("no port named " + target);
        }
        if (b != null && !bp[0].equals(b)) throw new VsctlException("bridge " + a.get(0) + " does not have a port " + target);
        for (UUID i : db.refs(bp[1], "interfaces")) db.deleteRow(i);
        db.deleteRow(bp[1]);
        db.removeFromSet(bp[0], "ports", bp[1]);
    }

    /** The bridge's own local port is not listed. */
    void listPorts(Command c) throws VsctlException {
        String br = c.args().get(0);
        UUID b = bridges.findOrDie(br);
        List<UUID> ps = new ArrayList<>();
        for (UUID p : db.refs(b, "ports")) if (db.row(p) != null && !br.equals(db.str(p, "name"))) ps.add(p);
        for (String n : bridges.sortedNames(ps)) c.out().append(n).append('\n');
    }

    /** The bridge's own local interface is not listed. */
    void listIfaces(Command c) throws VsctlException {
        String br = c.args().get(0);
        UUID b = bridges.findOrDie(br);
        List<UUID> is = new ArrayList<>();
        for (UUID p : db.refs(b, "ports")) {
            if (db.row(p) == null) continue;
            for (UUID i : db.refs(p, "interfaces")) if (db.row(i) != null && !br.equals(db.str(i, "name"))) is.add(i);
        }
        for (String n : bridges.sortedNames(is)) c.out().append(n).append('\n');
    }

    /** A bridge's local port does not count as a port here. */
    void portToBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        UUID[] bp = bridges.findPort(name);
        if (bp == null || bridges.find(name) != null) throw new VsctlException("no port named " + name);
        c.out().append(db.str(bp[0], "name")).append('\n');
    }

    void ifaceToBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        UUID[] bpi = bridges.findIface(name);
        if (bpi == null || bridges.find(name) != null) throw new VsctlException("no interface named " + name);
        c.out().append(db.str(bpi[0], "name")).append('\n');
    }
}
