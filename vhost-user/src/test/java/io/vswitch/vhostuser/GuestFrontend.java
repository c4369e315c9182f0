package io.vswitch.vhostuser;

import io.vswitch.datapath.sys.Libc;
import io.vswitch.vhostuser.sys.UnixSocket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static io.vswitch.vhostuser.Virtqueue.U16;
import static io.vswitch.vhostuser.Virtqueue.U32;
import static io.vswitch.vhostuser.Virtqueue.U64;

/**
 * A vhost-user frontend written for the tests: it plays a guest's virtio-net driver with full control
 * over what it puts in its rings, so tests can post both correct and hostile descriptors.
 *
 * <pre>
 * guest memory: one 2 MiB memfd described as two regions, contiguous in guest physical space
 *   region 0: gpa 0x000000-0x0fffff   file offset 0         frontend address UVA + gpa
 *   region 1: gpa 0x100000-0x1fffff   file offset 0x100000  frontend address UVA + gpa
 * ring r (0 = guest receive, 1 = guest transmit), size 256:
 *   desc 0x1000 + r*0x3000, avail 0x2000 + r*0x3000, used 0x3000 + r*0x3000
 * buffers: receive 0x10000 + i*2048, transmit 0x90000 + i*2048 (i < 256),
 *          large frames 0x120000 and 0x140000 (alternately, 128 KiB each)
 * </pre>
 */
public final class GuestFrontend implements AutoCloseable {
    static final long UVA = 0x7f00_0000_0000L;
    static final long MEMORY = 2 << 20;
    static final long REGION = 1 << 20;
    public static final int SIZE = 256;
    static final long RX_BUFFERS = 0x10000;
    static final long TX_BUFFERS = 0x90000;
    static final long LARGE_BUFFERS = 0x120000;
    static final int BUFFER = 2048;
    static final int HDR = 12;
    static final long FEATURES = 1L << Protocol.F_VERSION_1 | 1L << Protocol.F_MRG_RXBUF | 1L << Protocol.F_PROTOCOL_FEATURES
            | 1L << Protocol.F_INDIRECT_DESC;
    private static final VarHandle IDX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    final MemorySegment mem;
    private final int memFd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(4096 + 12, 8);
    private int fd = -1;
    private final int[] availIdx = new int[2];
    private int txNext;
    private int largeNext;
    private final int[] callFds = {-1, -1};

    public GuestFrontend() {
        memFd = UnixSocket.memfd("guest", MEMORY);
        mem = Libc.mmapShared(memFd, MEMORY, 0, "map guest memory");
    }

    static long desc(int ring) {
        return 0x1000 + ring * 0x3000L;
    }

    static long avail(int ring) {
        return 0x2000 + ring * 0x3000L;
    }

    static long used(int ring) {
        return 0x3000 + ring * 0x3000L;
    }

    public void connect(String path) {
        fd = UnixSocket.connect(path);
    }

    /** Sends a message; returns the reply's payload u64 (or the u32 pair of GET_VRING_BASE), or -1 when none is expected. */
    long request(int request, boolean needReply, int[] fds, long... payload) {
        boolean replies = request == Protocol.GET_FEATURES || request == Protocol.GET_PROTOCOL_FEATURES
                || request == Protocol.GET_QUEUE_NUM || request == Protocol.GET_STATUS || request == Protocol.GET_VRING_BASE
                || request == Protocol.SET_LOG_BASE;
        buf.set(U32, 0, request);
        buf.set(U32, 4, Protocol.FLAG_VERSION | (needReply ? Protocol.FLAG_NEED_REPLY : 0));
        buf.set(U32, 8, payload.length * 8);
        for (int i = 0; i < payload.length; i++) buf.set(U64, 12 + 8L * i, payload[i]);
        UnixSocket.sendMessage(fd, buf, 12 + payload.length * 8, fds);
        if (!replies && !needReply) return -1;
        int[] none = new int[4];
        if (UnixSocket.recvMessage(fd, buf, 0, 12, none) < 0) throw new IllegalStateException("backend closed the connection");
        int size = buf.get(U32, 8);
        if (buf.get(U32, 0) != request || (buf.get(U32, 4) & Protocol.FLAG_REPLY) == 0 || size != 8
                && !(size == 0 && request == Protocol.SET_LOG_BASE)) {
            throw new IllegalStateException("bad reply to " + Protocol.name(request) + ": size " + size);
        }
        if (size == 0) return 0;
        UnixSocket.recvMessage(fd, buf, 12, size, none);
        return buf.get(U64, 12);
    }

    /** Sends raw bytes (a malformed message). */
    void sendRaw(byte[] bytes) {
        sendRaw(bytes, new int[0]);
    }

    /** Sends raw bytes with descriptors attached; closes our copies of the descriptors. */
    void sendRaw(byte[] bytes, int[] fds) {
        try {
            MemorySegment big = bytes.length > buf.byteSize() ? arena.allocate(bytes.length) : buf;
            MemorySegment.copy(bytes, 0, big, ValueLayout.JAVA_BYTE, 0, bytes.length);
            UnixSocket.sendMessage(fd, big, bytes.length, fds);
        } finally {
            for (int f : fds) Libc.close(f);
        }
    }

    /** The handshake QEMU and testpmd do, with REPLY_ACK on, both rings of pair 0 started and enabled. */
    public void handshake() {
        handshake(FEATURES, 1L << Protocol.PF_REPLY_ACK | 1L << Protocol.PF_MQ);
    }

    void handshake(long features, long protocolFeatures) {
        request(Protocol.SET_OWNER, false, new int[0]);
        long offered = request(Protocol.GET_FEATURES, false, new int[0]);
        if ((offered & features) != features) throw new IllegalStateException("features missing: " + Long.toHexString(offered));
        request(Protocol.GET_PROTOCOL_FEATURES, false, new int[0]);
        request(Protocol.SET_PROTOCOL_FEATURES, false, new int[0], protocolFeatures);
        check(request(Protocol.SET_FEATURES, true, new int[0], features), "SET_FEATURES");
        setMemTable();
        for (int r = 0; r < 2; r++) {
            check(request(Protocol.SET_VRING_NUM, true, new int[0], r | (long) SIZE << 32), "SET_VRING_NUM");
            boolean packed = (features & 1L << Protocol.F_RING_PACKED) != 0;
            check(request(Protocol.SET_VRING_BASE, true, new int[0], r | (packed ? 0x8000L << 32 : 0)), "SET_VRING_BASE");   // wrap counter 1
            check(request(Protocol.SET_VRING_ADDR, true, new int[0], r, UVA + desc(r), UVA + used(r), UVA + avail(r), 0), "SET_VRING_ADDR");
            callFds[r] = UnixSocket.eventfd();
            check(request(Protocol.SET_VRING_CALL, true, new int[] {callFds[r]}, r), "SET_VRING_CALL");
            int kick = UnixSocket.eventfd();
            check(request(Protocol.SET_VRING_KICK, true, new int[] {kick}, r), "SET_VRING_KICK");
            Libc.close(kick);
            check(request(Protocol.SET_VRING_ENABLE, true, new int[0], r | 1L << 32), "SET_VRING_ENABLE");
        }
    }

    void setMemTable() {
        int fd0 = dup();
        int fd1 = dup();
        check(request(Protocol.SET_MEM_TABLE, true, new int[] {fd0, fd1},
                2, 0, REGION, UVA, 0, REGION, REGION, UVA + REGION, REGION), "SET_MEM_TABLE");
        Libc.close(fd0);
        Libc.close(fd1);
    }

    private int dup() {
        return Libc.open("/proc/self/fd/" + memFd, Libc.O_RDWR | Libc.O_CLOEXEC);
    }

    static void check(long ack, String what) {
        if (ack != 0) throw new IllegalStateException(what + " refused (" + ack + ")");
    }

    // ---- ring access ----

    void putDesc(int ring, int i, long addr, int len, int flags, int next) {
        long at = desc(ring) + 16L * i;
        mem.set(U64, at, addr);
        mem.set(U32, at + 8, len);
        mem.set(U16, at + 12, (short) flags);
        mem.set(U16, at + 14, (short) next);
    }

    /** Offers head {@code head} on {@code ring} and publishes it. */
    void offer(int ring, int head) {
        mem.set(U16, avail(ring) + 4 + 2L * (availIdx[ring] % SIZE), (short) head);
        availIdx[ring] = (availIdx[ring] + 1) & 0xffff;
        IDX.setRelease(mem, avail(ring) + 2, (short) availIdx[ring]);
    }

    /** Publishes an arbitrary avail index (a driver lying about how much it offered). */
    void setAvailIdx(int ring, int idx) {
        availIdx[ring] = idx & 0xffff;
        IDX.setRelease(mem, avail(ring) + 2, (short) idx);
    }

    int usedIdx(int ring) {
        return Short.toUnsignedInt((short) IDX.getAcquire(mem, used(ring) + 2));
    }

    int usedId(int ring, int k) {
        return mem.get(U32, used(ring) + 4 + 8L * (k % SIZE));
    }

    int usedLen(int ring, int k) {
        return mem.get(U32, used(ring) + 4 + 8L * (k % SIZE) + 4);
    }

    void write(long gpa, byte[] bytes) {
        MemorySegment.copy(bytes, 0, mem, ValueLayout.JAVA_BYTE, gpa, bytes.length);
    }

    byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, gpa, b, 0, len);
        return b;
    }

    /** A virtio-net header for a TCP frame to cut: {@code gsoType}, segment size {@code mss}, TCP header at {@code l4}, checksum left to the device. */
    static byte[] gsoHeader(int gsoType, int mss, int l4) {
        java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(HDR).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.put(0, (byte) Protocol.HDR_F_NEEDS_CSUM).put(1, (byte) gsoType).putShort(2, (short) (l4 + 32)).putShort(4, (short) mss)
                .putShort(6, (short) l4).putShort(8, (short) 16);
        return h.array();
    }

    /** Transmits a frame the way Linux does: header and frame in one descriptor. Returns the head used. */
    public int send(byte[] frame) {
        return send(new byte[HDR], frame);
    }

    /** Transmits a frame with the given virtio-net header (offload flags). */
    int send(byte[] header, byte[] frame) {
        int i = txNext++ % SIZE;
        long at = TX_BUFFERS + (long) i * BUFFER;
        write(at, header);
        write(at + HDR, frame);
        putDesc(1, i, at, HDR + frame.length, 0, 0);
        offer(1, i);
        return i;
    }

    /**
     * Transmits a frame of up to 128 KiB as a chain of descriptors of {@code piece} bytes each (the
     * header in the first), the way Linux sends a large TCP frame. Returns the head used.
     */
    int sendChain(byte[] header, byte[] frame, int piece) {
        long at = LARGE_BUFFERS + (largeNext++ & 1) * 0x20000L;
        write(at, header);
        write(at + header.length, frame);
        int total = header.length + frame.length;
        int pieces = (total + piece - 1) / piece;
        int head = txNext % SIZE;
        for (int p = 0; p < pieces; p++) {
            int i = (txNext + p) % SIZE;
            boolean last = p == pieces - 1;
            putDesc(1, i, at + (long) p * piece, last ? total - p * piece : piece, last ? 0 : Virtqueue.F_NEXT, (i + 1) % SIZE);
        }
        txNext += pieces;
        offer(1, head);
        return head;
    }

    /** Offers {@code n} receive buffers of {@link #BUFFER} bytes (descriptors 0..n-1 of ring 0). */
    public void postRxBuffers(int n) {
        for (int i = 0; i < n; i++) {
            putDesc(0, i, RX_BUFFERS + (long) i * BUFFER, BUFFER, Virtqueue.F_WRITE, 0);
            offer(0, i);
        }
    }

    /** The frame delivered in used entry {@code k} of ring 0 (header stripped; the buffer is the used id's). */
    byte[] received(int k) {
        int id = usedId(0, k);
        int len = usedLen(0, k);
        return read(RX_BUFFERS + (long) id * BUFFER + HDR, len - HDR);
    }

    /** The virtio-net header of the frame delivered in used entry {@code k} of ring 0. */
    byte[] receivedHeader(int k) {
        return read(RX_BUFFERS + (long) usedId(0, k) * BUFFER, HDR);
    }

    int numBuffers(int k) {
        return Short.toUnsignedInt(mem.get(U16, RX_BUFFERS + (long) usedId(0, k) * BUFFER + 10));
    }

    // ---- packed rings (RING_PACKED negotiated): the driver's side of virtio 1.1 section 2.8 ----

    static final int F_AVAIL = 1 << 7;
    static final int F_USED = 1 << 15;
    private final int[] nextAvail = new int[2];
    private final boolean[] availWrap = {true, true};
    private final int[] nextUsed = new int[2];
    private final boolean[] usedWrap = {true, true};
    private final int[][] chainSize = new int[2][SIZE];

    /**
     * Makes a chain of elements (address, length) available on {@code ring} with buffer id {@code id}
     * and {@code flags} (WRITE, INDIRECT) on each; the first descriptor's flags are written last.
     */
    void packedOffer(int ring, int id, int flags, long[] addrs, int[] lens) {
        int first = nextAvail[ring];
        int firstFlags = 0;
        for (int e = 0; e < addrs.length; e++) {
            long at = desc(ring) + 16L * nextAvail[ring];
            mem.set(U64, at, addrs[e]);
            mem.set(U32, at + 8, lens[e]);
            mem.set(U16, at + 12, (short) id);
            int f = flags | (e < addrs.length - 1 ? Virtqueue.F_NEXT : 0) | (availWrap[ring] ? F_AVAIL : F_USED);
            if (e == 0) firstFlags = f; else IDX.setRelease(mem, at + 14, (short) f);
            if (++nextAvail[ring] == SIZE) {
                nextAvail[ring] = 0;
                availWrap[ring] = !availWrap[ring];
            }
        }
        chainSize[ring][id] = addrs.length;
        IDX.setRelease(mem, desc(ring) + 16L * first + 14, (short) firstFlags);
    }

    /** Transmits a frame in one descriptor (header and frame), buffer id = its slot; returns the id. */
    int packedSend(byte[] frame) {
        int id = txNext++ % SIZE;
        long at = TX_BUFFERS + (long) id * BUFFER;
        write(at, new byte[HDR]);
        write(at + HDR, frame);
        packedOffer(1, id, 0, new long[] {at}, new int[] {HDR + frame.length});
        return id;
    }

    /** Offers receive buffer {@code id} (of {@link #BUFFER} bytes) on ring 0. */
    void packedPostRx(int id) {
        packedOffer(0, id, Virtqueue.F_WRITE, new long[] {RX_BUFFERS + (long) id * BUFFER}, new int[] {BUFFER});
    }

    /** The next used descriptor of {@code ring} as {id, len, flags}, or null if the device has not used it yet. */
    int[] packedUsed(int ring) {
        long at = desc(ring) + 16L * nextUsed[ring];
        int flags = Short.toUnsignedInt((short) IDX.getAcquire(mem, at + 14));
        boolean w = usedWrap[ring];
        if (((flags & F_USED) != 0) != w || ((flags & F_AVAIL) != 0) != w) return null;
        int id = Short.toUnsignedInt(mem.get(U16, at + 12));
        int len = mem.get(U32, at + 8);
        nextUsed[ring] += chainSize[ring][id];
        if (nextUsed[ring] >= SIZE) {
            nextUsed[ring] -= SIZE;
            usedWrap[ring] = !usedWrap[ring];
        }
        return new int[] {id, len, flags};
    }

    /** Sets the driver event suppression area of {@code ring}: flags (0 enable, 1 disable, 2 desc) and off_wrap. */
    void packedDriverEvent(int ring, int flags, int offWrap) {
        mem.set(U16, avail(ring), (short) offWrap);
        mem.set(U16, avail(ring) + 2, (short) flags);
    }

    /** The device event suppression flags of {@code ring} (1: the device asks for no kicks). */
    int packedDeviceEventFlags(int ring) {
        return Short.toUnsignedInt(mem.get(U16, used(ring) + 2));
    }

    /** How often the switch signalled ring {@code ring}'s call eventfd since the last look (reads and resets it). */
    long interrupts(int ring) {
        MemorySegment v = arena.allocate(8, 8);
        long n = Libc.readFast(Libc.newErrnoSlot(arena), callFds[ring], v.address(), 8);
        return n == 8 ? v.get(ValueLayout.JAVA_LONG, 0) : 0;
    }

    /** Sets avail.flags (VRING_AVAIL_F_NO_INTERRUPT = 1). */
    public void setAvailFlags(int ring, int flags) {
        mem.set(U16, avail(ring), (short) flags);
    }

    /** Sets used_event, the trailer of the avail ring (EVENT_IDX). */
    void setUsedEvent(int ring, int idx) {
        mem.set(U16, avail(ring) + 4 + 2L * SIZE, (short) idx);
    }

    /** avail_event, the trailer of the used ring (EVENT_IDX): where the switch wants the next kick. */
    int availEvent(int ring) {
        return Short.toUnsignedInt(mem.get(U16, used(ring) + 4 + 8L * SIZE));
    }

    int usedFlags(int ring) {
        return Short.toUnsignedInt(mem.get(U16, used(ring)));
    }

    /** Shrinks the guest memory file under the switch's mapping (what only a hostile frontend does). */
    void shrinkMemory(long size) throws Throwable {
        var linker = java.lang.foreign.Linker.nativeLinker();
        var ftruncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        if ((int) ftruncate.invokeExact(memFd, size) != 0) throw new IllegalStateException("ftruncate failed");
    }

    void disconnect() {
        if (fd >= 0) Libc.close(fd);
        fd = -1;
    }

    @Override
    public void close() {
        disconnect();
        for (int c : callFds) if (c >= 0) Libc.close(c);
        Libc.munmap(mem);
        Libc.close(memFd);
        arena.close();
    }
}
