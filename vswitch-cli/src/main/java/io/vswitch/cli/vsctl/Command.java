package io.vswitch.cli.vsctl;

import java.util.List;
import java.util.UUID;

/**
 * One command of the "--"-separated chain with its own options. Output is buffered per command
 * because "create" can only print its UUID after the commit.
 */
record Command(List<String> opts, String name, List<String> args, StringBuilder out, List<UUID> created) {
    boolean has(String o) {
        return opts.contains(o);
    }

    /** Forgets what a run printed or created, before the invocation runs again (wait-until). */
    void reset() {
        out.setLength(0);
        created.clear();
    }

    /** The command as typed (options, name, arguments), for messages that quote it as ovs-vsctl does. */
    String line() {
        List<String> words = new java.util.ArrayList<>(opts);
        words.add(name);
        words.addAll(args);
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (!b.isEmpty()) b.append(' ');
            if (w.isEmpty() || w.chars().anyMatch(ch -> Character.isWhitespace(ch) || ch == '"' || ch == '\'' || ch == '\\')) {
                b.append('"').append(w.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            } else {
                b.append(w);
            }
        }
        return b.toString();
    }

    /** Value of "--name=value", or null. */
    String opt(String prefix) {
        for (String o : opts) if (o.startsWith(prefix + "=")) return o.substring(prefix.length() + 1);
        return null;
    }
}
