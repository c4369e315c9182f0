package io.vswitch.ofproto.openflow;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import org.projectfloodlight.openflow.protocol.OFMessage;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * OpenFlow's sockets: passive {@code punix:PATH} and {@code ptcp:PORT[:IP]} listeners, active
 * {@code tcp:IP[:PORT]} and {@code unix:PATH} connections that come back with a backoff after they
 * fail or drop. One Netty event loop carries every connection of every bridge, and the bridges' state
 * lives on it too (see {@link OfSwitch}).
 */
public final class OfTransport implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OfTransport.class.getName());
    public static final int DEFAULT_PORT = 6653;

    private final NioEventLoopGroup group = new NioEventLoopGroup(1, r -> {
        Thread t = new Thread(r, "ofproto");
        t.setDaemon(true);
        return t;
    });

    /** The event loop that owns all OpenFlow state. */
    public EventLoop loop() {
        return group.next();
    }

    /** An open endpoint; closing it stops listening or reconnecting and closes its connection. */
    public interface Endpoint extends AutoCloseable {
        @Override
        void close();

        /** Completes when a listener is bound (at once for connecting endpoints). */
        default java.util.concurrent.Future<?> ready() {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
    }

    /**
     * Listens on {@code punix:PATH} or {@code ptcp:PORT[:IP]}; each accepted connection talks to
     * {@code sw}. Throws for a malformed target; a bind that fails (port in use) is logged.
     */
    public Endpoint listen(String target, OfSwitch sw, OfConnection.Kind kind, int probeSeconds) throws IOException {
        SocketAddress address = address(target, true);
        ServerBootstrap b = new ServerBootstrap().group(group).childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                pipeline(ch, new OfConnection(sw, kind, target), probeSeconds);
            }
        });
        if (address instanceof UnixDomainSocketAddress u) {
            Files.deleteIfExists(u.getPath());
            b.channel(NioServerDomainSocketChannel.class);
        } else {
            b.channel(NioServerSocketChannel.class);
        }
        // Asynchronous: this runs on the event loop itself, which must never wait for its own work.
        io.netty.channel.ChannelFuture bound = b.bind(address);
        bound.addListener(f -> {
            if (!f.isSuccess()) LOG.log(System.Logger.Level.ERROR, sw.name() + ": cannot listen on " + target + ": " + f.cause().getMessage());
        });
        Channel server = bound.channel();
        return new Endpoint() {
            @Override
            public java.util.concurrent.Future<?> ready() {
                return bound;
            }

            @Override
            public void close() {
                server.close();
                if (address instanceof UnixDomainSocketAddress u) {
                    try {
                        Files.deleteIfExists(u.getPath());
                    } catch (IOException ignored) {
                        // the directory is going away, or someone else owns the file now
                    }
                }
            }
        };
    }

    /** Connects to {@code tcp:IP[:PORT]} or {@code unix:PATH} and keeps doing so, backing off from 1 s to {@code maxBackoffSeconds}. */
    public Endpoint connect(String target, OfSwitch sw, int probeSeconds, int maxBackoffSeconds) throws IOException {
        SocketAddress address = address(target, false);
        Reconnector r = new Reconnector(target, address, sw, probeSeconds, Math.max(1, maxBackoffSeconds));
        r.attempt();
        return r;
    }

    private final class Reconnector implements Endpoint {
        private final String target;
        private final SocketAddress address;
        private final OfSwitch sw;
        private final int probe;
        private final int maxBackoff;
        private int backoff = 1;
        private volatile boolean closed;
        private volatile Channel channel;

        Reconnector(String target, SocketAddress address, OfSwitch sw, int probe, int maxBackoff) {
            this.target = target;
            this.address = address;
            this.sw = sw;
            this.probe = probe;
            this.maxBackoff = maxBackoff;
        }

        void attempt() {
            if (closed) return;
            OfConnection c = new OfConnection(sw, OfConnection.Kind.PRIMARY, target);
            Bootstrap b = new Bootstrap().group(group)
                    .channel(address instanceof UnixDomainSocketAddress ? NioDomainSocketChannel.class : NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            pipeline(ch, c, probe);
                        }
                    });
            b.connect(address).addListener(f -> {
                if (!f.isSuccess()) {
                    retry();
                    return;
                }
                Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                channel = ch;
                backoff = 1;
                LOG.log(System.Logger.Level.INFO, sw.name() + ": connected to controller " + target);
                ch.closeFuture().addListener(x -> {
                    if (!closed) LOG.log(System.Logger.Level.INFO, sw.name() + ": " + target + ": connection closed; reconnecting");
                    retry();
                });
            });
        }

        private void retry() {
            if (closed) return;
            int wait = backoff;
            backoff = Math.min(maxBackoff, backoff * 2);
            group.schedule(this::attempt, wait, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            closed = true;
            Channel ch = channel;
            if (ch != null) ch.close();
        }
    }

    static void pipeline(Channel ch, OfConnection c, int probeSeconds) {
        if (probeSeconds > 0) ch.pipeline().addLast(new IdleStateHandler(probeSeconds, 0, 0));
        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(65535, 2, 2, -4, 0), new Encoder(), c);
    }

    /** Writes openflowj messages to the wire. */
    private static final class Encoder extends MessageToByteEncoder<OFMessage> {
        @Override
        protected void encode(ChannelHandlerContext ctx, OFMessage m, ByteBuf out) {
            m.writeTo(out);
        }
    }

    /** The socket address of a target: punix:/unix: paths, ptcp:PORT[:IP] (all addresses by default), tcp:IP[:PORT]. */
    static SocketAddress address(String target, boolean passive) throws IOException {
        int colon = target.indexOf(':');
        String kind = colon < 0 ? target : target.substring(0, colon);
        String rest = colon < 0 ? "" : target.substring(colon + 1);
        try {
            if (passive && kind.equals("punix") || !passive && kind.equals("unix")) {
                if (rest.isEmpty()) throw new IOException(target + ": missing socket path");
                return UnixDomainSocketAddress.of(Path.of(rest));
            }
            if (passive && kind.equals("ptcp")) {
                String[] p = rest.split(":", 2);
                int port = p[0].isEmpty() ? DEFAULT_PORT : Integer.parseInt(p[0]);
                return p.length > 1 && !p[1].isEmpty() ? new InetSocketAddress(p[1], port) : new InetSocketAddress(port);
            }
            if (!passive && kind.equals("tcp")) {
                int last = rest.lastIndexOf(':');
                if (rest.isEmpty()) throw new IOException(target + ": missing address");
                return last < 0 ? new InetSocketAddress(rest, DEFAULT_PORT)
                        : new InetSocketAddress(rest.substring(0, last), Integer.parseInt(rest.substring(last + 1)));
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(target + ": bad port or address (" + e.getMessage() + ")");
        }
        throw new IOException(target + ": unsupported OpenFlow target (use " + (passive ? "punix:PATH or ptcp:[PORT][:IP]" : "tcp:IP[:PORT] or unix:PATH") + ")");
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
