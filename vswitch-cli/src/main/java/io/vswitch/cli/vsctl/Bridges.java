package io.vswitch.cli.vsctl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The bridges, ports and interfaces as ovs-vsctl sees them, fake (VLAN) bridges included.
 *
 * <p>A fake bridge is a Port with {@code fake_bridge=true} and a {@code tag} from 0 to 4095 on a real
 * bridge (its parent): a name that tools can treat as a bridge of its own for one VLAN. Every port of
 * the parent tagged with that VLAN belongs to the fake bridge, its own Port included. A port or
 * interface named like the bridge it belongs to is that bridge's local port: port and interface
 * lookups do not see it, and listings leave it out.
 *
 * <p>The view is rebuilt from the snapshot on each use, so a command sees what earlier commands of the
 * same invocation changed (ovs-vsctl invalidates its cache after every change for the same reason).
 */
final class Bridges {
    /** A real bridge ({@code row} is its Bridge row, vlan 0) or a fake one ({@code row} is its Port row). */
    record Br(String name, UUID row, Br parent, int vlan) {
        boolean fake() {
            return parent != null;
        }

        /** The Bridge row whose {@code ports} hold this bridge's ports. */
        UUID bridgeRow() {
            return fake() ? parent.row : row;
        }
    }

    record PortEntry(Br br, UUID port) {}

    record IfaceEntry(Br br, UUID port, UUID iface) {}

    /** One build of the tree. Names map to the first row seen; duplicates are ignored, as ovs-vsctl does. */
    static final class View {
        final Map<String, Br> bridges = new LinkedHashMap<>();
        final Map<String, PortEntry> ports = new LinkedHashMap<>();
        final Map<String, IfaceEntry> ifaces = new LinkedHashMap<>();
        private final Map<Br, Map<Integer, Br>> vlanChildren = new HashMap<>();

        List<Br> children(Br parent) {
            return bridges.values().stream().filter(b -> parent.equals(b.parent())).toList();
        }

        Br childForVlan(Br parent, int vlan) {
            return vlanChildren.getOrDefault(parent, Map.of()).get(vlan);
        }

        /** The bridge's ports, its local port included. */
        List<PortEntry> portsOf(Br br) {
            return ports.values().stream().filter(p -> p.br().equals(br)).toList();
        }
    }

    private final Snapshot db;

    Bridges(Snapshot db) {
        this.db = db;
    }

    View view() {
        View v = new View();
        List<UUID> real = db.refs(db.ovsRow, "bridges").stream().filter(b -> db.row(b) != null).toList();
        Set<String> seenPorts = new HashSet<>();
        for (UUID b : real) {
            String name = db.str(b, "name");
            if (v.bridges.containsKey(name)) continue;
            Br br = new Br(name, b, null, 0);
            v.bridges.put(name, br);
            for (UUID p : livePorts(b)) {
                String pn = db.str(p, "name");
                if (!seenPorts.add(pn)) continue;
                int vlan = fakeBridgeVlan(p);
                if (vlan >= 0 && !v.bridges.containsKey(pn)) {
                    Br fake = new Br(pn, p, br, vlan);
                    v.bridges.put(pn, fake);
                    v.vlanChildren.computeIfAbsent(br, k -> new HashMap<>()).putIfAbsent(vlan, fake);
                }
            }
        }
        Set<String> seenBridges = new HashSet<>();
        for (UUID b : real) {
            String name = db.str(b, "name");
            if (!seenBridges.add(name)) continue;
            Br br = v.bridges.get(name);
            for (UUID p : livePorts(b)) {
                String pn = db.str(p, "name");
                if (v.ports.containsKey(pn)) continue;
                if (fakeBridgeVlan(p) >= 0 && !seenBridges.add(pn)) continue;
                long tag = tag(p);
                Br owner = tag >= 0 && tag <= 4095 && v.childForVlan(br, (int) tag) != null ? v.childForVlan(br, (int) tag) : br;
                v.ports.put(pn, new PortEntry(owner, p));
                for (UUID i : db.refs(p, "interfaces")) {
                    if (db.row(i) != null) v.ifaces.putIfAbsent(db.str(i, "name"), new IfaceEntry(owner, p, i));
                }
            }
        }
        return v;
    }

    private List<UUID> livePorts(UUID bridge) {
        return db.refs(bridge, "ports").stream().filter(p -> db.row(p) != null).toList();
    }

    private long tag(UUID port) {
        var t = db.get(port, "tag");
        return t.size() == 1 ? (Long) t.key(0) : -1;
    }

    /** The VLAN of a fake-bridge Port, or -1 if the Port is an ordinary one. */
    private int fakeBridgeVlan(UUID port) {
        var f = db.get(port, "fake_bridge");
        long tag = tag(port);
        return f.size() == 1 && Boolean.TRUE.equals(f.key(0)) && tag >= 0 && tag <= 4095 ? (int) tag : -1;
    }

    Br find(String name) {
        return view().bridges.get(name);
    }

    Br findOrDie(String name) throws VsctlException {
        Br b = find(name);
        if (b == null) throw new VsctlException("no bridge named " + name);
        return b;
    }

    /** For commands that only apply to real bridges (controllers, fail mode). */
    Br findRealOrDie(String name) throws VsctlException {
        Br b = findOrDie(name);
        if (b.fake()) throw new VsctlException(name + " is a fake bridge");
        return b;
    }

    /** A port by name, or null; a bridge's local port is not found. */
    PortEntry findPort(String name) {
        PortEntry p = view().ports.get(name);
        return p == null || p.br().name().equals(name) ? null : p;
    }

    /** An interface by name, or null; a bridge's local interface is not found. */
    IfaceEntry findIface(String name) {
        IfaceEntry i = view().ifaces.get(name);
        return i == null || i.br().name().equals(name) ? null : i;
    }

    /** ovs-vsctl's check before creating a port or interface named {@code name}. */
    void checkConflicts(String name, String what) throws VsctlException {
        View v = view();
        if (v.bridges.containsKey(name)) {
            throw new VsctlException(what + " because a bridge named " + name + " already exists");
        }
        PortEntry p = v.ports.get(name);
        if (p != null) {
            throw new VsctlException(what + " because a port named " + name + " already exists on bridge " + p.br().name());
        }
        IfaceEntry i = v.ifaces.get(name);
        if (i != null) {
            throw new VsctlException(what + " because an interface named " + name + " already exists on bridge " + i.br().name());
        }
    }

    List<String> sortedNames(List<UUID> us) {
        List<String> l = new ArrayList<>();
        for (UUID u : us) l.add(db.str(u, "name"));
        l.sort(null);
        return l;
    }
}
