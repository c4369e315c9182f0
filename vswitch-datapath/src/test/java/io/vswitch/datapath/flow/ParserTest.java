package io.vswitch.datapath.flow;

import static io.vswitch.datapath.flow.FlowKey.FRAG_ANY;
import static io.vswitch.datapath.flow.FlowKey.FRAG_LATER;
import static io.vswitch.datapath.flow.FlowKey.VLAN_PRESENT;
import static io.vswitch.datapath.flow.FlowKey.WORDS;
import static io.vswitch.datapath.flow.FlowKey.W_ARP_SHA;
import static io.vswitch.datapath.flow.FlowKey.W_ARP_THA;
import static io.vswitch.datapath.flow.FlowKey.W_ETH_DST;
import static io.vswitch.datapath.flow.FlowKey.W_ETH_SRC;
import static io.vswitch.datapath.flow.FlowKey.W_IPV4;
import static io.vswitch.datapath.flow.FlowKey.W_IPV6_DST_HI;
import static io.vswitch.datapath.flow.FlowKey.W_IPV6_DST_LO;
import static io.vswitch.datapath.flow.FlowKey.W_IPV6_LABEL;
import static io.vswitch.datapath.flow.FlowKey.W_IPV6_SRC_HI;
import static io.vswitch.datapath.flow.FlowKey.W_IPV6_SRC_LO;
import static io.vswitch.datapath.flow.FlowKey.W_L3;
import static io.vswitch.datapath.flow.FlowKey.W_ND_TARGET_HI;
import static io.vswitch.datapath.flow.FlowKey.W_ND_TARGET_LO;
import static io.vswitch.datapath.flow.FlowKey.W_TP;
import static io.vswitch.datapath.flow.FlowKey.W_VLAN;
import static io.vswitch.datapath.flow.Frames.*;
import static io.vswitch.datapath.flow.Parser.NONE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Hand-built frames through {@link Parser}: every key word (including the ones that must stay zero)
 * and both offsets are checked. Each frame sits at an odd offset in an off-heap segment that ends
 * with the frame (reading past it throws), and the key slot sits between two slots of sentinels, so
 * writing outside the slot's parser words shows up as a wrong word.
 */
class ParserTest {
    private static final long SENTINEL = 0x5EED_5EED_5EED_5EEDL;
    private static final int FRAME_AT = 13;
    private static final int BASE = WORDS;              // the middle of three slots
    private static final String[] WORD_NAMES = {"in_port", "metadata", "regs0", "regs1", "regs2", "regs3",
        "tun_id", "tun_ipv4", "mark", "eth_dst", "eth_src", "vlan", "l3", "ipv4", "ipv6_src_hi", "ipv6_src_lo",
        "ipv6_dst_hi", "ipv6_dst_lo", "ipv6_label", "tp", "arp_sha", "arp_tha", "nd_target_hi", "nd_target_lo"};

    /** Parse result: the packed offsets and a copy of the key slot. */
    record Parsed(int packed, long[] key) {
        int l3() { return Parser.l3Offset(packed); }
        int l4() { return Parser.l4Offset(packed); }
    }

    static Parsed parse(byte[] frame) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(FRAME_AT + frame.length + 64);
            seg.fill((byte) 0xA5);
            MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, FRAME_AT, frame.length);
            long[] key = new long[3 * WORDS];
            Arrays.fill(key, SENTINEL);
            // The slice ends with the frame, so reading past it would throw.
            int packed = Parser.parse(seg.asSlice(0, FRAME_AT + frame.length), FRAME_AT, frame.length, key, BASE);
            for (int i = 0; i < key.length; i++) {
                if (i < BASE + W_ETH_DST || i >= BASE + WORDS) {
                    assertEquals(SENTINEL, key[i], "word " + i + " outside the parser's words was written");
                }
            }
            return new Parsed(packed, Arrays.copyOfRange(key, BASE, BASE + WORDS));
        }
    }

    /** Expected key: sentinel metadata, the given MACs, every other word zero. */
    static long[] expected(long dstMac, long srcMac) {
        long[] k = new long[WORDS];
        Arrays.fill(k, 0, W_ETH_DST, SENTINEL);
        k[W_ETH_DST] = dstMac;
        k[W_ETH_SRC] = srcMac;
        return k;
    }

    static long l3(int dlType, int proto, int tos, int ttl, int frag) {
        return dlType | (long) proto << 16 | (long) tos << 24 | (long) ttl << 32 | (long) frag << 40;
    }

    static long ip4(int src, int dst) {
        return (long) src << 32 | (dst & 0xFFFF_FFFFL);
    }

    static long tp(int src, int dst, int flags) {
        return (long) src << 48 | (long) dst << 32 | (long) flags << 16;
    }

    static void assertKey(long[] expected, Parsed actual, int l3, int l4) {
        for (int w = 0; w < WORDS; w++) {
            assertEquals(Long.toHexString(expected[w]), Long.toHexString(actual.key[w]), "word " + WORD_NAMES[w]
                    + " of " + FlowKeyFormat.format(actual.key, 0));
        }
        assertEquals(l3, actual.l3(), "L3 offset");
        assertEquals(l4, actual.l4(), "L4 offset");
    }

    // ---------------------------------------------------------------- IPv4

    @Test
    void udp4() {
        Parsed r = parse(Frames.udp4(MAC_BROADCAST, MAC_A, IP4_A, IP4_B, 1234, 80, 10));
        long[] k = expected(MAC_BROADCAST, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(1234, 80, 0);
        assertKey(k, r, 14, 34);
        assertEquals(0x0a000001, FlowKey.ipv4Src(r.key, 0));
        assertEquals(1234, FlowKey.tpSrc(r.key, 0));
        assertEquals(80, FlowKey.tpDst(r.key, 0));
    }

    @Test
    void udp4WithEthernetPaddingStopsAtIpTotalLength() {
        // 14 + 20 + 8 + 2 = 44 bytes padded to 60: the padding must not be taken as payload.
        Parsed r = parse(padTo(Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 53, 5353, 2), 60));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(53, 5353, 0);
        assertKey(k, r, 14, 34);
    }

    @Test
    void tcp4WithAllFlagBits() {
        int flags = TCP_SYN | TCP_ACK | TCP_NS | TCP_CWR | TCP_ECE;
        Parsed r = parse(Frames.tcp4(MAC_B, MAC_A, IP4_A, 0xC0A8_0101, 40000, 443, flags, 0));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 6, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, 0xC0A8_0101);
        k[W_TP] = tp(40000, 443, flags);
        assertKey(k, r, 14, 34);
        assertEquals(0x1D2, FlowKey.tcpFlags(r.key, 0));

        // All twelve bits, including the three reserved ones.
        Parsed all = parse(Frames.tcp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0xFFF, 0));
        assertEquals(0xFFF, FlowKey.tcpFlags(all.key, 0));
    }

    @Test
    void tosAndTtl() {
        byte[] ip = ipv4(IP4_A, IP4_B, PROTO_UDP, 0xB9, 3, 0x4000, new byte[0], udp(7, 9, payload(0)));
        Parsed r = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ip));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0xB9, 3, 0);          // DF alone is not a fragment
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(7, 9, 0);
        assertKey(k, r, 14, 34);
    }

    @Test
    void icmp4() {
        Parsed r = parse(Frames.icmp4(MAC_B, MAC_A, IP4_A, IP4_B, ICMP_ECHO_REQUEST, 0, 56));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 1, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(8, 0, 0);
        assertKey(k, r, 14, 34);

        Parsed unreachable = parse(Frames.icmp4(MAC_B, MAC_A, IP4_A, IP4_B, 3, 4, 28));
        assertEquals(tp(3, 4, 0), unreachable.key[W_TP]);
    }

    @Test
    void sctp4() {
        Parsed r = parse(Frames.sctp4(MAC_B, MAC_A, IP4_A, IP4_B, 2905, 2906, 16));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 132, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(2905, 2906, 0);
        assertKey(k, r, 14, 34);
    }

    @Test
    void ipv4WithOptions() {
        Parsed r = parse(udp4WithOptions(MAC_B, MAC_A, IP4_A, IP4_B, 12, 1000, 2000, 5));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(1000, 2000, 0);
        assertKey(k, r, 14, 14 + 32);
    }

    @Test
    void ipv4FirstFragmentHasTransportFields() {
        byte[] first = udp(5000, 6000, payload(16));
        Parsed r = parse(ipv4Fragment(MAC_B, MAC_A, IP4_A, IP4_B, PROTO_UDP, 0, true, first));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0, 64, FRAG_ANY);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(5000, 6000, 0);
        assertKey(k, r, 14, 34);
    }

    @Test
    void ipv4LaterFragmentHasNoTransportFields() {
        for (boolean more : new boolean[] {true, false}) {
            Parsed r = parse(ipv4Fragment(MAC_B, MAC_A, IP4_A, IP4_B, PROTO_UDP, 185, more, payload(40)));
            long[] k = expected(MAC_B, MAC_A);
            k[W_L3] = l3(0x0800, 17, 0, 64, FRAG_ANY | FRAG_LATER);
            k[W_IPV4] = ip4(IP4_A, IP4_B);
            assertKey(k, r, 14, NONE);
        }
    }

    @Test
    void badIpv4HeadersStopAfterDlType() {
        byte[] good = Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 20);
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = 0x0800;

        byte[] ihl4 = good.clone();
        ihl4[14] = 0x44;
        assertKey(k, parse(ihl4), NONE, NONE);

        byte[] version6 = good.clone();
        version6[14] = 0x65;
        assertKey(k, parse(version6), NONE, NONE);

        byte[] totalTooLong = good.clone();
        put16(totalTooLong, 16, good.length - 14 + 1);
        assertKey(k, parse(totalTooLong), NONE, NONE);

        byte[] totalBelowIhl = good.clone();
        put16(totalBelowIhl, 16, 19);
        assertKey(k, parse(totalBelowIhl), NONE, NONE);

        byte[] ihlBeyondTotal = good.clone();
        ihlBeyondTotal[14] = 0x4F;                        // 60-byte header in a 48-byte packet
        assertKey(k, parse(ihlBeyondTotal), NONE, NONE);

        assertKey(k, parse(Arrays.copyOf(good, 14 + 19)), NONE, NONE);
    }

    @Test
    void truncatedTransportKeepsNetworkFields() {
        // The IP header claims 30 bytes of TCP but the TCP header needs 20: the frame holds 10.
        byte[] ip = ipv4(IP4_A, IP4_B, PROTO_TCP, payload(10));
        Parsed r = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ip));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 6, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        assertKey(k, r, 14, NONE);
    }

    @Test
    void transportHeadersOneByteShortAreNotDecoded() {
        int[][] protoAndSize = {{PROTO_TCP, 20}, {PROTO_UDP, 8}, {PROTO_SCTP, 12}, {PROTO_ICMP, 8}};
        for (int[] ps : protoAndSize) {
            long[] k = expected(MAC_B, MAC_A);
            k[W_L3] = l3(0x0800, ps[0], 0, 64, 0);
            k[W_IPV4] = ip4(IP4_A, IP4_B);
            byte[] shortHeader = ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, ps[0], payload(ps[1] - 1)));
            assertKey(k, parse(shortHeader), 14, NONE);
            byte[] exact = ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, ps[0], payload(ps[1])));
            assertEquals(34, parse(exact).l4(), "proto " + ps[0]);
        }
        long[] k = ip6Expected(58, 0, 64, 0);
        byte[] icmp6 = ethernet(MAC_B, MAC_A, ETH_TYPE_IPV6, ipv6(IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 58, payload(7)));
        assertKey(k, parse(icmp6), 14, NONE);
    }

    @Test
    void undecodedTransportReportsPayloadOnly() {
        Parsed gre = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, 47, payload(8))));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 47, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        assertKey(k, gre, 14, 34);

        Parsed empty = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, 47, payload(0))));
        assertKey(k, empty, 14, NONE);

        // ICMPv6 is not decoded over IPv4.
        Parsed icmp6 = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV4, ipv4(IP4_A, IP4_B, 58, icmp(128, 0, 0, payload(4)))));
        k[W_L3] = l3(0x0800, 58, 0, 64, 0);
        assertKey(k, icmp6, 14, 34);
    }

    // ---------------------------------------------------------------- ARP

    @Test
    void arpRequestAndReply() {
        Parsed req = parse(Frames.arpRequest(MAC_A, IP4_A, IP4_B));
        long[] k = expected(MAC_BROADCAST, MAC_A);
        k[W_L3] = l3(0x0806, 1, 0, 0, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_ARP_SHA] = MAC_A;
        assertKey(k, req, 14, NONE);

        Parsed rep = parse(Frames.arpReply(MAC_B, IP4_B, MAC_A, IP4_A));
        k = expected(MAC_A, MAC_B);
        k[W_L3] = l3(0x0806, 2, 0, 0, 0);
        k[W_IPV4] = ip4(IP4_B, IP4_A);
        k[W_ARP_SHA] = MAC_B;
        k[W_ARP_THA] = MAC_A;
        assertKey(k, rep, 14, NONE);
    }

    @Test
    void arpOtherThanEthernetIpv4IsNotDecoded() {
        long[] k = expected(MAC_BROADCAST, MAC_A);
        k[W_L3] = 0x0806;
        byte[] tokenRing = ethernet(MAC_BROADCAST, MAC_A, ETH_TYPE_ARP, arpBody(6, 0x0800, 6, 4, 1, MAC_A, IP4_A, 0, IP4_B));
        assertKey(k, parse(tokenRing), NONE, NONE);
        byte[] shortArp = Arrays.copyOf(Frames.arpRequest(MAC_A, IP4_A, IP4_B), 14 + 27);
        assertKey(k, parse(shortArp), NONE, NONE);

        // Opcodes above 255 do not fit nw_proto: the addresses stay, the opcode does not (as OVS).
        Parsed bigOp = parse(arp(MAC_BROADCAST, MAC_A, 0x0101, MAC_A, IP4_A, 0, IP4_B));
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_ARP_SHA] = MAC_A;
        assertKey(k, bigOp, 14, NONE);
    }

    // ---------------------------------------------------------------- IPv6

    @Test
    void udp6() {
        Parsed r = parse(Frames.udp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 546, 547, 30));
        long[] k = ip6Expected(17, 0, 64, 0);
        k[W_TP] = tp(546, 547, 0);
        assertKey(k, r, 14, 54);
    }

    @Test
    void ipv6TrafficClassLabelAndHopLimit() {
        byte[] ip = ipv6(IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 0xB9, 0xABCDE, 7, PROTO_UDP, udp(1, 2, payload(0)));
        Parsed r = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV6, ip));
        long[] k = ip6Expected(17, 0xB9, 7, 0);
        k[W_IPV6_LABEL] = 0xABCDE;
        k[W_TP] = tp(1, 2, 0);
        assertKey(k, r, 14, 54);
    }

    @Test
    void tcp6BehindHopByHopAndDestinationOptions() {
        Parsed r = parse(Frames.tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 33000, 22,
                TCP_PSH | TCP_ACK, 12, hopByHop(1), destOptions(2)));
        long[] k = ip6Expected(6, 0, 64, 0);
        k[W_TP] = tp(33000, 22, TCP_PSH | TCP_ACK);
        assertKey(k, r, 14, 54 + 8 + 16);
    }

    @Test
    void ipv6RoutingAndAuthHeaders() {
        byte[] ip = ipv6(IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, udp(9, 10, payload(3)), routing(), authHeader());
        Parsed r = parse(ethernet(MAC_B, MAC_A, ETH_TYPE_IPV6, ip));
        long[] k = ip6Expected(17, 0, 64, 0);
        k[W_TP] = tp(9, 10, 0);
        assertKey(k, r, 14, 54 + 8 + 16);
    }

    @Test
    void ipv6Fragments() {
        Parsed first = parse(ipv6Fragment(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, 0, true, 7,
                udp(111, 222, payload(24))));
        long[] k = ip6Expected(17, 0, 64, FRAG_ANY);
        k[W_TP] = tp(111, 222, 0);
        assertKey(k, first, 14, 62);

        Parsed later = parse(ipv6Fragment(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, 4, false, 7,
                payload(24)));
        assertKey(ip6Expected(44, 0, 64, FRAG_ANY | FRAG_LATER), later, 14, NONE);

        // Offset 0 and M clear: an "atomic" fragment is not a fragment.
        Parsed atomic = parse(ipv6Fragment(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_UDP, 0, false, 7,
                udp(111, 222, payload(0))));
        k = ip6Expected(17, 0, 64, 0);
        k[W_TP] = tp(111, 222, 0);
        assertKey(k, atomic, 14, 62);
    }

    @Test
    void badIpv6() {
        byte[] good = Frames.udp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 2, 4);
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = 0x86dd;

        byte[] payloadTooLong = good.clone();
        put16(payloadTooLong, 18, good.length - 54 + 1);
        assertKey(k, parse(payloadTooLong), NONE, NONE);

        byte[] version4 = good.clone();
        version4[14] = 0x40;
        assertKey(k, parse(version4), NONE, NONE);

        assertKey(k, parse(Arrays.copyOf(good, 14 + 39)), NONE, NONE);

        // A truncated extension header: the fixed header is fine, so addresses stay (as OVS).
        byte[] ext = Frames.tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 2, 0, 0, hopByHop(4));
        put16(ext, 18, 16);                               // payload now ends inside the 32-byte header
        long[] addrs = ip6Expected(0, 0, 0, 0);
        addrs[W_L3] = 0x86dd;
        assertKey(addrs, parse(ext), 14, NONE);
    }

    @Test
    void icmp6Echo() {
        Parsed r = parse(Frames.icmp6Echo(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 32));
        long[] k = ip6Expected(58, 0, 64, 0);
        k[W_TP] = tp(128, 0, 0);
        assertKey(k, r, 14, 54);
    }

    @Test
    void neighborSolicitationWithSourceLinkLayerAddress() {
        long targetLo = 0x0000_0000_00AB_CDEFL;
        Parsed r = parse(ndNs(MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, targetLo));
        long[] k = expected(0x3333_FFAB_CDEFL, MAC_A);
        k[W_L3] = l3(0x86dd, 58, 0, 255, 0);
        k[W_IPV6_SRC_HI] = IP6_A_HI;
        k[W_IPV6_SRC_LO] = IP6_A_LO;
        k[W_IPV6_DST_HI] = 0xFF02_0000_0000_0000L;
        k[W_IPV6_DST_LO] = 0x0000_0001_FFAB_CDEFL;
        k[W_TP] = tp(135, 0, 0);
        k[W_ND_TARGET_HI] = IP6_B_HI;
        k[W_ND_TARGET_LO] = targetLo;
        k[W_ARP_SHA] = MAC_A;
        assertKey(k, r, 14, 54);
    }

    @Test
    void neighborAdvertisementWithTargetLinkLayerAddress() {
        Parsed r = parse(ndNa(MAC_A, MAC_B, IP6_B_HI, IP6_B_LO, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO,
                NA_SOLICITED | NA_OVERRIDE));
        long[] k = expected(MAC_A, MAC_B);
        k[W_L3] = l3(0x86dd, 58, 0, 255, 0);
        k[W_IPV6_SRC_HI] = IP6_B_HI;
        k[W_IPV6_SRC_LO] = IP6_B_LO;
        k[W_IPV6_DST_HI] = IP6_A_HI;
        k[W_IPV6_DST_LO] = IP6_A_LO;
        k[W_TP] = tp(136, 0, 0);
        k[W_ND_TARGET_HI] = IP6_B_HI;
        k[W_ND_TARGET_LO] = IP6_B_LO;
        k[W_ARP_THA] = MAC_B;
        assertKey(k, r, 14, 54);
    }

    @Test
    void neighborDiscoveryEdgeCases() {
        long[] base = ip6Expected(58, 0, 64, 0);
        base[W_TP] = tp(135, 1, 0);

        // Code != 0: type and code only.
        Parsed code1 = parse(nd6(icmp(135, 1, 0, concat(addr(IP6_B_HI, IP6_B_LO), ndOption(1, MAC_A)))));
        assertKey(base, code1, 14, 54);

        // Repeated SLL: the message is invalid, target and addresses are dropped (as OVS).
        Parsed twice = parse(nd6(nd(135, 0, IP6_B_HI, IP6_B_LO, ndOption(1, MAC_A), ndOption(1, MAC_B))));
        long[] k = base.clone();
        k[W_TP] = tp(135, 0, 0);
        assertKey(k, twice, 14, 54);

        // No room for the target.
        assertKey(k, parse(nd6(icmp(135, 0, 0, payload(15)))), 14, 54);

        // A zero-length option ends the option list, keeping what was found before it.
        byte[] zeroLen = {3, 0, 0, 0, 0, 0, 0, 0};
        Parsed stop = parse(nd6(nd(136, 0, IP6_B_HI, IP6_B_LO, ndOption(2, MAC_B), zeroLen, ndOption(1, MAC_A))));
        k[W_TP] = tp(136, 0, 0);
        k[W_ND_TARGET_HI] = IP6_B_HI;
        k[W_ND_TARGET_LO] = IP6_B_LO;
        k[W_ARP_THA] = MAC_B;
        assertKey(k, stop, 14, 54);

        // Options of other types and lengths are skipped.
        byte[] mtu = {5, 1, 0, 0, 0, 0, 5, (byte) 0xDC};
        byte[] longSll = concat(new byte[] {1, 2}, payload(14));
        Parsed skip = parse(nd6(nd(136, 0, IP6_B_HI, IP6_B_LO, mtu, longSll, ndOption(2, MAC_B))));
        assertKey(k, skip, 14, 54);
    }

    private static byte[] nd6(byte[] icmp) {
        return ethernet(MAC_B, MAC_A, ETH_TYPE_IPV6, ipv6(IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, PROTO_ICMPV6, icmp));
    }

    private static byte[] addr(long hi, long lo) {
        byte[] b = new byte[16];
        put64(b, 0, hi);
        put64(b, 8, lo);
        return b;
    }

    private static long[] ip6Expected(int proto, int tc, int hopLimit, int frag) {
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x86dd, proto, tc, hopLimit, frag);
        k[W_IPV6_SRC_HI] = IP6_A_HI;
        k[W_IPV6_SRC_LO] = IP6_A_LO;
        k[W_IPV6_DST_HI] = IP6_B_HI;
        k[W_IPV6_DST_LO] = IP6_B_LO;
        return k;
    }

    // ---------------------------------------------------------------- L2

    @Test
    void dot1qTagged() {
        Parsed r = parse(dot1q(Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1234, 80, 10), 5 << 13 | 10));
        long[] k = expected(MAC_B, MAC_A);
        k[W_VLAN] = (long) (5 << 13 | 10 | VLAN_PRESENT) << 48 | 0x8100L << 32;
        k[W_L3] = l3(0x0800, 17, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(1234, 80, 0);
        assertKey(k, r, 18, 38);
        assertEquals(10 | VLAN_PRESENT | 5 << 13, FlowKey.outerTci(r.key, 0));
        assertEquals(0x8100, FlowKey.outerTpid(r.key, 0));
    }

    @Test
    void vlanZeroStillMarksTheTagPresent() {
        Parsed r = parse(dot1q(Frames.arpRequest(MAC_A, IP4_A, IP4_B), 0));
        assertEquals(VLAN_PRESENT, FlowKey.outerTci(r.key, 0));
        assertEquals(0x0806, FlowKey.dlType(r.key, 0));
        assertEquals(18, r.l3());
    }

    @Test
    void qinq() {
        Parsed r = parse(Frames.qinq(Frames.udp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 2, 0), 100, 3 << 13 | 200));
        long[] k = ip6Expected(17, 0, 64, 0);
        k[W_VLAN] = (long) (100 | VLAN_PRESENT) << 48 | 0x88a8L << 32 | (long) (3 << 13 | 200 | VLAN_PRESENT) << 16 | 0x8100;
        k[W_TP] = tp(1, 2, 0);
        assertKey(k, r, 22, 62);
        assertEquals(0x88a8, FlowKey.outerTpid(r.key, 0));
        assertEquals(0x8100, FlowKey.innerTpid(r.key, 0));
        assertEquals(200 | VLAN_PRESENT | 3 << 13, FlowKey.innerTci(r.key, 0));
    }

    @Test
    void thirdTagStopsWithItsTpidAsDlType() {
        byte[] f = vlan(Frames.qinq(Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0), 1, 2), TPID_8021Q, 3);
        // Wire order after the MACs: 8100/3, 88a8/1, 8100/2: the first two are kept.
        Parsed r = parse(f);
        long[] k = expected(MAC_B, MAC_A);
        k[W_VLAN] = (long) (3 | VLAN_PRESENT) << 48 | 0x8100L << 32 | (long) (1 | VLAN_PRESENT) << 16 | 0x88a8;
        k[W_L3] = 0x8100;
        assertKey(k, r, 22, NONE);
    }

    @Test
    void truncatedTagLeavesTpidAsDlType() {
        byte[] f = Arrays.copyOf(dot1q(Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0), 7), 17);
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = 0x8100;
        assertKey(k, parse(f), 14, NONE);                 // the 3 tag bytes are its undecoded payload
        assertKey(k, parse(Arrays.copyOf(f, 14)), NONE, NONE);
    }

    @Test
    void llc8023() {
        Parsed r = parse(llc(0x0180_C200_0000L, MAC_A, 0x42, 0x42, 0x03, 35));   // an STP BPDU
        long[] k = expected(0x0180_C200_0000L, MAC_A);
        k[W_L3] = 0x05ff;
        assertKey(k, r, 14, NONE);
    }

    @Test
    void snapWithOuiZeroUsesItsEthertype() {
        byte[] ip = ipv4(IP4_A, IP4_B, PROTO_UDP, udp(67, 68, payload(4)));
        Parsed r = parse(snap(MAC_B, MAC_A, 0, ETH_TYPE_IPV4, ip));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = l3(0x0800, 17, 0, 64, 0);
        k[W_IPV4] = ip4(IP4_A, IP4_B);
        k[W_TP] = tp(67, 68, 0);
        assertKey(k, r, 22, 42);

        long[] none = expected(MAC_B, MAC_A);
        none[W_L3] = 0x05ff;
        assertKey(none, parse(snap(MAC_B, MAC_A, 0x00000C, 0x2000, payload(20))), 14, NONE);   // Cisco OUI
        assertKey(none, parse(snap(MAC_B, MAC_A, 0, 0x05DC, payload(20))), 22, NONE);         // not an ethertype
        assertKey(none, parse(Arrays.copyOf(snap(MAC_B, MAC_A, 0, ETH_TYPE_IPV4, ip), 21)), 14, NONE);
    }

    @Test
    void unknownEthertype() {
        Parsed mpls = parse(ethernet(MAC_B, MAC_A, 0x8847, payload(8)));
        long[] k = expected(MAC_B, MAC_A);
        k[W_L3] = 0x8847;
        assertKey(k, mpls, 14, NONE);

        Parsed bare = parse(ethernet(MAC_B, MAC_A, 0x8847, payload(0)));
        assertKey(k, bare, NONE, NONE);
    }

    @Test
    void framesShorterThanAnEthernetHeader() {
        byte[] udp = Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0);
        long[] k = new long[WORDS];
        Arrays.fill(k, 0, W_ETH_DST, SENTINEL);
        for (int len = 0; len < 14; len++) {
            assertKey(k, parse(Arrays.copyOf(udp, len)), NONE, NONE);
        }
    }

    @Test
    void keySlotIsFullyOverwritten() {
        // A TCP/IPv6 key followed by an ARP parse into the same slot must leave nothing behind.
        try (Arena arena = Arena.ofConfined()) {
            byte[] tcp = Frames.tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 1, 2, TCP_SYN, 0);
            byte[] arp = Frames.arpRequest(MAC_A, IP4_A, IP4_B);
            MemorySegment seg = arena.allocate(tcp.length + arp.length);
            MemorySegment.copy(tcp, 0, seg, ValueLayout.JAVA_BYTE, 0, tcp.length);
            MemorySegment.copy(arp, 0, seg, ValueLayout.JAVA_BYTE, tcp.length, arp.length);
            long[] key = new long[WORDS];
            Parser.parse(seg, 0, tcp.length, key, 0);
            Parser.parse(seg, tcp.length, arp.length, key, 0);
            long[] fresh = parse(arp).key;
            for (int w = W_ETH_DST; w < WORDS; w++) {
                assertEquals(fresh[w], key[w], WORD_NAMES[w]);
            }
        }
    }

    @Test
    void oversizedLengthIsClamped() {
        // Lengths above 65535 behave as 65535, so offsets never collide with NONE.
        try (Arena arena = Arena.ofConfined()) {
            byte[] udp = Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1, 2, 0);
            MemorySegment seg = arena.allocate(70_000);
            MemorySegment.copy(udp, 0, seg, ValueLayout.JAVA_BYTE, 0, udp.length);
            long[] key = new long[WORDS];
            int packed = Parser.parse(seg, 0, 70_000, key, 0);
            assertEquals(14, Parser.l3Offset(packed));
            assertEquals(34, Parser.l4Offset(packed));
            assertEquals(NONE, Parser.l3Offset(Parser.parse(seg, 0, -5, key, 0)));
        }
    }

    // ---------------------------------------------------------------- formatting

    @Test
    void formatMatchesOvsStyle() {
        byte[] f = dot1q(Frames.udp4(MAC_BROADCAST, 0x5254_0000_0001L, IP4_A, IP4_B, 1234, 80, 4), 10);
        Parsed r = parse(f);
        long[] key = r.key.clone();
        Arrays.fill(key, 0, W_ETH_DST, 0);
        key[FlowKey.W_IN_PORT] = 1;
        assertEquals("in_port=1,dl_vlan=10,dl_vlan_pcp=0,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,"
                + "dl_type=0x0800,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_proto=17,nw_tos=0,nw_ttl=64,nw_frag=no,"
                + "tp_src=1234,tp_dst=80", FlowKeyFormat.format(key, 0));
    }
}
