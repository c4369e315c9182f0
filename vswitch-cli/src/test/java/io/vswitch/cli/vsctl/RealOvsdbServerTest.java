package io.vswitch.cli.vsctl;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link VsctlCompareTest} sequence again, on the REAL ovsdb-server (Debian openvswitch-common,
 * with OVS's own vswitch.ovsschema): the real ovs-vsctl on one server and our vsctl on another give the
 * same output, errors and exit codes. So our vsctl works against OVS's database, not just ours.
 */
class RealOvsdbServerTest extends VsctlCompareTest {
    /** A real ovsdb-server process on a fresh database created by ovsdb-tool. */
    record RealDb(Path sock, Path pid) implements Db {
        @Override
        public void stop() throws Exception {
            if (Files.exists(pid)) new ProcessBuilder("kill", Files.readString(pid).trim()).start().waitFor();
        }
    }

    @Override
    Db startDb(Path d) throws Exception {
        Files.createDirectories(d);
        Path db = d.resolve("conf.db");
        Path sock = d.resolve("db.sock");
        Path pid = d.resolve("ovsdb-server.pid");
        run("ovsdb-tool", "create", db.toString(), "/usr/share/openvswitch/vswitch.ovsschema");
        run("ovsdb-server", "--remote=punix:" + sock, "--pidfile=" + pid, "--unixctl=" + d.resolve("ovsdb-server.ctl"),
                "--detach", "--no-chdir", "--log-file=" + d.resolve("ovsdb-server.log"), db.toString());
        for (int i = 0; i < 100 && !Files.exists(sock); i++) Thread.sleep(50);
        return new RealDb(sock, pid);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }
}
