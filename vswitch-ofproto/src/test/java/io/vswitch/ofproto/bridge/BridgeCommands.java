package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.sys.NetDevice;
import io.vswitch.datapath.unixctl.UnixctlException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.server.OvsdbServer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Test fixture that drives the bridge reconciler the way a configuration tool does, without a CLI
 * process: {@code add-br}, {@code del-br}, {@code add-port}, {@code set-port}, {@code del-port},
 * {@code list-br}, {@code list-ports}, {@code set-config}, {@code set-br}, {@code show}, with ovs-vsctl's
 * names and messages, as transactions on the Open_vSwitch database (the same rows ovs-vsctl writes).
 * Users configure the switch with vsctl or ovs-vsctl; this class only exists for tests.
 *
 * <p>Each command bumps {@code next_cfg} and waits until the bridge reconciler has applied it
 * ({@code cur_cfg}), so it returns when the dataplane runs the change. A port the dataplane refuses is
 * taken out of the database again and the command fails with the dataplane's reason: nothing is left
 * half-configured. (ovs-vsctl itself keeps such a port and only reports {@code Interface.error}.)
 */
public final class BridgeCommands {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Set<String> BRIDGE_KEYS = Set.of("mac-aging-time", "mac-table-size");
    private static final Set<String> SWITCH_KEYS = Set.of("pmd-cpu-mask", "pmd-sleep-max");
    private static final long APPLY_TIMEOUT_MS = 15_000;

    private final OvsdbServer server;
    private final Reconciler reconciler;
    private final BridgeReconciler.DatapathSupplier datapath;

    public BridgeCommands(OvsdbServer server, Reconciler reconciler, BridgeReconciler.DatapathSupplier datapath) {
        this.server = server;
        this.reconciler = reconciler;
        this.datapath = datapath;
    }

    // ---- reading the database ----

    private <T> T read(java.util.function.Function<Database, T> f) throws UnixctlException {
        try {
            return server.call(f).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new UnixctlException("the database did not answer: " + e);
        }
    }

    private static Row byName(Database db, String table, String name) {
        for (Row r : db.rows(table).values()) if (r.get("name").equals(Datum.atom(name))) return r;
        return null;
    }

    /** The bridge that has a port of this name, or null. */
    private static Row bridgeOfPort(Database db, String port) {
        Row p = byName(db, "Port", port);
        if (p == null) return null;
        for (Row b : db.rows("Bridge").values()) if (b.get("ports").keys().contains(p.uuid())) return b;
        return null;
    }

    private static String name(Row r) {
        return (String) r.get("name").key(0);
    }

    // ---- commands ----

    String addBridge(String name, List<String> settings) throws UnixctlException {
        checkName(name, "bridge");
        Map<String, String> other = keyValues(settings, BRIDGE_KEYS);
        String conflict = read(db -> byName(db, "Bridge", name) != null
                ? "cannot create a bridge named " + name + " because a bridge named " + name + " already exists"
                : bridgeOfPort(db, name) != null ? "cannot create a bridge named " + name + " because a port named " + name
                  + " already exists on bridge " + name(bridgeOfPort(db, name)) : null);
        if (conflict != null) throw new UnixctlException(conflict);
        ArrayNode ops = F.arrayNode();
        ops.add(insert("Interface", "iface", F.objectNode().put("name", name).put("type", "internal")));
        ops.add(insert("Port", "port", F.objectNode().put("name", name).set("interfaces", named("iface"))));
        ObjectNode bridge = F.objectNode().put("name", name);
        bridge.set("ports", named("port"));
        if (!other.isEmpty()) bridge.set("other_config", map(other));
        ops.add(insert("Bridge", "bridge", bridge));
        ops.add(mutate("Open_vSwitch", null, "bridges", "insert", F.arrayNode().add("set").add(F.arrayNode().add(named("bridge")))));
        apply(ops, name);
        return "";
    }

    String setBridge(String name, List<String> settings) throws UnixctlException {
        Map<String, String> changes = keyValues(settings, BRIDGE_KEYS);
        Row bridge = read(db -> byName(db, "Bridge", name));
        if (bridge == null) throw new UnixctlException("no bridge named " + name);
        apply(F.arrayNode().add(updateMap("Bridge", bridge, "other_config", changes)), null);
        return "";
    }

    String deleteBridge(String name) throws UnixctlException {
        Row bridge = read(db -> byName(db, "Bridge", name));
        if (bridge == null) throw new UnixctlException("no bridge named " + name);
        apply(F.arrayNode().add(mutate("Open_vSwitch", null, "bridges", "delete", uuidSet(bridge.uuid()))), null);
        return "";
    }

    String addPort(String bridgeName, String port, List<String> settings) throws UnixctlException {
        checkName(port, "port");
        ObjectNode iface = F.objectNode().put("name", port).put("type", "tap");
        ObjectNode portRow = F.objectNode().put("name", port);
        ObjectNode options = F.objectNode();
        PortVlan vlan = new PortVlan();
        for (String s : settings) {
            String[] kv = splitSetting(s);
            switch (kv[0]) {
                case "type" -> iface.put("type", kv[1]);
                case "ofport_request" -> iface.put("ofport_request", parseInt(kv[0], kv[1], 1, 65279));
                default -> {
                    if (kv[0].startsWith("options:")) options.put(kv[0].substring(8), kv[1]);
                    else vlan.set(kv[0], kv[1]);
                }
            }
        }
        vlan.validate();
        vlan.writeTo(portRow, false);
        if (!options.isEmpty()) {
            ArrayNode pairs = F.arrayNode();
            options.fields().forEachRemaining(e -> pairs.add(F.arrayNode().add(e.getKey()).add(e.getValue())));
            iface.set("options", F.arrayNode().add("map").add(pairs));
        }
        Row bridge;
        String conflict;
        int requested = iface.path("ofport_request").asInt(0);
        bridge = read(db -> byName(db, "Bridge", bridgeName));
        if (bridge == null) throw new UnixctlException("no bridge named " + bridgeName);
        conflict = read(db -> {
            Row owner = bridgeOfPort(db, port);
            if (owner != null) return "cannot create a port named " + port + " because a port named " + port + " already exists on bridge " + name(owner);
            if (byName(db, "Bridge", port) != null) return "cannot create a port named " + port + " because a bridge named " + port + " already exists";
            if (requested > 0) {
                Datum n = Datum.atom((long) requested);
                for (Object pu : bridge.get("ports").keys()) {
                    Row p = db.rows("Port").get((UUID) pu);
                    if (p == null) continue;
                    for (Object iu : p.get("interfaces").keys()) {
                        Row i = db.rows("Interface").get((UUID) iu);
                        if (i != null && (i.get("ofport_request").equals(n) || i.get("ofport").equals(n))) {
                            return "ofport_request " + requested + " is already used by port " + name(i);
                        }
                    }
                }
            }
            return null;
        });
        if (conflict != null) throw new UnixctlException(conflict);
        portRow.set("interfaces", named("iface"));
        ArrayNode ops = F.arrayNode();
        ops.add(insert("Interface", "iface", iface));
        ops.add(insert("Port", "port", portRow));
        ops.add(mutate("Bridge", bridge.uuid(), "ports", "insert", F.arrayNode().add("set").add(F.arrayNode().add(named("port")))));
        apply(ops, port);
        return "";
    }

    String setPort(String port, List<String> settings) throws UnixctlException {
        Row row = read(db -> byName(db, "Port", port));
        if (row == null) throw new UnixctlException("no port named " + port);
        PortVlan vlan = PortVlan.of(row);
        for (String s : settings) {
            String[] kv = splitSetting(s);
            vlan.set(kv[0], kv[1]);
        }
        vlan.validate();
        ObjectNode update = F.objectNode();
        vlan.writeTo(update, true);
        apply(F.arrayNode().add(BridgeReconciler.update("Port", row.uuid(), update)), null);   // an existing error is not this command's
        return "";
    }

    String deletePort(String bridgeName, String port) throws UnixctlException {
        Row[] found = read(db -> new Row[] {byName(db, "Port", port), bridgeOfPort(db, port)});
        if (found[0] == null || found[1] == null) throw new UnixctlException("no port named " + port);
        String owner = name(found[1]);
        if (bridgeName != null && !bridgeName.equals(owner)) {
            throw new UnixctlException("bridge " + bridgeName + " does not have a port " + port + " (although its parent bridge " + owner + " does)");
        }
        if (port.equals(owner)) {
            throw new UnixctlException("cannot delete port " + port + " because it is the local port for bridge " + owner
                    + " (deleting this port requires deleting the entire bridge)");
        }
        apply(F.arrayNode().add(mutate("Bridge", found[1].uuid(), "ports", "delete", uuidSet(found[0].uuid()))), null);
        return "";
    }

    String setConfig(List<String> settings) throws UnixctlException {
        Map<String, String> changes = keyValues(settings, SWITCH_KEYS);
        Row root = read(OvsdbConfig::root);
        String refusal = applyOrRefusal(F.arrayNode().add(updateMap("Open_vSwitch", root, "other_config", changes)), Reconciler.OTHER_CONFIG);
        if (refusal != null) {
            // Refused by the dataplane: put back the previous values of the keys this command changed.
            Map<String, String> previous = new TreeMap<>();
            for (String k : changes.keySet()) previous.put(k, "");
            for (Object[] kv : root.get("other_config").entries()) if (changes.containsKey(kv[0])) previous.put((String) kv[0], (String) kv[1]);
            commitAndWait(F.arrayNode().add(updateMap("Open_vSwitch", root, "other_config", previous)));
            throw new UnixctlException(refusal);
        }
        return "";
    }

    String listBridges() throws UnixctlException {
        return String.join("", read(db -> OvsdbConfig.names(db, "Bridge")).stream().map(n -> n + "\n").toList());
    }

    String listPorts(String bridgeName) throws UnixctlException {
        List<String> ports = read(db -> {
            Row b = byName(db, "Bridge", bridgeName);
            if (b == null) return null;
            List<String> out = new ArrayList<>();
            for (Object u : b.get("ports").keys()) {
                Row p = db.rows("Port").get((UUID) u);
                if (p != null && !name(p).equals(bridgeName)) out.add(name(p));
            }
            out.sort(null);
            return out;
        });
        if (ports == null) throw new UnixctlException("no bridge named " + bridgeName);
        return String.join("", ports.stream().map(n -> n + "\n").toList());
    }

    /** Like {@code ovs-vsctl show}: the root row's UUID, then bridges, ports and interfaces. */
    String show() throws UnixctlException {
        return read(db -> {
            StringBuilder sb = new StringBuilder();
            Row root = OvsdbConfig.root(db);
            if (root == null) return "";
            sb.append(root.uuid()).append('\n');
            TreeMap<String, Row> bridges = new TreeMap<>();
            for (Object u : root.get("bridges").keys()) {
                Row b = db.rows("Bridge").get((UUID) u);
                if (b != null) bridges.put(name(b), b);
            }
            for (Row b : bridges.values()) {
                sb.append("    Bridge ").append(name(b)).append('\n');
                sb.append("        datapath_type: netdev\n");
                TreeMap<String, Row> ports = new TreeMap<>();
                for (Object u : b.get("ports").keys()) {
                    Row p = db.rows("Port").get((UUID) u);
                    if (p != null) ports.put(name(p), p);
                }
                for (Row p : ports.values()) {
                    sb.append("        Port ").append(name(p)).append('\n');
                    if (p.get("tag").size() > 0) sb.append("            tag: ").append(p.get("tag")).append('\n');
                    if (p.get("trunks").size() > 0) {
                        sb.append("            trunks: [").append(String.join(", ", p.get("trunks").keys().stream().map(String::valueOf).toList())).append("]\n");
                    }
                    if (p.get("vlan_mode").size() > 0) sb.append("            vlan_mode: ").append(p.get("vlan_mode").key(0)).append('\n');
                    for (Object iu : p.get("interfaces").keys()) {
                        Row i = db.rows("Interface").get((UUID) iu);
                        if (i == null) continue;
                        sb.append("            Interface ").append(name(i)).append('\n');
                        String type = (String) i.get("type").key(0);
                        if (!type.isEmpty()) sb.append("                type: ").append(type).append('\n');
                        if (i.get("options").size() > 0) sb.append("                options: ").append(ovsMap(i.get("options"))).append('\n');
                        if (i.get("error").size() > 0) sb.append("                error: \"").append(i.get("error").key(0)).append("\"\n");
                    }
                }
            }
            return sb.toString();
        });
    }

    /** A string map as ovs-vsctl prints it: {k=v, k2="v 2"} — quotes only where a value needs them. */
    static String ovsMap(Datum d) {
        StringBuilder sb = new StringBuilder("{");
        for (Object[] kv : d.entries()) {
            if (sb.length() > 1) sb.append(", ");
            sb.append(ovsString((String) kv[0])).append('=').append(ovsString((String) kv[1]));
        }
        return sb.append('}').toString();
    }

    private static String ovsString(String s) {
        return s.matches("[A-Za-z_][A-Za-z0-9_.:/-]*") ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    // ---- applying ----

    /**
     * Commits {@code ops} with next_cfg += 1 and waits until the reconciler applied it. If
     * {@code subject} (a port name, or {@link Reconciler#OTHER_CONFIG}) then has an error, the
     * change is undone and the error reported.
     */
    private void apply(ArrayNode ops, String subject) throws UnixctlException {
        String refusal = applyOrRefusal(ops, subject);
        if (refusal != null) throw new UnixctlException(refusal);
    }

    /**
     * Like {@link #apply}, but returns the dataplane's refusal of {@code subject} instead of throwing
     * it (a refused port has already been taken out again); throws for every other failure.
     */
    private String applyOrRefusal(ArrayNode ops, String subject) throws UnixctlException {
        try {
            datapath.get();
        } catch (DatapathException e) {
            throw new UnixctlException(e.getMessage());
        }
        commitAndWait(ops);
        String error = subject == null ? null : subjectError(subject);
        if (error != null && !subject.equals(Reconciler.OTHER_CONFIG)) undo(subject);
        return error;
    }

    /** Commits {@code ops} with next_cfg += 1 and returns once the reconciler has applied them. */
    private void commitAndWait(ArrayNode ops) throws UnixctlException {
        Row root = read(OvsdbConfig::root);
        if (root == null) throw new UnixctlException("the database has no Open_vSwitch row");
        ArrayNode txn = ops.deepCopy();
        txn.add(F.objectNode().put("op", "mutate").put("table", "Open_vSwitch").<ObjectNode>set("where", F.arrayNode())
                .set("mutations", F.arrayNode().add(F.arrayNode().add("next_cfg").add("+=").add(1))));
        txn.add(F.objectNode().put("op", "select").put("table", "Open_vSwitch").<ObjectNode>set("where", F.arrayNode())
                .set("columns", F.arrayNode().add("next_cfg")));
        JsonNode result = transact(txn);
        waitApplied(result.get(result.size() - 1).path("rows").path(0).path("next_cfg").asLong());
    }

    private JsonNode transact(ArrayNode ops) throws UnixctlException {
        JsonNode result;
        try {
            result = server.transact(ops).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new UnixctlException("the database did not answer: " + e);
        }
        for (JsonNode r : result) {
            if (r.has("error")) throw new UnixctlException(r.path("details").asText(r.get("error").asText()));
        }
        return result;
    }

    private void waitApplied(long nextCfg) throws UnixctlException {
        long deadline = System.currentTimeMillis() + APPLY_TIMEOUT_MS;
        while (true) {
            long cur = read(db -> {
                Row r = OvsdbConfig.root(db);
                return r == null || r.get("cur_cfg").size() == 0 ? 0L : (Long) r.get("cur_cfg").key(0);
            });
            if (cur >= nextCfg) return;
            if (System.currentTimeMillis() > deadline) {
                throw new UnixctlException("the change was saved but the dataplane did not apply it within "
                        + APPLY_TIMEOUT_MS / 1000 + " s (is vswitch-dp running? bin/vswitch status)");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnixctlException("interrupted");
            }
        }
    }

    private String subjectError(String subject) throws UnixctlException {
        if (subject.equals(Reconciler.OTHER_CONFIG)) return reconciler.portErrors().get(Reconciler.OTHER_CONFIG);
        return read(db -> {
            Row i = byName(db, "Interface", subject);
            return i != null && i.get("error").size() > 0 ? (String) i.get("error").key(0) : null;
        });
    }

    /** Takes a refused port (or a bridge whose local port was refused) out again, and waits until the dataplane has too. */
    private void undo(String port) throws UnixctlException {
        Row[] found = read(db -> new Row[] {byName(db, "Port", port), bridgeOfPort(db, port)});
        if (found[0] == null || found[1] == null) return;
        ArrayNode ops = F.arrayNode();
        if (port.equals(name(found[1]))) {
            ops.add(mutate("Open_vSwitch", null, "bridges", "delete", uuidSet(found[1].uuid())));
        } else {
            ops.add(mutate("Bridge", found[1].uuid(), "ports", "delete", uuidSet(found[0].uuid())));
        }
        commitAndWait(ops);
    }

    // ---- JSON helpers ----

    private static ObjectNode insert(String table, String uuidName, ObjectNode row) {
        return F.objectNode().put("op", "insert").put("table", table).put("uuid-name", uuidName).set("row", row);
    }

    private static ArrayNode named(String name) {
        return F.arrayNode().add("named-uuid").add(name);
    }

    private static ArrayNode uuidSet(UUID u) {
        return F.arrayNode().add("set").add(F.arrayNode().add(F.arrayNode().add("uuid").add(u.toString())));
    }

    private static ArrayNode map(Map<String, String> m) {
        ArrayNode pairs = F.arrayNode();
        m.forEach((k, v) -> pairs.add(F.arrayNode().add(k).add(v)));
        return F.arrayNode().add("map").add(pairs);
    }

    private static ObjectNode mutate(String table, UUID uuid, String column, String mutator, JsonNode value) {
        ObjectNode op = F.objectNode().put("op", "mutate").put("table", table);
        op.set("where", uuid == null ? F.arrayNode()
                : F.arrayNode().add(F.arrayNode().add("_uuid").add("==").add(F.arrayNode().add("uuid").add(uuid.toString()))));
        op.set("mutations", F.arrayNode().add(F.arrayNode().add(column).add(mutator).add(value)));
        return op;
    }

    /**
     * Sets or (empty value) removes keys of a string map column with a mutate (delete those keys,
     * insert the new pairs), so concurrent edits of other keys (e.g. by ovs-vsctl) are not lost.
     */
    private static ObjectNode updateMap(String table, Row row, String column, Map<String, String> changes) {
        ArrayNode keys = F.arrayNode();
        ArrayNode pairs = F.arrayNode();
        changes.forEach((k, v) -> {
            keys.add(k);
            if (!v.isEmpty()) pairs.add(F.arrayNode().add(k).add(v));
        });
        ObjectNode op = F.objectNode().put("op", "mutate").put("table", table);
        op.set("where", F.arrayNode().add(F.arrayNode().add("_uuid").add("==").add(F.arrayNode().add("uuid").add(row.uuid().toString()))));
        op.set("mutations", F.arrayNode()
                .add(F.arrayNode().add(column).add("delete").add(F.arrayNode().add("set").add(keys)))
                .add(F.arrayNode().add(column).add("insert").add(F.arrayNode().add("map").add(pairs))));
        return op;
    }

    // ---- validation ----

    /** A port's VLAN columns while a command edits them. */
    private static final class PortVlan {
        int tag = -1;
        String trunks;
        String mode;

        static PortVlan of(Row port) {
            PortVlan v = new PortVlan();
            if (port.get("tag").size() == 1) v.tag = (int) (long) (Long) port.get("tag").key(0);
            if (port.get("trunks").size() > 0) v.trunks = String.join(",", port.get("trunks").keys().stream().map(String::valueOf).toList());
            if (port.get("vlan_mode").size() == 1) v.mode = (String) port.get("vlan_mode").key(0);
            return v;
        }

        void set(String key, String value) throws UnixctlException {
            switch (key) {
                case "tag" -> tag = value.isEmpty() ? -1 : parseInt("tag", value, 0, 4095);
                case "trunks" -> {
                    try {
                        String normal = VlanPolicy.formatTrunks(VlanPolicy.parseTrunks(value));
                        trunks = normal.isEmpty() ? null : normal;
                    } catch (IllegalArgumentException e) {
                        throw new UnixctlException(e.getMessage());
                    }
                }
                case "vlan_mode" -> {
                    try {
                        if (!value.isEmpty()) VlanPolicy.Mode.parse(value);
                    } catch (IllegalArgumentException e) {
                        throw new UnixctlException(e.getMessage());
                    }
                    mode = value.isEmpty() ? null : value;
                }
                default -> throw new UnixctlException("unknown setting '" + key + "': use type, tag, trunks, vlan_mode, ofport_request or options:KEY");
            }
        }

        void validate() throws UnixctlException {
            try {
                new VlanPolicy(mode == null ? null : VlanPolicy.Mode.parse(mode), tag, VlanPolicy.parseTrunks(trunks == null ? "" : trunks));
            } catch (IllegalArgumentException e) {
                throw new UnixctlException(e.getMessage());
            }
        }

        /** Writes the columns; with {@code clear}, unset ones are written as empty sets. */
        void writeTo(ObjectNode row, boolean clear) {
            ArrayNode empty = F.arrayNode().add("set").add(F.arrayNode());
            if (tag >= 0) row.put("tag", tag); else if (clear) row.set("tag", empty.deepCopy());
            if (trunks != null) {
                ArrayNode t = F.arrayNode();
                for (String v : trunks.split(",")) t.add(Long.parseLong(v));
                row.set("trunks", F.arrayNode().add("set").add(t));
            } else if (clear) {
                row.set("trunks", empty.deepCopy());
            }
            if (mode != null) row.put("vlan_mode", mode); else if (clear) row.set("vlan_mode", empty.deepCopy());
        }
    }

    private static void checkName(String name, String what) throws UnixctlException {
        try {
            NetDevice.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new UnixctlException("invalid " + what + " name '" + name + "': use 1-15 printable characters without '/', ':' or spaces");
        }
    }

    private static String[] splitSetting(String s) throws UnixctlException {
        int eq = s.indexOf('=');
        if (eq <= 0) throw new UnixctlException("'" + s + "' is not KEY=VALUE");
        return new String[] {s.substring(0, eq), s.substring(eq + 1)};
    }

    private static Map<String, String> keyValues(List<String> settings, Set<String> allowed) throws UnixctlException {
        Map<String, String> m = new TreeMap<>();
        for (String s : settings) {
            String[] kv = splitSetting(s);
            String k = kv[0].startsWith("other_config:") ? kv[0].substring(13) : kv[0];
            if (!allowed.contains(k)) throw new UnixctlException("unknown key '" + kv[0] + "': use one of " + String.join(", ", new TreeSet<>(allowed)));
            if (!kv[1].isEmpty() && !k.equals("pmd-cpu-mask")) {
                // The dataplane's limits, so a bad value is refused here rather than left in the database.
                switch (k) {
                    case "mac-table-size" -> parseInt(k, kv[1], 1, 1_000_000);
                    case "mac-aging-time" -> parseInt(k, kv[1], 0, 1_000_000);
                    case "pmd-sleep-max" -> parseInt(k, kv[1], 0, 10_000);
                    default -> parseInt(k, kv[1], 0, Integer.MAX_VALUE);
                }
            }
            m.put(k, kv[1]);
        }
        return m;
    }

    private static int parseInt(String what, String v, int min, int max) throws UnixctlException {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new UnixctlException("invalid " + what + " '" + v + "': use a number from " + min + " to " + max);
        }
    }
}
