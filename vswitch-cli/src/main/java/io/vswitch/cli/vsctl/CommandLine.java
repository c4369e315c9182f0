package io.vswitch.cli.vsctl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Global options, then the "--"-separated command chain, checked against each command's arity and options. */
final class CommandLine {
    private record Spec(int min, int max, Set<String> options) {}

    private static final Map<String, Spec> SPECS = new HashMap<>();

    static {
        Set<String> none = Set.of();
        SPECS.put("init", new Spec(0, 0, none));
        SPECS.put("show", new Spec(0, 0, none));
        SPECS.put("add-br", new Spec(1, 3, Set.of("--may-exist")));
        SPECS.put("del-br", new Spec(1, 1, Set.of("--if-exists")));
        SPECS.put("list-br", new Spec(0, 0, Set.of("--real", "--fake")));
        SPECS.put("br-exists", new Spec(1, 1, none));
        SPECS.put("br-to-vlan", new Spec(1, 1, none));
        SPECS.put("br-to-parent", new Spec(1, 1, none));
        SPECS.put("add-bond", new Spec(4, Integer.MAX_VALUE, Set.of("--may-exist", "--fake-iface")));
        SPECS.put("emer-reset", new Spec(0, 0, none));
        SPECS.put("wait-until", new Spec(2, Integer.MAX_VALUE, none));
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

    String db;
    boolean noWait;
    long timeoutSecs;
    String format = "list";
    boolean bare;
    boolean noHeadings;
    final List<Command> commands = new ArrayList<>();

    /** Sets db from the environment first, so connection errors can name it. */
    CommandLine(Map<String, String> env) {
        String rundir = env.getOrDefault("VSWITCH_RUNDIR", "run");
        db = env.containsKey("VSWITCH_DB") ? env.get("VSWITCH_DB") : "unix:" + rundir + "/db.sock";
    }

    void parse(String[] argv) throws VsctlException {
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
                    || a.startsWith("-v") || a.startsWith("--verbose")) continue;   // accepted, no effect here
            else pending.add(a);   // unknown global options are taken as the first command's options
        }
        if (!List.of("list", "table", "json", "csv", "html").contains(format)) {
            throw new VsctlException("unknown output format \"" + format + "\"");
        }
        if (bare) {
            format = "list";
            noHeadings = true;
        }
        parseChain(argv, i, pending);
    }

    private void parseChain(String[] argv, int i, List<String> pending) throws VsctlException {
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
            check(a, opts, args);
            commands.add(new Command(List.copyOf(opts), a, args, new StringBuilder(), new ArrayList<>()));
            opts.clear();
            i = j;
        }
        if (!opts.isEmpty()) throw new VsctlException("missing command name (use --help for help)");
        if (commands.isEmpty()) throw new VsctlException("missing command name (use --help for help)");
    }

    private static void check(String name, List<String> opts, List<String> args) throws VsctlException {
        Spec spec = SPECS.get(name);
        if (spec == null) throw new VsctlException("unknown command '" + name + "'; use --help for help");
        for (String o : opts) {
            String base = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
            if (!spec.options().contains(base)) {
                throw new VsctlException("'" + name + "' command has no '" + base + "' option");
            }
        }
        if (args.size() < spec.min()) throw new VsctlException("'" + name + "' command requires at least " + spec.min() + " arguments");
        if (args.size() > spec.max()) {
            boolean optionLike = args.stream().anyMatch(x -> x.startsWith("-"));
            throw new VsctlException("'" + name + "' command takes at most " + spec.max() + " arguments"
                    + (optionLike ? " (note that options must precede command names and follow a \"--\" argument)" : ""));
        }
    }

    private static long parseTimeout(String s) throws VsctlException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new VsctlException("value " + s + " on -t or --timeout is invalid");
        }
    }
}
