package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.PortProviders;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A datapath with bridge {@code br0} of in-memory ports, and a forwarder driven by hand: a test puts
 * frames into a batch as a port would ({@link #send}) and reads what each port transmitted
 * ({@link #sent}), byte for byte.
 */
final class BridgeHarness implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    final CountersFile counters = CountersFile.anonymous();
    final MemoryPort.Provider memory = new MemoryPort.Provider();
    final Datapath dp;
    /** The forwarder's packet-ins go to this channel's events ring. */
    final io.vswitch.datapath.ipc.IpcChannel channel = io.vswitch.datapath.ipc.IpcChannel.anonymous(1, 1);
    final org.agrona.concurrent.ringbuffer.RingBuffer events = channel.events;
    final Forwarder forwarder = new Forwarder(new PmdIo(0, arena), new io.vswitch.datapath.ipc.PacketInWriter(events, channel.eventsBell));
    final Batch batch = new Batch(new PacketPool(arena, 256));

    BridgeHarness() {
        PortProviders providers = new PortProviders();
        providers.register(memory);
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "1000"));
        dp.addBridge("br0", Map.of());
    }

    /** Adds an in-memory port that records what it transmits. */
    void add(String name, int ofport, String vlanMode, int tag, String trunks) {
        dp.addPort(new PortSpec("br0", name, MemoryPort.TYPE, ofport, vlanMode, tag, trunks, Map.of()));
        memory.ports.get(name).record = true;
    }

    /** Runs {@code frames} through the forwarder as one batch received on port {@code in}. */
    void send(String in, byte[]... frames) {
        sendPartial(in, 0, frames);
    }

    /** As {@link #send}, with the frames of bits set in {@code partial} marked as having partial checksums. */
    void sendPartial(String in, long partial, byte[]... frames) {
        batch.partial = partial;
        for (int i = 0; i < frames.length; i++) {
            long off = batch.rxOffset(i);
            MemorySegment.copy(frames[i], 0, batch.memory(), JAVA_BYTE, off, frames[i].length);
            batch.offset[i] = off;
            batch.length[i] = frames[i].length;
        }
        batch.count = frames.length;
        DatapathView v = dp.view();
        forwarder.process(batch, v.bridge("br0").port(in), v, dp.now());
    }

    /** Runs a packet-out of {@code frame} with {@code actions} (rule action format) from OpenFlow port {@code inOfport}. */
    void packetOut(int inOfport, String actions, byte[] frame) {
        batch.reset();
        long off = batch.rxOffset(0);
        MemorySegment.copy(frame, 0, batch.memory(), JAVA_BYTE, off, frame.length);
        batch.offset[0] = off;
        batch.length[0] = frame.length;
        batch.count = 1;
        DatapathView v = dp.view();
        DpBridge b = v.bridge("br0");
        forwarder.packetOut(batch, b, b.portByOfport(inOfport), inOfport, OfRule.parseActions(actions), v, dp.now());
    }

    /** The packet-ins written since the last call. */
    List<io.vswitch.datapath.ipc.PacketIn> packetIns() {
        List<io.vswitch.datapath.ipc.PacketIn> got = new java.util.ArrayList<>();
        events.read((type, buf, off, len) -> got.add(io.vswitch.datapath.ipc.PacketIn.decode(buf, off, len)));
        return got;
    }

    /** What {@code port} transmitted since the last call. */
    List<byte[]> sent(String port) {
        return memory.ports.get(port).takeSent();
    }

    @Override
    public void close() {
        dp.close();
        counters.close();
        channel.close();
    }
}
