package io.vswitch.datapath.ipc;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.port.PortProviders;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The control<->dataplane channel with both ends in one JVM, over the same ring buffers as in production. */
class IpcTest {
    private IpcChannel channel;
    private CountersFile counters;
    private Datapath dp;
    private DatapathServer server;
    private Thread serverThread;
    private final AtomicBoolean running = new AtomicBoolean(true);

    @BeforeEach
    void setUp() {
        channel = IpcChannel.anonymous(1, 42);
        counters = CountersFile.anonymous();
        PortProviders providers = new PortProviders();
        providers.register(new MemoryPort.Provider());
        dp = new Datapath(counters.manager(), providers, 42);
        server = new DatapathServer(channel, dp);
        // as vswitch-dp's control thread: asleep on the commands' doorbell when idle, with a timeout
        // longer than a request's, so a lost wake-up fails the request
        serverThread = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                if (server.poll() == 0) server.awaitCommands(60_000_000_000L, () -> !running.get());
            }
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        running.set(false);
        server.wake();
        serverThread.join();
        dp.close();
        counters.close();
        channel.close();
    }

    /** The control process polls the epoch with a plain read; missing or foreign files read as 0. */
    @Test
    void epochIsReadWithoutMappingTheFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assertEquals(0, IpcChannel.readEpoch(dir), "no file yet");
        try (IpcChannel c = IpcChannel.create(dir, 7, 0x1234_5678_9abcL)) {
            assertEquals(0x1234_5678_9abcL, IpcChannel.readEpoch(dir));
            assertEquals(c.epoch(), IpcChannel.readEpoch(dir));
        }
        java.nio.file.Files.writeString(dir.resolve(IpcChannel.FILE_NAME), "not a channel at all, just some text");
        assertEquals(0, IpcChannel.readEpoch(dir), "a file that is not a channel");
    }

    @Test
    void messageRoundTrip() {
        ExpandableArrayBuffer buf = new ExpandableArrayBuffer();
        Message m = new Message(Message.ADD_PORT, 77, Map.of("name", "p1", "options:x", "ünïcode"));
        int len = m.encode(buf);
        assertEquals(m, Message.decode(Message.ADD_PORT, buf, 0, len));
    }

    @Test
    void malformedMessagesAreRejectedNotThrownAround() {
        UnsafeBuffer buf = new UnsafeBuffer(new byte[256]);
        assertThrows(IllegalArgumentException.class, () -> Message.decode(1, buf, 0, 8));
        buf.putShort(0, (short) 99);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Message.decode(1, buf, 0, 64)).getMessage().contains("version 99"));
        Random r = new Random(7);
        for (int i = 0; i < 100_000; i++) {
            byte[] junk = new byte[r.nextInt(200)];
            r.nextBytes(junk);
            if (junk.length >= 2) {
                junk[0] = 0;
                junk[1] = 1;       // a valid version, garbage after it
            }
            try {
                Message.decode(1, new UnsafeBuffer(junk), 0, junk.length);
            } catch (IllegalArgumentException expected) {
                // the only way a bad message may fail
            }
        }
    }

    @Test
    void commandsConfigureTheDataplaneAndStateComesBack() throws Exception {
        DatapathClient c = DatapathClient.open(channel);
        c.hello("test");
        c.configure(Map.of("pmd-sleep-max", "100"));
        c.addBridge("br0", Map.of("mac-aging-time", "60"));
        c.addPort(new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, 10, "", Map.of("k", "v")));
        c.addPort(new PortSpec("br0", "p2", MemoryPort.TYPE, 0, "trunk", -1, "10,20", Map.of()));
        DatapathState s = c.dumpState();
        assertEquals(42, s.epoch());
        assertEquals("100", s.config().get("pmd-sleep-max"));
        assertEquals(Map.of("mac-aging-time", "60"), s.bridges().get("br0"));
        assertEquals(List.of(new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, 10, "", Map.of("k", "v")),
                new PortSpec("br0", "p2", MemoryPort.TYPE, 2, "trunk", -1, "10,20", Map.of())), s.ports());
        c.deletePort("br0", "p1");
        assertEquals(1, c.dumpState().ports().size());
    }

    /**
     * Flow counters come back exactly, zeros included, although only the non-zero ones travel: a
     * table of 5000 flows of which 2100 saw packets (more than one message's worth of pairs).
     */
    @Test
    void flowCountersComeBackExactlyWhileOnlyNonZeroOnesTravel() throws Exception {
        DatapathClient c = DatapathClient.open(channel);
        c.hello("test");
        c.addBridge("br0", Map.of());
        c.addPort(new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, -1, "", Map.of()));
        c.addPort(new PortSpec("br0", "p2", MemoryPort.TYPE, 2, null, -1, "", Map.of()));
        StringBuilder rules = new StringBuilder();
        for (int f = 0; f < 5000; f++) rules.append("0 64 - - - ; c:ffff:800 d:ffffffff:").append(Integer.toHexString(0x0a000000 + f)).append(" ; output:2\n");
        io.vswitch.datapath.pipeline.OfPipeline flows = io.vswitch.datapath.pipeline.OfPipeline.parse(rules.toString(), 9);
        dp.setFlows("br0", flows);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            io.vswitch.datapath.pipeline.Forwarder fw = new io.vswitch.datapath.pipeline.Forwarder(new io.vswitch.datapath.pmd.PmdIo(0, arena), null);
            io.vswitch.datapath.packet.Batch batch = new io.vswitch.datapath.packet.Batch(new io.vswitch.datapath.packet.PacketPool(arena, 256));
            for (int f = 0; f < 2100; f += 30) {
                for (int i = 0; i < 30; i++) {
                    byte[] frame = io.vswitch.datapath.flow.Frames.udp4(2, 1, 0x0a0000ff, 0x0a000000 + (f + i) * 2, 1, 2, 18 + i % 3);
                    long off = batch.rxOffset(i);
                    java.lang.foreign.MemorySegment.copy(frame, 0, batch.memory(), java.lang.foreign.ValueLayout.JAVA_BYTE, off, frame.length);
                    batch.offset[i] = off;
                    batch.length[i] = frame.length;
                }
                batch.count = 30;
                var v = dp.view();
                fw.process(batch, v.bridge("br0").port("p1"), v, dp.now());
            }
        }
        long[] expected = flows.countersWithTables();
        FlowCounters got = c.dumpState().flowCounters().get("br0");
        assertEquals(expected.length, got.length());
        assertTrue(got.pairs().length / 2 > 2000, "non-zero: " + got.pairs().length / 2);
        assertArrayEquals(expected, got.dense());
    }

    @Test
    void refusalsCarryTheReason() {
        DatapathClient c = DatapathClient.open(channel);
        assertEquals("no bridge named nope", assertThrows(DatapathException.class,
                () -> c.addPort(new PortSpec("nope", "p1", "tap", 1, null, -1, "", Map.of()))).getMessage());
        assertTrue(assertThrows(DatapathException.class, () -> c.configure(Map.of("pmd-sleep-max", "-1")))
                .getMessage().startsWith("invalid pmd-sleep-max '-1'"));
    }

    @Test
    void aCommandHalfWrittenByADeadControlProcessIsDiscarded() throws Exception {
        int index = channel.commands.tryClaim(Message.ADD_BRIDGE, 64);   // claimed, never committed: writer "died"
        assertTrue(index > 0);
        DatapathClient c = DatapathClient.open(channel);
        long t0 = System.nanoTime();
        c.addBridge("br1", Map.of());                                      // blocked behind it, then unblocked
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        assertTrue(c.dumpState().bridges().containsKey("br1"));
    }

    @Test
    void repliesMeantForAPreviousControlProcessAreSkipped() throws Exception {
        DatapathClient old = DatapathClient.open(channel);
        ExpandableArrayBuffer buf = new ExpandableArrayBuffer();
        // A reply nobody will read, as if the previous vswitchd died before reading it.
        int len = new Message(Message.REPLY, 12345, Map.of("status", "error", "error", "stale")).encode(buf);
        channel.replies.write(Message.REPLY, buf, 0, len);
        DatapathClient fresh = DatapathClient.open(channel);
        fresh.addBridge("br2", Map.of());                                   // not confused by the stale error
        assertTrue(fresh.dumpState().bridges().containsKey("br2"));
        old.close();
    }
}
