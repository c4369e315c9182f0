package io.vswitch.cli.e2e;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The switch on a broken host: each problem gets a one-line error naming it and the fix, and exit 1. */
class BadEnvironmentIT {
    private static final String HOME = Sh.HOME.toString();

    @Test
    void aFullRunDirIsRefusedBeforeAnythingStarts() throws Exception {
        Sh.requireRoot();
        Path dir = Files.createTempDirectory("vswitch-full-");
        Sh.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.toString()).ok();
        try {
            Sh.Result r = Sh.run(Map.of("VSWITCH_RUNDIR", dir.toString()), Duration.ofSeconds(60), HOME + "/bin/vswitch", "start");
            assertEquals(1, r.rc(), r.out() + r.err());
            assertTrue(r.err().contains("run dir " + dir + " has only") && r.err().contains("set VSWITCH_RUNDIR"), r.err());
            assertFalse(Files.exists(dir.resolve("vswitch-dp.pid")), "nothing was started");
        } finally {
            Sh.run("umount", dir.toString());
        }
    }

    /**
     * In a private mount namespace without /dev/net/tun: the bridge's internal TAP cannot be made. As with
     * ovs-vsctl against OVS, the rows stay and the reason is in {@code Interface.error}; the dataplane
     * has the bridge but no port it could not make.
     */
    @Test
    void withoutDevNetTunTheBridgeReportsItsErrorAndTheDataplaneHasNoBrokenPort() throws Exception {
        Sh.requireRoot();
        Path run = Files.createTempDirectory("vswitch-notun-");
        String script = String.join("; ",
                "mount -t tmpfs none /dev/net",
                "export VSWITCH_RUNDIR=" + run,
                HOME + "/bin/vswitch start >/dev/null",
                HOME + "/bin/vsctl add-br brnotun; echo rc=$?",
                HOME + "/bin/vsctl get Interface brnotun error ofport",
                HOME + "/bin/appctl -t vswitch-dp dpif/show; echo shown",
                HOME + "/bin/vswitch stop >/dev/null");
        Sh.Result r = Sh.run(Map.of(), Duration.ofSeconds(120), "unshare", "-m", "--propagation", "private", "bash", "-c", script);
        String all = r.out() + r.err();
        assertTrue(r.out().contains("rc=0"), all);
        assertTrue(r.out().contains("\"could not open TAP device brnotun: open /dev/net/tun (load the tun module: modprobe tun)"),
                "Interface.error says why:\n" + all);
        assertTrue(r.out().contains("\n-1\n"), "ofport is -1:\n" + all);
        String dpif = r.out().substring(r.out().indexOf("\n-1\n") + 4);
        assertTrue(dpif.contains("brnotun:") && dpif.contains("shown"), "the bridge exists, as with OVS:\n" + all);
        assertTrue(dpif.lines().noneMatch(l -> l.trim().startsWith("brnotun ")), "but not its port:\n" + all);
    }
}
