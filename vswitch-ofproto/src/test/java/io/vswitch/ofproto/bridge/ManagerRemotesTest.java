package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.db.Row;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.server.OvsdbServer;
import io.vswitch.ovsdb.server.OvsdbTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Manager rows become remotes: an active tcp: target connects out and serves the manager; status is written back. */
class ManagerRemotesTest {
    private static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private DatabaseFile file;
    private OvsdbServer server;
    private OvsdbTransport transport;
    private ManagerRemotes managers;

    @BeforeEach
    void start() throws Exception {
        file = DatabaseFile.open(dir.resolve("conf.db"), SCHEMA);
        server = new OvsdbServer(file.database(), file);
        transport = new OvsdbTransport(server);
        transact("[{\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]");
        managers = new ManagerRemotes(server, transport, Set.of());
    }

    @AfterEach
    void stop() throws Exception {
        managers.close();
        transport.close();
        server.close();
        file.close();
    }

    private ArrayNode transact(String ops) throws Exception {
        return server.transact((ArrayNode) JSON.readTree(ops)).get();
    }

    private void setManagers(String... targets) throws Exception {
        StringBuilder ops = new StringBuilder("[");
        StringBuilder refs = new StringBuilder();
        for (int i = 0; i < targets.length; i++) {
            ops.append("{\"op\":\"insert\",\"table\":\"Manager\",\"uuid-name\":\"m").append(i)
                    .append("\",\"row\":{\"target\":\"").append(targets[i]).append("\"}},");
            refs.append(i == 0 ? "" : ",").append("[\"named-uuid\",\"m").append(i).append("\"]");
        }
        ops.append("{\"op\":\"update\",\"table\":\"Open_vSwitch\",\"where\":[],\"row\":{\"manager_options\":[\"set\",[")
                .append(refs).append("]]}}]");
        ArrayNode r = transact(ops.toString());
        assertTrue(!r.toString().contains("error"), r.toString());
    }

    /** Waits (up to 15 s, the status is written every 2.5 s) until the Manager row satisfies {@code p}. */
    private Row awaitManager(String target, Predicate<Row> p) throws Exception {
        Row last = null;
        for (int i = 0; i < 150; i++) {
            last = server.call(db -> db.rows("Manager").values().stream()
                    .filter(m -> target.equals(m.get("target").key(0))).findFirst().orElse(null)).get();
            if (last != null && p.test(last)) return last;
            Thread.sleep(100);
        }
        throw new AssertionError("Manager " + target + " never got there: " + (last == null ? "no row" : last.get("status") + " " + last.get("is_connected")));
    }

    private static Map<String, String> status(Row m) {
        Map<String, String> s = new TreeMap<>();
        Datum d = m.get("status");
        for (int i = 0; i < d.size(); i++) s.put((String) d.key(i), (String) d.value(i));
        return s;
    }

    @Test
    void activeTargetConnectsOutServesTheManagerAndReconnects() throws Exception {
        try (ServerSocket manager = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            String target = "tcp:127.0.0.1:" + manager.getLocalPort();
            setManagers(target);
            manager.setSoTimeout(10_000);
            for (int round = 0; round < 2; round++) {
                try (Socket s = manager.accept()) {
                    // The manager is the OVSDB client on this connection.
                    OutputStream out = s.getOutputStream();
                    out.write("{\"id\":1,\"method\":\"list_dbs\",\"params\":[]}".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    JsonNode reply = JSON.readTree(readJson(in));
                    assertEquals("[\"Open_vSwitch\",\"_Server\"]", reply.get("result").toString());
                    Row m = awaitManager(target, r -> Datum.atom(true).equals(r.get("is_connected")));
                    assertEquals("ACTIVE", status(m).get("state"), status(m).toString());
                }
                // The manager hung up: the switch reconnects (the loop accepts it again).
            }
            setManagers();
            for (int i = 0; i < 50 && !transport.remotes().isEmpty(); i++) Thread.sleep(100);
            assertEquals(Set.of(), transport.remotes(), "del-manager stops the remote");
        }
    }

    @Test
    void unreachableActiveTargetSaysWhy() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String target = "tcp:127.0.0.1:" + closedPort;
        setManagers(target);
        Row m = awaitManager(target, r -> status(r).containsKey("last_error"));
        assertEquals(Datum.atom(false), m.get("is_connected"));
        assertEquals("Connection refused", status(m).get("last_error"), status(m).toString());
        assertEquals("BACKOFF", status(m).get("state"));
    }

    @Test
    void passiveTargetShowsItsPortAndClients() throws Exception {
        String target = "ptcp:0:127.0.0.1";
        setManagers(target);
        Row m = awaitManager(target, r -> status(r).containsKey("bound_port"));
        int port = Integer.parseInt(status(m).get("bound_port"));
        assertTrue(port > 0, status(m).toString());
        assertEquals(Datum.atom(false), m.get("is_connected"));
        try (Socket a = new Socket(InetAddress.getLoopbackAddress(), port); Socket b = new Socket(InetAddress.getLoopbackAddress(), port)) {
            Row c = awaitManager(target, r -> "2".equals(status(r).get("n_connections")));
            assertEquals(Datum.atom(true), c.get("is_connected"));
        }
        awaitManager(target, r -> Datum.atom(false).equals(r.get("is_connected")));
    }

    /** Reads one JSON object (the reply) from a stream of concatenated JSON values. */
    private static String readJson(BufferedReader in) throws Exception {
        StringBuilder b = new StringBuilder();
        int depth = 0;
        boolean inString = false;
        boolean escaped = false;
        do {
            int c = in.read();
            if (c < 0) throw new AssertionError("connection closed after " + b);
            b.append((char) c);
            if (escaped) {
                escaped = false;
            } else if (inString) {
                if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
            }
        } while (depth > 0 || b.toString().isBlank());
        return b.toString();
    }
}
