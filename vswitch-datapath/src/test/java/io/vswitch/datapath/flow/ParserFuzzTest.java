package io.vswitch.datapath.flow;

import static io.vswitch.datapath.flow.FlowKey.WORDS;
import static io.vswitch.datapath.flow.FlowKey.W_ETH_DST;
import static io.vswitch.datapath.flow.FlowKey.W_IPV4;
import static io.vswitch.datapath.flow.FlowKey.W_L3;
import static io.vswitch.datapath.flow.FlowKey.W_ND_TARGET_HI;
import static io.vswitch.datapath.flow.FlowKey.W_ND_TARGET_LO;
import static io.vswitch.datapath.flow.FlowKey.W_TP;
import static io.vswitch.datapath.flow.Frames.*;
import static io.vswitch.datapath.flow.Parser.NONE;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Throws random and mutated frames at {@link Parser} and checks what must hold for any input: no
 * exception (the segment ends exactly at the frame end, so an over-read would throw), offsets inside
 * the frame (or NONE), nothing written outside the parser's words, the result depending only on the
 * bytes inside the frame, and key words consistent with the offsets.
 *
 * <p>The seed is fixed and printed in every failure; override it with {@code -Dfuzz.seed=N} and the
 * number of frames with {@code -Dfuzz.frames=N}.
 */
class ParserFuzzTest {
    private static final long DEFAULT_SEED = 0x5EED_F00D_2025L;
    private static final long SENTINEL = 0xDEAD_BEEF_CAFE_F00DL;
    private static final int BASE = WORDS;                 // middle of three slots
    private static final int FRAME_AT = 5;
    private static final int MAX_RANDOM = 1600;
    private static final int[] ETHERTYPES = {0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x05ff, 0x0600,
        0x05dc, 0x0000, 0xffff, 0x8847, 0xaaaa, 0x0800, 0x86dd};
    private static final int[] BYTES = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x11, 0x2b, 0x2c, 0x33,
        0x3a, 0x3b, 0x3c, 0x84, 0x87, 0x88, 0x44, 0x45, 0x46, 0x4f, 0x60, 0x86, 0xdd, 0x81, 0xa8, 0x80, 0xaa,
        0xfe, 0xff, 0x7f, 0x20, 0x1f};
    private static final int[] WORDS16 = {0x0000, 0x0001, 0x0007, 0x0008, 0x0013, 0x0014, 0x0015, 0x0028,
        0x2000, 0x3fff, 0x1fff, 0x4000, 0x7fff, 0x8000, 0xfff8, 0xfff9, 0xffff};

    /** Valid frames of every kind the parser decodes, used as mutation seeds (and by other tests). */
    static List<byte[]> corpus() {
        List<byte[]> c = new ArrayList<>();
        c.add(udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1234, 80, 18));
        c.add(padTo(udp4(MAC_B, MAC_A, IP4_A, IP4_B, 53, 53, 2), 60));
        c.add(tcp4(MAC_B, MAC_A, IP4_A, IP4_B, 40000, 443, TCP_SYN | TCP_ACK | TCP_NS, 20));
        c.add(sctp4(MAC_B, MAC_A, IP4_A, IP4_B, 2905, 2906, 16));
        c.add(icmp4(MAC_B, MAC_A, IP4_A, IP4_B, ICMP_ECHO_REQUEST, 0, 24));
        c.add(udp4WithOptions(MAC_B, MAC_A, IP4_A, IP4_B, 20, 1, 2, 8));
        c.add(ipv4Fragment(MAC_B, MAC_A, IP4_A, IP4_B, PROTO_UDP, 0, true, udp(5, 6, payload(16))));
        c.add(ipv4Fragment(MAC_B, MAC_A, IP4_A, IP4_B, PROTO_UDP, 3, false, payload(16)));
        c.add(arpRequest(MAC_A, IP4_A, IP4_B));
        c.add(arpReply(MAC_B, IP4_B, MAC_A, IP4_A));
        c.add(udp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 546, 547, 12));
        c.add(tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 22, TCP_ACK, 8, hopByHop(1), destOptions(2)));
        c.add(tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 22, TCP_FIN, 0, routing(), authHeader()));
        c.add(ipv6Fragment(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, 0, true, 9, udp(7, 8, payload(8))));
        c.add(ipv6Fragment(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, 2, false, 9, payload(8)));
        c.add(icmp6Echo(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 16));
        c.add(ndNs(MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO));
        c.add(ndNa(MAC_A, MAC_B, IP6_B_HI, IP6_B_LO, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, NA_SOLICITED));
        c.add(dot1q(udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 6), 3 << 13 | 10));
        c.add(dot1q(ndNs(MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO), 20));
        c.add(qinq(tcp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, TCP_RST, 0), 100, 200));
        c.add(qinq(arpRequest(MAC_A, IP4_A, IP4_B), 1, 2));
        c.add(vlan(qinq(udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0), 1, 2), TPID_8021Q, 3));
        c.add(llc(0x0180_C200_0000L, MAC_A, 0x42, 0x42, 3, 35));
        c.add(snap(MAC_B, MAC_A, 0, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, PROTO_UDP, udp(67, 68, payload(4)))));
        c.add(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, 47, payload(12))));
        return c;
    }

    private final long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
    private final SplittableRandom rnd = new SplittableRandom(seed);
    private final long[] key = new long[3 * WORDS];
    private final long[] key2 = new long[3 * WORDS];
    private final byte[] work = new byte[MAX_RANDOM + 256];
    private String phase = "";
    private long count;
    /** How deep the frames got: a fuzzer that never reaches L4 or ND proves little. */
    private long reachedL3, reachedL4, ndTargets, laterFragments;

    @Test
    void parserSurvivesRandomAndMutatedFrames() {
        int total = Integer.getInteger("fuzz.frames", 2_000_000);
        List<byte[]> corpus = corpus();
        int[] l3 = new int[corpus.size()];
        int[] l4 = new int[corpus.size()];
        Arrays.fill(key, SENTINEL);
        Arrays.fill(key2, SENTINEL);
        long started = System.nanoTime();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(FRAME_AT + work.length + 64);

            phase = "truncation";
            for (int i = 0; i < corpus.size(); i++) {
                byte[] f = corpus.get(i);
                int packed = check(seg, f, f.length, true);
                l3[i] = Parser.l3Offset(packed);
                l4[i] = Parser.l4Offset(packed);
                assertTrue(l3[i] != NONE, "corpus frame " + i + " has no L3: " + hex(f));
                for (int len = 0; len < f.length; len++) {
                    check(seg, f, len, true);
                    // Same cut with the IP length fields following it, so truncated L4/ND is reached.
                    System.arraycopy(f, 0, work, 0, f.length);
                    if (fitIpLength(l3[i], len)) {
                        check(seg, work, len, true);
                    }
                }
            }

            phase = "random";
            long randomFrames = total * 3L / 10;
            for (long n = 0; n < randomFrames; n++) {
                int len = rnd.nextInt(MAX_RANDOM + 1);
                randomFrame(len);
                check(seg, work, len, (n & 63) == 0);
            }

            phase = "mutation";
            while (count < total) {
                int i = rnd.nextInt(corpus.size());
                byte[] f = corpus.get(i);
                System.arraycopy(f, 0, work, 0, f.length);
                int len = f.length;
                int mutations = 1 + rnd.nextInt(3);
                for (int m = 0; m < mutations; m++) {
                    len = mutate(len, l3[i], l4[i]);
                }
                check(seg, work, len, (count & 15) == 0);
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("ParserFuzzTest: %,d frames in %,d ms (seed %d): %,d reached L3, %,d L4, %,d ND targets,"
                + " %,d later fragments%n", count, ms, seed, reachedL3, reachedL4, ndTargets, laterFragments);
        assertTrue(reachedL4 > count / 10, "too few frames reached L4: the mutations are too destructive");
    }

    /** Random bytes; half the time with a chosen ethertype and a plausible IPv4/IPv6 first byte. */
    private void randomFrame(int len) {
        for (int i = 0; i < len; i += 8) {
            long r = rnd.nextLong();
            for (int b = 0; b < 8 && i + b < len; b++) {
                work[i + b] = (byte) (r >>> 8 * b);
            }
        }
        if (len >= 16 && rnd.nextBoolean()) {
            int type = pick(ETHERTYPES);
            put16(work, 12, type);
            if (type == 0x0800) {
                work[14] = (byte) (0x40 | rnd.nextInt(16));
            } else if (type == 0x86dd) {
                work[14] = (byte) (0x60 | rnd.nextInt(16));
                if (len >= 20) {
                    put16(work, 18, rnd.nextInt(len - 14 + 8));
                }
            }
        }
    }

    /** Applies one random mutation to {@code work[0..len)} and returns the new length. */
    private int mutate(int len, int l3, int l4) {
        int header = Math.min(len, (l4 == NONE ? l3 + 40 : l4 + 24));
        switch (rnd.nextInt(8)) {
            case 0 -> {                                       // flip a bit anywhere
                if (len > 0) {
                    work[rnd.nextInt(len)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> {                                       // random byte in the headers
                if (header > 0) {
                    work[rnd.nextInt(header)] = (byte) rnd.nextInt(256);
                }
            }
            case 2 -> {                                       // interesting byte in the headers
                if (header > 0) {
                    work[rnd.nextInt(header)] = (byte) pick(BYTES);
                }
            }
            case 3 -> {                                       // interesting 16-bit field in the headers
                if (header > 1) {
                    put16(work, rnd.nextInt(header - 1), pick(WORDS16));
                }
            }
            case 4 -> {                                       // ethertype (or a TPID) substitution
                int at = 12 + 4 * rnd.nextInt(3);
                if (at + 2 <= len) {
                    put16(work, at, pick(ETHERTYPES));
                }
            }
            case 5 -> {                                       // IHL / version, protocol, next header
                if (l3 + 10 <= len) {
                    switch (rnd.nextInt(4)) {
                        case 0 -> work[l3] = (byte) (work[l3] & 0xF0 | rnd.nextInt(16));
                        case 1 -> work[l3 + 9] = (byte) pick(BYTES);    // IPv4 protocol
                        case 2 -> work[l3 + 6] = (byte) pick(BYTES);    // IPv6 next header
                        default -> put16(work, l3 + 2 + 2 * rnd.nextInt(2), pick(WORDS16)); // lengths
                    }
                }
            }
            case 6 -> {                                       // truncate, half the time fixing IP lengths
                len = rnd.nextInt(len + 1);
                if (rnd.nextBoolean()) {
                    fitIpLength(l3, len);
                }
            }
            default -> {                                      // grow with junk
                int grow = Math.min(rnd.nextInt(64), work.length - len);
                for (int i = 0; i < grow; i++) {
                    work[len + i] = (byte) rnd.nextInt(256);
                }
                len += grow;
            }
        }
        return len;
    }

    /**
     * Makes the IPv4 total length or IPv6 payload length at {@code l3} in {@code work} end the packet
     * at {@code len}, when that is possible; returns whether it did.
     */
    private boolean fitIpLength(int l3, int len) {
        int version = (work[l3] & 0xFF) >>> 4;
        if (version == 4 && len - l3 >= 20) {
            put16(work, l3 + 2, len - l3);
            return true;
        }
        if (version == 6 && len - l3 >= 40) {
            put16(work, l3 + 4, len - l3 - 40);
            return true;
        }
        return false;
    }

    /**
     * Parses {@code frame[0..len)} and checks the invariants; with {@code beyond} it also parses
     * again with different bytes after the frame and requires the same result.
     */
    private int check(MemorySegment seg, byte[] frame, int len, boolean beyond) {
        count++;
        MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, FRAME_AT, Math.min(frame.length, len + 16));
        // The segment ends where the frame ends: any read past it throws instead of going unnoticed.
        MemorySegment exact = seg.asSlice(0, FRAME_AT + len);
        int packed;
        try {
            packed = Parser.parse(exact, FRAME_AT, len, key, BASE);
        } catch (Throwable t) {
            throw new AssertionError(describe("threw " + t, frame, len), t);
        }
        int l3 = Parser.l3Offset(packed);
        int l4 = Parser.l4Offset(packed);
        if (packed >>> 16 > NONE || (l3 != NONE && l3 >= len) || (l4 != NONE && l4 >= len)) {
            fail(describe("offsets out of frame: l3=" + l3 + " l4=" + l4, frame, len));
        }
        if (l4 != NONE && (l3 == NONE || l4 <= l3)) {
            fail(describe("L4 without L3 before it: l3=" + l3 + " l4=" + l4, frame, len));
        }
        for (int i = 0; i < key.length; i++) {
            if ((i < BASE + W_ETH_DST || i >= BASE + WORDS) && key[i] != SENTINEL) {
                fail(describe("word " + i + " outside the parser's words was written", frame, len));
            }
        }
        checkWords(frame, len, l3, l4);
        reachedL3 += l3 != NONE ? 1 : 0;
        reachedL4 += l4 != NONE ? 1 : 0;
        ndTargets += key[BASE + W_ND_TARGET_HI] != 0 ? 1 : 0;
        laterFragments += (key[BASE + W_L3] >>> 40 & FlowKey.FRAG_LATER) != 0 ? 1 : 0;
        if (beyond) {
            // Different bytes after the frame must not change anything.
            seg.asSlice(FRAME_AT + len, 16).fill((byte) ~frame[Math.min(len, frame.length - 1)]);
            int again = Parser.parse(seg, FRAME_AT, len, key2, BASE);
            if (again != packed || !Arrays.equals(key, key2)) {
                fail(describe("result depends on bytes after the frame", frame, len));
            }
        }
        return packed;
    }

    /** The key words must agree with the offsets: no network fields without L3, no ports without L4. */
    private void checkWords(byte[] frame, int len, int l3, int l4) {
        long l3Word = key[BASE + W_L3];
        int dlType = (int) l3Word & 0xFFFF;
        if (len < 14) {
            for (int w = W_ETH_DST; w < WORDS; w++) {
                if (key[BASE + w] != 0) {
                    fail(describe("short frame has word " + w + " set", frame, len));
                }
            }
            if (l3 != NONE || l4 != NONE) {
                fail(describe("short frame has offsets", frame, len));
            }
            return;
        }
        if (dlType < 0x05ff || l3Word >>> 48 != 0) {
            fail(describe("bad dl_type word " + Long.toHexString(l3Word), frame, len));
        }
        if (l3 == NONE) {
            if (l3Word != dlType) {
                fail(describe("network fields without L3", frame, len));
            }
            for (int w = W_IPV4; w < WORDS; w++) {
                if (key[BASE + w] != 0) {
                    fail(describe("word " + w + " set without L3", frame, len));
                }
            }
        }
        if (l4 == NONE && (key[BASE + W_TP] != 0 || key[BASE + W_ND_TARGET_HI] != 0 || key[BASE + W_ND_TARGET_LO] != 0)) {
            fail(describe("transport fields without L4", frame, len));
        }
    }

    private int pick(int[] values) {
        return values[rnd.nextInt(values.length)];
    }

    private String describe(String what, byte[] frame, int len) {
        return what + " [seed " + seed + " (-Dfuzz.seed=" + seed + "), phase " + phase + ", frame #" + count
                + ", length " + len + "]: " + hex(Arrays.copyOf(frame, Math.min(len, frame.length)))
                + " -> " + FlowKeyFormat.format(key, BASE);
    }
}
