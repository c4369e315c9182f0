package io.vswitch.datapath.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few bpf(2) commands an AF_XDP port needs, as raw system calls through FFM: create a map, load a
 * program, update a map element, and attach a program to an interface through a BPF link. A link is
 * released — and the program detached — when its last file descriptor closes, so a dataplane that
 * dies, even by SIGKILL, leaves no program on the interface.
 *
 * <p>{@code union bpf_attr} is built by hand: only the leading fields of each command are set, the
 * rest of the 128 bytes stays zero, which the kernel requires of fields it does not know.
 */
public final class Bpf {
    private static final long SYS_BPF = 321;               // x86_64
    private static final int ATTR_SIZE = 128;

    private static final int BPF_MAP_CREATE = 0;
    private static final int BPF_MAP_UPDATE_ELEM = 2;
    private static final int BPF_PROG_LOAD = 5;
    private static final int BPF_LINK_CREATE = 28;

    public static final int BPF_MAP_TYPE_XSKMAP = 17;
    public static final int BPF_PROG_TYPE_XDP = 6;
    public static final int BPF_XDP = 37;                 // attach type
    public static final int XDP_FLAGS_SKB_MODE = 2;       // generic: after the driver, works everywhere
    public static final int XDP_FLAGS_DRV_MODE = 4;       // native: in the driver

    private Bpf() {
    }

    /** Creates a map; returns its fd. */
    public static int createMap(int type, int keySize, int valueSize, int maxEntries, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            putName(attr, 28, name);
            return (int) call(a, BPF_MAP_CREATE, attr, "bpf(BPF_MAP_CREATE)");
        }
    }

    /** Loads a program of {@code insns} (8 bytes each); on failure the verifier's log is in the message. */
    public static int loadProgram(int type, int expectedAttachType, byte[] insns, String license, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment code = a.allocate(insns.length, 8);
            MemorySegment.copy(insns, 0, code, JAVA_BYTE, 0, insns.length);
            MemorySegment lic = a.allocateFrom(license);
            MemorySegment log = a.allocate(16 * 1024);
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, insns.length / 8);
            attr.set(JAVA_LONG, 8, code.address());
            attr.set(JAVA_LONG, 16, lic.address());
            attr.set(JAVA_INT, 24, 1);                         // log_level: explain a rejection
            attr.set(JAVA_INT, 28, (int) log.byteSize());
            attr.set(JAVA_LONG, 32, log.address());
            putName(attr, 48, name);
            attr.set(JAVA_INT, 68, expectedAttachType);
            try {
                return (int) call(a, BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD)");
            } catch (SysException e) {
                String verifier = log.getString(0).strip();
                if (verifier.isEmpty()) throw e;
                throw new IllegalStateException(e.getMessage() + "; verifier: " + verifier.lines().reduce((x, y) -> y).orElse(""), e);
            }
        }
    }

    /** map[key] = value for 4-byte keys and values. */
    public static void updateElement(int mapFd, int key, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocateFrom(JAVA_INT, key);
            MemorySegment v = a.allocateFrom(JAVA_INT, value);
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, mapFd);
            attr.set(JAVA_LONG, 8, k.address());
            attr.set(JAVA_LONG, 16, v.address());
            call(a, BPF_MAP_UPDATE_ELEM, attr, "bpf(BPF_MAP_UPDATE_ELEM)");
        }
    }

    /** Attaches an XDP program to interface {@code ifindex}; returns the link fd (closing it detaches). */
    public static int attachXdp(int progFd, int ifindex, int xdpFlags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, BPF_XDP);
            attr.set(JAVA_INT, 12, xdpFlags);
            return (int) call(a, BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE)");
        }
    }

    private static void putName(MemorySegment attr, long offset, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, attr, JAVA_BYTE, offset, Math.min(b.length, 15));
    }

    private static long call(Arena a, int cmd, MemorySegment attr, String what) {
        MemorySegment err = Libc.newErrnoSlot(a);
        long rc = Libc.syscall(err, SYS_BPF, cmd, attr.address(), ATTR_SIZE);
        if (rc < 0) throw new SysException(what, Libc.errno(err));
        return rc;
    }
}
