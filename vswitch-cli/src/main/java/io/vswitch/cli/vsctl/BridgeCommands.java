package io.vswitch.cli.vsctl;

import io.vswitch.cli.vsctl.Bridges.Br;
import io.vswitch.cli.vsctl.Bridges.IfaceEntry;
import io.vswitch.cli.vsctl.Bridges.PortEntry;
import io.vswitch.ovsdb.data.Datum;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * add-br, del-br, list-br, br-exists, br-to-vlan, br-to-parent, add-port, add-bond, del-port,
 * list-ports, list-ifaces, port-to-br, iface-to-br: ovs-vsctl's bridge commands, fake (VLAN) bridges
 * included (see {@link Bridges}).
 */
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
        if (name.isEmpty()) throw new VsctlException("bridge name must not be empty string");
        if (a.size() == 2) throw new VsctlException("'add-br' command takes exactly 1 or 3 arguments");
        String parentName = a.size() == 3 ? a.get(1) : null;
        int vlan = parentName == null ? 0 : atoi(a.get(2));
        if (vlan < 0 || vlan > 4095) throw new VsctlException("add-br: vlan must be between 0 and 4095");
        Br existing = bridges.find(name);
        if (c.has("--may-exist") && existing != null) {
            mayExistBridge(c, existing, parentName, vlan);
            return;
        }
        bridges.checkConflicts(name, "cannot create a bridge named " + name);
        if (parentName == null) {
            UUID b = db.insertRow("Bridge");
            db.setString(b, "name", name);
            db.put(b, "ports", Datum.atom(internalPort(name)));
            db.addToSet(db.ovsRow, "bridges", b);
            return;
        }
        Bridges.View v = bridges.view();
        Br parent = v.bridges.get(parentName);
        if (parent != null && parent.fake()) throw new VsctlException("cannot create bridge with fake bridge as parent");
        if (parent == null) throw new VsctlException("parent bridge " + parentName + " does not exist");
        Br sibling = v.childForVlan(parent, vlan);
        if (sibling != null) {
            throw new VsctlException("bridge " + parentName + " already has a child VLAN bridge " + sibling.name() + " on VLAN " + vlan);
        }
        UUID port = internalPort(name);
        db.put(port, "fake_bridge", Datum.atom(true));
        db.put(port, "tag", Datum.atom((long) vlan));
        db.addToSet(parent.row(), "ports", port);
    }

    /** "--may-exist add-br": fine if the bridge is what was asked for, else say how it differs. */
    private static void mayExistBridge(Command c, Br b, String parentName, int vlan) throws VsctlException {
        String name = b.name();
        if (parentName == null) {
            if (b.fake()) throw new VsctlException("\"--may-exist add-br " + name + "\" but " + name + " is a VLAN bridge for VLAN " + b.vlan());
            return;
        }
        String asked = "\"--may-exist add-br " + name + " " + parentName + " " + vlan + "\" but " + name;
        if (!b.fake()) throw new VsctlException(asked + " is not a VLAN bridge");
        if (!b.parent().name().equals(parentName)) throw new VsctlException(asked + " has the wrong parent " + b.parent().name());
        if (b.vlan() != vlan) throw new VsctlException(asked + " is a VLAN bridge for the wrong VLAN " + b.vlan());
    }

    /** A bridge's own port: Port and internal Interface both named after the bridge. */
    private UUID internalPort(String name) {
        UUID iface = db.insertRow("Interface");
        db.setString(iface, "name", name);
        db.setString(iface, "type", "internal");
        UUID port = db.insertRow("Port");
        db.setString(port, "name", name);
        db.put(port, "interfaces", Datum.atom(iface));
        return port;
    }

    void delBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        Br b = bridges.find(name);
        if (b == null) {
            if (c.has("--if-exists")) return;
            throw new VsctlException("no bridge named " + name);
        }
        delete(bridges.view(), b);
    }

    /** Children first, then every port (the local one too), then the Bridge row of a real bridge. */
    private void delete(Bridges.View v, Br b) {
        for (Br child : v.children(b)) delete(v, child);
        for (PortEntry p : v.portsOf(b)) deletePort(p);
        if (b.fake()) return;
        for (String col : List.of("controller", "mirrors", "netflow", "sflow", "ipfix", "auto_attach")) {
            if (!db.type("Bridge", col).key().isStrongRef()) continue;
            for (Object o : db.get(b.row(), col).keys()) db.deleteRow((UUID) o);
        }
        db.deleteRow(b.row());
        db.removeFromSet(db.ovsRow, "bridges", b.row());
    }

    private void deletePort(PortEntry p) {
        if (db.row(p.port()) == null) return;
        for (UUID i : db.refs(p.port(), "interfaces")) db.deleteRow(i);
        db.deleteRow(p.port());
        db.removeFromSet(p.br().bridgeRow(), "ports", p.port());
    }

    /** --real and --fake filter; both or neither list all. */
    void listBr(Command c) {
        boolean real = c.has("--real") || !c.has("--fake");
        boolean fake = c.has("--fake") || !c.has("--real");
        List<String> names = new ArrayList<>();
        for (Br b : bridges.view().bridges.values()) if (b.fake() ? fake : real) names.add(b.name());
        names.sort(null);
        for (String n : names) c.out().append(n).append('\n');
    }

    /** Exit status 2, no message, when the bridge is missing. */
    void brExists(Command c) throws VsctlException {
        if (bridges.find(c.args().get(0)) == null) throw new VsctlException(null, 2);
    }

    void brToVlan(Command c) throws VsctlException {
        c.out().append(bridges.findOrDie(c.args().get(0)).vlan()).append('\n');
    }

    /** A real bridge is its own parent. */
    void brToParent(Command c) throws VsctlException {
        Br b = bridges.findOrDie(c.args().get(0));
        c.out().append(b.fake() ? b.parent().name() : b.name()).append('\n');
    }

    void addPort(Command c) throws VsctlException {
        List<String> a = c.args();
        addPort(c, a.get(0), a.get(1), List.of(a.get(1)), a.subList(2, a.size()), false);
    }

    /** add-bond BRIDGE PORT IFACE... [SETTING...]: settings start at the first argument with '='. */
    void addBond(Command c) throws VsctlException {
        List<String> a = c.args();
        int firstSetting = 2;
        while (firstSetting < a.size() && !a.get(firstSetting).contains("=")) firstSetting++;
        List<String> ifaces = a.subList(2, firstSetting);
        if (ifaces.size() < 2) {
            throw new VsctlException("add-bond requires at least 2 interfaces, but only " + ifaces.size() + " were specified");
        }
        addPort(c, a.get(0), a.get(1), ifaces, a.subList(firstSetting, a.size()), c.has("--fake-iface"));
    }

    private void addPort(Command c, String brName, String name, List<String> ifaceNames, List<String> settings,
                         boolean fakeIface) throws VsctlException {
        if (name.isEmpty()) throw new VsctlException("port name must not be empty string");
        for (String i : ifaceNames) if (i.isEmpty()) throw new VsctlException("interface name must not be empty string");
        if (c.has("--may-exist")) {
            PortEntry p = bridges.findPort(name);
            if (p != null) {
                if (!p.br().name().equals(brName)) {
                    throw new VsctlException("\"" + c.line() + "\" but " + name + " is actually attached to bridge " + p.br().name());
                }
                List<String> want = new ArrayList<>(ifaceNames);
                want.sort(null);
                List<String> have = bridges.sortedNames(db.refs(p.port(), "interfaces").stream().filter(i -> db.row(i) != null).toList());
                if (!want.equals(have)) {
                    throw new VsctlException("\"" + c.line() + "\" but " + name + " actually has interface(s) " + String.join(", ", have));
                }
                return;
            }
        }
        bridges.checkConflicts(name, "cannot create a port named " + name);
        for (String i : ifaceNames) bridges.checkConflicts(i, "cannot create an interface named " + i);
        Br b = bridges.findOrDie(brName);
        Map<Object, Object> ifaces = new LinkedHashMap<>();
        for (String i : ifaceNames) {
            UUID iface = db.insertRow("Interface");
            db.setString(iface, "name", i);
            ifaces.put(iface, null);
        }
        UUID port = db.insertRow("Port");
        db.setString(port, "name", name);
        db.put(port, "interfaces", Datum.of(db.type("Port", "interfaces"), ifaces));
        db.put(port, "bond_fake_iface", Datum.atom(fakeIface));
        if (b.fake()) db.put(port, "tag", Datum.atom((long) b.vlan()));
        for (String setting : settings) columns.set("Port", port, setting);
        db.addToSet(b.bridgeRow(), "ports", port);
    }

    void delPort(Command c) throws VsctlException {
        List<String> a = c.args();
        String target = a.get(a.size() - 1);
        boolean mustExist = !c.has("--if-exists");
        if (bridges.find(target) != null) {
            if (!mustExist) return;
            throw new VsctlException("cannot delete port " + target + " because it is the local port for bridge " + target
                    + " (deleting this port requires deleting the entire bridge)");
        }
        PortEntry p = bridges.findPort(target);
        if (p == null && c.has("--with-iface")) {
            IfaceEntry i = bridges.findIface(target);
            if (i != null) p = new PortEntry(i.br(), i.port());
        }
        if (p == null) {
            if (!mustExist) return;
            throw new VsctlException(c.has("--with-iface") ? "no port or interface named " + target : "no port named " + target);
        }
        if (a.size() == 2) {
            Br named = bridges.findOrDie(a.get(0));
            if (!p.br().equals(named)) {
                if (p.br().parent() != null && p.br().parent().equals(named)) {
                    throw new VsctlException("bridge " + a.get(0) + " does not have a port " + target
                            + " (although its child bridge " + p.br().name() + " does)");
                }
                throw new VsctlException("bridge " + a.get(0) + " does not have a port " + target);
            }
        }
        deletePort(p);
    }

    /** The bridge's own local port is not listed. */
    void listPorts(Command c) throws VsctlException {
        Br b = bridges.findOrDie(c.args().get(0));
        List<String> names = new ArrayList<>();
        for (PortEntry p : bridges.view().portsOf(b)) {
            String n = db.str(p.port(), "name");
            if (!n.equals(b.name())) names.add(n);
        }
        names.sort(null);
        for (String n : names) c.out().append(n).append('\n');
    }

    /** The bridge's own local interface is not listed. */
    void listIfaces(Command c) throws VsctlException {
        Br b = bridges.findOrDie(c.args().get(0));
        List<String> names = new ArrayList<>();
        for (PortEntry p : bridges.view().portsOf(b)) {
            for (UUID i : db.refs(p.port(), "interfaces")) {
                if (db.row(i) != null && !b.name().equals(db.str(i, "name"))) names.add(db.str(i, "name"));
            }
        }
        names.sort(null);
        for (String n : names) c.out().append(n).append('\n');
    }

    void portToBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        PortEntry p = bridges.findPort(name);
        if (p == null) throw new VsctlException("no port named " + name);
        c.out().append(p.br().name()).append('\n');
    }

    void ifaceToBr(Command c) throws VsctlException {
        String name = c.args().get(0);
        IfaceEntry i = bridges.findIface(name);
        if (i == null) throw new VsctlException("no interface named " + name);
        c.out().append(i.br().name()).append('\n');
    }

    /** C's atoi, which ovs-vsctl uses for the VLAN: leading digits count, anything else is 0. */
    static int atoi(String s) {
        String t = s.strip();
        int i = 0;
        boolean neg = false;
        if (i < t.length() && (t.charAt(i) == '-' || t.charAt(i) == '+')) neg = t.charAt(i++) == '-';
        long v = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i)) && v < Integer.MAX_VALUE) v = v * 10 + (t.charAt(i++) - '0');
        return (int) Math.min(Integer.MAX_VALUE, neg ? -v : v);
    }
}
