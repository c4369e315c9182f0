package io.vswitch.datapath.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process liveness as Linux sees it: a zombie (killed, not yet reaped) is dead, unlike for ProcessHandle. */
public final class Processes {
    private Processes() {}

    public static boolean isAlive(long pid) {
        if (pid <= 0) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');           // the command name may contain spaces or ')'
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }
}
