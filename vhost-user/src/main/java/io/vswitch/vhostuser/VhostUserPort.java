package io.vswitch.vhostuser;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.L4Checksum;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A vhost-user port: a guest's virtio-net device whose virtqueues the PMDs read and write in guest
 * memory. Queue pair q is rx queue q of this port (we receive from the guest's transmit ring 2q+1)
 * and a transmit target (we fill the guest's receive ring 2q); a PMD transmits on pair
 * {@code pmdIndex % pairs}.
 *
 * <p>No system call per packet: receiving and sending are ring reads and writes; the guest is
 * interrupted at most once per burst, and only when it asked to be (it never is when it polls).
 */
final class VhostUserPort implements Port {
    private final String name;
    private final String type;
    private final VhostUserDevice device;
    private final VhostUserConnection connection;
    private final PortCounters counters;
    private final int txRetriesMax;
    /** Full-ring retries (OVS: {@code tx_retries} in Interface.statistics). */
    private final org.agrona.concurrent.status.AtomicCounter txRetries;

    VhostUserPort(String name, String type, VhostUserDevice device, VhostUserConnection connection, PortCounters counters, int txRetriesMax) {
        this.name = name;
        this.type = type;
        this.device = device;
        this.connection = connection;
        this.counters = counters;
        this.txRetriesMax = txRetriesMax;
        this.txRetries = counters.extra("tx_retries");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return type;
    }

    /** The queue pairs the guest has set up (at least 1); the dataplane re-reads it periodically. */
    @Override
    public int rxqCount() {
        return device.queuePairs;
    }

    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
        VhostUserDevice d = device;
        Virtqueue vq = d.rings[2 * queue + 1];
        if (!vq.tryLock()) return 0;                    // being reconfigured: skip it this time
        int n = 0;
        try {
            if (vq.ready && !d.faulted && VirtioNet.hasWork(vq)) {
                long errors = vq.rxErrors;
                n = VirtioNet.receive(vq, d.hdrLen, batch);
                if (vq.rxErrors != errors) counters.rxErrors.getAndAdd(vq.rxErrors - errors);
            }
        } catch (InternalError e) {
            fault(e);
            n = 0;
        } finally {
            vq.unlock();
        }
        if (queue == 0 && d.rarpMac >= 0 && n < Batch.MAX) n = announce(d, batch, n);
        batch.count = n;
        return n;
    }

    /**
     * Injects the RARP frame QEMU asks for after a live migration (SEND_RARP) as if the guest had sent
     * it, so that switches learn the guest's MAC at its new location.
     */
    private static int announce(VhostUserDevice d, Batch batch, int n) {
        long mac = d.rarpMac;
        d.rarpMac = -1;
        MemorySegment m = batch.memory();
        long at = batch.rxOffset(n);
        m.asSlice(at, 60).fill((byte) 0);
        for (int i = 0; i < 6; i++) {
            byte b = (byte) (mac >>> (8 * i));            // the payload holds the MAC in wire order
            m.set(ValueLayout.JAVA_BYTE, at + i, (byte) 0xff);
            m.set(ValueLayout.JAVA_BYTE, at + 6 + i, b);
            m.set(ValueLayout.JAVA_BYTE, at + 22 + i, b);    // sender hardware address
            m.set(ValueLayout.JAVA_BYTE, at + 32 + i, b);    // target hardware address
        }
        byte[] fixed = {(byte) 0x80, 0x35, 0, 1, 8, 0, 6, 4, 0, 3};   // RARP: Ethernet/IPv4, reverse request
        for (int i = 0; i < fixed.length; i++) m.set(ValueLayout.JAVA_BYTE, at + 12 + i, fixed[i]);
        batch.offset[n] = at;
        batch.length[n] = 60;
        return n + 1;
    }

    /** A guest that negotiated GUEST_CSUM takes frames with partial checksums as they are. */
    @Override
    public boolean takesPartialChecksums() {
        return device.guestCsum;
    }

    @Override
    public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
        VhostUserDevice d = device;
        long partial = io.txPartial;
        if (partial != 0 && !d.guestCsum) {
            // The guest renegotiated without GUEST_CSUM since the frames were staged: complete them here.
            for (long bits = partial; bits != 0; bits &= bits - 1) {
                int j = Long.numberOfTrailingZeros(bits);
                L4Checksum.complete(memory, offsets[j], lengths[j]);
            }
            partial = 0;
        }
        Virtqueue vq = d.rings[2 * (io.pmdIndex % d.queuePairs)];
        vq.lock();                                       // held by another PMD for one burst at most
        int sent = 0;
        int stop = 0;
        try {
            if (vq.ready && !d.faulted) {
                int hdr = d.hdrLen;
                boolean mergeable = d.mergeable;
                int attempt = 0;
                while (true) {
                    sent = VirtioNet.transmit(vq, hdr, mergeable, memory, offsets, lengths, partial, sent, count);
                    stop = vq.stopReason;
                    if (sent == count || stop != VirtioNet.FULL || attempt == txRetriesMax) break;
                    attempt++;
                }
                if (attempt > 0) txRetries.getAndAdd(attempt);
            }
        } catch (InternalError e) {
            fault(e);
            sent = 0;
        } finally {
            vq.unlock();
        }
        if (sent < count) {
            if (stop == VirtioNet.BAD) {
                counters.txErrors.increment();
                if (count - sent > 1) counters.txDropped.getAndAdd(count - sent - 1);
            } else {
                counters.txDropped.getAndAdd(count - sent);   // no guest, or its ring stayed full
            }
        }
        return sent;
    }

    /**
     * The guest's memory faulted under us (the JVM turns SIGBUS into InternalError): its file was
     * shrunk after we mapped it, which only a hostile or broken frontend does. The port stops using
     * the guest and ends the connection; the guest may connect again.
     */
    private void fault(InternalError e) {
        drop(name + ": guest memory faulted (" + e.getMessage() + "): was its file shrunk? closing the connection");
    }

    /**
     * The PMD gave up on a queue whose polls kept throwing (a ring state our code cannot handle,
     * i.e. a bug): the rings' state is suspect, so the port drops the guest as after a memory fault;
     * the guest starts afresh when it connects again (a client-mode port reconnects by itself).
     */
    @Override
    public void fault(int queue, RuntimeException cause) {
        drop(name + (queue < 0 ? ": transmit" : ": queue " + queue) + " kept failing (" + cause + "): closing the connection");
    }

    /** Stops using the guest's rings and memory and ends the connection (once per connection). */
    private void drop(String why) {
        if (device.faulted) return;
        device.faulted = true;
        counters.rxErrors.increment();
        System.getLogger(VhostUserPort.class.getName()).log(System.Logger.Level.ERROR, why);
        connection.abort();
    }

    @Override
    public Map<String, String> status() {
        VhostUserDevice d = device;
        Map<String, String> s = new LinkedHashMap<>();
        s.put("mode", connection.server ? "server" : "client");
        s.put("socket", connection.path);
        s.put("status", connection.state());
        if (d.features != 0) s.put("features", String.format("0x%016x", d.features));
        if (d.protocolFeatures != 0) s.put("protocol_features", String.format("0x%016x", d.protocolFeatures));
        s.put("num_negotiated_rx_queues", Integer.toString(d.queuePairs));
        s.put("num_negotiated_tx_queues", Integer.toString(d.queuePairs));
        if (d.mtu > 0) s.put("mtu", Integer.toString(d.mtu));
        for (int q = 0; q < 2 * d.queuePairs; q++) {
            Virtqueue r = d.rings[q];
            if (r.size > 0) s.put("vring_" + q + "_size", Integer.toString(r.size));
        }
        s.put("admin_state", "up");
        s.put("link_state", d.linkUp ? "up" : "down");
        return s;
    }

    @Override
    public Map<String, Long> customStats() {
        long bad = 0;
        long interrupts = 0;
        long tsoFrames = 0;
        long tsoSegments = 0;
        long rxPartial = 0;
        long txPartial = 0;
        for (Virtqueue r : device.rings) {
            bad += r.badChains;
            interrupts += r.interrupts;
            if ((r.index & 1) == 1) rxPartial += r.partialChecksums; else txPartial += r.partialChecksums;
            TcpSegmenter tso = r.tso;
            if (tso != null) {
                tsoFrames += tso.frames;
                tsoSegments += tso.segments;
            }
        }
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tx_retries", txRetries.get());
        m.put("bad_descriptor_chains", bad);
        m.put("guest_notifications", interrupts);
        m.put("rx_tso_frames", tsoFrames);
        m.put("rx_tso_segments", tsoSegments);
        m.put("rx_partial_checksums", rxPartial);
        m.put("tx_partial_checksums", txPartial);
        m.put("connections", connection.connections());
        return m;
    }

    @Override
    public void close() {
        connection.close();
        device.reset();
    }
}
