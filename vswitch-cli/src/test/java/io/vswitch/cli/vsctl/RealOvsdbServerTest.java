package io.vswitch.cli.vsctl;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our vsctl against the REAL ovsdb-server (Debian openvswitch-common, with OVS's own schema): the same
 * command sequence through the real ovs-vsctl on one ovsdb-server and through our vsctl on another
 * gives the same output and exit codes.
 */
class RealOvsdbServerTest {
    @TempDir
    Path dir;
    private final List<Path> pidFiles = new ArrayList<>();
    private Path realSock;
    private Path oursSock;

    private Path startOvsdbServer(String name) throws Exception {
        Path db = dir.resolve(name + ".db");
        Path sock = dir.resolve(name + ".sock");
        Path pid = dir.resolve(name + ".pid");
        run("ovsdb-tool", "create", db.toString(), "/usr/share/openvswitch/vswitch.ovsschema");
        run("ovsdb-server", "--remote=punix:" + sock, "--pidfile=" + pid, "--unixctl=" + dir.resolve(name + ".ctl"),
                "--detach", "--no-chdir", "--log-file=" + dir.resolve(name + ".log"), db.toString());
        pidFiles.add(pid);
        for (int i = 0; i < 100 && !Files.exists(sock); i++) Thread.sleep(50);
        return sock;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @BeforeEach
    void start() throws Exception {
        realSock = startOvsdbServer("real");
        oursSock = startOvsdbServer("ours");
    }

    @AfterEach
    void stop() throws Exception {
        for (Path pid : pidFiles) {
            if (Files.exists(pid)) new ProcessBuilder("kill", Files.readString(pid).trim()).start().waitFor();
        }
    }

    private VsctlCompareTest.Out real(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + realSock, "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new VsctlCompareTest.Out(p.exitValue(), out, err);
    }

    private VsctlCompareTest.Out ours(String... args) {
        List<String> cmd = new ArrayList<>(List.of("--db=unix:" + oursSock, "--no-wait", "--timeout=10"));
        cmd.addAll(List.of(args));
        Vsctl.Result r = Vsctl.run(cmd.toArray(String[]::new), Map.of());
        return new VsctlCompareTest.Out(r.rc(), r.out(), r.err());
    }

    private void same(boolean sorted, String... args) throws Exception {
        VsctlCompareTest.Out a = real(args);
        VsctlCompareTest.Out b = ours(args);
        String what = String.join(" ", args);
        assertEquals(a.rc(), b.rc(), what + "\nreal: " + a.err() + "\nours: " + b.err());
        String ao = VsctlCompareTest.normUuids(a.out());
        String bo = VsctlCompareTest.normUuids(b.out());
        if (sorted) {
            ao = VsctlCompareTest.sortedLines(ao);
            bo = VsctlCompareTest.sortedLines(bo);
        }
        assertEquals(ao, bo, what);
        assertEquals(VsctlCompareTest.normErr(a.err()), VsctlCompareTest.normErr(b.err()), what);
    }

    @Test
    void sameSequenceSameResults() throws Exception {
        same(false, "init");
        same(false, "add-br", "br0");
        same(false, "add-port", "br0", "p1", "tag=10");
        same(false, "add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=tap", "options:k=v");
        same(false, "list-br");
        same(false, "list-ports", "br0");
        same(false, "port-to-br", "p2");
        same(false, "get", "Port", "p1", "tag");
        same(false, "get", "Interface", "p2", "options:k");
        same(false, "set", "Bridge", "br0", "other_config:mac-aging-time=60", "protocols=OpenFlow13");
        same(false, "get", "Bridge", "br0", "other_config");
        same(true, "find", "Interface", "type=tap");
        same(false, "set-controller", "br0", "tcp:127.0.0.1:6653");
        same(false, "get-controller", "br0");
        same(false, "set-fail-mode", "br0", "secure");
        same(false, "get-fail-mode", "br0");
        same(false, "add-br", "br0");
        same(false, "del-br", "nope");
        same(false, "br-exists", "nope");
        same(false, "del-port", "br0", "p1");
        same(true, "list", "Port");
        same(false, "del-br", "br0");
        same(false, "list-br");
    }
}
