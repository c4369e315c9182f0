package io.vswitch.cli.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A long-running peer driven through its console (testpmd's prompt, a guest's serial shell): lines
 * go to its stdin, everything it prints is collected, and a test waits for what it expects.
 */
final class ConsoleProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final OutputStream stdin;
    private final StringBuilder output = new StringBuilder();

    ConsoleProcess(String name, List<String> cmd, String installHint) {
        this.name = name;
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + cmd.getFirst() + " (" + installHint + "): " + e.getMessage(), e);
        }
        stdin = process.getOutputStream();
        InputStream out = process.getInputStream();
        Thread.ofVirtual().start(() -> {
            byte[] b = new byte[4096];
            try {
                for (int n; (n = out.read(b)) > 0; ) {
                    synchronized (output) {
                        output.append(new String(b, 0, n, StandardCharsets.UTF_8));
                        output.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    /** Where the output ends now: {@link #await} from here sees only what comes after. */
    int mark() {
        synchronized (output) {
            return output.length();
        }
    }

    /** Waits for {@code regex} in the output after position {@code from}; returns the match. */
    Matcher await(String regex, int from, long millis) {
        Pattern p = Pattern.compile(regex);
        long deadline = System.currentTimeMillis() + millis;
        synchronized (output) {
            while (true) {
                Matcher m = p.matcher(output);
                if (m.find(Math.min(from, output.length()))) return m;
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || !process.isAlive()) {
                    throw new AssertionError(name + ": no '" + regex + "' in its output" + (process.isAlive() ? "" : " (it exited)")
                            + ":\n" + output.substring(Math.max(0, Math.min(from, output.length()) - 2000)));
                }
                try {
                    output.wait(Math.min(left, 200));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** The output between positions {@code from} and {@code to}. */
    String output(int from, int to) {
        synchronized (output) {
            return output.substring(from, to);
        }
    }

    void type(String line) {
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new AssertionError(name + " is gone:\n" + output(0, mark()), e);
        }
    }

    /** Asks it to end with {@code quit} (if not null), then terminates it. */
    void close(String quit) {
        if (quit != null) {
            try {
                type(quit);
            } catch (AssertionError ignored) {
                // already gone
            }
        }
        try {
            if (quit == null || !process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(null);
    }
}
