package io.vswitch.vhostuser;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProviders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real datapath with a PMD thread and three vhost-user ports on a NORMAL bridge: two well-behaved
 * guests exchange frames while the third fills both its rings with random descriptors (addresses,
 * lengths, flags, next indexes, head numbers; large-frame headers with TSO negotiated; split or packed
 * rings). Every frame between the good guests arrives intact,
 * the hostile guest's garbage is counted as errors, and the PMD keeps running.
 */
class HostileGuestDatapathTest {
    @TempDir
    Path dir;

    private CountersFile counters;
    private Datapath dp;
    private final GuestFrontend[] guests = new GuestFrontend[3];
    private static final String[] NAMES = {"good0", "good1", "evil"};

    /** What the PMD logs when a port's code throws (it survives that, but it would be a bug). */
    private final java.util.List<java.util.logging.LogRecord> pmdErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.logging.Handler capture = new java.util.logging.Handler() {
        @Override public void publish(java.util.logging.LogRecord r) {
            if (r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) pmdErrors.add(r);
        }
        @Override public void flush() { }
        @Override public void close() { }
    };

    @BeforeEach
    void setUp() {
        java.util.logging.Logger.getLogger("io.vswitch.datapath.pmd.Pmd").addHandler(capture);
        counters = CountersFile.anonymous();
        dp = new Datapath(counters.manager(), new PortProviders(dir), 1);
        dp.configure(Map.of("pmd-sleep-max", "100"));
        dp.addBridge("br0", Map.of());
        for (int i = 0; i < 3; i++) {
            dp.addPort(new PortSpec("br0", NAMES[i], VhostUserPortProvider.SERVER, i + 1, null, -1, "", Map.of()));
            guests[i] = new GuestFrontend();
            guests[i].connect(dir.resolve(NAMES[i]).toString());
            if (i < 2) guests[i].handshake();                 // the hostile one negotiates in the test
        }
    }

    @AfterEach
    void tearDown() {
        java.util.logging.Logger.getLogger("io.vswitch.datapath.pmd.Pmd").removeHandler(capture);
        dp.close();
        for (GuestFrontend g : guests) if (g != null) g.close();
        counters.close();
    }

    private PortCounters counters(String port) {
        DpPort p = dp.view().bridge("br0").port(port);
        return p.counters();
    }

    private static byte[] frame(int seq) {
        byte[] f = new byte[60 + seq % 200];
        for (int i = 0; i < 6; i++) f[i] = (byte) 0xff;
        f[6] = 2;
        f[11] = 7;
        f[12] = 0x08;
        for (int i = 14; i < f.length; i++) f[i] = (byte) (seq + i);
        return f;
    }

    /** Random descriptors on both of the guest's rings, offered with random head numbers. */
    private static void garbage(GuestFrontend evil, Random r) {
        for (int ring = 0; ring < 2; ring++) {
            for (int k = 0; k < 8; k++) {
                int d = r.nextInt(GuestFrontend.SIZE);
                long addr = r.nextBoolean() ? r.nextLong() : r.nextInt((int) GuestFrontend.MEMORY + 4096);
                int len = r.nextBoolean() ? r.nextInt() : r.nextInt(3000);
                if (addr >= 0 && addr + 128 < GuestFrontend.MEMORY && r.nextBoolean()) {
                    // A virtio-net header announcing a large TCP frame, over random bytes.
                    byte[] junk = new byte[128];
                    r.nextBytes(junk);
                    junk[1] = (byte) (r.nextBoolean() ? Protocol.GSO_TCPV4 : Protocol.GSO_TCPV6);
                    evil.write(addr, junk);
                }
                evil.putDesc(ring, d, addr, len, r.nextInt(8), r.nextBoolean() ? r.nextInt(65536) : r.nextInt(GuestFrontend.SIZE));
                evil.offer(ring, r.nextInt(10) == 0 ? r.nextInt(65536) : d);
            }
        }
    }

    /**
     * The hostile guest may send large frames (TSO), and its rings are split or packed: with packed
     * rings its random descriptors' last u16 is their flags (AVAIL, USED, NEXT, INDIRECT at random).
     */
    @ParameterizedTest(name = "packed rings: {0}")
    @ValueSource(booleans = {false, true})
    void goodGuestsKeepTalkingWhileAHostileOnePostsGarbage(boolean packed) throws Exception {
        GuestFrontend a = guests[0];
        GuestFrontend b = guests[1];
        GuestFrontend evil = guests[2];
        evil.handshake(GuestFrontend.FEATURES | 1L << Protocol.F_CSUM | 1L << Protocol.F_HOST_TSO4 | 1L << Protocol.F_HOST_TSO6
                | (packed ? 1L << Protocol.F_RING_PACKED : 0), 1L << Protocol.PF_REPLY_ACK | 1L << Protocol.PF_MQ);
        b.postRxBuffers(GuestFrontend.SIZE);
        Random r = new Random(42);
        int frames = 200;
        for (int i = 0; i < frames; i++) {
            if (i % 4 == 0) garbage(evil, r);
            a.send(frame(i));
            for (int w = 0; w < 2000 && b.usedIdx(0) <= i; w++) Thread.sleep(1);
            assertEquals(i + 1, b.usedIdx(0), "frame " + i + " reached the good guest");
        }
        for (int i = 0; i < frames; i++) assertArrayEquals(frame(i), b.received(i), "frame " + i);
        assertEquals(frames, a.usedIdx(1), "all of the sender's buffers came back");
        assertTrue(counters("evil").rxErrors.get() > 0, "the garbage it sent is counted");
        assertTrue(counters("evil").txErrors.get() + counters("evil").txDropped.get() > 0, "frames it could not take are counted");
        assertEquals(0, counters("good0").rxErrors.get());
        assertEquals(0, counters("good1").txErrors.get());
        assertTrue(dp.pmds().getFirst().isRunning());
        assertTrue(pmdErrors.isEmpty(), () -> "the PMD caught an exception: " + pmdErrors.getFirst().getMessage()
                + " " + pmdErrors.getFirst().getThrown());
    }
}
