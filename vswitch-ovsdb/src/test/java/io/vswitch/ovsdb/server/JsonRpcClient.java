package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw JSON-RPC client for tests: sends what it is told, and queues everything the server sends. */
final class JsonRpcClient implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final SocketChannel ch;
    final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    private volatile boolean closedByServer;
    private int nextId;

    JsonRpcClient(Path socket) throws IOException {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().start(() -> {
            try {
                MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(Channels.newInputStream(ch));
                while (it.hasNextValue()) received.add(it.nextValue());
            } catch (Exception e) {
                // connection closed
            }
            closedByServer = true;
        });
    }

    void sendRaw(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
    }

    /** Sends a request and returns its reply (notifications received meanwhile stay queued in order). */
    JsonNode call(String method, JsonNode params) throws Exception {
        int id = ++nextId;
        ObjectNode req = JSON.createObjectNode().put("id", id).put("method", method);
        req.set("params", params);
        sendRaw(JSON.writeValueAsBytes(req));
        return awaitReply(id);
    }

    private final java.util.List<JsonNode> notifications = new java.util.ArrayList<>();

    JsonNode awaitReply(int id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            JsonNode m = received.poll(100, TimeUnit.MILLISECONDS);
            if (m == null) {
                if (closedByServer) throw new IOException("connection closed by the server");
                continue;
            }
            if (m.path("id").isInt() && m.get("id").asInt() == id) return m;
            notifications.add(m);
        }
        throw new AssertionError("no reply to request " + id);
    }

    /** Notifications seen so far (including those read while waiting for replies), then clears them. */
    java.util.List<JsonNode> drainNotifications() {
        received.drainTo(notifications);
        java.util.List<JsonNode> out = new java.util.ArrayList<>(notifications);
        notifications.clear();
        return out;
    }

    boolean closedByServer() {
        return closedByServer;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
