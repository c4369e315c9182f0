package io.vswitch.datapath.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls the dataplane makes, bound once through FFM.
 *
 * <p>Two flavours exist. Control-path calls ({@link #open}, {@link #ioctl}, ...) throw
 * {@link SysException} with errno's message. Hot-path calls ({@link #readFast}, {@link #writeFast})
 * take buffer addresses as plain {@code long}s (no {@code MemorySegment} object per packet), are
 * linked {@code critical} (no thread-state transition: they never block on a non-blocking fd) and
 * write errno into a caller-owned capture segment so that nothing is allocated per call.
 */
public final class Libc {
    private Libc() {}

    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int EAGAIN = 11;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout()
            .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    // open(2) and ioctl(2) are variadic: their third argument is declared as such.
    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL = bind("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle SCHED_SETAFFINITY = bind("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle SCHED_GETAFFINITY = bind("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle READ_FAST = bind("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO, Linker.Option.critical(false));
    private static final MethodHandle WRITE_FAST = bind("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO, Linker.Option.critical(false));

    private static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** Allocates an errno capture segment; hot-path callers keep one per thread or queue. */
    public static MemorySegment newErrnoSlot(Arena arena) {
        return arena.allocate(Linker.Option.captureStateLayout());
    }

    public static int errno(MemorySegment slot) {
        return (int) ERRNO_HANDLE.get(slot, 0L);
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    public static int open(String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int fd = (int) OPEN.invokeExact(err, a.allocateFrom(path), flags, 0);
            if (fd < 0) throw new SysException("open " + path, errno(err));
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ioctl with a pointer argument; throws on failure. */
    public static void ioctl(int fd, long request, MemorySegment arg, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) IOCTL.invokeExact(err, fd, request, arg);
            if (rc < 0) throw new SysException(what, errno(err));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int socket(int domain, int type, int protocol) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int fd = (int) SOCKET.invokeExact(err, domain, type, protocol);
            if (fd < 0) throw new SysException("socket", errno(err));
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Pins the calling thread to the CPUs set in {@code cpus}. */
    public static void pinCurrentThread(long[] cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(JAVA_LONG, 16); // cpu_set_t: 1024 bits
            for (int i = 0; i < cpus.length && i < 16; i++) set.setAtIndex(JAVA_LONG, i, cpus[i]);
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) SCHED_SETAFFINITY.invokeExact(err, 0, set.byteSize(), set);
            if (rc < 0) throw new SysException("sched_setaffinity", errno(err));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The CPUs this process may run on (cgroups, taskset), as a 1024-bit mask. */
    public static long[] allowedCpus() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(JAVA_LONG, 16);
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) SCHED_GETAFFINITY.invokeExact(err, 0, set.byteSize(), set);
            if (rc < 0) throw new SysException("sched_getaffinity", errno(err));
            return set.toArray(JAVA_LONG);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** read(2) into raw memory; returns bytes read or -1 with errno in {@code errnoSlot}. */
    public static long readFast(MemorySegment errnoSlot, int fd, long address, long length) {
        try {
            return (long) READ_FAST.invokeExact(errnoSlot, fd, address, length);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** write(2) from raw memory; returns bytes written or -1 with errno in {@code errnoSlot}. */
    public static long writeFast(MemorySegment errnoSlot, int fd, long address, long length) {
        try {
            return (long) WRITE_FAST.invokeExact(errnoSlot, fd, address, length);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

}
