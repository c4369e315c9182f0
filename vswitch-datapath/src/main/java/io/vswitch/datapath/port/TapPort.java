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
 * alternatives are AF_XDP and vhost-user ports.
 */
final class TapPort implements Port {
    private final String name;
    private final String type;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxErrno = Libc.newErrnoSlot(arena);
    private final PortCounters counters;
    private volatile boolean closed;

    TapPort(String name, String type, int fd, PortCounters counters) {
        this.counters = counters;
        this.name = name;
        this.type = type;
        this.fd = fd;
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
    public boolean emptyPollIsSyscall() {
        return true;
    }

    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
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

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.close(fd);
        arena.close();
    }
}
