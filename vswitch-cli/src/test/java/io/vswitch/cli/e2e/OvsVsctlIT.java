package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real ovs-vsctl (Debian openvswitch-switch) drives the running switch through our OVSDB server,
 * WITHOUT --no-wait: each command returns only once vswitchd has applied it to the dataplane
 * (next_cfg/cur_cfg), and the result forwards real traffic between namespaces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OvsVsctlIT {
    private SwitchUnderTest sw;
    private final List<NetNs> namespaces = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
    }

    @AfterAll
    void tearDown() {
        if (sw != null) {
            for (String p : List.of("ova", "ovb", "ovbad")) vsctl("--if-exists", "del-port", p);
            sw.close();
        }
        namespaces.forEach(NetNs::close);
    }

    private Sh.Result vsctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + sw.runDir.resolve("db.sock"), "--timeout=20"));
        cmd.addAll(List.of(args));
        return Sh.run(Map.of(), Duration.ofSeconds(60), cmd.toArray(new String[0]));
    }

    @Test
    @Order(1)
    void addBridgeAndPortsWaitForTheDataplaneAndForward() {
        vsctl("set", "Open_vSwitch", ".", "other_config:pmd-sleep-max=50").ok();
        vsctl("add-br", "ovbr").ok();
        vsctl("add-port", "ovbr", "ova", "tag=30", "--", "set", "Interface", "ova", "type=tap").ok();
        vsctl("add-port", "ovbr", "ovb", "tag=30", "--", "set", "Interface", "ovb", "type=tap", "ofport_request=7").ok();
        // Returned without --no-wait: the dataplane already has them, with the numbers written back.
        String dpif = sw.appctl("-t", "vswitch-dp", "dpif/show").ok().out();
        assertTrue(dpif.contains("ova 1/") && dpif.contains("ovb 7/") && dpif.contains("tag=30"), dpif);
        assertEquals("1\n", vsctl("get", "Interface", "ova", "ofport").ok().out());
        assertEquals("7\n", vsctl("get", "Interface", "ovb", "ofport").ok().out());
        assertEquals("65534\n", vsctl("get", "Interface", "ovbr", "ofport").ok().out());
        assertEquals("up\n", vsctl("get", "Interface", "ova", "link_state").ok().out());

        NetNs a = NetNs.create("vsw-ov-a");
        namespaces.add(a);
        a.adopt("ova", "10.5.0.1/24");
        NetNs b = NetNs.create("vsw-ov-b");
        namespaces.add(b);
        b.adopt("ovb", "10.5.0.2/24");
        Sh.Result ping = a.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.5.0.2");
        assertTrue(ping.out().contains(" 0% packet loss"), ping.out());
    }

    /** Interface.statistics follows the dataplane's counters (every stats-update-interval, 5 s). */
    @Test
    @Order(2)
    void interfaceStatisticsAreWrittenBack() throws Exception {
        String stats = "";
        for (int i = 0; i < 80 && !stats.matches("(?s).*rx_packets=[1-9].*"); i++) {
            Thread.sleep(100);
            stats = vsctl("--no-wait", "get", "Interface", "ova", "statistics").ok().out();
        }
        assertTrue(stats.matches("(?s).*rx_packets=[1-9][0-9]*.*") && stats.contains("tx_bytes="), stats);
    }

    @Test
    @Order(3)
    void vlanChangeThroughOvsVsctlTakesEffect() {
        vsctl("set", "Port", "ovb", "tag=31").ok();
        String dpif = sw.appctl("-t", "vswitch-dp", "dpif/show").ok().out();
        assertTrue(dpif.matches("(?s).*ovb 7/\\d+: \\(tap\\) tag=31.*"), dpif);
        Sh.Result ping = namespaces.get(0).exec("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.5.0.2");
        assertTrue(ping.out().contains("100% packet loss"), "different VLANs now: " + ping.out());
        vsctl("set", "Port", "ovb", "tag=30").ok();
        ping = namespaces.get(0).exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.5.0.2");
        assertTrue(ping.out().contains(" 0% packet loss"), ping.out());
    }

    @Test
    @Order(4)
    void anUnknownInterfaceTypeSetsInterfaceError() {
        Sh.Result r = vsctl("add-port", "ovbr", "ovbad", "--", "set", "Interface", "ovbad", "type=bogus");
        assertEquals(0, r.rc(), "like ovs-vsctl against OVS: the row is added, the error is reported in the database");
        String error = vsctl("get", "Interface", "ovbad", "error").ok().out();
        assertTrue(error.contains("unknown port type 'bogus'"), error);
        assertEquals("-1\n", vsctl("get", "Interface", "ovbad", "ofport").ok().out());
        vsctl("del-port", "ovbad").ok();
    }

    /** set-manager opens a TCP remote on the running switch (loopback), del-manager closes it. */
    @Test
    @Order(5)
    void setManagerOpensAndClosesATcpRemote() throws Exception {
        vsctl("set-manager", "ptcp:16640:127.0.0.1").ok();
        Sh.Result viaTcp = null;
        for (int i = 0; i < 50; i++) {
            viaTcp = Sh.run("ovs-vsctl", "--db=tcp:127.0.0.1:16640", "--no-wait", "--timeout=5", "list-br");
            if (viaTcp.rc() == 0) break;
            Thread.sleep(100);
        }
        assertEquals(0, viaTcp.rc(), viaTcp.err());
        assertTrue(viaTcp.out().contains("ovbr"), viaTcp.out());
        vsctl("del-manager").ok();
        Thread.sleep(300);
        Sh.Result closed = Sh.run("ovs-vsctl", "--db=tcp:127.0.0.1:16640", "--no-wait", "--timeout=2", "list-br");
        assertTrue(closed.rc() != 0, "the remote is closed after del-manager");
    }

    /** Every transaction ovs-vsctl saw acknowledged survives kill -9 of vswitchd, many times over. */
    @Test
    @Order(6)
    void acknowledgedTransactionsSurviveKill9() throws Exception {
        Random random = new Random(5);
        List<String> acknowledged = new ArrayList<>();
        int n = 0;
        for (int round = 0; round < 5; round++) {
            long killAt = System.currentTimeMillis() + 300 + random.nextInt(700);
            Thread killer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(Math.max(0, killAt - System.currentTimeMillis()));
                    Sh.run("kill", "-9", Long.toString(sw.pid("vswitchd")));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            while (System.currentTimeMillis() < killAt + 300) {
                String key = "k" + (n++);
                Sh.Result r = vsctl("--no-wait", "set", "Open_vSwitch", ".", "external_ids:" + key + "=v");
                if (r.rc() == 0) acknowledged.add(key);
            }
            killer.join();
            Thread.sleep(200);
            sw.vswitch("start").ok();
            String ids = vsctl("--no-wait", "get", "Open_vSwitch", ".", "external_ids").ok().out();
            for (String key : acknowledged) assertTrue(ids.contains(key + "=v"), "acknowledged " + key + " lost after kill -9 round " + round + ": " + ids);
        }
        assertTrue(acknowledged.size() > 20, "enough transactions went through: " + acknowledged.size());
        System.out.println(acknowledged.size() + " acknowledged transactions survived 5 kill -9 rounds");
        assertTrue(sw.log("vswitchd").contains("change(s) to resynchronise"), "the restarted vswitchd adopted the dataplane");
    }
}
