package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.json.JsonObjectDecoder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON-RPC over stream sockets for the {@link OvsdbServer}, on Netty's NIO transport. Passive remotes
 * listen: {@code punix:PATH} (JDK unix domain sockets, no native library) and {@code ptcp:PORT[:IP]}.
 * Active remotes connect out to a manager that then acts as the client: {@code tcp:IP:PORT} and
 * {@code unix:PATH}, reconnecting after a failure or disconnection with a backoff from 1 s doubling to
 * {@link #MAX_BACKOFF_MS}, forever, as ovsdb-server does. Messages are framed as
 * concatenated JSON values, bounded by {@link #MAX_MESSAGE}; a message that is not JSON, or too big,
 * closes its own connection only.
 *
 * <p>Back-pressure: a client that does not read its replies stops being read from (its requests wait in
 * the kernel's socket buffer) once a {@link #PAUSE_READING} backlog of output is queued for it. Output it
 * causes no longer grows then, but monitor updates caused by other clients still do; a client whose
 * backlog passes the transport's limit (default {@link #DEFAULT_MAX_BACKLOG}) is disconnected, with a log
 * line, so one stuck client costs bounded memory and never slows the others. OVSDB clients reconnect and
 * monitor again, which gets them the current contents.
 */
public final class OvsdbTransport implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OvsdbTransport.class.getName());
    /** Largest accepted message: far above any real transaction (1000 add-port is about 1 MB). */
    public static final int MAX_MESSAGE = 32 << 20;
    /** Output queued for one client above which its requests are no longer read. */
    static final int PAUSE_READING = 1 << 20;
    /** Output queued for one client above which it is disconnected, by default: two largest messages. */
    public static final long DEFAULT_MAX_BACKLOG = 2L * MAX_MESSAGE;
    /** Longest wait between two connection attempts of an active remote (ovsdb-server's default). */
    static final long MAX_BACKOFF_MS = 8_000;

    /**
     * What {@code Manager.status} shows about a remote: whether a session is up, for how long, the last
     * error; for a passive remote also how many clients it has and the port it is bound to.
     */
    public record RemoteStatus(boolean active, boolean connected, String state, long sinceConnectMs, long sinceDisconnectMs,
                               String lastError, int connections, int boundPort) {}

    /** Live state of one remote, touched on the event loop (and read for status). */
    private static final class Remote {
        final String target;
        final boolean active;
        volatile Channel channel;             // the listener (passive) or the session (active)
        final java.util.Set<Channel> sessions = java.util.concurrent.ConcurrentHashMap.newKeySet();
        volatile long connectedAt = -1;
        volatile long disconnectedAt = -1;
        volatile String lastError;
        volatile boolean closed;
        long backoffMs = 1_000;

        Remote(String target, boolean active) {
            this.target = target;
            this.active = active;
        }
    }

    private final java.util.Map<String, Remote> remotes = new java.util.concurrent.ConcurrentHashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(MAX_MESSAGE).maxNestingDepth(64).build());
    }

    private final OvsdbServer server;
    private final EventLoopGroup group;
    private final OvsdbServer serverRef;
    /** Accepted connections, closed with the transport. */
    private final ChannelGroup connections;
    private final java.util.Map<String, Channel> listeners = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, Path> socketFiles = new java.util.concurrent.ConcurrentHashMap<>();

    private final long maxBacklog;

    public OvsdbTransport(OvsdbServer server) {
        this(server, DEFAULT_MAX_BACKLOG);
    }

    /** @param maxBacklog bytes of output queued for one client at which it is disconnected */
    public OvsdbTransport(OvsdbServer server, long maxBacklog) {
        this.server = server;
        this.maxBacklog = maxBacklog;
        this.group = server.eventLoop();
        this.serverRef = server;
        this.connections = new DefaultChannelGroup(group.next());
    }

    /** Listens on a remote: {@code punix:PATH} or {@code ptcp:PORT[:IP]} (default IP 0.0.0.0). */
    public void listen(String remote) throws IOException {
        if (listeners.containsKey(remote)) return;
        Remote r = new Remote(remote, false);
        ServerBootstrap b = new ServerBootstrap().group(group)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(PAUSE_READING / 2, PAUSE_READING))
                .childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                connections.add(ch);
                r.sessions.add(ch);
                r.connectedAt = System.currentTimeMillis();
                ch.closeFuture().addListener(f -> {
                    r.sessions.remove(ch);
                    if (r.sessions.isEmpty()) r.disconnectedAt = System.currentTimeMillis();
                });
                ch.pipeline().addLast(new JsonObjectDecoder(MAX_MESSAGE), new Handler(server, maxBacklog));
            }
        });
        try {
            if (remote.startsWith("punix:")) {
                Path path = Path.of(remote.substring(6));
                Files.deleteIfExists(path);
                listeners.put(remote, b.channel(NioServerDomainSocketChannel.class).bind(UnixDomainSocketAddress.of(path)).sync().channel());
                socketFiles.put(remote, path);
            } else if (remote.startsWith("ptcp:")) {
                String[] parts = remote.substring(5).split(":", 2);
                int port = Integer.parseInt(parts[0]);
                String ip = parts.length > 1 ? parts[1] : "0.0.0.0";
                listeners.put(remote, b.channel(NioServerSocketChannel.class).bind(new InetSocketAddress(ip, port)).sync().channel());
            } else {
                throw new IllegalArgumentException("unsupported remote \"" + remote + "\": use punix:PATH or ptcp:PORT[:IP]");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + remote);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in remote \"" + remote + "\"");
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) throw e;
            throw new IOException("cannot listen on " + remote + ": " + e.getMessage(), e);
        }
        r.channel = listeners.get(remote);
        remotes.put(remote, r);
        LOG.log(System.Logger.Level.INFO, "ovsdb listening on " + remote);
    }

    /**
     * Connects out to an active remote, {@code tcp:IP:PORT} or {@code unix:PATH}, and keeps it connected
     * until {@link #disconnect}: the peer is served like any client.
     */
    public void connect(String remote) {
        java.net.SocketAddress address = activeAddress(remote);
        Remote r = new Remote(remote, true);
        if (remotes.putIfAbsent(remote, r) != null) return;
        LOG.log(System.Logger.Level.INFO, "ovsdb connecting to " + remote);
        attempt(r, address);
    }

    private static java.net.SocketAddress activeAddress(String remote) {
        if (remote.startsWith("unix:")) return UnixDomainSocketAddress.of(remote.substring(5));
        if (remote.startsWith("tcp:")) {
            String rest = remote.substring(4);
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) throw new IllegalArgumentException("bad remote \"" + remote + "\": use tcp:IP:PORT");
            try {
                return new InetSocketAddress(rest.substring(0, colon).replace("[", "").replace("]", ""),
                        Integer.parseInt(rest.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in remote \"" + remote + "\"");
            }
        }
        throw new IllegalArgumentException("unsupported remote \"" + remote + "\": use tcp:IP:PORT or unix:PATH");
    }

    private void attempt(Remote r, java.net.SocketAddress address) {
        if (r.closed) return;
        io.netty.bootstrap.Bootstrap b = new io.netty.bootstrap.Bootstrap().group(group)
                .channel(address instanceof UnixDomainSocketAddress
                        ? io.netty.channel.socket.nio.NioDomainSocketChannel.class : io.netty.channel.socket.nio.NioSocketChannel.class)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(PAUSE_READING / 2, PAUSE_READING))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new JsonObjectDecoder(MAX_MESSAGE), new Handler(serverRef, maxBacklog));
                    }
                });
        b.connect(address).addListener((io.netty.channel.ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                String m = String.valueOf(f.cause().getMessage());
                r.lastError = m.contains(": /") ? m.substring(0, m.indexOf(": /")) : m;   // "Connection refused", as OVS words it
                retry(r, address);
                return;
            }
            Channel ch = f.channel();
            if (r.closed) {
                ch.close();
                return;
            }
            r.channel = ch;
            r.sessions.add(ch);
            connections.add(ch);
            r.connectedAt = System.currentTimeMillis();
            r.backoffMs = 1_000;
            LOG.log(System.Logger.Level.INFO, "ovsdb connected to " + r.target);
            ch.closeFuture().addListener(c -> {
                r.sessions.remove(ch);
                r.disconnectedAt = System.currentTimeMillis();
                if (!r.closed) {
                    LOG.log(System.Logger.Level.INFO, "ovsdb connection to " + r.target + " closed; reconnecting");
                    retry(r, address);
                }
            });
        });
    }

    private void retry(Remote r, java.net.SocketAddress address) {
        if (r.closed) return;
        long wait = r.backoffMs;
        r.backoffMs = Math.min(MAX_BACKOFF_MS, r.backoffMs * 2);
        group.schedule(() -> attempt(r, address), wait, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Stops an active remote: closes its connection and stops reconnecting. */
    public void disconnect(String remote) {
        Remote r = remotes.get(remote);
        if (r == null || !r.active) return;
        remotes.remove(remote);
        r.closed = true;
        // On the event loop, after any connect callback in flight (which checks closed on the loop too).
        group.execute(() -> {
            Channel c = r.channel;
            if (c != null) c.close();
        });
        LOG.log(System.Logger.Level.INFO, "ovsdb no longer connecting to " + remote);
    }

    /** Status of every remote (passive and active), by target. */
    public java.util.Map<String, RemoteStatus> status() {
        long now = System.currentTimeMillis();
        java.util.Map<String, RemoteStatus> out = new java.util.TreeMap<>();
        for (Remote r : remotes.values()) {
            int n = r.sessions.size();
            boolean up = n > 0;
            String state = r.active ? (up ? "ACTIVE" : "BACKOFF") : (up ? "ACTIVE" : "LISTENING");
            int bound = !r.active && r.channel != null && r.channel.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
            out.put(r.target, new RemoteStatus(r.active, up, state, r.connectedAt < 0 ? -1 : now - r.connectedAt,
                    r.disconnectedAt < 0 ? -1 : now - r.disconnectedAt, r.lastError, n, bound));
        }
        return out;
    }

    /** Stops listening on {@code remote} (connections already accepted stay open, as with ovsdb-server). */
    public void unlisten(String remote) {
        Channel c = listeners.remove(remote);
        remotes.remove(remote);
        if (c != null) c.close().syncUninterruptibly();
        Path p = socketFiles.remove(remote);
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
        if (c != null) LOG.log(System.Logger.Level.INFO, "ovsdb no longer listening on " + remote);
    }

    /** The remotes listened on or connected to now. */
    public java.util.Set<String> remotes() {
        return java.util.Set.copyOf(remotes.keySet());
    }

    /** The bound TCP port of a ptcp remote (for ptcp:0 in tests). */
    public int tcpPort() {
        for (Channel c : listeners.values()) if (c.localAddress() instanceof InetSocketAddress a) return a.getPort();
        return -1;
    }

    private static final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
        private final OvsdbServer server;
        private final long maxBacklog;
        private Session session;

        Handler(OvsdbServer server, long maxBacklog) {
            this.server = server;
            this.maxBacklog = maxBacklog;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            session = new Session(server, new Session.Sender() {
                @Override
                public void send(JsonNode msg) {
                    if (!ch.isActive()) return;
                    long backlog = ch.isWritable() ? 0 : ch.bytesBeforeWritable() + PAUSE_READING / 2;
                    if (backlog > maxBacklog) {
                        LOG.log(System.Logger.Level.WARNING, "disconnecting ovsdb client " + ch.remoteAddress()
                                + ": it has not read " + backlog + " bytes of replies and updates");
                        ch.close();
                        return;
                    }
                    try {
                        ch.write(Unpooled.wrappedBuffer(JSON.writeValueAsBytes(msg)), ch.voidPromise());
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.ERROR, "cannot encode a reply", e);
                    }
                }

                @Override
                public void flush() {
                    ch.flush();
                }

                /** After what is queued for the client has been written (an error reply, say). */
                @Override
                public void disconnect() {
                    ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                }
            });
            server.open(session);
        }

        /** Reads a client's requests only while its output drains (see the class comment). */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (session != null) server.closed(session);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            JsonNode msg;
            try {
                msg = JSON.readTree(new ByteBufInputStream(frame));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing an ovsdb connection that sent invalid JSON: " + e.getMessage());
                ctx.close();
                return;
            }
            if (msg == null || !msg.isObject()) {
                LOG.log(System.Logger.Level.WARNING, "closing an ovsdb connection that sent a non-object message");
                ctx.close();
                return;
            }
            server.request(session, msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Oversized or corrupt framing: this connection's stream is unrecoverable; others are unaffected.
            LOG.log(System.Logger.Level.WARNING, "closing an ovsdb connection: " + cause.getMessage());
            ctx.close();
        }
    }

    @Override
    public void close() {
        for (Remote r : remotes.values()) r.closed = true;
        for (Channel c : listeners.values()) c.close().syncUninterruptibly();
        listeners.clear();
        remotes.clear();
        connections.close().awaitUninterruptibly();
        for (Path p : socketFiles.values()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
