package io.vswitch.datapath.unixctl;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A unixctl server, wire-compatible with OVS's: JSON-RPC 1.0 objects over a unix socket, requests
 * {@code {"id":N,"method":"fdb/show","params":["br0"]}}, answers with a text {@code result} or a text
 * {@code error}. So {@code appctl} and the real {@code ovs-appctl -t <socket>} both work.
 *
 * <p>Each connection is served on a virtual thread; a malformed request gets an error reply (or the
 * connection is closed if the stream is not JSON) and never affects other clients.
 */
public final class UnixctlServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(UnixctlServer.class.getName());
    /** A request larger than this closes its connection (a command line is never near it). */
    private static final long MAX_REQUEST_BYTES = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxDocumentLength(MAX_REQUEST_BYTES).maxNestingDepth(32).build())
            .build()).configure(JsonParser.Feature.AUTO_CLOSE_SOURCE, false);

    /** A command handler: returns the text to print, or throws {@link UnixctlException}. */
    @FunctionalInterface
    public interface Handler {
        String handle(List<String> args) throws UnixctlException;
    }

    private record Command(String usage, int minArgs, int maxArgs, Handler handler) {}

    private final Map<String, Command> commands = new TreeMap<>();
    private final Path path;
    private ServerSocketChannel server;
    private volatile boolean closed;

    public UnixctlServer(Path path, String version) {
        this.path = path;
        register("list-commands", "", 0, 0, a -> listCommands());
        register("help", "", 0, 0, a -> listCommands());
        register("version", "", 0, 0, a -> version + "\n");
    }

    public synchronized void register(String name, String usage, int minArgs, int maxArgs, Handler handler) {
        commands.put(name, new Command(usage, minArgs, maxArgs, handler));
    }

    private synchronized String listCommands() {
        StringBuilder sb = new StringBuilder("The available commands are:\n");
        commands.forEach((name, c) -> sb.append(String.format("  %-30s %s%n", name, c.usage())));
        return sb.toString();
    }

    /** Binds the socket (replacing a stale one) and starts accepting. */
    public void start() throws IOException {
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread.ofPlatform().daemon().name("unixctl " + path.getFileName()).start(this::acceptLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = server.accept();
                Thread.ofVirtual().start(() -> serve(ch));
            } catch (IOException e) {
                if (!closed) LOG.log(System.Logger.Level.WARNING, "unixctl accept: " + e.getMessage());
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch; InputStream in = Channels.newInputStream(ch); OutputStream out = Channels.newOutputStream(ch)) {
            MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in);
            while (it.hasNextValue()) {
                JsonNode req = it.nextValue();
                ObjectNode reply = JSON.createObjectNode();
                reply.set("id", req.has("id") ? req.get("id") : null);
                try {
                    String text = dispatch(req);
                    reply.put("result", text);
                    reply.putNull("error");
                } catch (UnixctlException e) {
                    reply.putNull("result");
                    reply.put("error", e.getMessage().endsWith("\n") ? e.getMessage() : e.getMessage() + "\n");
                }
                out.write(JSON.writeValueAsBytes(reply));
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "unixctl connection closed: " + e.getMessage());
        }
    }

    private String dispatch(JsonNode req) throws UnixctlException {
        JsonNode method = req.get("method");
        JsonNode params = req.get("params");
        if (method == null || !method.isTextual() || params == null || !params.isArray()) {
            throw new UnixctlException("invalid request: expected {\"method\":\"...\",\"params\":[...],\"id\":...}");
        }
        List<String> args = new ArrayList<>();
        for (JsonNode p : params) {
            if (!p.isTextual()) throw new UnixctlException("invalid request: params must be strings");
            args.add(p.asText());
        }
        Command c;
        synchronized (this) {
            c = commands.get(method.asText());
        }
        if (c == null) {
            throw new UnixctlException("\"" + method.asText() + "\" is not a valid command (use \"list-commands\" to see the available ones)");
        }
        if (args.size() < c.minArgs || args.size() > c.maxArgs) {
            throw new UnixctlException("\"" + method.asText() + "\" command takes "
                    + (c.minArgs == c.maxArgs ? c.minArgs + "" : "from " + c.minArgs + " to " + c.maxArgs) + " argument(s)"
                    + (c.usage.isEmpty() ? "" : "; usage: " + method.asText() + " " + c.usage));
        }
        try {
            return c.handler.handle(args);
        } catch (UnixctlException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UnixctlException(e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "unixctl " + method.asText() + " failed", e);
            throw new UnixctlException("internal error: " + e);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (server != null) server.close();
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort on shutdown
        }
    }
}
