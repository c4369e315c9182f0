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
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO);
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

    private static final MethodHandle SETSOCKOPT = bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle GETSOCKOPT = bind("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle IF_NAMETOINDEX = bind("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // syscall(2) is variadic after the number.
    private static final MethodHandle SYSCALL3 = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), ERRNO, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL4 = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), ERRNO, Linker.Option.firstVariadicArg(1));
    /** A system call that never blocks, made where nothing may be allocated (a PMD): no errno capture. */
    private static final MethodHandle SYSCALL3_FAST = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1),
            Linker.Option.critical(false));
    /**
     * sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) and the matching recvfrom: the AF_XDP kicks, once per
     * burst on the hot path, so linked critical and without errno capture: the capture segment check
     * allocated a slice per call whenever escape analysis missed it, and a failed kick (EAGAIN, EBUSY,
     * ENOBUFS: the kernel is busy) needs no errno — the next burst kicks again.
     */
    private static final MethodHandle SENDTO_FAST = bind("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT),
            Linker.Option.critical(false));
    private static final MethodHandle RECVFROM_FAST = bind("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG),
            Linker.Option.critical(false));

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_POPULATE = 0x8000;
    private static final int MAP_PRIVATE = 2;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_HUGETLB = 0x40000;
    public static final int MSG_DONTWAIT = 0x40;

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

    private static final int EFD_NONBLOCK = 0x800;
    private static final int EFD_CLOEXEC = 0x80000;
    public static final short POLLIN = 1;

    /** A non-blocking, close-on-exec eventfd(2) counting from 0. */
    public static int eventfd() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int fd = (int) EVENTFD.invokeExact(err, 0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd < 0) throw new SysException("eventfd", errno(err));
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * poll(2) on {@code count} {@code struct pollfd}s (8 bytes each: int fd, short events, short
     * revents) in {@code fds}; the number ready, 0 on timeout or EINTR.
     */
    public static int poll(MemorySegment errnoSlot, MemorySegment fds, int count, int timeoutMillis) {
        try {
            int n = (int) POLL.invokeExact(errnoSlot, fds, (long) count, timeoutMillis);
            if (n < 0 && errno(errnoSlot) != EINTR) throw new SysException("poll", errno(errnoSlot));
            return Math.max(n, 0);
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
        pinThread(0, cpus);
    }

    /** The calling thread's kernel id (gettid(2)), as in /proc/self/task. */
    public static int currentTid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) syscall(newErrnoSlot(a), 186 /* SYS_gettid, x86-64 */, 0, 0, 0);
        }
    }

    /** Pins thread {@code tid} (0: the caller) to the CPUs set in {@code cpus}. */
    public static void pinThread(int tid, long[] cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(JAVA_LONG, 16); // cpu_set_t: 1024 bits
            for (int i = 0; i < cpus.length && i < 16; i++) set.setAtIndex(JAVA_LONG, i, cpus[i]);
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) SCHED_SETAFFINITY.invokeExact(err, tid, set.byteSize(), set);
            if (rc < 0) throw new SysException("sched_setaffinity", errno(err));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The CPUs the calling thread may run on (the process's, cgroups and taskset, unless the thread was pinned), as a 1024-bit mask. */
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

    public static void setsockopt(int fd, int level, int name, MemorySegment value, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) SETSOCKOPT.invokeExact(err, fd, level, name, value, (int) value.byteSize());
            if (rc < 0) throw new SysException(what, errno(err));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** getsockopt into {@code value}; returns the length the kernel wrote. */
    public static int getsockopt(int fd, int level, int name, MemorySegment value, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            MemorySegment len = a.allocateFrom(JAVA_INT, (int) value.byteSize());
            int rc = (int) GETSOCKOPT.invokeExact(err, fd, level, name, value, len);
            if (rc < 0) throw new SysException(what, errno(err));
            return len.get(JAVA_INT, 0);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void bind(int fd, MemorySegment address, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            int rc = (int) BIND.invokeExact(err, fd, address, (int) address.byteSize());
            if (rc < 0) throw new SysException(what, errno(err));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_POPULATE, fd, offset) as a segment of {@code length}. */
    public static MemorySegment mmapShared(int fd, long length, long offset, String what) {
        return mmap(length, MAP_SHARED | MAP_POPULATE, fd, offset, what);
    }

    /** Like {@link #mmapShared} but not populated: pages are faulted in on first touch (guest memory). */
    public static MemorySegment mmapSharedLazy(int fd, long length, long offset, String what) {
        return mmap(length, MAP_SHARED, fd, offset, what);
    }

    /**
     * Anonymous private memory, populated; on 2 MiB hugepages if {@code hugepages} ({@code length} must
     * then be a multiple of 2 MiB, and the call fails with ENOMEM when too few are reserved).
     */
    public static MemorySegment mmapAnonymous(long length, boolean hugepages, String what) {
        return mmap(length, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (hugepages ? MAP_HUGETLB : 0), -1, 0L, what);
    }

    private static MemorySegment mmap(long length, int flags, int fd, long offset, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = newErrnoSlot(a);
            long addr = (long) MMAP.invokeExact(err, 0L, length, PROT_READ | PROT_WRITE, flags, fd, offset);
            if (addr == -1L) throw new SysException(what, errno(err));
            return MemorySegment.ofAddress(addr).reinterpret(length);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try {
            int ignored = (int) MUNMAP.invokeExact(mapping.address(), mapping.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The interface's index in the caller's network namespace, or 0 if there is none of that name. */
    public static int ifNameToIndex(String name) {
        try (Arena a = Arena.ofConfined()) {
            return (int) IF_NAMETOINDEX.invokeExact(a.allocateFrom(name));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** syscall(number, a, b, c); returns the result or -1 with errno in {@code errnoSlot}. */
    public static long syscall(MemorySegment errnoSlot, long number, long a, long b, long c) {
        try {
            return (long) SYSCALL3.invokeExact(errnoSlot, number, a, b, c);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** syscall(number, a, b, c, d); returns the result or -1 with errno in {@code errnoSlot}. */
    public static long syscall(MemorySegment errnoSlot, long number, long a, long b, long c, long d) {
        try {
            return (long) SYSCALL4.invokeExact(errnoSlot, number, a, b, c, d);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** syscall(number, a, b, c) for a call that cannot block; allocates nothing; the result, errno not kept. */
    public static long syscallFast(long number, long a, long b, long c) {
        try {
            return (long) SYSCALL3_FAST.invokeExact(number, a, b, c);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A zero-length non-blocking sendto: tells an AF_XDP socket to process its tx ring; -1 if it failed. */
    public static long kickTx(int fd) {
        try {
            return (long) SENDTO_FAST.invokeExact(fd, 0L, 0L, MSG_DONTWAIT, 0L, 0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A zero-length non-blocking recvfrom: tells an AF_XDP socket its fill ring has new buffers. */
    public static long kickRx(int fd) {
        try {
            return (long) RECVFROM_FAST.invokeExact(fd, 0L, 0L, MSG_DONTWAIT, 0L, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
