package io.vswitch.ovsdb.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A synchronous RFC 7047 JSON-RPC client over a unix ({@code unix:PATH}) or TCP ({@code tcp:IP:PORT})
 * stream socket, for tools such as vsctl. A reader thread queues incoming messages; calls wait for
 * their reply until the deadline, answering the server's "echo" meanwhile.
 */
public final class OvsdbClient implements AutoCloseable {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNode EOF = JsonNodeFactory.instance.textNode("<eof>");

    /** The deadline given at construction passed. */
    public static final class TimeoutException extends Exception {}

    private final SocketChannel ch;
    private final OutputStream out;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<JsonNode> notifications = new LinkedBlockingQueue<>();
    private final long deadlineNanos;   // Long.MAX_VALUE: none
    private long nextId = 0;

    public OvsdbClient(String remote, long deadlineNanos) throws IOException {
        this.deadlineNanos = deadlineNanos;
        if (remote.startsWith("unix:")) {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(remote.substring(5)));
        } else if (remote.startsWith("tcp:")) {
            String hp = remote.substring(4);
            int colon = hp.lastIndexOf(':');
            String host = colon < 0 ? hp : hp.substring(0, colon);
            int port = colon < 0 ? 6640 : Integer.parseInt(hp.substring(colon + 1));
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            ch = SocketChannel.open(new InetSocketAddress(host, port));
        } else {
            throw new IOException("unknown remote " + remote);
        }
        out = Channels.newOutputStream(ch);
        InputStream in = Channels.newInputStream(ch);
        Thread reader = new Thread(() -> {
            try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class)
                    .without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readValues(MAPPER.getFactory().createParser(in).disable(JsonParser.Feature.AUTO_CLOSE_SOURCE))) {
                while (it.hasNextValue()) inbox.add(it.nextValue());
            } catch (Exception ignored) {
                // connection closed
            }
            inbox.add(EOF);
        }, "vsctl-jsonrpc-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private synchronized void send(JsonNode msg) throws IOException {
        out.write(MAPPER.writeValueAsBytes(msg));
        out.flush();
    }

    private JsonNode poll() throws IOException, TimeoutException {
        try {
            JsonNode n;
            if (deadlineNanos == Long.MAX_VALUE) {
                n = inbox.take();
            } else {
                long left = deadlineNanos - System.nanoTime();
                n = left <= 0 ? inbox.poll() : inbox.poll(left, TimeUnit.NANOSECONDS);
                if (n == null) throw new TimeoutException();
            }
            if (n == EOF) throw new IOException("connection closed by peer");
            return n;
        } catch (InterruptedException e) {
            throw new IOException("interrupted", e);
        }
    }

    /** Handles one incoming message that is not the awaited reply. */
    private void dispatch(JsonNode m) throws IOException {
        String method = m.path("method").asText(null);
        if (method == null) return;
        if (method.equals("echo") && m.has("id") && !m.get("id").isNull()) {
            ObjectNode r = JsonNodeFactory.instance.objectNode();
            r.set("result", m.get("params"));
            r.putNull("error");
            r.set("id", m.get("id"));
            send(r);
        } else if (m.path("id").isNull() || !m.has("id")) {
            notifications.add(m);
        }
    }

    /** Sends a request and returns its "result"; a JSON-RPC error becomes an IOException. */
    public JsonNode call(String method, ArrayNode params) throws IOException, TimeoutException {
        long id = nextId++;
        ObjectNode req = JsonNodeFactory.instance.objectNode();
        req.put("method", method);
        req.set("params", params);
        req.put("id", id);
        send(req);
        while (true) {
            JsonNode m = poll();
            if (!m.has("method") && m.path("id").isIntegralNumber() && m.get("id").asLong() == id) {
                JsonNode err = m.get("error");
                if (err != null && !err.isNull()) throw new IOException(err.isTextual() ? err.asText() : err.toString());
                return m.get("result");
            }
            dispatch(m);
        }
    }

    /** The next notification (e.g. a monitor "update"), waiting until the deadline. */
    public JsonNode nextNotification() throws IOException, TimeoutException {
        while (true) {
            JsonNode n = notifications.poll();
            if (n != null) return n;
            dispatch(poll());
        }
    }

    static String text(JsonNode n) {
        return new String(n.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
