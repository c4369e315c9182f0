package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.packet.L4Checksum;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frames whose TCP/UDP checksum a guest left partial: a port that takes partial checksums (p2, as a
 * GUEST_CSUM guest) gets them as they came, marked; every other way out (a port that needs them
 * whole, an edit, a VLAN copy, the controller, a flood that includes such a port) completes the
 * checksum first, and no port ever gets a mark on bytes that are whole.
 */
class PartialChecksumTest {
    static final long A = 0x0200_0000_000aL, B = 0x0200_0000_000bL;

    private BridgeHarness h;

    @BeforeEach
    void setUp() {
        h = new BridgeHarness();
        h.dp.addBridge("br0", Map.of("controller-rate-limit", "0"));
        h.add("p1", 1, null, -1, "");
        h.add("p2", 2, null, -1, "");
        h.add("p3", 3, null, -1, "");
        h.memory.ports.get("p2").takesPartial = true;
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** The frame with its TCP/UDP checksum partial: the field holds the pseudo-header sum, as a guest leaves it. */
    static byte[] partial(byte[] whole) {
        byte[] f = whole.clone();
        int p = L4Checksum.position(MemorySegment.ofArray(f), 0, f.length);
        assertTrue(p >= 0);
        int l4 = p >>> 16, field = l4 + (p & 0xffff);
        int complete = (f[field] & 0xff) << 8 | f[field + 1] & 0xff;
        f[field] = 0;
        f[field + 1] = 0;
        long s = 0;
        for (int i = l4; i < f.length; i += 2) s += (f[i] & 0xff) << 8 | (i + 1 < f.length ? f[i + 1] & 0xff : 0);
        s = fold(s);
        long pseudo = fold((~complete & 0xffff) + (~s & 0xffff));   // complete = ~(pseudo + s)
        f[field] = (byte) (pseudo >>> 8);
        f[field + 1] = (byte) pseudo;
        return f;
    }

    private static long fold(long s) {
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return s;
    }

    private void learn(String port, long mac) {
        h.send(port, Frames.udp4(0xffff_ffff_ffffL, mac, Frames.IP4_B, Frames.IP4_A, 1, 2, 10));
        for (String p : List.of("p1", "p2", "p3")) h.sent(p);
    }

    private List<Boolean> flags(String port) {
        return h.memory.ports.get(port).partialFlags();
    }

    @Test
    void theHelperMakesWhatCompletingUndoes() {
        for (byte[] whole : List.of(Frames.tcp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 80, Frames.TCP_ACK, 333),
                Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 53, 100),
                Frames.tcp6(B, A, 1, 2, 3, 4, 1000, 80, Frames.TCP_ACK, 77), Frames.dot1q(Frames.udp4(B, A, 1, 2, 3, 4, 9), 5))) {
            byte[] f = partial(whole);
            assertTrue(!java.util.Arrays.equals(f, whole));
            L4Checksum.complete(MemorySegment.ofArray(f), 0, f.length);
            assertArrayEquals(whole, f);
        }
    }

    @Test
    void aPortThatTakesPartialChecksumsGetsThemAsTheyCameAndOthersWhole() {
        learn("p2", B);
        learn("p3", 0x0200_0000_000cL);
        byte[] tcp = Frames.tcp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 80, Frames.TCP_ACK, 333);
        byte[] udp = Frames.udp4(0x0200_0000_000cL, A, Frames.IP4_A, Frames.IP4_B, 1000, 53, 100);
        for (int round = 0; round < 2; round++) {              // the NORMAL path, then the tables' (and their cache)
            if (round == 1) h.dp.setFlows("br0", OfPipeline.parse("0 a 1 - - ; 9:ffffffffffff:" + Long.toHexString(B) + " ; output:2\n"
                    + "0 9 1 - - ; ; output:3", 1));
            for (int again = 0; again < 2; again++) {
                h.sendPartial("p1", 0b11, partial(tcp), partial(udp));
                assertEquals(List.of(true), flags("p2"));
                assertArrayEquals(partial(tcp), h.sent("p2").get(0), "as it came, marked");
                assertEquals(List.of(false), flags("p3"));
                assertArrayEquals(udp, h.sent("p3").get(0), "completed for a port that needs it whole");
            }
        }
    }

    @Test
    void aFloodToBothKindsOfPortSendsWholeChecksumsUnmarked() {
        byte[] udp = Frames.udp4(0x0200_0000_00ffL, A, Frames.IP4_A, Frames.IP4_B, 1000, 53, 100);
        for (boolean p3First : new boolean[] {false, true}) {   // the port that needs it whole is staged after, then before, p2
            h.memory.ports.get("p2").takesPartial = !p3First;
            h.memory.ports.get("p3").takesPartial = p3First;
            h.sendPartial("p1", 1, partial(udp));
            for (String p : List.of("p2", "p3")) {
                assertEquals(List.of(false), flags(p), p);
                assertArrayEquals(udp, h.sent(p).get(0), p);
            }
        }
    }

    @Test
    void editsVlanCopiesAndTheControllerGetWholeChecksums() {
        byte[] udp = Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 53, 100);
        h.dp.setFlows("br0", OfPipeline.parse("0 a 1 - - ; ; set_ipv4_dst:a000063 output:2\n"
                + "0 a 3 - - ; ; push_vlan:8100 set_vlan_vid:5 output:2 controller:ffff", 1));
        h.sendPartial("p1", 1, partial(udp));
        assertEquals(List.of(false), flags("p2"));
        assertArrayEquals(Frames.udp4(B, A, Frames.IP4_A, 0x0a000063, 1000, 53, 100), h.sent("p2").get(0),
                "completed, then the address and the checksum patched");
        h.sendPartial("p3", 1, partial(udp));
        assertEquals(List.of(false), flags("p2"));
        assertArrayEquals(Frames.dot1q(udp, 5), h.sent("p2").get(0), "a tagged copy of the whole packet");
        var in = h.packetIns();
        assertEquals(1, in.size());
        assertArrayEquals(Frames.dot1q(udp, 5), in.get(0).data());
    }

    @Test
    void aVlanVariantMadeByNormalIsWhole() {
        h.close();
        h = new BridgeHarness();
        h.add("p1", 1, "access", 7, "");
        h.add("p2", 2, "trunk", -1, "7");
        h.memory.ports.get("p2").takesPartial = true;
        byte[] udp = Frames.udp4(0x0200_0000_00ffL, A, Frames.IP4_A, Frames.IP4_B, 1000, 53, 100);
        h.sendPartial("p1", 1, partial(udp));
        assertEquals(List.of(false), flags("p2"));
        assertArrayEquals(Frames.dot1q(udp, 7), h.sent("p2").get(0));
    }
}
