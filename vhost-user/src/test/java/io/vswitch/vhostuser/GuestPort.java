package io.vswitch.vhostuser;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A {@code dpdkvhostuser} port in {@code dir} with a {@link GuestFrontend} connected and negotiated,
 * and what a test needs to stand in for the PMD: a batch, the port's counters, receive and transmit.
 */
final class GuestPort implements AutoCloseable {
    private final Path dir;
    private final Arena arena = Arena.ofShared();
    private final CountersFile countersFile = CountersFile.anonymous();
    final PortCounters counters;
    final Port port;
    final Batch batch;
    final PmdIo io;
    GuestFrontend guest;

    GuestPort(Path dir, long features, long protocolFeatures) {
        this.dir = dir;
        counters = new PortCounters(countersFile.manager(), "br0", "vhu0", 1);
        port = new VhostUserPortProvider().open("vhu0", VhostUserPortProvider.SERVER, Map.of(), counters, new PortContext(dir, Map.of()));
        batch = new Batch(new PacketPool(arena, 256));
        io = new PmdIo(0, arena);
        guest = connect(features, protocolFeatures);
    }

    private GuestFrontend connect(long features, long protocolFeatures) {
        GuestFrontend g = new GuestFrontend();
        g.connect(dir.resolve("vhu0").toString());
        g.handshake(features, protocolFeatures);
        awaitLink("up");
        return g;
    }

    /** Replaces the frontend with a new one that connects and negotiates; waits for the link. */
    void reconnect(long features, long protocolFeatures) {
        guest.close();
        guest = connect(features, protocolFeatures);
    }

    void awaitLink(String state) {
        for (int i = 0; i < 200 && !state.equals(port.status().get("link_state")); i++) sleep(10);
        assertEquals(state, port.status().get("link_state"), port.status().toString());
    }

    /** One receive burst from queue 0, as the PMD does it. */
    int receive() {
        batch.reset();
        return port.rxBurst(0, batch, io);
    }

    /** Packet {@code i} of the last receive burst. */
    byte[] rxFrame(int i) {
        byte[] b = new byte[batch.length[i]];
        MemorySegment.copy(batch.memory(), ValueLayout.JAVA_BYTE, batch.offset[i], b, 0, b.length);
        return b;
    }

    /** Sends the frames from the batch's receive slots into the guest; how many it took. */
    int transmit(byte[]... frames) {
        long[] offsets = new long[frames.length];
        int[] lengths = new int[frames.length];
        for (int i = 0; i < frames.length; i++) {
            offsets[i] = batch.rxOffset(i);
            lengths[i] = frames[i].length;
            MemorySegment.copy(frames[i], 0, batch.pool().memory(), ValueLayout.JAVA_BYTE, offsets[i], frames[i].length);
        }
        return port.txBurst(io, batch.pool().memory(), batch.pool().baseAddress(), offsets, lengths, frames.length);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        guest.close();
        port.close();
        counters.close();
        countersFile.close();
        arena.close();
    }
}
