package io.vswitch.cli.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs commands for the end-to-end tests, with a time limit and captured output. */
final class Sh {
    private Sh() {}

    /** The checkout: the e2e tests run from vswitch-cli/. */
    static final Path HOME = Path.of(System.getProperty("user.dir")).getParent();

    record Result(int rc, String out, String err, List<String> cmd) {
        Result ok() {
            if (rc != 0) throw new AssertionError("command failed (rc " + rc + "): " + String.join(" ", cmd) + "\nstdout: " + out + "\nstderr: " + err);
            return this;
        }
    }

    static Result run(Map<String, String> env, Duration timeout, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            byte[][] buffers = new byte[2][];
            Thread to = Thread.ofVirtual().start(() -> buffers[0] = readAll(out));
            Thread te = Thread.ofVirtual().start(() -> buffers[1] = readAll(err));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("command timed out after " + timeout.toSeconds() + " s: " + String.join(" ", cmd));
            }
            to.join();
            te.join();
            return new Result(p.exitValue(), new String(buffers[0], StandardCharsets.UTF_8),
                    new String(buffers[1], StandardCharsets.UTF_8), Arrays.asList(cmd));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Result run(String... cmd) {
        return run(Map.of(), Duration.ofSeconds(60), cmd);
    }

    /** Starts a long-running command; its output goes to {@code log}. */
    static Process start(Path log, String... cmd) {
        try {
            return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + String.join(" ", cmd), e);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /** Polls {@code condition} every 200 ms until it holds or {@code millis} pass; its last answer. */
    static boolean within(long millis, java.util.function.Supplier<Boolean> condition) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            if (condition.get()) return true;
            sleep(200);
        }
        return condition.get();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Fails the test (never skips it) if the process cannot do privileged networking. */
    static void requireRoot() {
        Result r = run("id", "-u");
        if (!r.out().trim().equals("0")) {
            throw new AssertionError("end-to-end tests need root (network namespaces, TAP devices); run them as root, as CI does");
        }
    }
}
