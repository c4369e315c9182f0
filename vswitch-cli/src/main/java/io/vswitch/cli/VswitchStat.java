package io.vswitch.cli;

import io.vswitch.datapath.RunDir;
import io.vswitch.datapath.ipc.CountersFile;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code vswitch-stat [--watch SECS] [FILTER]}: prints the dataplane's counters straight from its
 * counters file ({@code vswitch-dp.counters}), like Aeron's AeronStat. It maps the file read-only in
 * spirit and never talks to a process, so it works while vswitchd is down or the dataplane is busy,
 * and costs the PMDs nothing.
 */
public final class VswitchStat {
    private VswitchStat() {}

    public static void main(String[] args) throws Exception {
        int watch = 0;
        String filter = "";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--watch") && i + 1 < args.length) watch = Integer.parseInt(args[++i]);
            else if (args[i].equals("-h") || args[i].equals("--help")) {
                System.out.println("usage: vswitch-stat [--watch SECS] [FILTER]  (prints counters whose label contains FILTER)");
                return;
            } else filter = args[i];
        }
        Path runDir = RunDir.resolve(new String[0]);
        if (!Files.exists(runDir.resolve(CountersFile.FILE_NAME))) {
            System.err.println("vswitch-stat: " + runDir.resolve(CountersFile.FILE_NAME)
                    + " does not exist: is the dataplane running? (bin/vswitch start, or set VSWITCH_RUNDIR)");
            System.exit(1);
        }
        try (CountersFile file = CountersFile.open(runDir)) {
            CountersReader reader = file.reader();
            do {
                print(reader, filter);
                if (watch > 0) {
                    Thread.sleep(watch * 1000L);
                    System.out.println();
                }
            } while (watch > 0);
        } catch (IOException e) {
            System.err.println("vswitch-stat: " + e.getMessage());
            System.exit(1);
        }
    }

    static void print(CountersReader reader, String filter) {
        reader.forEach((value, id, label) -> {
            if (label.contains(filter)) System.out.printf("%-50s %20d%n", label, value);
        });
    }
}
