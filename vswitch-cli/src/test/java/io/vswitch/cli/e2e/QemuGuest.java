package io.vswitch.cli.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Linux guest (the kernel and busybox initramfs built by {@code bin/guest-image}) under QEMU
 * with TCG, its virtio-net NIC on a vhost-user socket, its serial console on QEMU's stdio: tests read
 * what it prints and type commands into its shell.
 */
final class QemuGuest implements AutoCloseable {
    static final Path IMAGE = Path.of(System.getenv().getOrDefault("VSWITCH_GUEST_DIR", "/var/cache/vswitch-guest"));

    private final String name;
    private final Process process;
    private final OutputStream console;
    private final StringBuilder output = new StringBuilder();

    /**
     * @param chardev the {@code -chardev socket} options after the id (path, server=on, reconnect=...)
     * @param cmdline the {@code vsw.*} kernel parameters
     */
    QemuGuest(String name, String chardev, String mac, String cmdline) {
        this.name = name;
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max",
                "-m", "256", "-nographic", "-no-reboot",
                "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "memory-backend=mem",
                "-kernel", IMAGE.resolve("vmlinux").toString(), "-initrd", IMAGE.resolve("initramfs.cpio.gz").toString(),
                "-append", "console=ttyS0 quiet mitigations=off panic=-1 " + cmdline,
                "-chardev", "socket,id=c0," + chardev, "-netdev", "vhost-user,id=n0,chardev=c0",
                // vectors=0: QEMU 7.2 with TCG and vhost-user crashes with MSI-X (shared/interop facts).
                "-device", "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=" + mac));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start qemu-system-x86_64 (bin/guest-image installs it): " + e.getMessage(), e);
        }
        console = process.getOutputStream();
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
                // QEMU ended
            }
        });
    }

    int mark() {
        synchronized (output) {
            return output.length();
        }
    }

    /** Waits for {@code regex} in the console output after position {@code from}; returns the match. */
    Matcher await(String regex, int from, long millis) {
        Pattern p = Pattern.compile(regex);
        long deadline = System.currentTimeMillis() + millis;
        synchronized (output) {
            while (true) {
                Matcher m = p.matcher(output);
                if (m.find(from)) return m;
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || !process.isAlive()) {
                    throw new AssertionError(name + ": no '" + regex + "' on the console" + (process.isAlive() ? "" : " (QEMU exited)")
                            + ":\n" + output.substring(Math.max(0, Math.min(from, output.length()) - 2000)));
                }
                try {
                    output.wait(Math.min(left, 200));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** Types a command into the guest's shell. */
    void type(String line) {
        try {
            console.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            console.flush();
        } catch (IOException e) {
            throw new AssertionError(name + ": the console is gone", e);
        }
    }

    /** Pings {@code ip} {@code count} times from the guest; returns ping's exit code. */
    int ping(String ip, int count) {
        int from = mark();
        type("ping -c " + count + " -W 2 " + ip + " >/dev/null 2>&1; echo PING-RC-$?");
        return Integer.parseInt(await("PING-RC-(\\d+)", from, 60_000).group(1));
    }

    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
