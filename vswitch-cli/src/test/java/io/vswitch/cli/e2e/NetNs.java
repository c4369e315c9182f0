package io.vswitch.cli.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Duration;

/** A network namespace the test creates and removes (with everything in it). */
final class NetNs implements AutoCloseable {
    final String name;

    private NetNs(String name) {
        this.name = name;
    }

    static NetNs create(String name) {
        Sh.run("ip", "netns", "del", name);     // a leftover from an aborted run
        Sh.run("ip", "netns", "add", name).ok();
        Sh.run("ip", "-n", name, "link", "set", "lo", "up").ok();
        return new NetNs(name);
    }

    /** A new namespace holding {@code dev} (moved from the root namespace) with address {@code cidr}. */
    static NetNs withDevice(String name, String dev, String cidr) {
        NetNs n = create(name);
        n.adopt(dev, cidr);
        return n;
    }

    /** Moves {@code dev} (from the root namespace) into this one, addresses it and brings it up. */
    void adopt(String dev, String cidr) {
        Sh.run("ip", "link", "set", dev, "netns", name).ok();
        if (cidr != null) Sh.run("ip", "-n", name, "addr", "add", cidr, "dev", dev).ok();
        Sh.run("ip", "-n", name, "link", "set", dev, "up").ok();
    }

    private String[] wrap(String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", name));
        c.addAll(List.of(cmd));
        return c.toArray(new String[0]);
    }

    Sh.Result exec(String... cmd) {
        return Sh.run(Map.of(), Duration.ofSeconds(90), wrap(cmd));
    }

    Process start(Path log, String... cmd) {
        return Sh.start(log, wrap(cmd));
    }

    @Override
    public void close() {
        Sh.run("ip", "netns", "pids", name).out().lines().forEach(pid -> Sh.run("kill", "-9", pid.trim()));
        Sh.run("ip", "netns", "del", name);
    }
}
