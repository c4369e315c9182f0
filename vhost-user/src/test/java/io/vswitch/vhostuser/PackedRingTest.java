package io.vswitch.vhostuser;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packed virtqueues (VIRTIO_F_RING_PACKED) driven by {@link GuestFrontend}'s packed driver: frames both
 * ways over many wraps of the ring, chained and indirect buffers, what a hostile driver can post,
 * interrupts as the driver's event area asks, and where a restarted backend resumes.
 */
class PackedRingTest {
    @TempDir
    Path dir;

    private final Arena arena = Arena.ofConfined();
    private GuestPort gp;
    private PortCounters counters;
    private Port port;
    private GuestFrontend guest;

    @BeforeEach
    void open() {
        gp = new GuestPort(dir, GuestFrontend.FEATURES | 1L << Protocol.F_RING_PACKED | 1L << Protocol.F_EVENT_IDX,
                1L << Protocol.PF_REPLY_ACK | 1L << Protocol.PF_MQ);
        counters = gp.counters;
        port = gp.port;
        guest = gp.guest;
    }

    @AfterEach
    void close() {
        gp.close();
        arena.close();
    }

    private static byte[] frame(int seq, int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < 6; i++) f[i] = (byte) 0xff;
        f[6] = 2;
        f[12] = 0x08;
        for (int i = 14; i < length; i++) f[i] = (byte) (seq * 31 + i);
        return f;
    }

    private int receive() {
        return gp.receive();
    }

    private byte[] rxFrame(int i) {
        return gp.rxFrame(i);
    }

    private int transmit(byte[] f) {
        return gp.transmit(f);
    }

    @Test
    void theDeviceAsksForNoKicks() {
        assertEquals(1, guest.packedDeviceEventFlags(0));
        assertEquals(1, guest.packedDeviceEventFlags(1));
    }

    /** 1000 frames each way through a 256-descriptor ring: single, chained and indirect buffers, ids echoed. */
    @Test
    void framesBothWaysOverManyWrapsOfTheRing() {
        long table = GuestFrontend.LARGE_BUFFERS;                // an indirect table, reused (the switch copies at once)
        for (int i = 0; i < 1000; i++) {
            byte[] f = frame(i, 60 + i % 200);
            int id = i % GuestFrontend.SIZE;
            long at = GuestFrontend.TX_BUFFERS + (long) id * GuestFrontend.BUFFER;
            guest.write(at, new byte[GuestFrontend.HDR]);
            guest.write(at + GuestFrontend.HDR, f);
            int total = GuestFrontend.HDR + f.length;
            switch (i % 3) {
                case 0 -> guest.packedOffer(1, id, 0, new long[] {at}, new int[] {total});
                case 1 -> guest.packedOffer(1, id, 0, new long[] {at, at + 20}, new int[] {20, total - 20});
                default -> {
                    guest.mem.set(Virtqueue.U64, table, at);
                    guest.mem.set(Virtqueue.U32, table + 8, 30);
                    guest.mem.set(Virtqueue.U16, table + 14, (short) 0);
                    guest.mem.set(Virtqueue.U64, table + 16, at + 30);
                    guest.mem.set(Virtqueue.U32, table + 24, total - 30);
                    guest.mem.set(Virtqueue.U16, table + 30, (short) 0);
                    guest.packedOffer(1, id, Virtqueue.F_INDIRECT, new long[] {table}, new int[] {32});
                }
            }
            assertEquals(1, receive(), "frame " + i);
            assertArrayEquals(f, rxFrame(0), "frame " + i);
            int[] used = guest.packedUsed(1);
            assertNotNull(used, "frame " + i + "'s buffer came back");
            assertEquals(id, used[0]);

            guest.packedPostRx(id);
            assertEquals(1, transmit(f), "frame " + i + " to the guest");
            int[] rx = guest.packedUsed(0);
            assertNotNull(rx);
            assertEquals(id, rx[0]);
            assertEquals(GuestFrontend.HDR + f.length, rx[1]);
            assertEquals(Virtqueue.F_WRITE, rx[2] & Virtqueue.F_WRITE, "used with data written");
            byte[] got = guest.read(GuestFrontend.RX_BUFFERS + (long) id * GuestFrontend.BUFFER + GuestFrontend.HDR, f.length);
            assertArrayEquals(f, got, "frame " + i + " in the guest");
        }
        assertNull(guest.packedUsed(1));
        assertEquals(0, counters.rxErrors.get());
        assertEquals(0, counters.txDropped.get());
    }

    /** A burst of 40 frames: 32 in the first receive, the rest in the second, buffers back in ring order. */
    @Test
    void burstsAreBoundedAndBuffersComeBackInOrder() {
        for (int i = 0; i < 40; i++) guest.packedSend(frame(i, 64));
        assertEquals(Batch.MAX, receive());
        assertArrayEquals(frame(31, 64), rxFrame(31));
        assertEquals(8, receive());
        assertArrayEquals(frame(39, 64), rxFrame(7));
        for (int i = 0; i < 40; i++) assertEquals(i, guest.packedUsed(1)[0]);
        // No receive buffers yet: the frame is dropped and counted, nothing written into the ring.
        assertEquals(0, transmit(frame(1, 64)));
        assertNull(guest.packedUsed(0));
        assertEquals(1, counters.txDropped.get());
    }

    /**
     * As the split ring's test of the same name: random mixes of ordinary frames, TCP frames to cut
     * (in one descriptor, or as chains) and descriptors outside guest memory, received burst by burst:
     * packets whole and in order, at most a burst at a time, bad ones counted, every buffer back in order.
     */
    @Test
    void randomMixesOfLargeOrdinaryAndBadFramesComeOutWholeAndInOrder() {
        long tso = 1L << Protocol.F_CSUM | 1L << Protocol.F_HOST_TSO4 | 1L << Protocol.F_HOST_TSO6;
        gp.reconnect(GuestFrontend.FEATURES | 1L << Protocol.F_RING_PACKED | 1L << Protocol.F_EVENT_IDX | tso,
                1L << Protocol.PF_REPLY_ACK | 1L << Protocol.PF_MQ);
        guest = gp.guest;
        java.util.Random r = new java.util.Random(20261207);
        int bad = 0;
        for (int round = 0; round < 400; round++) {
            List<Integer> expected = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            int chains = 0;
            for (int id = 0, frames = 1 + r.nextInt(12); id < frames; id++) {
                int kind = r.nextInt(10);
                byte[] header = new byte[GuestFrontend.HDR], f;
                if (kind < 4 || kind == 9) {                             // an ordinary frame (9: posted outside guest memory)
                    f = frame(round, 60 + r.nextInt(1441));
                    if (kind == 9) bad++;
                    else expected.add(f.length);
                } else {                                                 // a TCP frame to cut
                    boolean v4 = r.nextBoolean(), chain = kind >= 7 && kind < 9 && chains < 2;
                    int l4 = v4 ? 34 : 54, mss = 40 + r.nextInt(1409), payload = chain ? 2000 + r.nextInt(58_001) : 1 + r.nextInt(1950);
                    header = GuestFrontend.gsoHeader(v4 ? Protocol.GSO_TCPV4 : Protocol.GSO_TCPV6, mss, l4);
                    f = TcpSegmenterTest.tcpFrame(v4, 0, payload, 0x10);
                    for (int left = payload; left > 0; left -= mss) expected.add(l4 + 32 + Math.min(mss, left));
                    if (chain) {
                        long at = GuestFrontend.LARGE_BUFFERS + chains++ * 0x20000L;
                        guest.write(at, header);
                        guest.write(at + header.length, f);
                        int total = header.length + f.length, piece = 1000 + r.nextInt(3097), pieces = (total + piece - 1) / piece;
                        long[] addrs = new long[pieces];
                        int[] lens = new int[pieces];
                        for (int e = 0; e < pieces; e++) {
                            addrs[e] = at + (long) e * piece;
                            lens[e] = Math.min(piece, total - e * piece);
                        }
                        guest.packedOffer(1, id, 0, addrs, lens);
                        ids.add(id);
                        continue;
                    }
                }
                long at = GuestFrontend.TX_BUFFERS + (long) id * GuestFrontend.BUFFER;
                guest.write(at, header);
                guest.write(at + header.length, f);
                guest.packedOffer(1, id, 0, new long[] {kind == 9 ? 0x4000_0000L : at}, new int[] {header.length + f.length});
                ids.add(id);
            }
            List<Integer> got = new ArrayList<>();
            for (int polls = 0; polls < 100 && got.size() < expected.size(); polls++) {
                int n = receive();
                assertTrue(n <= Batch.MAX);
                for (int i = 0; i < n; i++) got.add(gp.batch.length[i]);
            }
            assertEquals(0, receive(), "round " + round + ": nothing more");
            assertEquals(expected, got, "round " + round);
            for (int id : ids) {
                int[] used = guest.packedUsed(1);
                assertNotNull(used, "round " + round + ": buffer " + id + " is back");
                assertEquals(id, used[0], "round " + round);
            }
            assertNull(guest.packedUsed(1));
            assertEquals(bad, counters.rxErrors.get(), "round " + round);
        }
    }

    /** Hostile chains are returned unused and counted; the frame after each one arrives. */
    @Test
    void badChainsAreCountedAndTheNextFrameArrives() {
        long good = GuestFrontend.TX_BUFFERS;
        long table = GuestFrontend.LARGE_BUFFERS;
        guest.mem.set(Virtqueue.U64, table, good);
        guest.mem.set(Virtqueue.U32, table + 8, 64);
        long[][] addrs = {
                {0x7fff_0000_0000L},                             // outside guest memory
                {good},                                          // zero length (below)
                {GuestFrontend.MEMORY - 8},                      // runs off the end of guest memory
                {table},                                         // indirect table of 24 bytes (not whole descriptors)
                {table, good},                                   // indirect inside a chain
        };
        int[][] lens = {{76}, {0}, {76}, {24}, {16, 76}};
        int[] flags = {0, 0, 0, Virtqueue.F_INDIRECT, Virtqueue.F_INDIRECT};
        byte[] ok = frame(7, 64);
        for (int c = 0; c < addrs.length; c++) {
            guest.packedOffer(1, 100 + c, flags[c], addrs[c], lens[c]);
            int id = guest.packedSend(ok);
            assertEquals(1, receive(), "case " + c);
            assertArrayEquals(ok, rxFrame(0));
            assertEquals(100 + c, guest.packedUsed(1)[0], "the bad chain came back");
            assertEquals(id, guest.packedUsed(1)[0]);
        }
        assertEquals(addrs.length, counters.rxErrors.get());
        // A chain longer than the ring (NEXT on every descriptor) is consumed as one bad chain.
        long[] all = new long[GuestFrontend.SIZE];
        int[] lengths = new int[GuestFrontend.SIZE];
        java.util.Arrays.fill(all, good);
        java.util.Arrays.fill(lengths, 64);
        int taken = addrs.length;                                // descriptors used so far: the frames' ...
        for (int[] l : lens) taken += l.length;                  // ... and the bad chains'
        guest.packedOffer(1, 9, 0, all, lengths);
        guest.mem.set(Virtqueue.U16, GuestFrontend.desc(1) + 16L * ((taken + GuestFrontend.SIZE - 1) % GuestFrontend.SIZE) + 14,
                (short) (Virtqueue.F_NEXT | GuestFrontend.F_USED));   // the last one says NEXT too (it is in lap 0)
        assertEquals(0, receive());
        assertEquals(addrs.length + 1L, counters.rxErrors.get());
        assertTrue(port.customStats().get("bad_descriptor_chains") > addrs.length);
    }

    /** EVENT_IDX: interrupts as the driver's event area asks (disable, enable, a given descriptor). */
    @Test
    void interruptsFollowTheDriversEventArea() {
        guest.packedDriverEvent(1, 1, 0);                        // disabled
        guest.packedSend(frame(1, 64));
        assertEquals(1, receive());
        assertEquals(0, guest.interrupts(1));
        guest.packedDriverEvent(1, 0, 0);                        // enabled
        guest.packedSend(frame(2, 64));
        assertEquals(1, receive());
        assertEquals(1, guest.interrupts(1));
        guest.packedDriverEvent(1, 2, 4 | 0x8000);               // when position 4 (wrap 1) is used
        guest.packedSend(frame(3, 64));
        assertEquals(1, receive());                              // position 2 used
        assertEquals(0, guest.interrupts(1));
        guest.packedSend(frame(4, 64));
        guest.packedSend(frame(5, 64));
        assertEquals(2, receive());                              // positions 3 and 4
        assertEquals(1, guest.interrupts(1));
    }

    /** Packed rings allocate nothing per frame either (as {@code VhostUserPortTest.movingFramesAllocatesNothing}). */
    @Test
    void movingFramesAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        Batch batch = gp.batch;
        byte[] f = frame(1, 64);
        long[] offsets = new long[Batch.MAX];
        int[] lengths = new int[Batch.MAX];
        java.util.Arrays.fill(lengths, 64);
        int warmup = 6000;
        int window = 500;
        long[] allocated = new long[4];
        for (int round = 0; round < warmup + 4 * window; round++) {
            for (int i = 0; i < GuestFrontend.SIZE; i++) {
                guest.packedSend(f);
                guest.packedPostRx(i);
            }
            long before = threads.getThreadAllocatedBytes(tid);
            int got = 0;
            for (int b = 0; b < GuestFrontend.SIZE / Batch.MAX; b++) {
                batch.reset();
                int n = port.rxBurst(0, batch, gp.io);
                got += n;
                for (int i = 0; i < n; i++) offsets[i] = batch.offset[i];
                port.txBurst(gp.io, batch.memory(), batch.baseAddress(), offsets, lengths, n);
            }
            long after = threads.getThreadAllocatedBytes(tid);
            assertEquals(GuestFrontend.SIZE, got);
            while (guest.packedUsed(0) != null) { }           // the driver takes its buffers back (allocates: not measured)
            while (guest.packedUsed(1) != null) { }
            if (round >= warmup) allocated[(round - warmup) / window] += after - before;
        }
        long clean = java.util.Arrays.stream(allocated).filter(a -> a == 0).count();
        assertTrue(clean >= 3 && java.util.Arrays.stream(allocated).sum() < 1024,
                "bytes allocated per window of " + window * GuestFrontend.SIZE + " frames each way: " + java.util.Arrays.toString(allocated));
        assertEquals(0, counters.txDropped.get());
    }

    /** A base position beyond the ring leaves it unusable (no read outside the descriptor ring), not the PMD broken. */
    @Test
    void aBaseBeyondTheRingIsNeverUsed() {
        GuestFrontend.check(guest.request(Protocol.SET_VRING_BASE, true, new int[0], 1 | (long) (0x8000 | 300) << 32), "SET_VRING_BASE");
        guest.packedSend(frame(1, 64));
        for (int i = 0; i < 3; i++) assertEquals(0, receive());
        assertEquals(0, counters.rxErrors.get());
    }

    /**
     * A frontend that sends SET_VRING_BASE before SET_FEATURES: the base (packed: position and wrap
     * bit) is read again for the layout the features choose, not left as a split ring's index.
     */
    @Test
    void aBaseSentBeforeTheFeaturesIsReadForTheLayoutTheyChoose() {
        long packed = GuestFrontend.FEATURES | 1L << Protocol.F_RING_PACKED | 1L << Protocol.F_EVENT_IDX;
        GuestFrontend.check(guest.request(Protocol.SET_FEATURES, true, new int[0], packed & ~(1L << Protocol.F_RING_PACKED)), "SET_FEATURES");
        GuestFrontend.check(guest.request(Protocol.SET_VRING_BASE, true, new int[0], 1 | 0x8000L << 32), "SET_VRING_BASE");   // position 0, wrap 1
        GuestFrontend.check(guest.request(Protocol.SET_FEATURES, true, new int[0], packed), "SET_FEATURES");
        byte[] f = frame(1, 64);
        guest.packedSend(f);
        assertEquals(1, receive(), "read as a split index (0x8000), the base would lie beyond the ring");
        assertArrayEquals(f, rxFrame(0));
    }

    /** Where a ring resumes, read from its descriptors' flags alone (a backend restart). */
    @Test
    void aRestartedBackendResumesWhereTheDescriptorsSay() {
        Virtqueue q = new Virtqueue(1);
        q.packed = true;
        q.size = 8;
        q.desc = arena.allocate(16 * 8, 16);
        q.lastAvail = 0;
        q.availWrap = true;
        int a1 = GuestFrontend.F_AVAIL;                          // available in lap 1
        int a0 = GuestFrontend.F_USED;                           // available in lap 0
        int u1 = GuestFrontend.F_AVAIL | GuestFrontend.F_USED;   // used in lap 1
        assertEquals(-1, resume(q, 0, 0, 0, 0, 0, 0, 0, 0), "a fresh ring: where the base says (0, wrap 1)");
        assertEquals(3 | 0x8000, resume(q, u1, u1, u1, a1, a1, 0, 0, 0), "after 3 used, 5 made available");
        assertEquals(3 | 0x8000, resume(q, u1, u1, u1, 0, 0, 0, 0, 0), "3 used, nothing available");
        assertEquals(5 | 0x8000, resume(q, a0, a0, a0, a0, a0, a1, a1, a1), "a full receive ring: the oldest lap-1 buffer");
        assertEquals(0, resume(q, u1, u1, u1, u1, u1, u1, u1, u1), "a whole lap used: position 0, wrap 0");
        assertEquals(0, resume(q, a0, a0, u1, u1, u1, u1, u1, u1), "lap 1 used up, lap 0 begun: its first available");
    }

    private static int resume(Virtqueue q, int... flags) {
        for (int i = 0; i < flags.length; i++) q.desc.set(Virtqueue.U16, 16L * i + 14, (short) flags[i]);
        return q.packedResumePoint();
    }
}
