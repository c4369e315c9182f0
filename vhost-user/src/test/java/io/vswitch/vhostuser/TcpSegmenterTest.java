package io.vswitch.vhostuser;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpSegmenter}: the segments of large TCP frames, checked field by field against values
 * computed here from scratch (checksums included), and the frames it must refuse.
 */
class TcpSegmenterTest {
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int FIN = 0x01;
    private static final int CWR = 0x80;
    private static final int SEQ = 0xffff_f000;                  // wraps inside the frame

    private final Arena arena = Arena.ofConfined();
    private final Batch batch = new Batch(new PacketPool(arena, 256));
    private final TcpSegmenter tso = new TcpSegmenter();

    @AfterEach
    void close() {
        arena.close();
    }

    /** An Ethernet frame (with {@code vlanTags} 802.1Q tags) carrying IPv4 or IPv6 and TCP with 12 bytes of options. */
    static byte[] tcpFrame(boolean ipv4, int vlanTags, int payload, int flags) {
        int l3 = 14 + 4 * vlanTags;
        int l4 = l3 + (ipv4 ? 20 : 40);
        int tcp = 32;
        ByteBuffer b = ByteBuffer.allocate(l4 + tcp + payload);
        b.put(0, new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        for (int t = 0; t < vlanTags; t++) b.putShort(12 + 4 * t, (short) 0x8100).putShort(14 + 4 * t, (short) (100 + t));
        b.putShort(l3 - 2, (short) (ipv4 ? 0x0800 : 0x86dd));
        if (ipv4) {
            b.put(l3, (byte) 0x45).putShort(l3 + 2, (short) (20 + tcp + payload)).putShort(l3 + 4, (short) 0x1234)
                    .putShort(l3 + 6, (short) 0x4000).put(l3 + 8, (byte) 64).put(l3 + 9, (byte) 6)
                    .putInt(l3 + 12, 0x0a000001).putInt(l3 + 16, 0x0a000002);
        } else {
            b.putInt(l3, 0x6000_0000).putShort(l3 + 4, (short) (tcp + payload)).put(l3 + 6, (byte) 6).put(l3 + 7, (byte) 64)
                    .putLong(l3 + 8, 0xfd00_0000_0000_0000L).putLong(l3 + 16, 1).putLong(l3 + 24, 0xfd00_0000_0000_0000L).putLong(l3 + 32, 2);
        }
        b.putShort(l4, (short) 40000).putShort(l4 + 2, (short) 5001).putInt(l4 + 4, SEQ).putInt(l4 + 8, 777)
                .put(l4 + 12, (byte) (tcp / 4 << 4)).put(l4 + 13, (byte) flags).putShort(l4 + 14, (short) 501);
        b.put(l4 + 20, new byte[] {1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7});   // NOP NOP timestamps
        for (int i = 0; i < payload; i++) b.put(l4 + tcp + i, (byte) (i * 13 + i / 251));
        return b.array();
    }

    private boolean stage(byte[] frame, int gsoType, int mss) {
        MemorySegment.copy(frame, 0, tso.frame, ValueLayout.JAVA_BYTE, 0, frame.length);
        return tso.stage(gsoType, mss, frame.length);
    }

    /** Every segment of the staged frame, burst by burst; {@code bursts} gets the count of each. */
    private List<byte[]> drain(List<Integer> bursts) {
        List<byte[]> out = new ArrayList<>();
        while (tso.pending()) {
            batch.reset();
            int n = tso.emit(batch, 0);
            bursts.add(n);
            for (int i = 0; i < n; i++) {
                byte[] s = new byte[batch.length[i]];
                MemorySegment.copy(batch.memory(), ValueLayout.JAVA_BYTE, batch.offset[i], s, 0, s.length);
                out.add(s);
            }
        }
        return out;
    }

    @Test
    void anIpv4FrameBecomesMssSizedSegmentsWithTheirOwnFields() {
        byte[] f = tcpFrame(true, 0, 10_000, ACK | PSH | FIN | CWR);
        assertTrue(stage(f, Protocol.GSO_TCPV4 | Protocol.GSO_ECN, 1448));
        List<Integer> bursts = new ArrayList<>();
        List<byte[]> segs = drain(bursts);
        assertEquals(List.of(7), bursts);
        checkSegments(f, segs, 14, true, 1448);
        assertEquals(1, tso.frames);
        assertEquals(7, tso.segments);
    }

    @Test
    void a64KiBIpv6FrameBehindAVlanTagTakesTwoBursts() {
        byte[] f = tcpFrame(false, 1, 64_000, ACK | PSH);
        assertTrue(stage(f, Protocol.GSO_TCPV6, 1428));
        List<Integer> bursts = new ArrayList<>();
        List<byte[]> segs = drain(bursts);
        assertEquals(List.of(Batch.MAX, 45 - Batch.MAX), bursts);
        checkSegments(f, segs, 18, false, 1428);
    }

    @Test
    void aPayloadOfExactlyNSegmentsAndOneWithoutPayload() {
        byte[] f = tcpFrame(true, 2, 3 * 1000, ACK | FIN);
        assertTrue(stage(f, Protocol.GSO_TCPV4, 1000));
        checkSegments(f, drain(new ArrayList<>()), 22, true, 1000);
        byte[] empty = tcpFrame(true, 0, 0, ACK);
        assertTrue(stage(empty, Protocol.GSO_TCPV4, 1000));
        List<byte[]> one = drain(new ArrayList<>());
        assertEquals(1, one.size());
        checkSegments(empty, one, 14, true, 1000);
    }

    @Test
    void framesItCannotCutAreRefused() {
        byte[] v4 = tcpFrame(true, 0, 5000, ACK);
        byte[] v6 = tcpFrame(false, 0, 5000, ACK);
        assertFalse(stage(v4, Protocol.GSO_TCPV6, 1400), "IPv4 announced as TCPV6");
        assertFalse(stage(v6, Protocol.GSO_TCPV4, 1400), "IPv6 announced as TCPV4");
        assertFalse(stage(v4, 3, 1400), "UDP fragmentation offload (not offered)");
        assertFalse(stage(v4, Protocol.GSO_TCPV4, 0), "no MSS");
        assertFalse(stage(v4, Protocol.GSO_TCPV4, PacketPool.DATA_SIZE), "segments larger than a packet slot");
        assertFalse(stage(Arrays.copyOf(v4, 3000), Protocol.GSO_TCPV4, 1400), "IP total length beyond the frame");
        assertFalse(stage(Arrays.copyOf(v6, 3000), Protocol.GSO_TCPV6, 1400), "IPv6 payload beyond the frame");
        assertFalse(stage(edit(v4, b -> b.put(23, (byte) 17)), Protocol.GSO_TCPV4, 1400), "UDP");
        assertFalse(stage(edit(v4, b -> b.putShort(20, (short) 0x2000)), Protocol.GSO_TCPV4, 1400), "an IPv4 fragment");
        assertFalse(stage(edit(v4, b -> b.put(14, (byte) 0x44)), Protocol.GSO_TCPV4, 1400), "IHL below 5");
        assertFalse(stage(edit(v4, b -> b.put(46, (byte) 0x40)), Protocol.GSO_TCPV4, 1400), "TCP data offset below 5");
        assertFalse(stage(edit(v6, b -> b.put(20, (byte) 0)), Protocol.GSO_TCPV6, 1400), "an IPv6 extension header");
        assertFalse(stage(Arrays.copyOf(v4, 30), Protocol.GSO_TCPV4, 1400), "truncated headers");
        assertFalse(tso.pending());
        assertEquals(0, tso.frames);
    }

    /** Random damage to a valid frame's headers: never an exception, never a segment beyond a slot. */
    @Test
    void damagedHeadersNeverThrowOrOverflowASlot() {
        Random rnd = new Random(7);
        for (int round = 0; round < 20_000; round++) {
            boolean v4 = rnd.nextBoolean();
            byte[] f = tcpFrame(v4, rnd.nextInt(3), rnd.nextInt(6000), ACK);
            int damage = 1 + rnd.nextInt(4);
            for (int d = 0; d < damage; d++) f[rnd.nextInt(Math.min(f.length, 90))] = (byte) rnd.nextInt(256);
            int len = rnd.nextInt(8) == 0 ? rnd.nextInt(f.length + 1) : f.length;
            int gso = rnd.nextInt(4) == 0 ? rnd.nextInt(256) : v4 ? Protocol.GSO_TCPV4 : Protocol.GSO_TCPV6;
            if (stage(Arrays.copyOf(f, len), gso, rnd.nextInt(2100))) {
                for (byte[] s : drain(new ArrayList<>())) assertTrue(s.length <= PacketPool.DATA_SIZE);
            }
        }
    }

    private interface Edit {
        void apply(ByteBuffer b);
    }

    private static byte[] edit(byte[] f, Edit e) {
        byte[] c = f.clone();
        e.apply(ByteBuffer.wrap(c));
        return c;
    }

    /** Checks the segments of {@code f} (IP header at {@code l3}) field by field; their payloads must add up to f's. */
    private static void checkSegments(byte[] f, List<byte[]> segs, int l3, boolean ipv4, int mss) {
        int l4 = l3 + (ipv4 ? 20 : 40);
        int headers = l4 + 32;
        int payload = f.length - headers;
        assertEquals(Math.max(1, (payload + mss - 1) / mss), segs.size());
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < segs.size(); i++) {
            byte[] s = segs.get(i);
            ByteBuffer b = ByteBuffer.wrap(s);
            boolean first = i == 0;
            boolean last = i == segs.size() - 1;
            int expectedPayload = last ? payload - i * mss : mss;
            assertEquals(headers + expectedPayload, s.length, "segment " + i + " length");
            assertArrayEquals(Arrays.copyOf(f, l3), Arrays.copyOf(s, l3), "Ethernet header and tags");
            if (ipv4) {
                assertEquals(s.length - l3, b.getShort(l3 + 2) & 0xffff, "IPv4 total length");
                assertEquals(0x1234 + i, b.getShort(l3 + 4) & 0xffff, "IPv4 identification");
                assertEquals(0x4000, b.getShort(l3 + 6) & 0xffff, "DF kept");
                assertEquals(0xffff, sum(s, l3, 20, 0), "IPv4 header checksum");
            } else {
                assertEquals(s.length - l4, b.getShort(l3 + 4) & 0xffff, "IPv6 payload length");
            }
            assertEquals(SEQ + i * mss, b.getInt(l4 + 4), "sequence number");
            assertEquals(777, b.getInt(l4 + 8), "acknowledgment number");
            int want = f[l4 + 13] & 0xff;
            if (!last) want &= ~(PSH | FIN);
            if (!first) want &= ~CWR;
            assertEquals(want, s[l4 + 13] & 0xff, "flags of segment " + i);
            assertArrayEquals(Arrays.copyOfRange(f, l4, l4 + 4), Arrays.copyOfRange(s, l4, l4 + 4), "ports");
            assertArrayEquals(Arrays.copyOfRange(f, l4 + 14, l4 + 16), Arrays.copyOfRange(s, l4 + 14, l4 + 16), "window");
            assertArrayEquals(Arrays.copyOfRange(f, l4 + 18, headers), Arrays.copyOfRange(s, l4 + 18, headers), "urgent pointer, options");
            long pseudo = ipv4 ? sum(s, l3 + 12, 8, 0) : sum(s, l3 + 8, 32, 0);
            assertEquals(0xffff, sum(s, l4, s.length - l4, pseudo + 6 + s.length - l4), "TCP checksum of segment " + i);
            joined.write(s, headers, s.length - headers);
        }
        assertArrayEquals(Arrays.copyOfRange(f, headers, f.length), joined.toByteArray(), "payload");
    }

    /** One's complement sum (folded, not complemented) of {@code len} bytes at {@code from}, plus {@code start}. */
    private static int sum(byte[] b, int from, int len, long start) {
        long s = start;
        for (int i = 0; i < len; i += 2) s += (b[from + i] & 0xff) << 8 | (i + 1 < len ? b[from + i + 1] & 0xff : 0);
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return (int) s;
    }
}
