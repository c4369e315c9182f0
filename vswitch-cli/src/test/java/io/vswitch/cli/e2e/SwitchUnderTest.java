package io.vswitch.cli.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The real switch, started with bin/vswitch in a private run dir, configured with bin/vsctl, inspected with bin/appctl and bin/ofctl. */
final class SwitchUnderTest implements AutoCloseable {
    final Path runDir;
    private final Map<String, String> env;
    /** The network namespace the switch's processes run in (its TAP and internal devices appear there), or null. */
    private final String netns;

    SwitchUnderTest() throws IOException {
        this(null);
    }

    /** A switch whose processes run in network namespace {@code netns} (a second switch beside the first). */
    SwitchUnderTest(String netns) throws IOException {
        runDir = Files.createTempDirectory("vswitch-e2e-");
        env = Map.of("VSWITCH_RUNDIR", runDir.toString());
        this.netns = netns;
    }

    Sh.Result vswitch(String... args) {
        String[] c = cmd("bin/vswitch", args);
        if (netns != null) {
            List<String> in = new ArrayList<>(List.of("ip", "netns", "exec", netns));
            in.addAll(List.of(c));
            c = in.toArray(new String[0]);
        }
        return Sh.run(env, Duration.ofSeconds(120), c);
    }

    Sh.Result vsctl(String... args) {
        return Sh.run(env, Duration.ofSeconds(60), cmd("bin/vsctl", args));
    }

    Sh.Result ofctl(String... args) {
        return Sh.run(env, Duration.ofSeconds(120), cmd("bin/ofctl", args));
    }

    /** The real ovs-vsctl against this switch's database. */
    Sh.Result ovsVsctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + runDir.resolve("db.sock"), "--timeout=20"));
        cmd.addAll(List.of(args));
        return Sh.run(cmd.toArray(new String[0]));
    }

    Sh.Result appctl(String... args) {
        return Sh.run(env, Duration.ofSeconds(60), cmd("bin/appctl", args));
    }

    private static String[] cmd(String script, String... args) {
        List<String> c = new ArrayList<>();
        c.add(Sh.HOME.resolve(script).toString());
        c.addAll(List.of(args));
        return c.toArray(new String[0]);
    }

    long pid(String process) throws IOException {
        return Long.parseLong(Files.readString(runDir.resolve(process + ".pid")).trim());
    }

    String log(String process) throws IOException {
        Path p = runDir.resolve(process + ".log");
        return Files.exists(p) ? Files.readString(p) : "";
    }

    @Override
    public void close() {
        vswitch("stop");
    }
}
