package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.ovsdb.db.DatabaseFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our OVSDB server over its real transport: RFC 7047 replies, errors, monitors, and hostile input. */
class OvsdbServerTest {
    @TempDir
    Path dir;
    private DatabaseFile file;
    private OvsdbServer server;
    private OvsdbTransport transport;
    private Path socket;

    @BeforeEach
    void start() throws Exception {
        file = DatabaseFile.open(dir.resolve("conf.db"), RealOvsVsctlTest.SCHEMA);
        server = new OvsdbServer(file.database(), file);
        transport = new OvsdbTransport(server);
        socket = dir.resolve("db.sock");
        transport.listen("punix:" + socket);
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]"));
        }
    }

    @AfterEach
    void stop() throws Exception {
        transport.close();
        server.close();
        file.close();
    }

    static JsonNode json(String s) throws Exception {
        return JsonRpcClient.JSON.readTree(s);
    }

    private static String addBridge(String name) {
        return "[\"Open_vSwitch\","
                + "{\"op\":\"insert\",\"table\":\"Interface\",\"uuid-name\":\"i\",\"row\":{\"name\":\"" + name + "\",\"type\":\"internal\"}},"
                + "{\"op\":\"insert\",\"table\":\"Port\",\"uuid-name\":\"p\",\"row\":{\"name\":\"" + name + "\",\"interfaces\":[\"named-uuid\",\"i\"]}},"
                + "{\"op\":\"insert\",\"table\":\"Bridge\",\"uuid-name\":\"b\",\"row\":{\"name\":\"" + name + "\",\"ports\":[\"named-uuid\",\"p\"]}},"
                + "{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"bridges\",\"insert\",[\"set\",[[\"named-uuid\",\"b\"]]]]]}]";
    }

    /**
     * A transaction blocked in a "wait" is answered with "timed out" once its timeout passes (the
     * server's retry timer, armed only while such a one waits), and one without a timeout (so
     * without a timer) when another client's commit satisfies it.
     */
    @Test
    void aBlockedWaitEndsByACommitOrByItsTimeout() throws Exception {
        String waitForBr0 = "[\"Open_vSwitch\", {\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[],\"columns\":[\"name\"],"
                + "\"until\":\"==\",\"rows\":[{\"name\":\"br0\"}]%s}]";
        try (JsonRpcClient a = new JsonRpcClient(socket); JsonRpcClient b = new JsonRpcClient(socket)) {
            long t0 = System.nanoTime();
            JsonNode r = a.call("transact", json(String.format(waitForBr0, ",\"timeout\":300")));
            assertEquals("timed out", r.path("result").path(0).path("error").asText(), r.toString());
            assertTrue(System.nanoTime() - t0 >= 300_000_000L, "not before its timeout");
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<JsonNode> waiting = pool.submit(() -> a.call("transact", json(String.format(waitForBr0, ""))));
                Thread.sleep(300);                        // blocked by now (if not, it finds br0 at once)
                assertFalse(waiting.isDone(), "blocked while br0 does not exist");
                assertTrue(b.call("transact", json(addBridge("br0"))).path("error").isNull());
                r = waiting.get(20, TimeUnit.SECONDS);
                assertTrue(r.path("result").path(0).path("error").isMissingNode(), "satisfied by the commit: " + r);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void rfcErrorsComeBackAsErrorObjectsAndTheConnectionSurvives() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            assertEquals("unknown method", c.call("no_such_method", json("[]")).get("error").asText());
            assertEquals("unknown database", c.call("get_schema", json("[\"Nope\"]")).path("error").path("error").asText());
            JsonNode r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"select\",\"table\":\"Nope\",\"where\":[]}]"));
            assertEquals("syntax error", r.path("result").path(0).path("error").asText());
            assertEquals("No table named Nope.", r.path("result").path(0).path("details").asText());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Bridge\",\"row\":{\"nope\":1}}, {\"op\":\"comment\",\"comment\":\"x\"}]"));
            assertEquals("syntax error", r.path("result").path(0).path("error").asText());
            assertTrue(r.path("result").get(1).isNull(), "operations after a failed one are not attempted (null)");
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Bridge\",\"row\":{\"name\":7}}]"));
            assertEquals("syntax error", r.path("result").path(0).path("error").asText(), r.toString());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Queue\",\"row\":{\"dscp\":99}}]"));
            assertEquals("constraint violation", r.path("result").path(1).path("error").asText(), "a commit-time failure is an extra element: " + r);
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]"));
            assertEquals("constraint violation", r.path("result").path(1).path("error").asText(), "maxRows 1: " + r);
            r = c.call("transact", json(addBridge("br0")));
            r = c.call("transact", json(addBridge("br0").replace("\"i\"", "\"i2\"").replace("[\"named-uuid\",\"i\"]", "[\"named-uuid\",\"i2\"]")));
            assertTrue(r.path("result").toString().contains("constraint violation"), "unique index on Bridge name: " + r);
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"abort\"}]"));
            assertEquals("aborted", r.path("result").path(0).path("error").asText());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"assert\",\"lock\":\"l\"}]"));
            assertEquals("not owner", r.path("result").path(0).path("error").asText());
            assertEquals("[\"x\",1]", c.call("echo", json("[\"x\",1]")).get("result").toString());
            // A duplicate uuid-name is reported at its own operation, after the ones before it (ovsdb-server's way).
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"comment\",\"comment\":\"x\"},"
                    + "{\"op\":\"insert\",\"table\":\"QoS\",\"uuid-name\":\"a\",\"row\":{}},"
                    + "{\"op\":\"insert\",\"table\":\"QoS\",\"uuid-name\":\"a\",\"row\":{}}, {\"op\":\"comment\",\"comment\":\"y\"}]"));
            assertTrue(r.path("result").path(1).has("uuid"), r.toString());
            assertEquals("duplicate uuid-name", r.path("result").path(2).path("error").asText(), r.toString());
            assertTrue(r.path("result").path(3).isNull(), r.toString());
        }
    }

    /** Arithmetic on a set must not merge elements: ovsdb-server refuses, with these words. */
    @Test
    void arithmeticMutationThatWouldMergeSetElementsIsRefused() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json(addBridge("br0").replace("\"name\":\"br0\",\"interfaces\"", "\"name\":\"br0\",\"trunks\":[\"set\",[1,2]],\"interfaces\"")));
            JsonNode r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"mutate\",\"table\":\"Port\",\"where\":[],\"mutations\":[[\"trunks\",\"*=\",0]]}]"));
            assertEquals("{\"error\":\"constraint violation\",\"details\":\"Result of \\\"*=\\\" operation contains duplicates.\"}",
                    r.path("result").path(0).toString());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"mutate\",\"table\":\"Port\",\"where\":[],\"mutations\":[[\"trunks\",\"+=\",1]]}]"));
            assertEquals(1, r.path("result").path(0).path("count").asInt(), r.toString());
        }
    }

    @Test
    void referencesGarbageCollectionAndWeakReferences() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json(addBridge("br0")));
            JsonNode r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"delete\",\"table\":\"Port\",\"where\":[]}]"));
            assertEquals("referential integrity violation", r.path("result").path(1).path("error").asText(), r.toString());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
                    + "\"mutations\":[[\"bridges\",\"delete\",[\"set\",[]]]]}, {\"op\":\"update\",\"table\":\"Open_vSwitch\",\"where\":[],\"row\":{\"bridges\":[\"set\",[]]}}]"));
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"select\",\"table\":\"Interface\",\"where\":[]}]"));
            assertEquals(0, r.path("result").path(0).path("rows").size(), "bridge, port and interface were garbage-collected: " + r);
        }
    }

    /** Rows that only an unattached, collected row referred to go too: no orphan blocks a name forever. */
    @Test
    void garbageCollectionLeavesNoOrphans() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            JsonNode r = c.call("transact", json("[\"Open_vSwitch\","
                    + "{\"op\":\"insert\",\"table\":\"Interface\",\"uuid-name\":\"i\",\"row\":{\"name\":\"p1\"}},"
                    + "{\"op\":\"insert\",\"table\":\"Port\",\"uuid-name\":\"p\",\"row\":{\"name\":\"p1\",\"interfaces\":[\"named-uuid\",\"i\"]}},"
                    + "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"gone\"]],"
                    + "\"mutations\":[[\"ports\",\"insert\",[\"set\",[[\"named-uuid\",\"p\"]]]]]}]"));
            assertEquals(0, r.path("result").path(2).path("count").asInt(), r.toString());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"select\",\"table\":\"Interface\",\"where\":[]},"
                    + "{\"op\":\"select\",\"table\":\"Port\",\"where\":[]}]"));
            assertEquals(0, r.path("result").path(0).path("rows").size(), "the Interface only the collected Port referred to: " + r);
            assertEquals(0, r.path("result").path(1).path("rows").size());
        }
    }

    /** update2 sends single-valued columns (also optional ones like Port.tag) as their new value, as OVS. */
    @Test
    void update2CarriesNewValuesForOptionalScalars() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json(addBridge("br0")));
            c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"update\",\"table\":\"Port\",\"where\":[],\"row\":{\"tag\":10}}]"));
            c.call("monitor_cond", json("[\"Open_vSwitch\", \"m\", {\"Port\": [{\"columns\":[\"tag\"]}]}]"));
            c.drainNotifications();
            c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"update\",\"table\":\"Port\",\"where\":[],\"row\":{\"tag\":20}}]"));
            String n = c.drainNotifications().toString();
            assertTrue(n.contains("{\"modify\":{\"tag\":20}}"), n);
            c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"update\",\"table\":\"Port\",\"where\":[],\"row\":{\"tag\":[\"set\",[]]}}]"));
            n = c.drainNotifications().toString();
            assertTrue(n.contains("{\"modify\":{\"tag\":[\"set\",[]]}}"), "cleared: the new (empty) value, not the old one: " + n);
        }
    }

    @Test
    void monitorCondChangeValidatesBeforeChangingAnything() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("monitor_cond", json("[\"Open_vSwitch\", \"a\", {\"Bridge\": [{\"columns\":[\"name\"]}]}]"));
            c.call("monitor_cond", json("[\"Open_vSwitch\", \"b\", {\"Port\": [{\"columns\":[\"name\"]}]}]"));
            JsonNode r = c.call("monitor_cond_change", json("[\"a\", \"b\", {\"Bridge\": [{\"where\":[]}]}]"));
            assertTrue(r.path("error").toString().contains("duplicate monitor ID"), r.toString());
            r = c.call("monitor_cond_change", json("[\"a\", \"a2\", {\"Bridge\": [{\"where\":[[\"nope\",\"==\",1]]}]}]"));
            assertTrue(r.path("error").toString().contains("syntax error"), r.toString());
            r = c.call("monitor_cancel", json("[\"a\"]"));
            assertTrue(r.get("error").isNull(), "monitor \"a\" kept its name after the refused change: " + r);
        }
    }

    /** A weak reference to a row that does not exist is dropped at commit (Mirror.select_src_port is weak). */
    @Test
    void danglingWeakReferencesAreDropped() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json(addBridge("br0")));
            JsonNode r = c.call("transact", json("[\"Open_vSwitch\","
                    + "{\"op\":\"insert\",\"table\":\"Mirror\",\"uuid-name\":\"m\",\"row\":{\"name\":\"m1\","
                    + "\"select_src_port\":[\"set\",[[\"uuid\",\"11111111-2222-3333-4444-555555555555\"]]]}},"
                    + "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[],\"mutations\":[[\"mirrors\",\"insert\",[\"set\",[[\"named-uuid\",\"m\"]]]]]}]"));
            assertFalse(r.path("result").toString().contains("\"error\""), r.toString());
            r = c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"select\",\"table\":\"Mirror\",\"where\":[],\"columns\":[\"select_src_port\"]}]"));
            assertEquals("[\"set\",[]]", r.path("result").path(0).path("rows").path(0).path("select_src_port").toString(), r.toString());
        }
    }

    @Test
    void hostileInputClosesOnlyItsOwnConnection() throws Exception {
        try (JsonRpcClient good = new JsonRpcClient(socket)) {
            try (JsonRpcClient bad = new JsonRpcClient(socket)) {
                bad.sendRaw("{\"id\":1,\"method\":\"echo\",\"params\":[]".getBytes()); // truncated: waits for more
                bad.sendRaw("}garbage that is not json".getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < 50 && !bad.closedByServer(); i++) Thread.sleep(100);
                assertTrue(bad.closedByServer(), "a stream that is not JSON is closed");
            }
            try (JsonRpcClient huge = new JsonRpcClient(socket)) {
                byte[] chunk = ("\"" + "x".repeat(1 << 20)).getBytes();
                huge.sendRaw("{\"id\":1,\"method\":\"echo\",\"params\":[".getBytes());
                try {
                    for (int i = 0; i < 64 && !huge.closedByServer(); i++) huge.sendRaw(chunk);   // 64 MB, bounded
                } catch (java.io.IOException expected) {
                    // the server closed the connection while we were still sending
                }
                for (int i = 0; i < 50 && !huge.closedByServer(); i++) Thread.sleep(100);
                assertTrue(huge.closedByServer(), "a message over the limit closes its connection");
            }
            try (JsonRpcClient wrong = new JsonRpcClient(socket)) {
                assertEquals("syntax error", wrong.call("transact", json("{\"not\":\"an array\"}")).path("error").path("error").asText());
                assertFalse(wrong.closedByServer(), "a well-formed but wrong request keeps the connection");
            }
            assertEquals("[]", good.call("echo", json("[]")).get("result").toString(), "other clients are unaffected");
        }
    }

    /** A failed sync: nothing of the group is acknowledged, and nothing in memory is served afterwards. */
    @Test
    void afterAFailedSyncNothingIsServed() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean diskFails = new java.util.concurrent.atomic.AtomicBoolean();
        OvsdbServer.Store store = new OvsdbServer.Store() {
            @Override
            public void write(io.vswitch.ovsdb.db.Database db, io.vswitch.ovsdb.db.ChangeSet changes) {
            }

            @Override
            public void sync() throws java.io.IOException {
                if (diskFails.get()) throw new java.io.IOException("disk gone");
            }
        };
        OvsdbServer failing = new OvsdbServer(new io.vswitch.ovsdb.db.Database(RealOvsVsctlTest.SCHEMA), store);
        Path sock = dir.resolve("failing.sock");
        try (OvsdbTransport t = new OvsdbTransport(failing)) {
            t.listen("punix:" + sock);
            try (JsonRpcClient c = new JsonRpcClient(sock)) {
                c.call("transact", json("[\"Open_vSwitch\", {\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]"));
                diskFails.set(true);
                boolean refused;
                try {
                    JsonNode r = c.call("transact", json(addBridge("br0")));
                    refused = !r.path("error").isNull() || r.toString().contains("error\":\"");
                } catch (java.io.IOException closed) {
                    refused = true;                                    // disconnected before any reply
                }
                assertTrue(refused, "the commit whose sync failed is not acknowledged");
            }
            try (JsonRpcClient late = new JsonRpcClient(sock)) {
                JsonNode r = late.call("transact", json("[\"Open_vSwitch\", {\"op\":\"select\",\"table\":\"Bridge\",\"where\":[]}]"));
                assertEquals("I/O error", r.path("error").path("error").asText(), "unsynced rows are not served: " + r);
            }
        } finally {
            failing.close();
        }
    }

    /** A client that comes back with the last transaction it saw gets only what it missed. */
    @Test
    void monitorCondSinceSendsOnlyWhatWasMissed() throws Exception {
        String req = "{\"Bridge\": [{\"columns\":[\"name\",\"external_ids\"]}]}";
        String lastId;
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            c.call("transact", json(addBridge("br0")));
            JsonNode r = c.call("monitor_cond_since", json("[\"Open_vSwitch\", \"m\", " + req + ", \"00000000-0000-0000-0000-000000000000\"]"));
            assertFalse(r.path("result").path(0).asBoolean(), "an unknown transaction: not found, full contents: " + r);
            assertEquals(1, r.path("result").path(2).path("Bridge").size(), r.toString());
            lastId = r.path("result").path(1).asText();
        }
        // While the client is away: br0 changes, br1 is added, br2 comes and goes.
        try (JsonRpcClient w = new JsonRpcClient(socket)) {
            w.call("transact", json("[\"Open_vSwitch\", {\"op\":\"update\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"br0\"]],"
                    + "\"row\":{\"external_ids\":[\"map\",[[\"k\",\"v\"]]]}}]"));
            w.call("transact", json(addBridge("br1")));
            String br2 = w.call("transact", json(addBridge("br2"))).path("result").path(2).path("uuid").path(1).asText();
            JsonNode gone = w.call("transact", json("[\"Open_vSwitch\", {\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
                    + "\"mutations\":[[\"bridges\",\"delete\",[\"set\",[[\"uuid\",\"" + br2 + "\"]]]]]}]"));
            assertFalse(gone.path("result").toString().contains("error"), gone.toString());
        }
        try (JsonRpcClient c = new JsonRpcClient(socket)) {
            JsonNode r = c.call("monitor_cond_since", json("[\"Open_vSwitch\", \"m\", " + req + ", \"" + lastId + "\"]"));
            assertTrue(r.path("result").path(0).asBoolean(), "found: " + r);
            JsonNode bridges = r.path("result").path(2).path("Bridge");
            assertEquals(2, bridges.size(), "br0 modified and br1 inserted; br2 never existed for this client: " + r);
            List<String> kinds = new ArrayList<>();
            bridges.forEach(u -> kinds.add(u.fieldNames().next()));
            kinds.sort(null);
            assertEquals(List.of("insert", "modify"), kinds, r.toString());
            assertTrue(bridges.toString().contains("\"external_ids\":[\"map\",[[\"k\",\"v\"]]]"), r.toString());
            String now = r.path("result").path(1).asText();
            JsonNode again = c.call("monitor_cond_since", json("[\"Open_vSwitch\", \"m2\", " + req + ", \"" + now + "\"]"));
            assertEquals("[true,\"" + now + "\",{}]", again.path("result").toString(), "up to date: nothing to send");
        }
    }

    /** A monitoring client that stops reading is disconnected at its backlog limit; the writer never waits for it. */
    @Test
    void aClientThatStopsReadingIsCutOffAndOthersCarryOn() throws Exception {
        Path slowSocket = dir.resolve("slow.sock");
        try (OvsdbTransport limited = new OvsdbTransport(server, 512 << 10);
             java.nio.channels.SocketChannel slow = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
             JsonRpcClient writer = new JsonRpcClient(socket)) {
            limited.listen("punix:" + slowSocket);
            slow.connect(java.net.UnixDomainSocketAddress.of(slowSocket));
            java.nio.ByteBuffer req = java.nio.ByteBuffer.wrap(("{\"id\":1,\"method\":\"monitor\",\"params\":[\"Open_vSwitch\",null,"
                    + "{\"Open_vSwitch\":{\"columns\":[\"external_ids\"]}}]}").getBytes(StandardCharsets.UTF_8));
            while (req.hasRemaining()) slow.write(req);
            // ... and it never reads. Each transaction below sends it an update of about 64 kB.
            String big = "x".repeat(64 << 10);
            int count = 300;
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                JsonNode r = writer.call("transact", json("[\"Open_vSwitch\", {\"op\":\"update\",\"table\":\"Open_vSwitch\",\"where\":[],"
                        + "\"row\":{\"external_ids\":[\"map\",[[\"k\",\"" + i + big + "\"]]]}}]"));
                assertEquals(1, r.path("result").path(0).path("count").asInt(), r.toString());
            }
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60), "the writer was not held up");
            // The slow client finds its connection closed after what had been queued for it.
            slow.configureBlocking(false);
            java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(1 << 20);
            long got = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int n = 0;
            while (System.nanoTime() < deadline && (n = slow.read(sink.clear())) >= 0) {
                got += n;
                if (n == 0) Thread.sleep(10);
            }
            assertEquals(-1, n, "the server closed the slow client's connection");
            assertTrue(got < (long) count * big.length() / 2, "it was cut off long before all " + count + " updates: got " + got + " bytes");
            assertEquals("[]", writer.call("echo", json("[]")).get("result").toString(), "the writer is still served");
        }
    }

    /** 100 clients transact at once; a monitor sees every change exactly once, in commit order. */
    @Test
    void concurrentClientsAndMonitorOrdering() throws Exception {
        try (JsonRpcClient watcher = new JsonRpcClient(socket)) {
            JsonNode init = watcher.call("monitor_cond", json("[\"Open_vSwitch\", \"w\", {\"Bridge\": [{\"columns\":[\"name\",\"external_ids\"]}]}]"));
            assertTrue(init.get("error").isNull(), init.toString());
            int clients = 100;
            int each = 5;
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<Integer>> done = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                final int client = k;
                done.add(pool.submit((Callable<Integer>) () -> {
                    try (JsonRpcClient c = new JsonRpcClient(socket)) {
                        int ok = 0;
                        for (int i = 0; i < each; i++) {
                            JsonNode r = c.call("transact", json(addBridge("b" + client + "x" + i)));
                            if (r.path("result").path(0).has("uuid")) ok++;
                        }
                        return ok;
                    }
                }));
            }
            int committed = 0;
            for (Future<Integer> f : done) committed += f.get(60, TimeUnit.SECONDS);
            pool.shutdown();
            assertEquals(clients * each, committed);
            List<String> seen = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (seen.size() < committed && System.currentTimeMillis() < deadline) {
                for (JsonNode n : watcher.drainNotifications()) {
                    if (!"update2".equals(n.path("method").asText())) continue;
                    n.path("params").path(1).path("Bridge").fields().forEachRemaining(e -> seen.add(e.getValue().path("insert").path("name").asText()));
                }
                Thread.sleep(50);
            }
            assertEquals(committed, seen.size(), "one insert notification per bridge");
            assertEquals(committed, seen.stream().distinct().count(), "no duplicates");
            for (int k = 0; k < clients; k++) {                 // each client's own transactions in its order
                List<String> mine = new ArrayList<>();
                for (String s : seen) if (s.startsWith("b" + k + "x")) mine.add(s);
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < each; i++) expected.add("b" + k + "x" + i);
                assertEquals(expected, mine);
            }
        }
    }

    @Test
    void ownUpdateArrivesBeforeTheReplyAndLocksWork() throws Exception {
        try (JsonRpcClient c = new JsonRpcClient(socket); JsonRpcClient other = new JsonRpcClient(socket)) {
            c.call("monitor_cond", json("[\"Open_vSwitch\", [\"m\"], {\"Bridge\": [{\"columns\":[\"name\"]}]}]"));
            c.call("transact", json(addBridge("br7")));
            List<JsonNode> before = c.drainNotifications();
            assertTrue(before.stream().anyMatch(n -> n.toString().contains("br7")), "the update came before the reply: " + before);
            assertTrue(c.call("lock", json("[\"L\"]")).path("result").path("locked").asBoolean());
            assertFalse(other.call("lock", json("[\"L\"]")).path("result").path("locked").asBoolean());
            assertTrue(other.call("steal", json("[\"L\"]")).path("result").path("locked").asBoolean());
            Thread.sleep(200);
            assertTrue(c.drainNotifications().stream().anyMatch(n -> "stolen".equals(n.path("method").asText())));
            JsonNode r = other.call("transact", json("[\"Open_vSwitch\", {\"op\":\"assert\",\"lock\":\"L\"}]"));
            assertFalse(r.path("result").path(0).has("error"), r.toString());
        }
    }
}
