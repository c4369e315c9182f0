package io.vswitch.vhostuser.sys;

import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Blocking AF_UNIX stream sockets with file-descriptor passing (SCM_RIGHTS), the transport of the
 * vhost-user protocol, bound through FFM. Every call is control-path: it throws {@link SysException}
 * with errno's text. One thread uses a connection at a time; {@link #shutdown} from another thread
 * wakes a thread blocked in {@link #accept} or {@link #recvMessage}.
 */
public final class UnixSocket {
    private UnixSocket() {}

    /** The most descriptors one message may carry (SET_MEM_TABLE: one per region). */
    public static final int MAX_FDS = 32;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SHUT_RDWR = 2;
    private static final int EINTR = 4;
    /** sizeof(struct sockaddr_un): sa_family_t + char sun_path[108]. */
    private static final int SOCKADDR_UN = 110;
    /** Longest path sun_path holds with its terminating NUL. */
    public static final int MAX_PATH = 107;
    private static final int CMSG_HDR = 16;
    private static final int MSGHDR = 56;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle LISTEN = bind("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = bind("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = bind("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = bind("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = bind("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = bind("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLINK = bind("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle CHMOD = bind("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = bind("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FSTAT = bind("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    /** sizeof(struct stat) and offsetof(st_size) on x86-64 Linux. */
    private static final int STAT_SIZE = 144;
    private static final int ST_SIZE = 48;

    private static MethodHandle bind(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, ERRNO);
    }

    /** Thrown for an invalid socket path (too long for sun_path). */
    public static void checkPath(String path) {
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH) {
            throw new IllegalArgumentException("socket path " + path + " is longer than " + MAX_PATH
                    + " bytes (the limit of a unix socket address); use a shorter directory");
        }
    }

    private static MemorySegment address(Arena a, String path) {
        checkPath(path);
        MemorySegment sa = a.allocate(SOCKADDR_UN, 8);
        sa.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        byte[] b = path.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, sa, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, b.length);
        return sa;
    }

    private static int check(long rc, MemorySegment err, String what) {
        if (rc < 0) throw new SysException(what, Libc.errno(err));
        return (int) rc;
    }

    /** A socket listening at {@code path} (a stale socket file there is replaced). */
    public static int listen(String path, int backlog) {
        int fd = Libc.socket(AF_UNIX, SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            int ignored = (int) UNLINK.invokeExact(err, a.allocateFrom(path));
            Libc.bind(fd, address(a, path), "bind " + path);
            check((int) LISTEN.invokeExact(err, fd, backlog), err, "listen " + path);
            return fd;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        } catch (Throwable t) {
            Libc.close(fd);
            throw new IllegalStateException(t);
        }
    }

    /** Waits for a connection; returns its fd. */
    public static int accept(int listenFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            while (true) {
                int fd = (int) ACCEPT4.invokeExact(err, listenFd, MemorySegment.NULL, MemorySegment.NULL, Libc.SOCK_CLOEXEC);
                if (fd >= 0 || Libc.errno(err) != EINTR) return check(fd, err, "accept");
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Connects to the socket at {@code path}; returns the fd. */
    public static int connect(String path) {
        int fd = Libc.socket(AF_UNIX, SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            check((int) CONNECT.invokeExact(err, fd, address(a, path), SOCKADDR_UN), err, "connect " + path);
            return fd;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        } catch (Throwable t) {
            Libc.close(fd);
            throw new IllegalStateException(t);
        }
    }

    /**
     * Reads exactly {@code length} bytes into {@code buf} at {@code offset}, collecting descriptors
     * passed along into {@code fds} (returns how many; any beyond {@code fds.length} are closed).
     * Returns -1 if the peer closed the connection before the first byte.
     */
    public static int recvMessage(int fd, MemorySegment buf, long offset, int length, int[] fds) {
        int nfds = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            MemorySegment iov = a.allocate(16, 8);
            int controlLen = CMSG_HDR + MAX_FDS * 4;
            MemorySegment control = a.allocate(controlLen, 8);
            MemorySegment msg = a.allocate(MSGHDR, 8);
            int done = 0;
            while (done < length) {
                iov.set(JAVA_LONG, 0, buf.address() + offset + done);
                iov.set(JAVA_LONG, 8, length - done);
                msg.fill((byte) 0);
                msg.set(JAVA_LONG, 16, iov.address());
                msg.set(JAVA_LONG, 24, 1);
                msg.set(JAVA_LONG, 32, control.address());
                msg.set(JAVA_LONG, 40, controlLen);
                long n = (long) RECVMSG.invokeExact(err, fd, msg, MSG_CMSG_CLOEXEC);
                if (n < 0 && Libc.errno(err) == EINTR) continue;
                check(n, err, "recvmsg");
                nfds = collectFds(msg, control, fds, nfds);
                if (n == 0) {
                    if (done == 0) {
                        closeAll(fds, nfds);
                        return -1;
                    }
                    closeAll(fds, nfds);
                    throw new SysException("recvmsg (connection closed inside a message)", 104);
                }
                done += (int) n;
            }
            return nfds;
        } catch (RuntimeException e) {
            closeAll(fds, nfds);
            throw e;
        } catch (Throwable t) {
            closeAll(fds, nfds);
            throw new IllegalStateException(t);
        }
    }

    private static int collectFds(MemorySegment msg, MemorySegment control, int[] fds, int nfds) {
        long controlLen = msg.get(JAVA_LONG, 40);
        long pos = 0;
        while (pos + CMSG_HDR <= controlLen) {
            long len = control.get(JAVA_LONG, pos);
            int level = control.get(JAVA_INT, pos + 8);
            int type = control.get(JAVA_INT, pos + 12);
            if (len < CMSG_HDR || pos + len > controlLen) break;
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                for (long p = pos + CMSG_HDR; p + 4 <= pos + len; p += 4) {
                    int received = control.get(JAVA_INT, p);
                    if (nfds < fds.length) fds[nfds++] = received; else Libc.close(received);
                }
            }
            pos += (len + 7) & ~7L;
        }
        return nfds;
    }

    private static void closeAll(int[] fds, int n) {
        for (int i = 0; i < n; i++) Libc.close(fds[i]);
    }

    /** Sends {@code length} bytes of {@code buf}, with {@code fds} (may be empty) attached to the first byte. */
    public static void sendMessage(int fd, MemorySegment buf, int length, int[] fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            MemorySegment iov = a.allocate(16, 8);
            MemorySegment msg = a.allocate(MSGHDR, 8);
            int done = 0;
            boolean withFds = fds.length > 0;
            while (done < length) {
                iov.set(JAVA_LONG, 0, buf.address() + done);
                iov.set(JAVA_LONG, 8, length - done);
                msg.fill((byte) 0);
                msg.set(JAVA_LONG, 16, iov.address());
                msg.set(JAVA_LONG, 24, 1);
                if (withFds) {
                    int len = CMSG_HDR + 4 * fds.length;
                    MemorySegment control = a.allocate((len + 7) & ~7, 8);
                    control.set(JAVA_LONG, 0, len);
                    control.set(JAVA_INT, 8, SOL_SOCKET);
                    control.set(JAVA_INT, 12, SCM_RIGHTS);
                    for (int i = 0; i < fds.length; i++) control.set(JAVA_INT, CMSG_HDR + 4L * i, fds[i]);
                    msg.set(JAVA_LONG, 32, control.address());
                    msg.set(JAVA_LONG, 40, control.byteSize());
                }
                long n = (long) SENDMSG.invokeExact(err, fd, msg, MSG_NOSIGNAL);
                if (n < 0 && Libc.errno(err) == EINTR) continue;
                check(n, err, "sendmsg");
                done += (int) n;
                withFds = false;
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Wakes threads blocked on {@code fd} (accept, recvmsg); errors are ignored. */
    public static void shutdown(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(Libc.newErrnoSlot(a), fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void unlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) UNLINK.invokeExact(Libc.newErrnoSlot(a), a.allocateFrom(path));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void chmod(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            check((int) CHMOD.invokeExact(err, a.allocateFrom(path), mode), err, "chmod " + path);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A sealed-size anonymous shared file of {@code size} bytes (what QEMU's memory-backend-memfd is). */
    public static int memfd(String name, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            int fd = check((int) MEMFD_CREATE.invokeExact(err, a.allocateFrom(name), 1 /* MFD_CLOEXEC */), err, "memfd_create");
            check((int) FTRUNCATE.invokeExact(err, fd, size), err, "ftruncate");
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The size of the file behind {@code fd} (fstat's st_size). */
    public static long fileSize(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            MemorySegment st = a.allocate(STAT_SIZE, 8);
            check((int) FSTAT.invokeExact(err, fd, st), err, "fstat");
            return st.get(JAVA_LONG, ST_SIZE);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A non-blocking eventfd (the kick and call notifiers of a virtqueue). */
    public static int eventfd() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.newErrnoSlot(a);
            return check((int) EVENTFD.invokeExact(err, 0, 0x800 | 0x80000 /* EFD_NONBLOCK | EFD_CLOEXEC */), err, "eventfd");
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
