package io.vswitch.cli.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DPDK's {@code dpdk-testpmd} as a vhost-user frontend ({@code net_virtio_user}), driven through its
 * interactive prompt on a pipe. No hugepages needed: {@code --no-huge} gives it shareable memfd
 * memory. It runs its forwarding lcore on CPU 0, leaving CPU 1 to the switch's PMD. Its stdout is
 * unbuffered ({@code stdbuf -o0}): on a pipe, printf output would otherwise arrive after the next prompt.
 */
final class Testpmd implements AutoCloseable {
    private final Process process;
    private final OutputStream stdin;
    private final StringBuilder output = new StringBuilder();
    private final String name;

    /**
     * @param prefix unique per running instance (DPDK's runtime files)
     * @param vdevs  {@code net_virtio_user} device arguments, one per port
     * @param mode   forwarding mode (io, txonly, rxonly, mac)
     */
    Testpmd(String prefix, List<String> vdevs, String mode, String... extra) {
        this.name = prefix;
        List<String> cmd = new ArrayList<>(List.of("stdbuf", "-o0", "dpdk-testpmd", "--lcores", "0@0,1@0", "--no-pci", "--no-huge", "-m", "256",
                "--file-prefix", prefix, "--log-level", "lib.eal:error"));
        for (int i = 0; i < vdevs.size(); i++) cmd.addAll(List.of("--vdev", "net_virtio_user" + i + "," + vdevs.get(i)));
        cmd.addAll(List.of("--", "-i", "--nb-cores=1", "--forward-mode=" + mode, "--total-num-mbufs=8192"));
        cmd.addAll(List.of(extra));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start dpdk-testpmd (bin/install-test-deps installs it): " + e.getMessage(), e);
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
                // process ended
            }
        });
        awaitOutput("testpmd> ", 0, 60_000);
    }

    /** Runs one command and returns what it printed before the next prompt. */
    String command(String line) {
        int from;
        synchronized (output) {
            from = output.length();
        }
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new AssertionError(name + ": testpmd is gone: " + output(), e);
        }
        int end = awaitOutput("testpmd> ", from, 30_000);
        synchronized (output) {
            return output.substring(from, end);
        }
    }

    private int awaitOutput(String text, int from, long millis) {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (output) {
            while (true) {
                int at = output.indexOf(text, from);
                if (at >= 0) return at;
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || !process.isAlive() && output.indexOf(text, from) < 0) {
                    throw new AssertionError(name + ": no '" + text.trim() + "' from testpmd; output:\n" + output);
                }
                try {
                    output.wait(Math.min(left, 200));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /** {rx packets, tx packets} of {@code port} from {@code show port stats}. */
    long[] stats(int port) {
        String s = command("show port stats " + port);
        Matcher rx = Pattern.compile("RX-packets:\\s+(\\d+)").matcher(s);
        Matcher tx = Pattern.compile("TX-packets:\\s+(\\d+)").matcher(s);
        if (!rx.find() || !tx.find()) throw new AssertionError(name + ": no port stats in:\n" + s);
        return new long[] {Long.parseLong(rx.group(1)), Long.parseLong(tx.group(1))};
    }

    @Override
    public void close() {
        try {
            stdin.write("quit\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
