package io.vswitch.datapath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The run dir every process and tool agrees on: {@code --rundir DIR}, else {@code $VSWITCH_RUNDIR},
 * else {@code run/} in the current directory. Created on first use.
 */
public final class RunDir {
    private RunDir() {}

    public static Path resolve(String[] args) throws IOException {
        String dir = null;
        for (int i = 0; i < args.length - 1; i++) if (args[i].equals("--rundir")) dir = args[i + 1];
        if (dir == null) dir = System.getenv("VSWITCH_RUNDIR");
        if (dir == null || dir.isEmpty()) dir = "run";
        Path p = Path.of(dir).toAbsolutePath().normalize();
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new IOException("cannot create run dir " + p + ": " + e.getMessage() + " (set VSWITCH_RUNDIR to a writable directory)");
        }
        if (!Files.isWritable(p)) throw new IOException("run dir " + p + " is not writable (set VSWITCH_RUNDIR to a writable directory)");
        return p;
    }
}
