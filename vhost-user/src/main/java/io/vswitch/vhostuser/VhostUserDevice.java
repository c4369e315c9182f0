package io.vswitch.vhostuser;

import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.vswitch.vhostuser.Protocol.*;
import static io.vswitch.vhostuser.Virtqueue.U32;
import static io.vswitch.vhostuser.Virtqueue.U64;

/**
 * The backend side of one vhost-user connection: answers the frontend's messages and configures the
 * port's virtqueues. Runs on the port's connection thread only; what PMDs and status readers see is
 * published through the rings' locks and volatile fields.
 *
 * <p>A message that is wrong (bad index, size or address) is refused: with REPLY_ACK the frontend
 * gets a non-zero status, and the reason is logged; the connection stays. Only a stream that cannot
 * be parsed any more ends the connection (see {@link VhostUserConnection}).
 */
final class VhostUserDevice {
    private static final System.Logger LOG = System.getLogger(VhostUserDevice.class.getName());

    /** Thrown by a handler for a message it refuses; the text goes to the log. */
    static final class Refused extends RuntimeException {
        Refused(String why) {
            super(why, null, false, false);
        }
    }

    private final String port;
    final Virtqueue[] rings = new Virtqueue[2 * MAX_QUEUE_PAIRS];
    /** Negotiated; written by the connection thread, read by status. */
    volatile long features;
    volatile long protocolFeatures;
    private MemoryTable memory = MemoryTable.EMPTY;
    private DirtyLog log;

    // ---- published for PMDs (read without the ring lock: they only pick rings and header sizes) ----
    volatile int hdrLen = 12;
    volatile boolean mergeable;
    /** GUEST_CSUM negotiated: frames with partial checksums may go to the guest as they are. */
    volatile boolean guestCsum;
    volatile int queuePairs = 1;
    /** A MAC to announce with a RARP frame (SEND_RARP), or -1. */
    volatile long rarpMac = -1;
    /** Guest memory faulted (see VhostUserPort#fault): PMDs leave the rings alone until the next connection. */
    volatile boolean faulted;

    // ---- for status ----
    volatile int mtu;
    volatile int deviceStatus;
    volatile boolean linkUp;

    VhostUserDevice(String port) {
        this.port = port;
        for (int i = 0; i < rings.length; i++) rings[i] = new Virtqueue(i);
    }

    /**
     * Handles one message; {@code fds} are the descriptors that came with it (the handler owns them:
     * it keeps or closes each). Writes a reply payload into {@code reply} and returns its size, or -1
     * for no reply.
     */
    int handle(int request, int flags, MemorySegment payload, int size, int[] fds, MemorySegment reply) {
        boolean ok = true;
        try {
            int r = dispatch(request, payload, size, fds, reply);
            if (r >= 0) return r;
        } catch (Refused e) {
            ok = false;
            LOG.log(System.Logger.Level.WARNING, port + ": refused " + name(request) + ": " + e.getMessage());
        } catch (RuntimeException e) {
            ok = false;
            LOG.log(System.Logger.Level.WARNING, port + ": " + name(request) + " failed: " + e.getMessage());
        } finally {
            for (int fd : fds) if (fd >= 0) Libc.close(fd);   // whatever the handler did not keep
        }
        if ((flags & FLAG_NEED_REPLY) != 0 && (protocolFeatures & (1L << PF_REPLY_ACK)) != 0) {
            reply.set(U64, 0, ok ? 0L : 1L);
            return 8;
        }
        if (!ok && replies(request)) {                   // the frontend waits for an answer: give a zero one
            reply.set(U64, 0, 0L);
            return 8;
        }
        return -1;
    }

    private static boolean replies(int request) {
        return request == GET_FEATURES || request == GET_PROTOCOL_FEATURES || request == GET_VRING_BASE
                || request == GET_QUEUE_NUM || request == GET_STATUS || request == SET_LOG_BASE;
    }

    private static long u64(MemorySegment p, int size, long off) {
        if (off + 8 > size) throw new Refused("payload of " + size + " bytes is too short");
        return p.get(U64, off);
    }

    private static int u32(MemorySegment p, int size, long off) {
        if (off + 4 > size) throw new Refused("payload of " + size + " bytes is too short");
        return p.get(U32, off);
    }

    private Virtqueue ring(int index) {
        if (index < 0 || index >= rings.length) throw new Refused("vring index " + index + " (0 to " + (rings.length - 1) + " allowed)");
        return rings[index];
    }

    /** Takes descriptor {@code i} from the message (the caller's finally block no longer closes it). */
    private static int take(int[] fds, int i) {
        if (i >= fds.length) throw new Refused("expected a file descriptor with the message");
        int fd = fds[i];
        fds[i] = -1;
        return fd;
    }

    private int dispatch(int request, MemorySegment p, int size, int[] fds, MemorySegment reply) {
        switch (request) {
            case GET_FEATURES -> {
                reply.set(U64, 0, FEATURES);
                return 8;
            }
            case SET_FEATURES -> {
                long f = u64(p, size, 0);
                if ((f & ~FEATURES) != 0) throw new Refused("features 0x" + Long.toHexString(f & ~FEATURES) + " were not offered");
                features = f;
                hdrLen = (f & (1L << F_VERSION_1 | 1L << F_MRG_RXBUF)) != 0 ? 12 : 10;
                mergeable = (f & (1L << F_MRG_RXBUF)) != 0;
                guestCsum = (f & (1L << F_GUEST_CSUM)) != 0;
                boolean eventIdx = (f & (1L << F_EVENT_IDX)) != 0;
                boolean tso = (f & (1L << F_HOST_TSO4 | 1L << F_HOST_TSO6)) != 0;
                boolean hostOffloads = tso || (f & 1L << F_CSUM) != 0;
                boolean packed = (f & (1L << F_RING_PACKED)) != 0;
                for (Virtqueue r : rings) {
                    // Odd rings carry the guest's frames to us; 64 KiB each, so only while negotiated
                    // (a guest that drops TSO again must not have its frames cut any more).
                    TcpSegmenter segmenter = !tso || (r.index & 1) == 0 ? null : r.tso != null ? r.tso : new TcpSegmenter();
                    update(r, () -> {
                        r.eventIdx = eventIdx;
                        if (r.packed != packed) {
                            r.packed = packed;
                            if (r.baseGiven) r.setBase(r.baseSent);   // a base that came first was read for the other layout
                        }
                        r.tso = segmenter;
                        r.hostOffloads = hostOffloads;
                    });
                }
                if ((f & (1L << F_LOG_ALL)) != 0 && log == null) LOG.log(System.Logger.Level.WARNING, port + ": LOG_ALL without a log (SET_LOG_BASE) yet");
            }
            case SET_OWNER -> { }
            case RESET_OWNER, RESET_DEVICE -> reset();
            case GET_PROTOCOL_FEATURES -> {
                reply.set(U64, 0, PROTOCOL_FEATURES);
                return 8;
            }
            case SET_PROTOCOL_FEATURES -> {
                long f = u64(p, size, 0);
                if ((f & ~PROTOCOL_FEATURES) != 0) throw new Refused("protocol features 0x" + Long.toHexString(f & ~PROTOCOL_FEATURES) + " were not offered");
                protocolFeatures = f;
            }
            case GET_QUEUE_NUM -> {
                reply.set(U64, 0, MAX_QUEUE_PAIRS);
                return 8;
            }
            case SET_MEM_TABLE -> setMemTable(p, size, fds);
            case SET_LOG_BASE -> {
                long size64 = u64(p, size, 0);
                long offset = u64(p, size, 8);
                DirtyLog next;
                try {
                    next = DirtyLog.map(take(fds, 0), size64, offset);
                } catch (IllegalArgumentException e) {
                    throw new Refused(e.getMessage());
                }
                DirtyLog old = log;
                log = next;
                for (Virtqueue r : rings) update(r, () -> { });
                if (old != null) old.unmap();            // no PMD holds it: each ring's lock was taken since
                LOG.log(System.Logger.Level.INFO, port + ": dirty-page log of " + size64 + " bytes (live migration)");
                return 0;                                // QEMU expects an empty reply
            }
            case SET_LOG_FD -> { }                       // an eventfd for log syncs we never need; closed
            case SET_VRING_NUM -> {
                Virtqueue r = ring(u32(p, size, 0));
                int num = u32(p, size, 4);
                boolean packed = (features & (1L << F_RING_PACKED)) != 0;
                if (num < 1 || num > Virtqueue.MAX_SIZE || !packed && Integer.bitCount(num) != 1) {
                    throw new Refused("vring " + r.index + " size " + num + " (" + (packed ? "1" : "a power of 2")
                            + " up to " + Virtqueue.MAX_SIZE + " is required)");
                }
                update(r, () -> r.size = num);
            }
            case SET_VRING_ADDR -> {
                Virtqueue r = ring(u32(p, size, 0));
                long desc = u64(p, size, 8);
                long used = u64(p, size, 16);
                long avail = u64(p, size, 24);
                long log = u64(p, size, 32);
                boolean logging = (u32(p, size, 4) & 1) != 0;
                update(r, () -> {
                    r.descUser = desc;
                    r.usedUser = used;
                    r.availUser = avail;
                    r.logGuest = logging ? log : -1;
                });
            }
            case SET_VRING_BASE -> {
                Virtqueue r = ring(u32(p, size, 0));
                int base = u32(p, size, 4);
                update(r, () -> r.setBase(base));
            }
            case GET_VRING_BASE -> {
                Virtqueue r = ring(u32(p, size, 0));
                int[] base = new int[1];
                update(r, () -> {
                    r.started = false;
                    base[0] = r.base();
                    closeFd(r.kickFd);
                    r.kickFd = -1;
                });
                reply.set(U32, 0, r.index);
                reply.set(U32, 4, base[0]);
                return 8;
            }
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> {
                long v = u64(p, size, 0);
                Virtqueue r = ring((int) (v & VRING_INDEX_MASK));
                int fd = (v & VRING_NOFD) != 0 ? -1 : take(fds, 0);
                if (request == SET_VRING_CALL) {
                    update(r, () -> {
                        closeFd(r.callFd);
                        r.callFd = fd;
                    });
                } else if (request == SET_VRING_ERR) {
                    closeFd(r.errFd);
                    r.errFd = fd;
                } else {
                    boolean implicitEnable = (features & (1L << F_PROTOCOL_FEATURES)) == 0;
                    update(r, () -> {
                        closeFd(r.kickFd);
                        r.kickFd = fd;
                        r.started = true;
                        r.syncUsed = true;
                        if (implicitEnable) r.enabled = true;
                    });
                }
            }
            case SET_VRING_ENABLE -> {
                Virtqueue r = ring(u32(p, size, 0));
                boolean enable = u32(p, size, 4) != 0;
                update(r, () -> r.enabled = enable);
            }
            case SEND_RARP -> {
                long mac = u64(p, size, 0) & 0xffff_ffff_ffffL;
                rarpMac = mac;
            }
            case NET_SET_MTU -> {
                long m = u64(p, size, 0);
                if (m < 68 || m > 65535) throw new Refused("MTU " + m + " (68 to 65535 allowed)");
                mtu = (int) m;
            }
            case SET_BACKEND_REQ_FD -> { }                   // we never send backend requests; the fd is closed
            case SET_STATUS -> {
                deviceStatus = (int) (u64(p, size, 0) & 0xff);
                updateLink();
            }
            case GET_STATUS -> {
                reply.set(U64, 0, deviceStatus);
                return 8;
            }
            default -> throw new Refused("not supported");
        }
        return -1;
    }

    /**
     * When a started ring first becomes usable: if its used index differs from the base we were given,
     * a backend before us used it (we restarted, the guest did not; DPDK frontends then send base 0).
     * Continue from what the guest has seen, as DPDK's backend does.
     */
    private void adoptUsedIndex(Virtqueue r) {
        int usedIdx = Short.toUnsignedInt(r.used.get(Virtqueue.U16, 2));
        if (usedIdx != r.lastUsed) {
            LOG.log(System.Logger.Level.INFO, port + ": vring " + r.index + " resumes at used index " + usedIdx + " (base was " + r.lastUsed + ")");
            r.lastUsed = usedIdx;
            r.lastAvail = usedIdx;
        }
    }

    /** The same for a packed ring, whose state is only in its descriptors' flags (see {@link Virtqueue#packedResumePoint}). */
    private void adoptPackedPosition(Virtqueue r) {
        int resume = r.packedResumePoint();
        if (resume < 0) return;
        LOG.log(System.Logger.Level.INFO, port + ": vring " + r.index + " resumes at position " + (resume & 0x7fff) + " wrap "
                + (resume >>> 15) + " (base was " + r.lastAvail + " wrap " + (r.availWrap ? 1 : 0) + ")");
        r.lastAvail = resume & 0x7fff;
        r.availWrap = (resume & 0x8000) != 0;
    }

    private void setMemTable(MemorySegment p, int size, int[] fds) {
        int n = u32(p, size, 0);
        if (n < 1 || n > MemoryTable.MAX_REGIONS) throw new Refused(n + " memory regions (1 to " + MemoryTable.MAX_REGIONS + " allowed)");
        if (8 + 32L * n > size) throw new Refused("payload of " + size + " bytes is too short for " + n + " regions");
        long[] regions = new long[4 * n];
        for (int i = 0; i < 4 * n; i++) regions[i] = p.get(U64, 8 + 8L * i);
        int[] mine = Arrays.copyOf(fds, fds.length);
        Arrays.fill(fds, -1);
        MemoryTable next;
        try {
            next = MemoryTable.map(regions, mine);
        } catch (IllegalArgumentException e) {
            throw new Refused(e.getMessage());
        }
        MemoryTable old = memory;
        memory = next;
        for (Virtqueue r : rings) update(r, () -> r.memory = next);
        old.unmap();                                     // no PMD holds it: each ring's lock was taken since
        LOG.log(System.Logger.Level.INFO, port + ": guest memory: " + n + " region(s), " + (next.totalSize() >> 20) + " MiB");
    }

    /** Changes a ring under its lock and recomputes what PMDs see. */
    private void update(Virtqueue r, Runnable change) {
        r.lock();
        try {
            change.run();
            r.memory = memory;
            r.log = (features & (1L << F_LOG_ALL)) != 0 ? log : null;
            r.refresh();
            if (r.ready && r.syncUsed) {
                if (r.packed) adoptPackedPosition(r);
                else adoptUsedIndex(r);
                r.syncUsed = false;
            }
        } finally {
            r.unlock();
        }
        updateLink();
    }

    private void updateLink() {
        int pairs = 0;
        for (int q = 0; q < MAX_QUEUE_PAIRS; q++) if (rings[2 * q].ready || rings[2 * q + 1].ready) pairs = q + 1;
        queuePairs = Math.max(1, pairs);
        boolean driverOk = (protocolFeatures & (1L << PF_STATUS)) == 0 || (deviceStatus & STATUS_DRIVER_OK) != 0;
        linkUp = rings[0].ready && rings[1].ready && driverOk;
    }

    /** Forgets the connection: rings stopped, descriptors closed, guest memory unmapped. */
    void reset() {
        for (Virtqueue r : rings) {
            r.lock();
            try {
                closeFd(r.kickFd);
                closeFd(r.callFd);
                closeFd(r.errFd);
                r.kickFd = r.callFd = r.errFd = -1;
                r.size = 0;
                r.started = r.enabled = r.syncUsed = false;
                r.lastAvail = r.lastUsed = 0;
                r.baseGiven = false;
                r.availWrap = true;
                r.packed = false;
                r.memory = MemoryTable.EMPTY;
                r.log = null;
                r.tso = null;                            // with the features: none until SET_FEATURES again
                r.hostOffloads = false;
                r.refresh();
            } finally {
                r.unlock();
            }
        }
        memory.unmap();
        memory = MemoryTable.EMPTY;
        if (log != null) log.unmap();
        log = null;
        features = protocolFeatures = 0;
        guestCsum = false;
        deviceStatus = 0;
        mtu = 0;
        rarpMac = -1;
        faulted = false;
        updateLink();
    }

    private static void closeFd(int fd) {
        if (fd >= 0) Libc.close(fd);
    }
}
