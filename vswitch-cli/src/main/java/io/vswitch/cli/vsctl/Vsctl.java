package io.vswitch.cli.vsctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.ColumnSchema;
import io.vswitch.ovsdb.schema.ColumnType;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.schema.TableSchema;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/** vsctl: ovs-vsctl's syntax, output and exit codes, over our OVSDB JSON-RPC. */
public final class Vsctl {
    static final String DB = "Open_vSwitch";
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    public record Result(int rc, String out, String err) {}

    public static void main(String[] args) {
        Result r = run(args, System.getenv());
        System.out.print(r.out());
        System.out.flush();
        System.err.print(r.err());
        System.err.flush();
        System.exit(r.rc());
    }

    /** Runs one invocation; never exits the JVM. */
    public static Result run(String[] args, Map<String, String> env) {
        Vsctl v = new Vsctl(env);
        int rc;
        try {
            v.execute(args);
            rc = 0;
        } catch (VsctlException e) {
            if (e.getMessage() != null) v.err.append("vsctl: ").append(e.getMessage()).append('\n');
            rc = e.status;
            if (rc != 2 && rc != 142) v.out.setLength(0);
        } catch (JsonRpcClient.TimeoutException e) {
            v.err.append("vsctl: terminating with signal 14 (Alarm clock)\n");
            v.out.setLength(0);
            rc = 142;
        } catch (IOException e) {
            v.err.append("vsctl: ").append(v.db).append(": database connection failed (").append(e.getMessage()).append(")\n");
            v.out.setLength(0);
            rc = 1;
        }
        return new Result(rc, v.out.toString(), v.err.toString());
    }

    // ---- state ----
    private final Map<String, String> env;
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder err = new StringBuilder();
    String db;
    private boolean noWait;
    private long timeoutSecs;
    private String format = "list";
    private boolean bare;
    private boolean noHeadings;

    private DatabaseSchema schema;
    private final Map<String, LinkedHashMap<UUID, Map<String, Datum>>> rows = new HashMap<>();
    private final Set<UUID> inserted = new LinkedHashSet<>();
    private final Map<UUID, String> tableOf = new HashMap<>();
    private final Set<UUID> deleted = new LinkedHashSet<>();
    private final Map<UUID, Set<String>> modified = new LinkedHashMap<>();
    private final Map<String, UUID> symbols = new HashMap<>();
    private UUID ovsRow;

    private Vsctl(Map<String, String> env) {
        this.env = env;
    }

    record Command(List<String> opts, String name, List<String> args, StringBuilder out, List<UUID> created) {
        boolean has(String o) {
            return opts.contains(o);
        }

        String opt(String prefix) {
            for (String o : opts) if (o.startsWith(prefix + "=")) return o.substring(prefix.length() + 1);
            return null;
        }
    }

    record Spec(int min, int max, Set<String> options) {}

    static final Map<String, Spec> SPECS = new HashMap<>();

    static {
        Set<String> none = Set.of();
        SPECS.put("init", new Spec(0, 0, none));
        SPECS.put("show", new Spec(0, 0, none));
        SPECS.put("add-br", new Spec(1, 3, Set.of("--may-exist")));
        SPECS.put("del-br", new Spec(1, 1, Set.of("--if-exists")));
        SPECS.put("list-br", new Spec(0, 0, Set.of("--real", "--fake")));
        SPECS.put("br-exists", new Spec(1, 1, none));
        SPECS.put("add-port", new Spec(2, Integer.MAX_VALUE, Set.of("--may-exist")));
        SPECS.put("del-port", new Spec(1, 2, Set.of("--if-exists", "--with-iface")));
        SPECS.put("list-ports", new Spec(1, 1, none));
        SPECS.put("port-to-br", new Spec(1, 1, none));
        SPECS.put("list-ifaces", new Spec(1, 1, none));
        SPECS.put("iface-to-br", new Spec(1, 1, none));
        SPECS.put("get", new Spec(2, Integer.MAX_VALUE, Set.of("--if-exists", "--id")));
        SPECS.put("set", new Spec(3, Integer.MAX_VALUE, Set.of("--if-exists")));
        SPECS.put("list", new Spec(1, Integer.MAX_VALUE, Set.of("--if-exists", "--columns")));
        SPECS.put("find", new Spec(1, Integer.MAX_VALUE, Set.of("--columns")));
        SPECS.put("clear", new Spec(3, Integer.MAX_VALUE, Set.of("--if-exists")));
        SPECS.put("add", new Spec(4, Integer.MAX_VALUE, Set.of("--if-exists")));
        SPECS.put("remove", new Spec(4, Integer.MAX_VALUE, Set.of("--if-exists")));
        SPECS.put("create", new Spec(2, Integer.MAX_VALUE, Set.of("--id")));
        SPECS.put("destroy", new Spec(1, Integer.MAX_VALUE, Set.of("--if-exists", "--all")));
        SPECS.put("set-controller", new Spec(1, Integer.MAX_VALUE, none));
        SPECS.put("get-controller", new Spec(1, 1, none));
        SPECS.put("del-controller", new Spec(1, 1, none));
        SPECS.put("set-fail-mode", new Spec(2, 2, none));
        SPECS.put("get-fail-mode", new Spec(1, 1, none));
        SPECS.put("del-fail-mode", new Spec(1, 1, none));
        SPECS.put("set-manager", new Spec(0, Integer.MAX_VALUE, none));
        SPECS.put("get-manager", new Spec(0, 0, none));
        SPECS.put("del-manager", new Spec(0, 0, none));
    }

    // ---- options and command line ----

    private void execute(String[] argv) throws VsctlException, IOException, JsonRpcClient.TimeoutException {
        String rundir = env.getOrDefault("VSWITCH_RUNDIR", "run");
        db = env.containsKey("VSWITCH_DB") ? env.get("VSWITCH_DB") : "unix:" + rundir + "/db.sock";
        List<String> pending = new ArrayList<>();
        int i = 0;
        for (; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("-") || a.equals("--")) break;
            if (a.startsWith("--db=")) db = a.substring(5);
            else if (a.equals("--no-wait")) noWait = true;
            else if (a.startsWith("--timeout=")) timeoutSecs = parseTimeout(a.substring(10));
            else if (a.equals("-t") && i + 1 < argv.length) timeoutSecs = parseTimeout(argv[++i]);
            else if (a.startsWith("--format=")) format = a.substring(9);
            else if (a.equals("-f") && i + 1 < argv.length) format = argv[++i];
            else if (a.equals("--bare")) bare = true;
            else if (a.equals("--no-headings") || a.equals("-d")) noHeadings = true;
            else if (a.equals("--oneline") || a.equals("--dry-run") || a.startsWith("--retry") || a.equals("--no-syslog")
                    || a.startsWith("-v") || a.startsWith("--verbose")) continue;
            else pending.add(a);
        }
        if (!List.of("list", "table", "json", "csv", "html").contains(format)) {
            throw new VsctlException("unknown output format \"" + format + "\"");
        }
        if (bare) {
            format = "list";
            noHeadings = true;
        }
        List<Command> cmds = new ArrayList<>();
        List<String> opts = new ArrayList<>(pending);
        while (i < argv.length) {
            String a = argv[i];
            if (a.equals("--")) {
                i++;
                continue;
            }
            if (a.startsWith("--")) {
                opts.add(a);
                i++;
                continue;
            }
            int j = i + 1;
            while (j < argv.length && !argv[j].equals("--")) j++;
            List<String> args = List.of(Arrays.copyOfRange(argv, i + 1, j));
            Spec spec = SPECS.get(a);
            if (spec == null) throw new VsctlException("unknown command '" + a + "'; use --help for help");
            for (String o : opts) {
                String base = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
                if (!spec.options().contains(base)) {
                    throw new VsctlException("'" + a + "' command has no '" + base + "' option");
                }
            }
            if (args.size() < spec.min()) throw new VsctlException("'" + a + "' command requires at least " + spec.min() + " arguments");
            if (args.size() > spec.max()) throw new VsctlException("'" + a + "' command takes at most " + spec.max() + " arguments");
            cmds.add(new Command(List.copyOf(opts), a, args, new StringBuilder(), new ArrayList<>()));
            opts.clear();
            i = j;
        }
        if (!opts.isEmpty()) throw new VsctlException("missing command name (use --help for help)");
        if (cmds.isEmpty()) throw new VsctlException("missing command name (use --help for help)");

        long deadline = timeoutSecs > 0 ? System.nanoTime() + timeoutSecs * 1_000_000_000L : Long.MAX_VALUE;
        JsonRpcClient c;
        try {
            c = new JsonRpcClient(db, deadline);
        } catch (IOException e) {
            String m = e.getMessage();
            if (m == null || m.contains("No such file") || e instanceof java.nio.file.NoSuchFileException) m = "No such file or directory";
            else if (m.contains("refused")) m = "Connection refused";
            throw new IOException(m);
        }
        try (c) {
            schema = fetchSchema(c);
            load(c);
            if (ovsRow == null) {
                ovsRow = insertRow("Open_vSwitch");
            }
            for (Command cmd : cmds) dispatch(cmd);
            long nextCfg = commit(c, cmds);
            for (Command cmd : cmds) out.append(cmd.out());
            if (nextCfg >= 0) waitForCfg(c, nextCfg);
        }
    }

    private static long parseTimeout(String s) throws VsctlException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new VsctlException("value " + s + " on -t or --timeout is invalid");
        }
    }

    private DatabaseSchema fetchSchema(JsonRpcClient c) throws IOException, JsonRpcClient.TimeoutException {
        JsonNode s = c.call("get_schema", F.arrayNode().add(DB));
        try {
            return DatabaseSchema.parse(s);
        } catch (OvsdbException e) {
            throw new IOException("bad schema: " + e.getMessage());
        }
    }

    private void load(JsonRpcClient c) throws IOException, JsonRpcClient.TimeoutException {
        ArrayNode params = F.arrayNode().add(DB);
        List<String> names = new ArrayList<>(schema.tables().keySet());
        for (String t : names) {
            ObjectNode op = params.addObject();
            op.put("op", "select");
            op.put("table", t);
            op.putArray("where");
        }
        JsonNode res = c.call("transact", params);
        for (int k = 0; k < names.size(); k++) {
            String t = names.get(k);
            TableSchema ts = schema.tables().get(t);
            LinkedHashMap<UUID, Map<String, Datum>> m = new LinkedHashMap<>();
            rows.put(t, m);
            for (JsonNode r : res.get(k).path("rows")) {
                UUID u = UUID.fromString(r.get("_uuid").get(1).asText());
                Map<String, Datum> row = new HashMap<>();
                for (ColumnSchema cs : ts.columns().values()) {
                    JsonNode v = r.get(cs.name());
                    try {
                        row.put(cs.name(), v == null ? Datum.defaultValue(cs.type()) : Datum.parse(cs.type(), v, null));
                    } catch (OvsdbException e) {
                        throw new IOException("bad row: " + e.getMessage());
                    }
                }
                m.put(u, row);
                tableOf.put(u, t);
                if (t.equals("Open_vSwitch") && ovsRow == null) ovsRow = u;
            }
        }
    }

    // ---- row model ----

    private TableSchema table(String t) {
        return schema.tables().get(t);
    }

    private ColumnType type(String t, String col) {
        return table(t).columns().get(col).type();
    }

    private Map<String, Datum> row(UUID u) {
        String t = tableOf.get(u);
        return t == null ? null : rows.get(t).get(u);
    }

    private Datum get(UUID u, String col) {
        return row(u).get(col);
    }

    private void put(UUID u, String col, Datum d) {
        row(u).put(col, d);
        if (!inserted.contains(u)) modified.computeIfAbsent(u, k -> new LinkedHashSet<>()).add(col);
    }

    private UUID insertRow(String t) {
        UUID u = UUID.randomUUID();
        Map<String, Datum> row = new HashMap<>();
        for (ColumnSchema cs : table(t).columns().values()) row.put(cs.name(), Datum.defaultValue(cs.type()));
        rows.get(t).put(u, row);
        tableOf.put(u, t);
        inserted.add(u);
        return u;
    }

    private void deleteRow(UUID u) {
        String t = tableOf.get(u);
        if (t == null) return;
        rows.get(t).remove(u);
        if (!inserted.remove(u)) deleted.add(u);
        modified.remove(u);
    }

    private String str(UUID u, String col) {
        Datum d = get(u, col);
        return d.size() == 0 ? null : (String) d.key(0);
    }

    private List<UUID> refs(UUID u, String col) {
        List<UUID> l = new ArrayList<>();
        for (Object o : get(u, col).keys()) l.add((UUID) o);
        return l;
    }

    private Datum withAdded(String t, String col, Object k, Object v) {
        Datum d = get0(t, col, null);
        return d;
    }

    private Datum get0(String t, String col, Datum d) {
        return d;
    }

    private void addToSet(UUID u, String col, Object atom) {
        ColumnType ct = type(tableOf.get(u), col);
        Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
        m.put(atom, null);
        put(u, col, Datum.of(ct, m));
    }

    private void removeFromSet(UUID u, String col, Object atom) {
        ColumnType ct = type(tableOf.get(u), col);
        Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
        m.remove(atom);
        put(u, col, Datum.of(ct, m));
    }

    private void setString(UUID u, String col, String s) {
        put(u, col, Datum.atom(s));
    }

    // ---- bridge/port/interface views ----

    private List<UUID> bridges() {
        return refs(ovsRow, "bridges").stream().filter(b -> row(b) != null).toList();
    }

    private UUID findBridge(String name) {
        for (UUID b : bridges()) if (name.equals(str(b, "name"))) return b;
        return null;
    }

    private UUID bridgeOrDie(String name) throws VsctlException {
        UUID b = findBridge(name);
        if (b == null) throw new VsctlException("no bridge named " + name);
        return b;
    }

    /** [bridge, port] pairs for every port of every bridge. */
    private List<UUID[]> ports() {
        List<UUID[]> l = new ArrayList<>();
        for (UUID b : bridges()) for (UUID p : refs(b, "ports")) if (row(p) != null) l.add(new UUID[] {b, p});
        return l;
    }

    private UUID[] findPort(String name) {
        for (UUID[] bp : ports()) if (name.equals(str(bp[1], "name"))) return bp;
        return null;
    }

    /** [bridge, port, iface]. */
    private UUID[] findIface(String name) {
        for (UUID[] bp : ports()) {
            for (UUID i : refs(bp[1], "interfaces")) {
                if (row(i) != null && name.equals(str(i, "name"))) return new UUID[] {bp[0], bp[1], i};
            }
        }
        return null;
    }

    private List<String> sortedNames(List<UUID> us) {
        List<String> l = new ArrayList<>();
        for (UUID u : us) l.add(str(u, "name"));
        l.sort(null);
        return l;
    }

    // ---- commands ----

    private void dispatch(Command c) throws VsctlException {
        List<String> a = c.args();
        StringBuilder o = c.out();
        switch (c.name()) {
            case "init" -> { }
            case "add-br" -> addBr(c);
            case "del-br" -> {
                UUID b = findBridge(a.get(0));
                if (b == null) {
                    if (c.has("--if-exists")) return;
                    throw new VsctlException("no bridge named " + a.get(0));
                }
                delBridge(b);
            }
            case "list-br" -> {
                for (String n : sortedNames(bridges())) o.append(n).append('\n');
            }
            case "br-exists" -> {
                if (findBridge(a.get(0)) == null) throw new VsctlException(null, 2);
            }
            case "add-port" -> addPort(c);
            case "del-port" -> delPort(c);
            case "list-ports" -> {
                UUID b = bridgeOrDie(a.get(0));
                List<UUID> ps = new ArrayList<>();
                for (UUID p : refs(b, "ports")) if (row(p) != null && !a.get(0).equals(str(p, "name"))) ps.add(p);
                for (String n : sortedNames(ps)) o.append(n).append('\n');
            }
            case "list-ifaces" -> {
                UUID b = bridgeOrDie(a.get(0));
                List<UUID> is = new ArrayList<>();
                for (UUID p : refs(b, "ports")) {
                    if (row(p) == null) continue;
                    for (UUID i : refs(p, "interfaces")) if (row(i) != null && !a.get(0).equals(str(i, "name"))) is.add(i);
                }
                for (String n : sortedNames(is)) o.append(n).append('\n');
            }
            case "port-to-br" -> {
                UUID[] bp = findPort(a.get(0));
                if (bp == null || findBridge(a.get(0)) != null) throw new VsctlException("no port named " + a.get(0));
                o.append(str(bp[0], "name")).append('\n');
            }
            case "iface-to-br" -> {
                UUID[] bpi = findIface(a.get(0));
                if (bpi == null || findBridge(a.get(0)) != null) throw new VsctlException("no interface named " + a.get(0));
                o.append(str(bpi[0], "name")).append('\n');
            }
            case "get" -> cmdGet(c);
            case "set" -> cmdSet(c);
            case "list" -> cmdList(c);
            case "find" -> cmdFind(c);
            case "clear" -> cmdClear(c);
            case "add" -> cmdAddRemove(c, true);
            case "remove" -> cmdAddRemove(c, false);
            case "create" -> cmdCreate(c);
            case "destroy" -> cmdDestroy(c);
            case "show" -> cmdShow(o);
            case "set-controller" -> {
                UUID b = bridgeOrDie(a.get(0));
                for (UUID ctl : refs(b, "controller")) deleteRow(ctl);
                Map<Object, Object> m = new LinkedHashMap<>();
                for (String t : a.subList(1, a.size())) {
                    UUID ctl = insertRow("Controller");
                    setString(ctl, "target", t);
                    m.put(ctl, null);
                }
                put(b, "controller", Datum.of(type("Bridge", "controller"), m));
            }
            case "get-controller" -> {
                UUID b = bridgeOrDie(a.get(0));
                List<String> ts = new ArrayList<>();
                for (UUID ctl : refs(b, "controller")) if (row(ctl) != null) ts.add(str(ctl, "target"));
                ts.sort(null);
                for (String t : ts) o.append(t).append('\n');
            }
            case "del-controller" -> {
                UUID b = bridgeOrDie(a.get(0));
                for (UUID ctl : refs(b, "controller")) deleteRow(ctl);
                put(b, "controller", Datum.empty(type("Bridge", "controller")));
            }
            case "set-fail-mode" -> {
                UUID b = bridgeOrDie(a.get(0));
                String m = a.get(1);
                if (!m.equals("standalone") && !m.equals("secure")) throw new VsctlException("fail-mode must be \"standalone\" or \"secure\"");
                setString(b, "fail_mode", m);
            }
            case "get-fail-mode" -> {
                UUID b = bridgeOrDie(a.get(0));
                String m = str(b, "fail_mode");
                if (m != null && !m.isEmpty()) o.append(m).append('\n');
            }
            case "del-fail-mode" -> {
                UUID b = bridgeOrDie(a.get(0));
                put(b, "fail_mode", Datum.empty(type("Bridge", "fail_mode")));
            }
            case "set-manager" -> {
                for (UUID m : refs(ovsRow, "manager_options")) deleteRow(m);
                Map<Object, Object> ms = new LinkedHashMap<>();
                for (String t : a) {
                    UUID m = insertRow("Manager");
                    setString(m, "target", t);
                    ms.put(m, null);
                }
                put(ovsRow, "manager_options", Datum.of(type("Open_vSwitch", "manager_options"), ms));
            }
            case "get-manager" -> {
                List<String> ts = new ArrayList<>();
                for (UUID m : refs(ovsRow, "manager_options")) if (row(m) != null) ts.add(str(m, "target"));
                ts.sort(null);
                for (String t : ts) o.append(t).append('\n');
            }
            case "del-manager" -> {
                for (UUID m : refs(ovsRow, "manager_options")) deleteRow(m);
                put(ovsRow, "manager_options", Datum.empty(type("Open_vSwitch", "manager_options")));
            }
            default -> throw new VsctlException("unknown command '" + c.name() + "'; use --help for help");
        }
    }

    private void addBr(Command c) throws VsctlException {
        List<String> a = c.args();
        String name = a.get(0);
        if (a.size() == 2) throw new VsctlException("'add-br' command takes exactly 1 or 3 arguments");
        if (a.size() == 3) throw new VsctlException("fake bridges are not supported by vsctl");
        UUID b = findBridge(name);
        if (b != null) {
            if (c.has("--may-exist")) return;
            throw new VsctlException("cannot create a bridge named " + name + " because a bridge named " + name + " already exists");
        }
        UUID[] bp = findPort(name);
        if (bp != null) {
            throw new VsctlException("cannot create a bridge named " + name + " because a port named " + name
                    + " already exists on bridge " + str(bp[0], "name"));
        }
        UUID[] bpi = findIface(name);
        if (bpi != null) {
            throw new VsctlException("cannot create a bridge named " + name + " because an interface named " + name
                    + " already exists on bridge " + str(bpi[0], "name"));
        }
        UUID iface = insertRow("Interface");
        setString(iface, "name", name);
        setString(iface, "type", "internal");
        UUID port = insertRow("Port");
        setString(port, "name", name);
        put(port, "interfaces", Datum.atom(iface));
        b = insertRow("Bridge");
        setString(b, "name", name);
        put(b, "ports", Datum.atom(port));
        addToSet(ovsRow, "bridges", b);
    }

    private void delBridge(UUID b) {
        for (UUID p : refs(b, "ports")) {
            if (row(p) == null) continue;
            for (UUID i : refs(p, "interfaces")) deleteRow(i);
            deleteRow(p);
        }
        for (String col : List.of("controller", "mirrors", "netflow", "sflow", "ipfix", "auto_attach")) {
            for (Object o : get(b, col).keys()) {
                if (type("Bridge", col).key().isStrongRef()) deleteRow((UUID) o);
            }
        }
        deleteRow(b);
        removeFromSet(ovsRow, "bridges", b);
    }

    private void addPort(Command c) throws VsctlException {
        List<String> a = c.args();
        String brName = a.get(0);
        String name = a.get(1);
        UUID b = bridgeOrDie(brName);
        UUID[] bp = findPort(name);
        if (c.has("--may-exist") && bp != null) {
            if (!bp[0].equals(b)) {
                throw new VsctlException("\"--may-exist add-port " + brName + " " + name + "\" but " + name
                        + " is actually attached to bridge " + str(bp[0], "name"));
            }
            return;
        }
        if (findBridge(name) != null) {
            throw new VsctlException("cannot create a port named " + name + " because a bridge named " + name + " already exists");
        }
        if (bp != null) {
            throw new VsctlException("cannot create a port named " + name + " because a port named " + name
                    + " already exists on bridge " + str(bp[0], "name"));
        }
        UUID[] bpi = findIface(name);
        if (bpi != null) {
            throw new VsctlException("cannot create an interface named " + name + " because a port named "
                    + str(bpi[1], "name") + " already exists on bridge " + str(bpi[0], "name"));
        }
        UUID iface = insertRow("Interface");
        setString(iface, "name", name);
        UUID port = insertRow("Port");
        setString(port, "name", name);
        put(port, "interfaces", Datum.atom(iface));
        for (String setting : a.subList(2, a.size())) setColumn("Port", port, setting);
        addToSet(b, "ports", port);
    }

    private void delPort(Command c) throws VsctlException {
        List<String> a = c.args();
        String target = a.get(a.size() - 1);
        UUID b = a.size() == 2 ? bridgeOrDie(a.get(0)) : null;
        if (findBridge(target) != null) {
            throw new VsctlException("cannot delete port " + target + " because it is the local port for bridge " + target
                    + " (deleting this port requires deleting the entire bridge)");
        }
        UUID[] bp = findPort(target);
        if (bp == null && c.has("--with-iface")) {
            UUID[] bpi = findIface(target);
            if (bpi != null) bp = new UUID[] {bpi[0], bpi[1]};
        }
        if (bp == null) {
            if (c.has("--if-exists")) return;
            throw new VsctlException("no port named " + target);
        }
        if (b != null && !bp[0].equals(b)) throw new VsctlException("bridge " + a.get(0) + " does not have a port " + target);
        for (UUID i : refs(bp[1], "interfaces")) deleteRow(i);
        deleteRow(bp[1]);
        removeFromSet(bp[0], "ports", bp[1]);
    }

    // ---- generic database commands ----

    private String tableName(String name) throws VsctlException {
        String match = null;
        for (String t : schema.tables().keySet()) {
            if (t.equalsIgnoreCase(name)) return t;
        }
        for (String t : schema.tables().keySet()) {
            if (t.toLowerCase().startsWith(name.toLowerCase())) {
                if (match != null) throw new VsctlException("multiple table names match \"" + name + "\"");
                match = t;
            }
        }
        if (match == null) throw new VsctlException("unknown table \"" + name + "\"");
        return match;
    }

    private static String norm(String s) {
        return s.toLowerCase().replace('-', '_');
    }

    private String column(String t, String name) throws VsctlException {
        List<String> cols = new ArrayList<>(table(t).columns().keySet());
        cols.add("_uuid");
        for (String col : cols) if (col.equals(name)) return col;
        List<String> matches = new ArrayList<>();
        for (String col : cols) if (norm(col).equals(norm(name))) matches.add(col);
        if (matches.isEmpty()) for (String col : cols) if (norm(col).startsWith(norm(name))) matches.add(col);
        if (matches.size() == 1) return matches.get(0);
        if (matches.size() > 1) throw new VsctlException(t + " contains more than one column whose name matches \"" + name + "\"");
        throw new VsctlException(t + " does not contain a column whose name matches \"" + name + "\"");
    }

    /** ovs-vsctl's record identifiers: UUID, then the table's name column (possibly via a referrer). */
    private UUID findRecord(String t, String id, boolean mustExist) throws VsctlException {
        if (Values.isUuid(id)) {
            UUID u = UUID.fromString(id);
            if (rows.get(t).containsKey(u)) return u;
        }
        UUID found = switch (t) {
            case "Open_vSwitch" -> id.equals(".") && rows.get(t).size() == 1 ? rows.get(t).keySet().iterator().next() : null;
            case "SSL" -> id.equals(".") && rows.get(DB).size() == 1 ? single(get(rows.get(DB).keySet().iterator().next(), "ssl")) : null;
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
            for (UUID u : rows.get(t).keySet()) {
                if (u.toString().startsWith(id.toLowerCase())) {
                    if (found != null) throw new VsctlException("multiple rows in " + t + " match \"" + id + "\"");
                    found = u;
                }
            }
        }
        if (found == null && mustExist) throw new VsctlException("no row \"" + id + "\" in table " + t);
        return found;
    }

    private UUID single(Datum d) {
        return d.size() == 1 ? (UUID) d.key(0) : null;
    }

    private UUID byName(String t, String col, String id) throws VsctlException {
        UUID found = null;
        for (var e : rows.get(t).entrySet()) {
            Datum d = e.getValue().get(col);
            if (d.size() == 1 && id.equals(d.key(0))) {
                if (found != null) throw new VsctlException("multiple rows in " + t + " match \"" + id + "\"");
                found = e.getKey();
            }
        }
        return found;
    }

    private UUID via(String id, String refTable, String col) throws VsctlException {
        UUID r = byName(refTable, "name", id);
        return r == null ? null : single(get(r, col));
    }

    /** Splits "COL[:KEY][=VALUE]" like ovs-vsctl: [column, key or null, value or null]. */
    private String[] parseColumnKeyValue(String arg, boolean wantValue) throws VsctlException {
        Values.Lexer lx = new Values.Lexer(arg);
        String col = lx.token();
        if (col.isEmpty()) throw new VsctlException(arg + ": missing column name");
        String key = null;
        if (lx.peek() == ':') {
            lx.pos++;
            int start = lx.pos;
            key = lx.token();
            if (key.isEmpty() && lx.pos == start) throw new VsctlException(arg + ": missing key");
        }
        String value = null;
        if (lx.peek() == '=') {
            value = arg.substring(lx.pos + 1);
        } else if (!lx.atEnd()) {
            throw new VsctlException(arg + ": trailing garbage \"" + arg.substring(lx.pos) + "\" in argument");
        }
        if (wantValue && value == null) throw new VsctlException(arg + ": argument does not end in \"=\" followed by a value.");
        if (!wantValue && value != null) throw new VsctlException(arg + ": argument does not end in \"=\" followed by a value.");
        return new String[] {col, key, value};
    }

    private Datum readColumn(UUID u, String col) {
        if (col.equals("_uuid")) return Datum.atom(u);
        return get(u, col);
    }

    private ColumnType colType(String t, String col) {
        if (col.equals("_uuid")) return new ColumnType(io.vswitch.ovsdb.schema.BaseType.of(AtomicType.UUID_), null, 1, 1);
        return type(t, col);
    }

    private void cmdGet(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        UUID u = findRecord(t, c.args().get(1), !c.has("--if-exists"));
        String idName = c.opt("--id");
        if (idName != null) {
            if (!idName.startsWith("@")) throw new VsctlException("row id \"" + idName + "\" does not begin with \"@\"");
            if (u != null) symbols.put(idName, u);
        }
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) {
            String[] ckv = parseColumnKeyValue(arg, false);
            String col = column(t, ckv[0]);
            ColumnType ct = colType(t, col);
            Datum d = readColumn(u, col);
            if (ckv[1] != null) {
                if (!ct.isMap()) throw new VsctlException("cannot specify key to get for non-map column " + col);
                Object k = Values.parseAtom(ct.key(), ckv[1], symbols);
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

    private void checkMutable(String t, UUID u, String col) throws VsctlException {
        if (col.equals("_uuid") || (!inserted.contains(u) && !table(t).columns().get(col).mutable())) throw new VsctlException("cannot modify read-only column " + col + " in table " + t);
    }

    private void setColumn(String t, UUID u, String arg) throws VsctlException {
        String[] ckv = parseColumnKeyValue(arg, true);
        String col = column(t, ckv[0]);
        checkMutable(t, u, col);
        ColumnType ct = type(t, col);
        if (ckv[1] != null) {
            if (!ct.isMap()) throw new VsctlException("cannot specify key to set for non-map column " + col);
            Object k = Values.parseAtom(ct.key(), ckv[1], symbols);
            Object v = parseSingle(ct.value(), ckv[2]);
            Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
            m.put(k, v);
            put(u, col, Datum.of(ct, m));
        } else {
            put(u, col, Values.parseDatum(ct, ckv[2], symbols));
        }
    }

    private Object parseSingle(io.vswitch.ovsdb.schema.BaseType bt, String s) throws VsctlException {
        ColumnType one = new ColumnType(bt, null, 1, 1);
        return Values.parseDatum(one, s, symbols).key(0);
    }

    private void cmdSet(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        UUID u = findRecord(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) setColumn(t, u, arg);
    }

    private void cmdClear(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        UUID u = findRecord(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        for (String arg : c.args().subList(2, c.args().size())) {
            String col = column(t, arg);
            checkMutable(t, u, col);
            ColumnType ct = type(t, col);
            if (ct.min() > 0) {
                throw new VsctlException("\"clear\" operation cannot be applied to column " + col + " of table " + t
                        + ", which is not allowed to be empty");
            }
            put(u, col, Datum.empty(ct));
        }
    }

    private void cmdAddRemove(Command c, boolean add) throws VsctlException {
        String t = tableName(c.args().get(0));
        UUID u = findRecord(t, c.args().get(1), !c.has("--if-exists"));
        if (u == null) return;
        String col = column(t, c.args().get(2));
        checkMutable(t, u, col);
        ColumnType ct = type(t, col);
        ColumnType loose = new ColumnType(ct.key(), ct.value(), 0, ColumnType.UNLIMITED);
        Map<Object, Object> m = new LinkedHashMap<>(get(u, col).asMap(ct));
        for (String v : c.args().subList(3, c.args().size())) {
            if (add) {
                Datum d = Values.parseDatum(loose, v, symbols);
                for (int i = 0; i < d.size(); i++) m.put(d.key(i), d.isMap() ? d.value(i) : null);
            } else {
                Datum d;
                if (ct.isMap()) {
                    try {
                        d = Values.parseDatum(loose, v, symbols);
                        for (int i = 0; i < d.size(); i++) {
                            if (java.util.Objects.equals(m.get(d.key(i)), d.value(i))) m.remove(d.key(i));
                        }
                    } catch (VsctlException e) {
                        ColumnType keys = new ColumnType(ct.key(), null, 0, ColumnType.UNLIMITED);
                        d = Values.parseDatum(keys, v, symbols);
                        for (int i = 0; i < d.size(); i++) m.remove(d.key(i));
                    }
                } else {
                    d = Values.parseDatum(loose, v, symbols);
                    for (int i = 0; i < d.size(); i++) m.remove(d.key(i));
                }
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
        put(u, col, Datum.of(ct, m));
    }

    private void cmdCreate(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        String id = c.opt("--id");
        UUID u = insertRow(t);
        if (id != null) {
            if (!id.startsWith("@")) throw new VsctlException("row id \"" + id + "\" does not begin with \"@\"");
            symbols.put(id, u);
        } else if (!table(t).isRoot()) {
            err.append("vsctl: applying \"create\" command to table ").append(t)
                    .append(" without --id option will have no effect\n");
        }
        for (String arg : c.args().subList(1, c.args().size())) setColumn(t, u, arg);
        c.created().add(u);
    }

    private void cmdDestroy(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        if (c.has("--all")) {
            for (UUID u : new ArrayList<>(rows.get(t).keySet())) deleteRow(u);
            return;
        }
        for (String id : c.args().subList(1, c.args().size())) {
            UUID u = findRecord(t, id, !c.has("--if-exists"));
            if (u != null) deleteRow(u);
        }
    }

    /** Deletes a row and drops the references other rows hold to it. */
    private void destroyRow(String t, UUID u) {
        deleteRow(u);
        for (var te : rows.entrySet()) {
            TableSchema ts = table(te.getKey());
            for (ColumnSchema cs : ts.columns().values()) {
                ColumnType ct = cs.type();
                boolean keyRef = t.equals(ct.key().refTable());
                boolean valRef = ct.isMap() && t.equals(ct.value().refTable());
                if (!keyRef && !valRef) continue;
                for (UUID r : new ArrayList<>(te.getValue().keySet())) {
                    Map<Object, Object> m = new LinkedHashMap<>(get(r, cs.name()).asMap(ct));
                    boolean changed = false;
                    if (keyRef && m.containsKey(u)) {
                        m.remove(u);
                        changed = true;
                    }
                    if (valRef) changed |= m.values().removeIf(u::equals);
                    if (changed) put(r, cs.name(), Datum.of(ct, m));
                }
            }
        }
    }

    private List<String> listColumns(String t, Command c) throws VsctlException {
        String spec = c.opt("--columns");
        List<String> cols = new ArrayList<>();
        if (spec == null) {
            cols.add("_uuid");
            cols.addAll(new TreeMap<>(table(t).columns()).keySet());
        } else {
            for (String s : spec.split(",")) cols.add(column(t, s.trim()));
        }
        return cols;
    }

    private void cmdList(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        List<String> cols = listColumns(t, c);
        List<UUID> us = new ArrayList<>();
        if (c.args().size() == 1) {
            us.addAll(rows.get(t).keySet());
        } else {
            for (String id : c.args().subList(1, c.args().size())) {
                UUID u = findRecord(t, id, !c.has("--if-exists"));
                if (u != null) us.add(u);
            }
        }
        printTable(c.out(), t, cols, us);
    }

    private void cmdFind(Command c) throws VsctlException {
        String t = tableName(c.args().get(0));
        List<String> cols = listColumns(t, c);
        List<UUID> us = new ArrayList<>();
        List<Object[]> conds = new ArrayList<>();
        for (String cond : c.args().subList(1, c.args().size())) {
            Values.Lexer lx = new Values.Lexer(cond);
            String colName = lx.token();
            String col = column(t, colName);
            String key = null;
            if (lx.peek() == ':') {
                lx.pos++;
                key = lx.token();
            }
            String rest = cond.substring(lx.pos);
            String op = null;
            for (String o : List.of("!=", "<=", ">=", "{=}", "{!=}", "{<=}", "{>=}", "{<}", "{>}", "=", "<", ">")) {
                if (rest.startsWith(o)) {
                    op = o;
                    break;
                }
            }
            if (op == null) throw new VsctlException(cond + ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", \"{=}\", \"{!=}\", \"{<}\", \"{>}\", \"{<=}\", or \"{>=}\" followed by a value.");
            String val = rest.substring(op.length());
            ColumnType ct = colType(t, col);
            Datum want;
            if (key != null) {
                if (!ct.isMap()) throw new VsctlException("cannot specify key to check for non-map column " + col);
                Object k = Values.parseAtom(ct.key(), key, symbols);
                Datum v = Values.parseDatum(new ColumnType(ct.value(), null, 0, ColumnType.UNLIMITED), val, symbols);
                conds.add(new Object[] {col, k, op, v, ct});
            } else {
                want = Values.parseDatum(new ColumnType(ct.key(), ct.value(), 0, ColumnType.UNLIMITED), val, symbols);
                conds.add(new Object[] {col, null, op, want, ct});
            }
        }
        for (UUID u : rows.get(t).keySet()) {
            boolean ok = true;
            for (Object[] cd : conds) {
                String col = (String) cd[0];
                ColumnType ct = (ColumnType) cd[4];
                Datum have = readColumn(u, col);
                Datum want = (Datum) cd[3];
                Map<Object, Object> h;
                if (cd[1] != null) {
                    Map<Object, Object> m = have.asMap(ct);
                    h = new LinkedHashMap<>();
                    if (m.containsKey(cd[1])) h.put(m.get(cd[1]), null);
                } else {
                    h = have.asMap(ct);
                }
                Map<Object, Object> w = new LinkedHashMap<>();
                for (int i = 0; i < want.size(); i++) w.put(want.key(i), want.isMap() ? want.value(i) : null);
                ok &= compare(h, w, (String) cd[2]);
            }
            if (ok) us.add(u);
        }
        printTable(c.out(), t, cols, us);
    }

    private static boolean compare(Map<Object, Object> h, Map<Object, Object> w, String op) {
        boolean eq = h.equals(w);
        boolean includes = h.entrySet().containsAll(w.entrySet());
        boolean included = w.entrySet().containsAll(h.entrySet());
        return switch (op) {
            case "=", "{=}" -> eq;
            case "!=", "{!=}" -> !eq;
            case "{<=}" -> included;
            case "{>=}" -> includes;
            case "{<}" -> included && !eq;
            case "{>}" -> includes && !eq;
            case "<", ">", "<=", ">=" -> {
                if (h.size() != 1 || w.size() != 1) yield false;
                Object a = h.keySet().iterator().next();
                Object b = w.keySet().iterator().next();
                @SuppressWarnings("unchecked")
                int r = ((Comparable<Object>) a).compareTo(b);
                yield switch (op) {
                    case "<" -> r < 0;
                    case ">" -> r > 0;
                    case "<=" -> r <= 0;
                    default -> r >= 0;
                };
            }
            default -> false;
        };
    }

    private void printTable(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        switch (format) {
            case "json" -> {
                ObjectNode root = F.objectNode();
                ArrayNode data = root.putArray("data");
                for (UUID u : us) {
                    ArrayNode r = data.addArray();
                    for (String col : cols) r.add(datumJson(colType(t, col), readColumn(u, col)));
                }
                ArrayNode h = root.putArray("headings");
                for (String col : cols) h.add(col);
                o.append(root.toString()).append('\n');
            }
            case "csv" -> {
                if (!noHeadings) o.append(String.join(",", cols)).append('\n');
                for (UUID u : us) {
                    List<String> cells = new ArrayList<>();
                    for (String col : cols) cells.add(csv(cell(t, col, u)));
                    o.append(String.join(",", cells)).append('\n');
                }
            }
            case "table" -> {
                List<List<String>> lines = new ArrayList<>();
                int[] w = new int[cols.size()];
                for (int k = 0; k < cols.size(); k++) w[k] = noHeadings ? 0 : cols.get(k).length();
                for (UUID u : us) {
                    List<String> cells = new ArrayList<>();
                    for (int k = 0; k < cols.size(); k++) {
                        String s = cell(t, cols.get(k), u);
                        w[k] = Math.max(w[k], s.length());
                        cells.add(s);
                    }
                    lines.add(cells);
                }
                if (!noHeadings) {
                    List<String> dash = new ArrayList<>();
                    for (int k = 0; k < cols.size(); k++) dash.add("-".repeat(w[k]));
                    lines.add(0, dash);
                    lines.add(0, cols);
                }
                for (List<String> l : lines) {
                    StringBuilder sb = new StringBuilder();
                    for (int k = 0; k < l.size(); k++) {
                        if (k > 0) sb.append(' ');
                        sb.append(String.format("%-" + Math.max(w[k], 1) + "s", l.get(k)));
                    }
                    o.append(sb.toString().replaceAll(" +$", "")).append('\n');
                }
            }
            default -> {
                boolean first = true;
                for (UUID u : us) {
                    if (!first) o.append('\n');
                    first = false;
                    for (String col : cols) {
                        if (!noHeadings) o.append(String.format("%-20s: ", col));
                        o.append(cell(t, col, u)).append('\n');
                    }
                }
            }
        }
    }

    private String cell(String t, String col, UUID u) {
        ColumnType ct = colType(t, col);
        Datum d = readColumn(u, col);
        return bare ? Values.bare(ct, d) : Values.datum(ct, d);
    }

    private static String csv(String s) {
        if (s.isEmpty() || s.chars().anyMatch(ch -> ch == ',' || ch == '"' || ch == '\n' || ch == ' ')) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }

    private JsonNode datumJson(ColumnType t, Datum d) {
        if (t.isMap()) {
            ArrayNode pairs = F.arrayNode();
            for (Object[] e : Values.sortedEntries(t, d)) pairs.addArray().add(atomJson(e[0])).add(atomJson(e[1]));
            return F.arrayNode().add("map").add(pairs);
        }
        List<Object[]> es = Values.sortedEntries(t, d);
        if (es.size() == 1) return atomJson(es.get(0)[0]);
        ArrayNode set = F.arrayNode();
        for (Object[] e : es) set.add(atomJson(e[0]));
        return F.arrayNode().add("set").add(set);
    }

    private JsonNode atomJson(Object a) {
        if (a instanceof UUID u) {
            if (inserted.contains(u)) return F.arrayNode().add("named-uuid").add(namedUuid(u));
            return F.arrayNode().add("uuid").add(u.toString());
        }
        if (a instanceof Long l) return F.numberNode(l);
        if (a instanceof Double d) return F.numberNode(d);
        if (a instanceof Boolean b) return F.booleanNode(b);
        return F.textNode((String) a);
    }

    private static String namedUuid(UUID u) {
        return "row" + u.toString().replace('-', '_');
    }

    // ---- show ----

    private void cmdShow(StringBuilder o) {
        o.append(ovsRow).append('\n');
        for (UUID m : refs(ovsRow, "manager_options")) {
            if (row(m) == null) continue;
            o.append("    Manager ").append(Values.atom(str(m, "target"))).append('\n');
            showConnected(o, m, "        ");
        }
        for (UUID b : refs(ovsRow, "bridges")) {
            if (row(b) == null) continue;
            o.append("    Bridge ").append(Values.atom(str(b, "name"))).append('\n');
            for (UUID ctl : refs(b, "controller")) {
                if (row(ctl) == null) continue;
                o.append("        Controller ").append(Values.atom(str(ctl, "target"))).append('\n');
                showConnected(o, ctl, "            ");
            }
            String fm = str(b, "fail_mode");
            if (fm != null) o.append("        fail_mode: ").append(Values.atom(fm)).append('\n');
            String dpt = str(b, "datapath_type");
            if (dpt != null && !dpt.isEmpty()) o.append("        datapath_type: ").append(Values.atom(dpt)).append('\n');
            for (UUID p : refs(b, "ports")) {
                if (row(p) == null) continue;
                o.append("        Port ").append(Values.atom(str(p, "name"))).append('\n');
                Datum tag = get(p, "tag");
                if (tag.size() > 0) o.append("            tag: ").append(tag.key(0)).append('\n');
                Datum trunks = get(p, "trunks");
                if (trunks.size() > 0) o.append("            trunks: ").append(Values.datum(type("Port", "trunks"), trunks)).append('\n');
                for (UUID i : refs(p, "interfaces")) {
                    if (row(i) == null) continue;
                    o.append("            Interface ").append(Values.atom(str(i, "name"))).append('\n');
                    String ty = str(i, "type");
                    if (ty != null && !ty.isEmpty()) o.append("                type: ").append(Values.atom(ty)).append('\n');
                    Datum opts = get(i, "options");
                    if (opts.size() > 0) o.append("                options: ").append(Values.datum(type("Interface", "options"), opts)).append('\n');
                    Datum e = get(i, "error");
                    if (e.size() > 0) o.append("                error: ").append(Values.atom(e.key(0))).append('\n');
                }
            }
        }
        Datum v = get(ovsRow, "ovs_version");
        if (v.size() > 0) o.append("    ovs_version: ").append(Values.atom(v.key(0))).append('\n');
    }

    private void showConnected(StringBuilder o, UUID u, String indent) {
        Datum d = get(u, "is_connected");
        if (d.size() > 0 && Boolean.TRUE.equals(d.key(0))) o.append(indent).append("is_connected: true\n");
    }

    // ---- commit and wait ----

    /** Sends the transaction; returns next_cfg to wait for, or -1. */
    private long commit(JsonRpcClient c, List<Command> cmds) throws VsctlException, IOException, JsonRpcClient.TimeoutException {
        ArrayNode params = F.arrayNode().add(DB);
        for (UUID u : inserted) {
            String t = tableOf.get(u);
            ObjectNode op = params.addObject();
            op.put("op", "insert");
            op.put("table", t);
            ObjectNode row = op.putObject("row");
            for (var e : row(u).entrySet()) {
                ColumnType ct = type(t, e.getKey());
                if (e.getValue().equals(Datum.defaultValue(ct))) continue;
                row.set(e.getKey(), datumJson(ct, e.getValue()));
            }
            op.put("uuid-name", namedUuid(u));
        }
        for (var e : modified.entrySet()) {
            UUID u = e.getKey();
            String t = tableOf.get(u);
            ObjectNode op = params.addObject();
            op.put("op", "update");
            op.put("table", t);
            op.set("where", whereUuid(u));
            ObjectNode row = op.putObject("row");
            for (String col : e.getValue()) row.set(col, datumJson(type(t, col), get(u, col)));
        }
        for (UUID u : deleted) {
            if (!table(tableOf.get(u)).isRoot()) continue;   // like the IDL: ovsdb-server garbage-collects it
            ObjectNode op = params.addObject();
            op.put("op", "delete");
            op.put("table", tableOf.get(u));
            op.set("where", whereUuid(u));
        }
        if (params.size() == 1) return -1;
        boolean wait = !noWait;
        if (wait) {
            ObjectNode mut = params.addObject();
            mut.put("op", "mutate");
            mut.put("table", DB);
            mut.set("where", inserted.contains(ovsRow) ? F.arrayNode() : whereUuid(ovsRow));
            mut.putArray("mutations").addArray().add("next_cfg").add("+=").add(1);
            ObjectNode sel = params.addObject();
            sel.put("op", "select");
            sel.put("table", DB);
            sel.set("where", inserted.contains(ovsRow) ? F.arrayNode() : whereUuid(ovsRow));
            sel.putArray("columns").add("next_cfg");
        }
        ObjectNode comment = params.addObject();
        comment.put("op", "comment");
        comment.put("comment", "vsctl: " + String.join(" ", cmds.stream().map(x -> x.name()).toList()));
        JsonNode res = c.call("transact", params);
        for (int k = 0; k < res.size(); k++) {
            JsonNode r = res.get(k);
            if (r != null && r.has("error")) {
                String e = r.get("error").asText();
                String d = r.path("details").asText("");
                if (e.equals("constraint violation") || e.equals("referential integrity violation")) {
                    throw new VsctlException("transaction error: " + r);
                }
                throw new VsctlException("transaction error: " + r);
            }
        }
        // Map created rows to their real UUIDs for "create" output.
        List<UUID> ins = new ArrayList<>(inserted);
        for (Command cmd : cmds) {
            for (UUID u : cmd.created()) {
                int idx = ins.indexOf(u);
                cmd.out().append(res.get(idx).get("uuid").get(1).asText()).append('\n');
            }
        }
        if (!wait) return -1;
        JsonNode sel = res.get(params.size() - 3);
        return sel.get("rows").get(0).get("next_cfg").asLong();
    }

    private ArrayNode whereUuid(UUID u) {
        ArrayNode w = F.arrayNode();
        w.addArray().add("_uuid").add("==").add(F.arrayNode().add("uuid").add(u.toString()));
        return w;
    }

    private void waitForCfg(JsonRpcClient c, long nextCfg) throws IOException, JsonRpcClient.TimeoutException {
        ObjectNode req = F.objectNode();
        req.putObject(DB).putArray("columns").add("cur_cfg");
        JsonNode init = c.call("monitor", F.arrayNode().add(DB).add("vsctl-cur-cfg").add(req));
        if (reached(init, nextCfg)) return;
        while (true) {
            JsonNode n = c.nextNotification();
            if ("update".equals(n.path("method").asText()) && reached(n.path("params").path(1), nextCfg)) return;
        }
    }

    private static boolean reached(JsonNode updates, long nextCfg) {
        for (JsonNode row : updates.path(DB)) {
            JsonNode nw = row.path("new");
            if (nw.has("cur_cfg") && nw.get("cur_cfg").asLong() >= nextCfg) return true;
        }
        return false;
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static void print(PrintStream ps, String s) {
        ps.print(s);
    }
}
