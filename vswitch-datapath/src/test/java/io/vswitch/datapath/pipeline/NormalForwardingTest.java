package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NORMAL switching, frame by frame: learning, flooding, and every VLAN port mode, checked on the exact
 * bytes each port transmits.
 *
 * <pre>
 *   p1 access 10 | p2 access 10 | p3 access 20 | p4 trunk 10,20 | p5 native-untagged 10 (+20) | p6 native-tagged 10 (only)
 * </pre>
 */
class NormalForwardingTest {
    static final long A = 0x0200_0000_000aL, B = 0x0200_0000_000bL, C = 0x0200_0000_000cL;

    private BridgeHarness h;
    private Datapath dp;
    private Forwarder forwarder;
    private Batch batch;

    @BeforeEach
    void setUp() {
        h = new BridgeHarness();
        dp = h.dp;
        forwarder = h.forwarder;
        batch = h.batch;
        h.add("p1", 1, null, 10, "");
        h.add("p2", 2, null, 10, "");
        h.add("p3", 3, null, 20, "");
        h.add("p4", 4, null, -1, "10,20");
        h.add("p5", 5, "native-untagged", 10, "20");
        h.add("p6", 6, "native-tagged", 10, "10");
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private void send(String in, byte[]... frames) {
        h.send(in, frames);
    }

    private List<byte[]> sent(String port) {
        return h.sent(port);
    }

    /** How many frames {@code port} sent, waiting up to a second for {@code n} (a PMD thread may be the sender). */
    private int sentWithin(String port, int n) {
        int got = sent(port).size();
        for (long end = System.nanoTime() + 1_000_000_000L; got < n && System.nanoTime() < end; Thread.onSpinWait()) got += sent(port).size();
        return got;
    }

    private static byte[] bcast(long src) {
        return Frames.padTo(Frames.arpRequest(src, Frames.IP4_A, Frames.IP4_B), 60);
    }

    private static byte[] unicast(long dst, long src) {
        return Frames.udp4(dst, src, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 18);
    }

    private static void assertOnly(byte[] expected, List<byte[]> got, String port) {
        assertEquals(1, got.size(), port + " transmitted " + got.size() + " frames");
        assertArrayEquals(expected, got.get(0), port + ": " + HexFormat.of().formatHex(got.get(0)));
    }

    @Test
    void broadcastFromAccessPortFloodsItsVlanWithEachPortsEncapsulation() {
        byte[] f = bcast(A);
        send("p1", f);
        assertTrue(sent("p1").isEmpty(), "never back to the input port");
        assertOnly(f, sent("p2"), "p2 (access 10)");
        assertTrue(sent("p3").isEmpty(), "p3 is on VLAN 20");
        assertOnly(Frames.dot1q(f, 10), sent("p4"), "p4 (trunk)");
        assertOnly(f, sent("p5"), "p5 (native-untagged 10)");
        assertOnly(Frames.dot1q(f, 10), sent("p6"), "p6 (native-tagged 10)");
    }

    /**
     * A port that receives in place (AF_XDP) points the batch at its own memory: the frame is read
     * there and re-encapsulated copies go to that memory's spare slots, never into the pool's.
     */
    @Test
    void aBatchReceivedInPlaceIsForwardedFromItsOwnMemoryAndSpares() {
        MemorySegment own = h.arena.allocate(80L * PacketPool.SLOT_SIZE, 4096);
        long[] spares = new long[2 * Batch.MAX];
        for (int k = 0; k < spares.length; k++) spares[k] = PacketPool.dataOffset(10 + k);
        byte[] f = bcast(A);
        long at = PacketPool.dataOffset(3);
        MemorySegment.copy(f, 0, own, JAVA_BYTE, at, f.length);
        batch.useMemory(own, spares);
        batch.offset[0] = at;
        batch.length[0] = f.length;
        batch.count = 1;
        MemorySegment pool = batch.pool().memory();
        byte[] poolBefore = pool.toArray(JAVA_BYTE);
        DatapathView v = dp.view();
        forwarder.process(batch, v.bridge("br0").port("p1"), v, dp.now());
        assertOnly(f, sent("p2"), "p2 (access 10)");
        assertOnly(Frames.dot1q(f, 10), sent("p4"), "p4 (trunk), tagged in a spare slot of the port's memory");
        assertArrayEquals(poolBefore, pool.toArray(JAVA_BYTE), "the pool is untouched");
        byte[] tagged = Frames.dot1q(f, 10);
        assertArrayEquals(tagged, own.asSlice(spares[0] - 4, tagged.length).toArray(JAVA_BYTE), "the tagged copy is in the spare slot");
        batch.reset();
        assertEquals(pool, batch.memory(), "reset points the batch back at the pool");
    }

    @Test
    void learnedAddressGetsUnicastToOnePortOnly() {
        send("p1", bcast(A));
        h.memory.ports.values().forEach(MemoryPort::takeSent);
        byte[] toA = unicast(A, B);
        send("p2", toA);
        assertOnly(toA, sent("p1"), "p1");
        for (String p : List.of("p2", "p3", "p4", "p5", "p6")) assertTrue(sent(p).isEmpty(), p);
        String fdb = dp.view().bridge("br0").macs().entries(dp.now()).toString();
        assertTrue(fdb.contains("vlan=10, mac=" + A), fdb);
    }

    @Test
    void addressMovesWhenSeenOnAnotherPort() {
        send("p1", bcast(A));
        send("p2", bcast(A));
        h.memory.ports.values().forEach(MemoryPort::takeSent);
        send("p5", unicast(A, C));
        assertEquals(1, sent("p2").size());
        assertTrue(sent("p1").isEmpty());
    }

    /** The same flow again within the second reuses NORMAL's answer, but never past a change of the MAC table. */
    @Test
    void aMoveOrAFlushWithinTheSameSecondIsNotHiddenByTheLastAnswer() {
        send("p1", bcast(A));
        h.memory.ports.values().forEach(MemoryPort::takeSent);
        send("p5", unicast(A, C), unicast(A, C));
        assertEquals(2, sent("p1").size());
        send("p2", bcast(A));                               // A moves to p2
        h.memory.ports.values().forEach(MemoryPort::takeSent);
        send("p5", unicast(A, C));
        assertEquals(1, sent("p2").size(), "the moved address");
        assertTrue(sent("p1").isEmpty());
        dp.view().bridge("br0").macs().flush();
        send("p5", unicast(A, C));
        assertEquals(1, sent("p1").size(), "flooded again after the flush");
        assertEquals(1, sent("p2").size());
    }

    /**
     * An output port whose transmit throws costs only its own packets: the flood's other outputs
     * still go, its drops are counted, it (not the sender) is told after 16 failed bursts in a row,
     * and it transmits again once it works.
     */
    @Test
    void aPortWhoseTransmitThrowsLosesOnlyItsOwnPacketsAndIsFaultedAlone() {
        MemoryPort bad = h.memory.ports.get("p2");
        bad.failingTx = true;
        for (int k = 0; k < 20; k++) send("p1", bcast(A), bcast(A));
        assertEquals(40, sent("p4").size(), "the other outputs of every batch");
        assertEquals(40, sent("p5").size());
        assertTrue(sent("p2").isEmpty());
        assertEquals(40, dp.view().bridge("br0").port("p2").counters().txDropped.get(), "the failed port's drops");
        assertEquals(1, bad.txFaults.get(), "told once, after 16 bursts in a row");
        for (MemoryPort p : h.memory.ports.values()) {
            if (p != bad) assertEquals(0, p.faults.get() + p.txFaults.get(), p.name() + " is not blamed");
        }
        bad.failingTx = false;
        send("p1", bcast(A));
        assertEquals(1, sent("p2").size(), "transmits again once it works");
        bad.failingTx = true;
        for (int k = 0; k < 15; k++) send("p1", bcast(A));
        assertEquals(1, bad.txFaults.get(), "a success started the count afresh");

        // The same behind a shaper (its queues send from the forwarder too). The datapath's own PMD
        // threads service shapers as well, whenever they find one backlogged: one of them may send (or
        // fail) a burst this thread queued, so this part counts on nothing from the others' timing.
        bad.failingTx = false;
        send("p1", bcast(A));                              // a burst that works: the count starts afresh
        assertEquals(1, sent("p2").size());
        dp.addPort(new PortSpec("br0", "p2", MemoryPort.TYPE, 2, null, 10, "", Map.of(), Map.of("type", "linux-htb")));
        send("p1", bcast(A));
        assertEquals(1, sentWithin("p2", 1), "through the shaper that works");
        bad.failingTx = true;
        sent("p4");
        int sends = 0;
        while (bad.txFaults.get() < 2 && sends < 100) {
            send("p1", bcast(A));
            sends++;
        }
        assertEquals(2, bad.txFaults.get(), "the shaped port told once more");
        assertTrue(sends >= 16, "not before 16 failures in a row: told after " + sends);
        assertEquals(sends, sent("p4").size(), "the other outputs of every batch");
        assertTrue(sent("p2").isEmpty());
        assertEquals(40 + 15 + sends, dp.view().bridge("br0").port("p2").counters().txDropped.get(), "the shaper's lost bursts counted too");
        for (MemoryPort p : h.memory.ports.values()) {
            if (p != bad) assertEquals(0, p.faults.get() + p.txFaults.get(), p.name() + " is not blamed");
        }
    }

    /** A port that takes a deleted port's index does not inherit the failures counted against it. */
    @Test
    void aNewPortInADeletedPortsPlaceStartsWithoutItsFailures() {
        MemoryPort bad = h.memory.ports.get("p2");
        int index = dp.view().bridge("br0").port("p2").index();
        bad.failingTx = true;
        for (int k = 0; k < 15; k++) send("p1", bcast(A));
        assertEquals(0, bad.txFaults.get(), "15 failed bursts: not yet faulted");
        dp.deletePort("br0", "p2");
        dp.addPort(new PortSpec("br0", "p7", MemoryPort.TYPE, 7, null, 10, "", Map.of()));
        assertEquals(index, dp.view().bridge("br0").port("p7").index(), "the new port took the deleted one's index");
        MemoryPort next = h.memory.ports.get("p7");
        next.failingTx = true;
        send("p1", bcast(A));
        assertEquals(0, next.txFaults.get(), "one failed burst of its own is not 16 in a row");
        for (int k = 0; k < 15; k++) send("p1", bcast(A));
        assertEquals(1, next.txFaults.get(), "16 of its own are");
    }

    @Test
    void taggedFrameFromTrunkLeavesAccessPortsUntagged() {
        byte[] f = bcast(C);
        byte[] tagged = Frames.dot1q(f, 20);
        send("p4", tagged);
        assertOnly(f, sent("p3"), "p3 (access 20)");
        assertOnly(tagged, sent("p5"), "p5 carries 20 tagged");
        assertTrue(sent("p1").isEmpty() && sent("p2").isEmpty() && sent("p6").isEmpty());
    }

    @Test
    void priorityTaggedFrameOnAccessPortKeepsItsPriorityOnTrunks() {
        byte[] f = bcast(A);
        send("p1", Frames.dot1q(f, 5 << 13));         // PCP 5, VID 0
        assertOnly(f, sent("p2"), "p2 gets it untagged");
        assertOnly(Frames.dot1q(f, (5 << 13) | 10), sent("p4"), "p4 gets VID 10 with PCP 5");
    }

    @Test
    void framesOutsideThePortsVlansAreDroppedAndCounted() {
        DpPort p1 = dp.view().bridge("br0").port("p1");
        DpPort p4 = dp.view().bridge("br0").port("p4");
        send("p1", Frames.dot1q(bcast(A), 10));      // tagged on an access port
        send("p4", bcast(A));                         // untagged on trunks=10,20 (VLAN 0 not carried)
        send("p4", Frames.dot1q(bcast(A), 30));       // VLAN 30 not carried
        for (String p : List.of("p1", "p2", "p3", "p4", "p5", "p6")) assertTrue(sent(p).isEmpty(), p);
        assertEquals(1, p1.counters().rxDropped.get());
        assertEquals(2, p4.counters().rxDropped.get());
    }

    @Test
    void reservedMulticastIsNeverForwarded() {
        byte[] stp = Frames.padTo(Frames.ethernet(0x0180_c200_0000L, A, 0x0026, new byte[0]), 60);
        send("p4", stp);
        for (String p : List.of("p1", "p2", "p3", "p5", "p6")) assertTrue(sent(p).isEmpty(), p);
    }

    @Test
    void vendorControlProtocolsAreNeverForwarded() {
        for (long dst : new long[] {0x0100_0ccc_ccccL, 0x0100_0ccc_cccdL, 0x00e0_2b00_0000L, 0x0180_c200_000eL}) {
            send("p1", Frames.padTo(Frames.ethernet(dst, A, 0x88cc, new byte[0]), 60));
        }
        for (String p : List.of("p2", "p3", "p4", "p5", "p6")) assertTrue(sent(p).isEmpty(), p);
    }

    @Test
    void aMaximumSizeFrameStillGetsItsTagOnATrunk() {
        byte[] big = Frames.udp4(Frames.MAC_BROADCAST, A, Frames.IP4_A, Frames.IP4_B, 1, 2, PacketPool.DATA_SIZE - 42);
        assertEquals(PacketPool.DATA_SIZE, big.length);
        send("p1", big);
        assertOnly(Frames.dot1q(big, 10), sent("p4"), "p4 gets all 2052 bytes, tagged");
        assertOnly(big, sent("p2"), "and the original is intact");
    }

    @Test
    void priorityTagSurvivesTrunkToTrunk() {
        h.add("p7", 7, null, -1, "");                    // a second trunk, all VLANs (including 0)
        byte[] f = bcast(C);
        send("p7", Frames.dot1q(f, 6 << 13));             // VID 0, PCP 6: VLAN 0
        assertTrue(sent("p4").isEmpty(), "p4 (trunks 10,20) does not carry VLAN 0");
        assertTrue(sent("p5").isEmpty() && sent("p6").isEmpty(), "native ports do not carry VLAN 0");
    }

    @Test
    void truncatedVlanHeaderIsDropped() {
        byte[] f = Frames.padTo(new byte[] {-1, -1, -1, -1, -1, -1, 2, 0, 0, 0, 0, 10, (byte) 0x81, 0, 0}, 15);
        send("p4", f);
        for (String p : List.of("p1", "p2", "p3", "p5", "p6")) assertTrue(sent(p).isEmpty(), p);
        assertEquals(1, dp.view().bridge("br0").port("p4").counters().rxDropped.get());
    }

    @Test
    void anAddressLearnedOnAPortOutsideTheVlanIsFloodedNotBlackholed() {
        DatapathView v = dp.view();
        // A stale entry (e.g. left by a race) says B is behind p3, which is on VLAN 20, not 10.
        v.bridge("br0").macs().learn(10, B, v.bridge("br0").port("p3").index(), dp.now());
        send("p1", unicast(B, A));
        assertEquals(1, sent("p2").size(), "flooded within VLAN 10");
        assertTrue(sent("p3").isEmpty());
    }

    @Test
    void runtFramesAreDroppedWithoutHarm() {
        send("p1", new byte[0], new byte[] {1, 2, 3}, new byte[13], bcast(A));
        assertEquals(1, sent("p2").size(), "only the valid frame of the batch is forwarded");
        assertEquals(3, dp.view().bridge("br0").port("p1").counters().rxDropped.get());
    }

    @Test
    void vlanReconfigurationTakesEffectAndForgetsAddresses() {
        send("p1", bcast(A));
        dp.addPort(new PortSpec("br0", "p1", MemoryPort.TYPE, 1, null, 20, "", Map.of()));
        assertTrue(dp.view().bridge("br0").macs().entries(dp.now()).isEmpty());
        h.memory.ports.values().forEach(MemoryPort::takeSent);
        send("p1", bcast(A));
        assertEquals(1, sent("p3").size(), "p1 is now on VLAN 20");
        assertTrue(sent("p2").isEmpty());
    }
}
