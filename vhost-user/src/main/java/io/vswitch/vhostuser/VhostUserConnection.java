package io.vswitch.vhostuser;

import io.vswitch.datapath.sys.Libc;
import io.vswitch.vhostuser.sys.UnixSocket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

import static io.vswitch.vhostuser.Protocol.*;
import static io.vswitch.vhostuser.Virtqueue.U32;

/**
 * The thread that owns a vhost-user port's socket. In server mode ({@code dpdkvhostuser}) it listens
 * at the port's socket and serves one frontend at a time; in client mode
 * ({@code dpdkvhostuserclient}) it connects to the frontend's socket, retrying with backoff forever,
 * so a restarted guest or a restarted dataplane finds its peer again with no reconfiguration.
 *
 * <p>Blocking reads on its own thread: a frontend that stalls mid-message stalls only its own port.
 * When a connection ends, for whatever reason, the device is reset (rings stopped, guest memory
 * unmapped) and the thread goes back to waiting.
 */
final class VhostUserConnection implements Runnable {
    private static final System.Logger LOG = System.getLogger(VhostUserConnection.class.getName());
    private static final long MAX_BACKOFF_NANOS = 1_000_000_000L;

    private final String port;
    final String path;
    final boolean server;
    private final VhostUserDevice device;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment in = arena.allocate(HEADER + MAX_PAYLOAD, 8);
    private final MemorySegment out = arena.allocate(HEADER + MAX_PAYLOAD, 8);
    private final Object fdLock = new Object();
    private int listenFd = -1;
    private volatile int connFd = -1;
    private volatile boolean closed;
    private volatile String state;
    private volatile long connections;
    private Thread thread;

    /**
     * In server mode the socket is created here, so a bad path or owner fails the port's creation.
     *
     * @param socketMode permissions of a server socket, or -1 to keep what the umask gives
     * @param owner      {@code user}, {@code user:group} or {@code :group} to own a server socket, or null
     */
    VhostUserConnection(String port, String path, boolean server, int socketMode, String owner, VhostUserDevice device) {
        this.port = port;
        this.path = path;
        this.server = server;
        this.device = device;
        UnixSocket.checkPath(path);
        if (server) {
            listenFd = UnixSocket.listen(path, 1);
            try {
                if (socketMode >= 0) UnixSocket.chmod(path, socketMode);
                if (owner != null) chown(java.nio.file.Path.of(path), owner);
            } catch (RuntimeException e) {
                Libc.close(listenFd);
                UnixSocket.unlink(path);
                throw e;
            }
            state = "listening";
        } else {
            state = "connecting";
        }
    }

    /** Gives the socket to {@code user[:group]} (QEMU often runs as another user than the switch). */
    private static void chown(java.nio.file.Path p, String owner) {
        int colon = owner.indexOf(':');
        String user = colon < 0 ? owner : owner.substring(0, colon);
        String group = colon < 0 ? "" : owner.substring(colon + 1);
        var lookup = p.getFileSystem().getUserPrincipalLookupService();
        boolean userDone = false;
        try {
            if (!user.isEmpty()) java.nio.file.Files.setOwner(p, lookup.lookupPrincipalByName(user));
            userDone = true;
            if (!group.isEmpty()) {
                java.nio.file.Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class)
                        .setGroup(lookup.lookupPrincipalByGroupName(group));
            }
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new IllegalArgumentException("invalid vhost-sock-owner '" + owner + "': no " + (userDone ? "group named " + group : "user named " + user));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot give " + p + " to " + owner + ": " + e.getMessage());
        }
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("vhost-" + port).start(this);
    }

    String state() {
        return state;
    }

    long connections() {
        return connections;
    }

    @Override
    public void run() {
        long backoff = 100_000_000L;
        boolean logged = false;
        while (!closed) {
            int fd;
            try {
                fd = server ? UnixSocket.accept(listenFd) : UnixSocket.connect(path);
            } catch (RuntimeException e) {
                if (closed) break;
                if (server) {
                    LOG.log(System.Logger.Level.ERROR, port + ": accept on " + path + " failed: " + e.getMessage());
                } else if (!logged) {
                    LOG.log(System.Logger.Level.INFO, port + ": waiting for the vhost-user server at " + path + " (" + e.getMessage() + "); retrying");
                    logged = true;
                }
                LockSupport.parkNanos(backoff);
                backoff = Math.min(2 * backoff, MAX_BACKOFF_NANOS);
                continue;
            }
            backoff = 100_000_000L;
            logged = false;
            synchronized (fdLock) {
                if (closed) {
                    Libc.close(fd);
                    break;
                }
                connFd = fd;
            }
            connections++;
            state = "connected";
            LOG.log(System.Logger.Level.INFO, port + ": vhost-user frontend connected (" + path + ")");
            String why;
            try {
                why = serve(fd);
            } catch (RuntimeException e) {
                why = e.getMessage();
            }
            synchronized (fdLock) {
                connFd = -1;
                Libc.close(fd);
            }
            device.reset();
            state = server ? "listening" : "connecting";
            if (!closed) LOG.log(System.Logger.Level.INFO, port + ": vhost-user connection ended: " + why);
        }
    }

    /** Answers messages until the peer goes away or sends garbage; returns why it stopped. */
    private String serve(int fd) {
        int[] fds = new int[UnixSocket.MAX_FDS];
        int[] extra = new int[UnixSocket.MAX_FDS];
        MemorySegment payload = in.asSlice(HEADER);
        MemorySegment reply = out.asSlice(HEADER);
        while (!closed) {
            int nfds = UnixSocket.recvMessage(fd, in, 0, HEADER, fds);
            if (nfds < 0) return "closed by the frontend";
            int request = in.get(U32, 0);
            int flags = in.get(U32, 4);
            int size = in.get(U32, 8);
            if ((flags & FLAG_VERSION_MASK) != FLAG_VERSION || size < 0 || size > MAX_PAYLOAD) {
                for (int i = 0; i < nfds; i++) Libc.close(fds[i]);
                return "malformed message header (request " + request + ", flags 0x" + Integer.toHexString(flags)
                        + ", size " + Integer.toUnsignedString(size) + "): the stream cannot be trusted any more";
            }
            if (size > 0) {
                int more = UnixSocket.recvMessage(fd, in, HEADER, size, extra);
                for (int i = 0; i < more; i++) {
                    if (nfds < fds.length) fds[nfds++] = extra[i]; else Libc.close(extra[i]);
                }
                if (more < 0) {
                    for (int i = 0; i < nfds; i++) Libc.close(fds[i]);
                    return "closed by the frontend inside a message";
                }
            }
            int replySize = device.handle(request, flags, payload, size, Arrays.copyOf(fds, nfds), reply);
            if (replySize >= 0) {
                out.set(U32, 0, request);
                out.set(U32, 4, FLAG_VERSION | FLAG_REPLY);
                out.set(U32, 8, replySize);
                UnixSocket.sendMessage(fd, out, HEADER + replySize, new int[0]);
            }
        }
        return "port deleted";
    }

    /**
     * Ends the current connection from any thread (a PMD that found the guest's memory gone) without
     * taking a lock: shutdown(2) wakes the connection thread, which closes and resets.
     */
    void abort() {
        int fd = connFd;
        if (fd >= 0) UnixSocket.shutdown(fd);
    }

    /** Ends the connection and the thread; removes a server socket. */
    void close() {
        closed = true;
        synchronized (fdLock) {
            if (connFd >= 0) UnixSocket.shutdown(connFd);
            if (listenFd >= 0) UnixSocket.shutdown(listenFd);
        }
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) LOG.log(System.Logger.Level.ERROR, port + ": vhost-user thread did not stop within 5 s");
        }
        if (listenFd >= 0) {
            Libc.close(listenFd);
            UnixSocket.unlink(path);
        }
        if (t == null || !t.isAlive()) arena.close();
    }
}
