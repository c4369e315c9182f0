package io.vswitch.cli.e2e;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;

/**
 * A real Linux guest (the kernel and busybox initramfs built by {@code bin/guest-image}) under QEMU
 * with TCG, its virtio-net NIC on a vhost-user socket, its serial console on QEMU's stdio: tests read
 * what it prints and type commands into its shell.
 */
final class QemuGuest implements AutoCloseable {
    static final Path IMAGE = Path.of(System.getenv().getOrDefault("VSWITCH_GUEST_DIR", "/var/cache/vswitch-guest"));

    private final ConsoleProcess console;

    /**
     * @param chardev the {@code -chardev socket} options after the id (path, server=on, reconnect=...)
     * @param cmdline the {@code vsw.*} kernel parameters
     * @param device   more {@code virtio-net-pci} options ("" or e.g. ",packed=on")
     */
    QemuGuest(String name, String chardev, String mac, String cmdline, String device) {
        console = new ConsoleProcess(name, List.of("qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max",
                "-m", "256", "-nographic", "-no-reboot",
                "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "memory-backend=mem",
                "-kernel", IMAGE.resolve("vmlinux").toString(), "-initrd", IMAGE.resolve("initramfs.cpio.gz").toString(),
                "-append", "console=ttyS0 quiet mitigations=off panic=-1 " + cmdline,
                "-chardev", "socket,id=c0," + chardev, "-netdev", "vhost-user,id=n0,chardev=c0",
                // vectors=0: QEMU 7.2 with TCG and vhost-user crashes with MSI-X (shared/interop facts).
                "-device", "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=" + mac + device),
                "bin/guest-image installs it");
    }

    /** Waits for {@code regex} on the console after position {@code from}. */
    Matcher await(String regex, int from, long millis) {
        return console.await(regex, from, millis);
    }

    /** Pings {@code ip} {@code count} times from the guest; returns ping's exit code. */
    int ping(String ip, int count) {
        int from = console.mark();
        console.type("ping -c " + count + " -W 2 " + ip + " >/dev/null 2>&1; echo PING-RC-$?");
        return Integer.parseInt(console.await("PING-RC-(\\d+)", from, 60_000).group(1));
    }

    /**
     * Sends {@code word} over TCP to the echo server (port 7) of the guest at {@code ip}; returns
     * what came back (empty if nothing did).
     */
    String tcpEcho(String ip, String word) {
        int from = console.mark();
        console.type("echo ECHO-$(echo " + word + " | nc -w 3 " + ip + " 7)-END");
        return console.await("ECHO-([A-Za-z0-9]*)-END", from, 60_000).group(1);
    }

    /** Sends {@code kib} KiB of zeros to the TCP echo server at {@code ip}; returns how many bytes came back. */
    long tcpBulk(String ip, int kib) {
        int from = console.mark();
        console.type("echo BULK-$(dd if=/dev/zero bs=1024 count=" + kib + " 2>/dev/null | nc -w 3 " + ip + " 7 | wc -c)-END");
        return Long.parseLong(console.await("BULK-\\s*([0-9]+)-END", from, 120_000).group(1));
    }

    @Override
    public void close() {
        console.close();
    }
}
