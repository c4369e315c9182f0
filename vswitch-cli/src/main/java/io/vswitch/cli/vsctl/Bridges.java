package io.vswitch.cli.vsctl;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The bridge → port → interface tree as seen from the Open_vSwitch row, skipping dangling refs. */
final class Bridges {
    private final Snapshot db;

    Bridges(Snapshot db) {
        this.db = db;
    }

    List<UUID> all() {
        return db.refs(db.ovsRow, "bridges").stream().filter(b -> db.row(b) != null).toList();
    }

    UUID find(String name) {
        for (UUID b : all()) if (name.equals(db.str(b, "name"))) return b;
        return null;
    }

    UUID findOrDie(String name) throws VsctlException {
        UUID b = find(name);
        if (b == null) throw new VsctlException("no bridge named " + name);
        return b;
    }

    /** [bridge, port] pairs for every port of every bridge. */
    List<UUID[]> ports() {
        List<UUID[]> l = new ArrayList<>();
        for (UUID b : all()) for (UUID p : db.refs(b, "ports")) if (db.row(p) != null) l.add(new UUID[] {b, p});
        return l;
    }

    /** [bridge, port]. */
    UUID[] findPort(String name) {
        for (UUID[] bp : ports()) if (name.equals(db.str(bp[1], "name"))) return bp;
        return null;
    }

    /** [bridge, port, iface]. */
    UUID[] findIface(String name) {
        for (UUID[] bp : ports()) {
            for (UUID i : db.refs(bp[1], "interfaces")) {
                if (db.row(i) != null && name.equals(db.str(i, "name"))) return new UUID[] {bp[0], bp[1], i};
            }
        }
        return null;
    }

    List<String> sortedNames(List<UUID> us) {
        List<String> l = new ArrayList<>();
        for (UUID u : us) l.add(db.str(u, "name"));
        l.sort(null);
        return l;
    }
}
