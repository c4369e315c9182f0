package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * An {@code afxdp} port: a Linux interface whose frames reach the switch through AF_XDP sockets, one
 * per rx queue, steered there by {@link XdpProgram}; frames the switch sends go out through the same
 * sockets' tx rings. No system call per packet: receiving is reading a shared ring, sending is filling
 * one and, at most once per burst, a zero-length sendto that tells the kernel to look.
 *
 * <p>Received frames are not copied: the pipeline reads and edits them in the UMEM. Sending copies
 * each frame once into a tx slot of the output socket's UMEM (every socket has its own).
 */
final class AfXdpPort implements Port {
    /** Per-queue counters, in this order, at {@code queue * STATS + i}. */
    private static final String[] STAT_NAMES = {"rx_packets", "tx_packets", "tx_ring_full", "wakeups"};
    private static final int STATS = STAT_NAMES.length;

    private final String name;
    private final XdpProgram program;
    private final XskSocket[] sockets;
    private final PortCounters counters;
    private final String bindMode;
    private final AtomicLongArray stats;
    /** Sockets used for sending: copy mode sends only on queues below the device's tx queue count. */
    private final int txQueues;
    private volatile boolean closed;

    AfXdpPort(String name, XdpProgram program, XskSocket[] sockets, int txQueues, String bindMode, PortCounters counters) {
        this.txQueues = Math.max(1, Math.min(txQueues, sockets.length));
        this.name = name;
        this.program = program;
        this.sockets = sockets;
        this.bindMode = bindMode;
        this.counters = counters;
        this.stats = new AtomicLongArray(sockets.length * STATS);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return "afxdp";
    }

    @Override
    public int rxqCount() {
        return sockets.length;
    }

    /**
     * Hands what the rx ring holds to the pipeline in place (the batch points into the socket's UMEM)
     * after giving the previous burst's frames back to the kernel. Also kicks the socket's tx side if
     * frames are still waiting there (a kick that found the driver busy leaves them in the ring, and
     * only a new kick sends them).
     */
    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
        XskSocket x = sockets[queue];
        x.releaseHeld();
        if (x.tx.pending() > 0) kickTx(x, queue);
        int n = x.rx.available(Batch.MAX);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            long desc = x.rx.address(i);
            long slot = Umem.slotOf(desc);
            long data = Umem.dataOf(desc);
            int len = x.rx.length(i);
            if (!x.umem.isSlot(slot)) {
                counters.rxErrors.increment();       // not a frame we gave: nothing to return
            } else if (len <= 0 || data - slot + len > Umem.SLOT) {
                counters.rxErrors.increment();
                x.returnFrame(slot);
            } else {
                batch.offset[kept] = data;
                batch.length[kept] = len;
                x.hold(slot);
                kept++;
            }
        }
        if (n > 0) {
            x.rx.release(n);
            stats.getAndAdd(queue * STATS, kept);
        }
        x.refill();
        if (x.needWakeup && x.fill.needsWakeup()) {
            Libc.kickRx(x.fd);
            stats.getAndIncrement(queue * STATS + 3);
        }
        batch.useMemory(x.umem.memory, x.umem.spare);
        batch.count = kept;
        return kept;
    }

    /** Copies the packets into free UMEM frames, queues them on the tx ring, and kicks the kernel once. */
    @Override
    public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
        int q = io.pmdIndex % txQueues;
        XskSocket x = sockets[q];
        while (!x.txLock.compareAndSet(false, true)) Thread.onSpinWait();
        long from = base - memory.address();       // base is an address; offsets count from it
        int room;
        int sent = 0;
        try {
            x.reclaim();
            room = Math.min(x.tx.free(count), x.freeTxFrames());
            if (room < count) stats.getAndIncrement(q * STATS + 2);
            for (; sent < room && lengths[sent] <= PacketPool.DATA_SIZE; sent++) {
                long frame = x.popTxFrame();
                MemorySegment.copy(memory, from + offsets[sent], x.umem.memory, frame, lengths[sent]);
                x.tx.putDesc(sent, frame, lengths[sent]);
            }
            if (sent > 0) {
                x.tx.submit(sent);
                stats.getAndAdd(q * STATS + 1, sent);
            }
            // Kick whenever frames wait in the ring, not only new ones: a kick that found the driver
            // busy (EAGAIN) leaves them there, and nothing else would ever send them.
            if (x.tx.pending() > 0) kickTx(x, q);
        } finally {
            x.txLock.set(false);
        }
        if (sent < room) {                               // a frame too big for a UMEM frame stopped the burst
            counters.txErrors.increment();
            counters.txDropped.getAndAdd(count - sent - 1);
        } else if (sent < count) {                       // tx ring or frames exhausted
            counters.txDropped.getAndAdd(count - sent);
        }
        return sent;
    }

    private void kickTx(XskSocket x, int q) {
        if (!x.needWakeup || x.tx.needsWakeup()) {
            stats.getAndIncrement(q * STATS + 3);
            Libc.kickTx(x.fd);
        }
    }

    @Override
    public boolean setAdminUp(boolean up) {
        return io.vswitch.datapath.sys.NetDevice.trySetUp(name, up);
    }

    @Override
    public Map<String, String> status() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("xdp-mode", program.mode + (bindMode.isEmpty() ? "" : "-" + bindMode));
        s.put("n_rxq", Integer.toString(sockets.length));
        s.put("umem", sockets[0].umem.hugepages ? "hugepages" : "pages");
        io.vswitch.datapath.sys.NetDevice.putDeviceStatus(name, s);
        return s;
    }

    /** Per-queue counters, ours and the kernel's (XDP_STATISTICS), for {@code dpctl/show -s}. */
    @Override
    public Map<String, Long> customStats() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int q = 0; q < sockets.length; q++) {
            for (int i = 0; i < STATS; i++) m.put("xsk_queue_" + q + "_" + STAT_NAMES[i], stats.get(q * STATS + i));
            long[] k = sockets[q].statistics();
            m.put("xsk_queue_" + q + "_rx_dropped", k[0]);
            m.put("xsk_queue_" + q + "_rx_ring_full", k[3]);
            m.put("xsk_queue_" + q + "_fill_ring_empty", k[4]);
        }
        return m;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        program.close();                       // detach first: no more frames are steered to the sockets
        for (XskSocket x : sockets) x.close();
    }
}
