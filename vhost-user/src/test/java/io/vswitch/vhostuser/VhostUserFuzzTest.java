package io.vswitch.vhostuser;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.vhostuser.sys.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random vhost-user messages — real request numbers with random sizes, payloads and descriptors
 * attached, garbled headers — from one frontend after another, while the test thread polls and
 * transmits on the port as a PMD would. The port must never throw, must go back to listening after
 * each connection, must not leak descriptors, and must still serve a correct frontend at the end.
 */
class VhostUserFuzzTest {
    @TempDir
    Path dir;

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    @Test
    void randomMessagesNeverBreakThePort() throws Exception {
        try (Arena arena = Arena.ofShared(); CountersFile countersFile = CountersFile.anonymous()) {
            PortCounters counters = new PortCounters(countersFile.manager(), "br0", "vhu0", 1);
            Port port = new VhostUserPortProvider().open("vhu0", VhostUserPortProvider.SERVER, Map.of(), counters,
                    new PortContext(dir, Map.of()));
            Batch batch = new Batch(new PacketPool(arena, 256));
            PmdIo io = new PmdIo(0, arena);
            long[] offsets = new long[Batch.MAX];
            int[] lengths = new int[Batch.MAX];
            java.util.Arrays.fill(lengths, 64);
            for (int i = 0; i < Batch.MAX; i++) offsets[i] = batch.rxOffset(i);
            String path = dir.resolve("vhu0").toString();
            Random r = new Random(7);
            long fdsBefore = openFds();
            for (int conn = 0; conn < 200; conn++) {
                try (GuestFrontend guest = new GuestFrontend()) {
                    guest.connect(path);
                    if (r.nextBoolean()) guest.handshake();          // sometimes fuzz a running device
                    int messages = 1 + r.nextInt(40);
                    for (int m = 0; m < messages; m++) {
                        try {
                            guest.sendRaw(message(r), r.nextInt(4) == 0 ? new int[] {UnixSocket.memfd("fuzz", 4096)} : new int[0]);
                        } catch (RuntimeException e) {
                            break;                                   // the port closed the connection: fine
                        }
                        batch.reset();
                        port.rxBurst(0, batch, io);                  // must not throw, whatever the rings say
                        port.txBurst(io, batch.pool().memory(), batch.pool().baseAddress(), offsets, lengths, Batch.MAX);
                    }
                }
                awaitListening(port, conn + 1);
            }
            assertTrue(openFds() <= fdsBefore + 2, "descriptors leaked: " + fdsBefore + " before, " + openFds() + " after");
            try (GuestFrontend guest = new GuestFrontend()) {                  // still serves a correct frontend
                guest.connect(path);
                guest.handshake();
                byte[] f = new byte[64];
                f[12] = 8;
                guest.send(f);
                int n = 0;
                for (int i = 0; i < 200 && (n = receive(port, batch, io)) == 0; i++) Thread.sleep(10);
                assertEquals(1, n);
            }
            port.close();
            counters.close();
        }
    }

    private static int receive(Port port, Batch batch, PmdIo io) {
        batch.reset();
        return port.rxBurst(0, batch, io);
    }

    /**
     * Waits until the port has accepted {@code connections} frontends and is listening again. The
     * count matters: right after a frontend closes, the port may not even have accepted it yet, and
     * "listening" is then still the state from before it.
     */
    private static void awaitListening(Port port, long connections) throws InterruptedException {
        long accepted = 0;
        String status = "";
        for (int i = 0; i < 300; i++) {
            accepted = port.customStats().get("connections");       // first: a later "listening" is after it
            status = port.status().get("status");
            if (accepted >= connections && "listening".equals(status)) return;
            Thread.sleep(10);
        }
        throw new AssertionError("after " + connections + " frontends: " + accepted + " accepted, status " + status);
    }

    /** A message: usually a known request with a random payload, sometimes a garbled header. */
    private static byte[] message(Random r) {
        int size = r.nextInt(8) == 0 ? r.nextInt(5000) : r.nextInt(80);
        int request = r.nextInt(10) == 0 ? r.nextInt() : 1 + r.nextInt(41);
        int flags = r.nextInt(10) == 0 ? r.nextInt() : Protocol.FLAG_VERSION | (r.nextBoolean() ? Protocol.FLAG_NEED_REPLY : 0);
        int body = Math.min(size, 4096);
        byte[] m = new byte[12 + body];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(m).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(request).putInt(flags).putInt(size);
        for (int i = 12; i < m.length; i++) m[i] = (byte) r.nextInt();
        if (body >= 8 && r.nextBoolean()) b.putInt(12, r.nextInt(40));     // plausible vring indexes and counts
        if (body >= 16 && r.nextBoolean()) b.putLong(16, r.nextBoolean() ? GuestFrontend.UVA + r.nextInt(1 << 21) : r.nextInt(1 << 21));
        return m;
    }
}
