package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.db.ChangeSet;
import io.vswitch.ovsdb.db.Database;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One client connection's state: its monitors and its identity for locks. Used only on the database
 * thread; messages leave through the transport's {@link Sender}, which keeps their order.
 */
final class Session {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Writes JSON-RPC messages to the client, in order, on the database thread; can drop the connection. */
    interface Sender {
        /** Queues one message; it reaches the client at the next {@link #flush}. */
        void send(JsonNode message);

        void flush();

        void disconnect();
    }

    private final OvsdbServer server;
    private final Sender sender;
    final Map<JsonNode, Monitor> monitors = new LinkedHashMap<>();

    Session(OvsdbServer server, Sender sender) {
        this.server = server;
        this.sender = sender;
    }

    void reply(JsonNode id, JsonNode result) {
        ObjectNode m = F.objectNode();
        m.set("id", id);
        m.set("result", result);
        m.putNull("error");
        send(m);
    }

    /** Every message leaves through the server's outbox: after the current group's sync. */
    private void send(JsonNode m) {
        server.emit(() -> {
            sender.send(m);
            server.written(this);
        });
    }

    void flush() {
        sender.flush();
    }

    void disconnect() {
        sender.disconnect();
    }

    /** An error reply: "unknown method" is a bare string as ovsdb-server sends it; others are objects. */
    void error(JsonNode id, String error, String details) {
        ObjectNode m = F.objectNode();
        m.set("id", id);
        m.putNull("result");
        if (details == null) {
            m.put("error", error);
        } else {
            m.set("error", F.objectNode().put("error", error).put("details", details));
        }
        send(m);
    }

    void notify(String method, ArrayNode params) {
        ObjectNode m = F.objectNode();
        m.putNull("id");
        m.put("method", method);
        m.set("params", params);
        send(m);
    }

    void changed(ChangeSet changes, Database db) {
        for (Monitor m : monitors.values()) {
            if (m.db != db) continue;
            ObjectNode updates = m.updates(changes);
            if (updates != null) sendUpdate(m.id, m.format, updates, changes.txnId());
        }
    }

    void sendUpdate(JsonNode monitorId, int format, ObjectNode updates, UUID txnId) {
        ArrayNode params = F.arrayNode().add(monitorId);
        if (format == 3) params.add(txnId.toString());
        params.add(updates);
        notify(format == 1 ? "update" : format == 2 ? "update2" : "update3", params);
    }

    boolean ownsLock(String lock) {
        return server.owns(this, lock);
    }
}
