package io.vswitch.datapath.port;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.NetDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Linux TAP device ({@code /dev/net/tun}, IFF_TAP | IFF_NO_PI, non-blocking): types {@code tap}
 * and {@code internal} (the bridge's own port, a TAP named after the bridge).
 *
 * <p>The tun driver exchanges exactly one frame per read(2)/write(2) and offers no batch call for
 * its fd (recvmmsg/sendmmsg work only on sockets), so a burst is a loop of non-blocking reads ending
 * at EAGAIN, the same as OVS's netdev-linux tap. The measured cost is in docs/perf.md; the batched
 * alternatives are AF_XDP and vhost-user ports. An idle TAP is not read at all: after
 * {@link #IDLE_POLLS} empty reads it sleeps until {@link TapWatch} sees a frame on its fd.
 */
final class TapPort implements Port {
    private final String name;
    private final String type;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxErrno = Libc.newErrnoSlot(arena);
    private final PortCounters counters;
    private volatile boolean closed;

    /** Empty bursts in a row after which the port sleeps (stops reading) until its device has a frame. */
    static final int IDLE_POLLS = 16;
    /** The polling PMD's count of empty bursts in a row. */
    private int emptyPolls;
    /** Set by the polling PMD, cleared by {@link TapWatch}: while true, rxBurst makes no call. */
    private volatile boolean asleep;
    private final boolean watched;
    private final java.util.concurrent.atomic.LongAdder sleeps = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder wakeups = new java.util.concurrent.atomic.LongAdder();

    TapPort(String name, String type, int fd, PortCounters counters) {
        this.counters = counters;
        this.name = name;
        this.type = type;
        this.fd = fd;
        this.watched = TapWatch.add(this);
    }

    int fd() {
        return fd;
    }

    boolean asleep() {
        return asleep;
    }

    /** {@link TapWatch}: the device has a frame. */
    void wake() {
        asleep = false;
        wakeups.increment();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public int rxqCount() {
        return 1;
    }

    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
        if (asleep) return 0;
        long base = batch.baseAddress();
        int n = 0;
        while (n < Batch.MAX) {
            long off = batch.rxOffset(n);
            long got = Libc.readFast(rxErrno, fd, base + off, PacketPool.DATA_SIZE);
            if (got <= 0) {
                if (got < 0 && Libc.errno(rxErrno) != Libc.EAGAIN && Libc.errno(rxErrno) != Libc.EINTR) {
                    counters.rxErrors.increment();
                }
                break;
            }
            if (got > PacketPool.DATA_SIZE) {   // cannot happen with read(2) of DATA_SIZE; defensive
                counters.rxErrors.increment();
                continue;
            }
            batch.offset[n] = off;
            batch.length[n] = (int) got;
            n++;
        }
        batch.count = n;
        if (n > 0) {
            emptyPolls = 0;
        } else if (++emptyPolls >= IDLE_POLLS && watched) {
            emptyPolls = 0;
            asleep = true;
            sleeps.increment();
            TapWatch.signal(rxErrno);
        }
        return n;
    }

    @Override
    public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
        for (int j = 0; j < count; j++) {
            if (Libc.writeFast(io.errno, fd, base + offsets[j], lengths[j]) >= 0) continue;
            int errno = Libc.errno(io.errno);
            if (errno == Libc.EAGAIN || errno == Libc.EIO) {
                counters.txDropped.getAndAdd(count - j);    // queue full, or the device is down (EIO)
            } else {
                counters.txErrors.increment();
                counters.txDropped.getAndAdd(count - j - 1);
            }
            return j;
        }
        return count;
    }

    @Override
    public boolean setAdminUp(boolean up) {
        return io.vswitch.datapath.sys.NetDevice.trySetUp(name, up);
    }

    @Override
    public Map<String, String> status() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("device", "/dev/net/tun " + name);
        NetDevice.putDeviceStatus(name, s);
        return s;
    }

    /** {@code dpctl/show -s}: how often the port fell asleep when idle, and was woken by a frame. */
    @Override
    public Map<String, Long> customStats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("rx_idle_sleeps", sleeps.sum());
        m.put("rx_wakeups", wakeups.sum());
        return m;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        TapWatch.remove(this);
        Libc.close(fd);
        arena.close();
    }
}
