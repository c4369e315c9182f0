package io.vswitch.cli;

import io.vswitch.datapath.RunDir;
import io.vswitch.datapath.unixctl.UnixctlClient;
import io.vswitch.datapath.unixctl.UnixctlException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code appctl [-t TARGET] COMMAND [ARG...]}: runs a unixctl command in a running process, like
 * {@code ovs-appctl}. TARGET is {@code vswitchd} (default), {@code vswitch-dp}, or a socket path.
 * Prints the command's output; on error prints the reason to stderr and exits 1.
 */
public final class Appctl {
    private Appctl() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        String target = "vswitchd";
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (rest.isEmpty() && (a.equals("-t") || a.equals("--target")) && i + 1 < args.length) {
                target = args[++i];
            } else if (rest.isEmpty() && a.startsWith("--target=")) {
                target = a.substring(9);
            } else if (rest.isEmpty() && (a.equals("-h") || a.equals("--help"))) {
                System.out.println("usage: appctl [-t TARGET] COMMAND [ARG...]\n"
                        + "  TARGET: vswitchd (default), vswitch-dp, or a unixctl socket path\n"
                        + "  'appctl list-commands' lists the commands of the target.");
                return 0;
            } else {
                rest.add(a);
            }
        }
        if (rest.isEmpty()) {
            System.err.println("appctl: at least one non-option argument is required (\"appctl --help\" for help)");
            return 1;
        }
        Path socket;
        try {
            socket = target.contains("/") ? Path.of(target) : RunDir.resolve(new String[0]).resolve(target + ".ctl");
        } catch (IOException e) {
            System.err.println("appctl: " + e.getMessage());
            return 1;
        }
        if (!Files.exists(socket)) {
            System.err.println("appctl: cannot connect to \"" + socket + "\" (No such file or directory): is " + target
                    + " running? Start the switch with bin/vswitch start, or set VSWITCH_RUNDIR to its run dir.");
            return 1;
        }
        try {
            String out = UnixctlClient.call(socket, rest.get(0), rest.subList(1, rest.size()));
            System.out.print(out);
            return 0;
        } catch (UnixctlException e) {
            System.err.print(e.getMessage().endsWith("\n") ? e.getMessage() : e.getMessage() + "\n");
            System.err.println("appctl: " + target + ": server returned an error");
            return 1;
        } catch (IOException e) {
            System.err.println("appctl: cannot talk to \"" + socket + "\": " + e.getMessage() + " (is " + target + " running? bin/vswitch status)");
            return 1;
        }
    }
}
