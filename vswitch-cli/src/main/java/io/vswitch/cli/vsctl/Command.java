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

    /** Value of "--name=value", or null. */
    String opt(String prefix) {
        for (String o : opts) if (o.startsWith(prefix + "=")) return o.substring(prefix.length() + 1);
        return null;
    }
}
