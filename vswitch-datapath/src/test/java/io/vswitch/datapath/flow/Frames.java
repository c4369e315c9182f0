package io.vswitch.datapath.flow;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Builds Ethernet frames byte by byte for tests, so that a test states exactly what is on the wire.
 *
 * <p>Addresses use the {@link FlowKey} encodings: a MAC is a 48-bit number with the first octet in
 * bits 40-47, an IPv4 address an int in network order (10.0.0.1 = {@code 0x0a000001}), an IPv6
 * address two longs ({@code hi} = first 8 bytes). MAC arguments come in wire order: destination,
 * then source.
 *
 * <p>Two levels:
 * <ul>
 *   <li>Layer builders that nest: {@code ethernet(dst, src, 0x0800, ipv4(s, d, 17, udp(1, 2,
 *       payload(10))))}. The IP builders fill the IPv4 header checksum and the transport checksum
 *       (TCP, UDP, ICMP, ICMPv6 with pseudo-header, SCTP CRC32c) of unfragmented packets, so the
 *       frames are also valid on a real wire (TAP, netns).</li>
 *   <li>Ready-made frames ({@link #udp4}, {@link #tcp6}, {@link #ndNs}, ...) for the usual cases.</li>
 * </ul>
 * No padding is added: a frame is exactly as long as its headers plus payload; use {@link #padTo}
 * for the 60-byte Ethernet minimum.
 */
public final class Frames {
    private Frames() {}

    /** Default addresses, handy for tests that do not care. */
    public static final long MAC_A = 0x5254_0000_0001L;
    public static final long MAC_B = 0x5254_0000_0002L;
    public static final long MAC_BROADCAST = 0xFFFF_FFFF_FFFFL;
    public static final int IP4_A = 0x0a00_0001;            // 10.0.0.1
    public static final int IP4_B = 0x0a00_0002;            // 10.0.0.2
    public static final long IP6_A_HI = 0x2001_0db8_0000_0000L; // 2001:db8::1
    public static final long IP6_A_LO = 1;
    public static final long IP6_B_HI = 0x2001_0db8_0000_0000L; // 2001:db8::2
    public static final long IP6_B_LO = 2;

    public static final int ETH_TYPE_IPV4 = 0x0800;
    public static final int ETH_TYPE_ARP = 0x0806;
    public static final int ETH_TYPE_IPV6 = 0x86dd;
    public static final int TPID_8021Q = 0x8100;
    public static final int TPID_8021AD = 0x88a8;

    public static final int PROTO_HOPOPTS = 0;
    public static final int PROTO_ICMP = 1;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int PROTO_ROUTING = 43;
    public static final int PROTO_FRAGMENT = 44;
    public static final int PROTO_AH = 51;
    public static final int PROTO_ICMPV6 = 58;
    public static final int PROTO_NONE = 59;
    public static final int PROTO_DSTOPTS = 60;
    public static final int PROTO_SCTP = 132;

    /** TCP flag bits as in the 12-bit flags field (NS is bit 8). */
    public static final int TCP_FIN = 0x001, TCP_SYN = 0x002, TCP_RST = 0x004, TCP_PSH = 0x008,
            TCP_ACK = 0x010, TCP_URG = 0x020, TCP_ECE = 0x040, TCP_CWR = 0x080, TCP_NS = 0x100;

    public static final int ARP_REQUEST = 1;
    public static final int ARP_REPLY = 2;
    public static final int ICMP_ECHO_REQUEST = 8;
    public static final int ICMP6_ECHO_REQUEST = 128;
    public static final int ND_NEIGHBOR_SOLICIT = 135;
    public static final int ND_NEIGHBOR_ADVERT = 136;
    /** NA flags (first byte of the reserved word): router, solicited, override. */
    public static final int NA_ROUTER = 0x80, NA_SOLICITED = 0x40, NA_OVERRIDE = 0x20;

    private static final int DEFAULT_TTL = 64;

    // ---------------------------------------------------------------- ready-made frames

    /** Ethernet/IPv4/UDP with {@code payloadLen} payload bytes. */
    public static byte[] udp4(long dstMac, long srcMac, int srcIp, int dstIp, int srcPort, int dstPort,
                              int payloadLen) {
        byte[] udp = udp(srcPort, dstPort, payload(payloadLen));
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ipv4(srcIp, dstIp, PROTO_UDP, udp));
    }

    /** Ethernet/IPv4/TCP; {@code flags} is the 12-bit flags field ({@link #TCP_SYN} | ...). */
    public static byte[] tcp4(long dstMac, long srcMac, int srcIp, int dstIp, int srcPort, int dstPort, int flags,
                              int payloadLen) {
        byte[] tcp = tcp(srcPort, dstPort, flags, payload(payloadLen));
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ipv4(srcIp, dstIp, PROTO_TCP, tcp));
    }

    /** Ethernet/IPv4/SCTP: common header followed by {@code payloadLen} bytes of chunk data. */
    public static byte[] sctp4(long dstMac, long srcMac, int srcIp, int dstIp, int srcPort, int dstPort,
                               int payloadLen) {
        byte[] sctp = sctp(srcPort, dstPort, payload(payloadLen));
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ipv4(srcIp, dstIp, PROTO_SCTP, sctp));
    }

    /** Ethernet/IPv4/ICMP with the given type and code, identifier 1, sequence 1. */
    public static byte[] icmp4(long dstMac, long srcMac, int srcIp, int dstIp, int type, int code, int payloadLen) {
        byte[] icmp = icmp(type, code, 0x0001_0001, payload(payloadLen));
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ipv4(srcIp, dstIp, PROTO_ICMP, icmp));
    }

    /**
     * Ethernet/IPv4/UDP whose IPv4 header carries {@code optionBytes} bytes of options (NOPs, then
     * EOL padding to a multiple of 4), so IHL = 5 + ceil(optionBytes / 4).
     */
    public static byte[] udp4WithOptions(long dstMac, long srcMac, int srcIp, int dstIp, int optionBytes, int srcPort,
                                         int dstPort, int payloadLen) {
        byte[] options = new byte[optionBytes];
        Arrays.fill(options, (byte) 1);                       // NOP
        byte[] udp = udp(srcPort, dstPort, payload(payloadLen));
        byte[] ip = ipv4(srcIp, dstIp, PROTO_UDP, 0, DEFAULT_TTL, 0, options, udp);
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ip);
    }

    /**
     * Ethernet/IPv4 fragment: {@code data} is this fragment's share of the datagram (for a first
     * fragment, typically a transport header and some payload), {@code offset8} the fragment offset
     * in 8-byte units, {@code more} the MF flag.
     */
    public static byte[] ipv4Fragment(long dstMac, long srcMac, int srcIp, int dstIp, int proto, int offset8,
                                      boolean more, byte[] data) {
        int fragField = (more ? 0x2000 : 0) | (offset8 & 0x1FFF);
        byte[] ip = ipv4(srcIp, dstIp, proto, 0, DEFAULT_TTL, fragField, new byte[0], data);
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV4, ip);
    }

    /** Ethernet ARP for IPv4 with explicit fields. */
    public static byte[] arp(long dstMac, long srcMac, int op, long sha, int spa, long tha, int tpa) {
        return ethernet(dstMac, srcMac, ETH_TYPE_ARP, arpBody(1, ETH_TYPE_IPV4, 6, 4, op, sha, spa, tha, tpa));
    }

    /** Broadcast "who has {@code tpa}, tell {@code spa}". */
    public static byte[] arpRequest(long sha, int spa, int tpa) {
        return arp(MAC_BROADCAST, sha, ARP_REQUEST, sha, spa, 0, tpa);
    }

    /** Unicast reply "{@code spa} is at {@code sha}" to the asker ({@code tha}, {@code tpa}). */
    public static byte[] arpReply(long sha, int spa, long tha, int tpa) {
        return arp(tha, sha, ARP_REPLY, sha, spa, tha, tpa);
    }

    /** Ethernet/IPv6/UDP. */
    public static byte[] udp6(long dstMac, long srcMac, long srcHi, long srcLo, long dstHi, long dstLo, int srcPort,
                              int dstPort, int payloadLen) {
        byte[] udp = udp(srcPort, dstPort, payload(payloadLen));
        byte[] ip = ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, DEFAULT_TTL, PROTO_UDP, udp);
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV6, ip);
    }

    /** Ethernet/IPv6/TCP, with the given extension headers (in order) between IPv6 and TCP. */
    public static byte[] tcp6(long dstMac, long srcMac, long srcHi, long srcLo, long dstHi, long dstLo, int srcPort,
                              int dstPort, int flags, int payloadLen, Ext... exts) {
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV6, ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, DEFAULT_TTL, PROTO_TCP,
                tcp(srcPort, dstPort, flags, payload(payloadLen)), exts));
    }

    /**
     * Ethernet/IPv6 with a fragment header: {@code data} is this fragment's share of the upper-layer
     * packet of protocol {@code proto}; {@code offset8} in 8-byte units, {@code more} the M flag.
     */
    public static byte[] ipv6Fragment(long dstMac, long srcMac, long srcHi, long srcLo, long dstHi, long dstLo,
                                      int proto, int offset8, boolean more, int id, byte[] data) {
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV6,
                ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, DEFAULT_TTL, proto, data, fragment(offset8, more, id)));
    }

    /** Ethernet/IPv6/ICMPv6 echo request, identifier 1, sequence 1. */
    public static byte[] icmp6Echo(long dstMac, long srcMac, long srcHi, long srcLo, long dstHi, long dstLo,
                                   int payloadLen) {
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV6, ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, DEFAULT_TTL, PROTO_ICMPV6,
                icmp(ICMP6_ECHO_REQUEST, 0, 0x0001_0001, payload(payloadLen))));
    }

    /**
     * Neighbor Solicitation from {@code srcMac}/{@code src} for {@code target}, sent to the
     * solicited-node multicast group, with a source link-layer address option = {@code srcMac}.
     */
    public static byte[] ndNs(long srcMac, long srcHi, long srcLo, long targetHi, long targetLo) {
        long groupHi = 0xFF02_0000_0000_0000L;
        long groupLo = 0x0000_0001_FF00_0000L | (targetLo & 0xFF_FFFF);
        long groupMac = 0x3333_0000_0000L | (groupLo & 0xFFFF_FFFFL);
        byte[] icmp = nd(ND_NEIGHBOR_SOLICIT, 0, targetHi, targetLo, ndOption(1, srcMac));
        byte[] ip = ipv6(srcHi, srcLo, groupHi, groupLo, 0, 0, 255, PROTO_ICMPV6, icmp);
        return ethernet(groupMac, srcMac, ETH_TYPE_IPV6, ip);
    }

    /**
     * Neighbor Advertisement for {@code target} ({@link #NA_SOLICITED} | ... in {@code flags}) with a
     * target link-layer address option = {@code srcMac}.
     */
    public static byte[] ndNa(long dstMac, long srcMac, long srcHi, long srcLo, long dstHi, long dstLo, long targetHi,
                              long targetLo, int flags) {
        byte[] icmp = nd(ND_NEIGHBOR_ADVERT, flags << 24, targetHi, targetLo, ndOption(2, srcMac));
        return ethernet(dstMac, srcMac, ETH_TYPE_IPV6, ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, 255, PROTO_ICMPV6, icmp));
    }

    /** {@code frame} with one more tag (TPID, TCI) inserted after the MAC addresses, i.e. outermost. */
    public static byte[] vlan(byte[] frame, int tpid, int tci) {
        byte[] out = new byte[frame.length + 4];
        System.arraycopy(frame, 0, out, 0, 12);
        put16(out, 12, tpid);
        put16(out, 14, tci);
        System.arraycopy(frame, 12, out, 16, frame.length - 12);
        return out;
    }

    /** {@code frame} tagged 802.1Q ({@link #TPID_8021Q}) with {@code tci} (PCP &lt;&lt; 13 | VID). */
    public static byte[] dot1q(byte[] frame, int tci) {
        return vlan(frame, TPID_8021Q, tci);
    }

    /** {@code frame} double-tagged: 802.1ad outer tag, 802.1Q inner tag. */
    public static byte[] qinq(byte[] frame, int outerTci, int innerTci) {
        return vlan(vlan(frame, TPID_8021Q, innerTci), TPID_8021AD, outerTci);
    }

    /** 802.3 frame: length field, LLC header (DSAP, SSAP, control), then {@code payloadLen} bytes. */
    public static byte[] llc(long dstMac, long srcMac, int dsap, int ssap, int control, int payloadLen) {
        byte[] body = concat(new byte[] {(byte) dsap, (byte) ssap, (byte) control}, payload(payloadLen));
        return ethernet(dstMac, srcMac, body.length, body);
    }

    /** 802.3 frame with LLC/SNAP (AA-AA-03), the given OUI and ethertype, then {@code payload}. */
    public static byte[] snap(long dstMac, long srcMac, int oui, int ethertype, byte[] payload) {
        byte[] hdr = {(byte) 0xAA, (byte) 0xAA, 3, (byte) (oui >>> 16), (byte) (oui >>> 8), (byte) oui,
                (byte) (ethertype >>> 8), (byte) ethertype};
        byte[] body = concat(hdr, payload);
        return ethernet(dstMac, srcMac, body.length, body);
    }

    // ---------------------------------------------------------------- layer builders

    /** Ethernet II header + payload (no padding, no FCS). {@code type} may also be an 802.3 length. */
    public static byte[] ethernet(long dstMac, long srcMac, int type, byte[] payload) {
        byte[] f = new byte[14 + payload.length];
        put48(f, 0, dstMac);
        put48(f, 6, srcMac);
        put16(f, 12, type);
        System.arraycopy(payload, 0, f, 14, payload.length);
        return f;
    }

    /** IPv4 packet with TOS 0, TTL 64, not fragmented, no options. */
    public static byte[] ipv4(int src, int dst, int proto, byte[] payload) {
        return ipv4(src, dst, proto, 0, DEFAULT_TTL, 0, new byte[0], payload);
    }

    /**
     * IPv4 packet. {@code flagsFrag} is the 16-bit flags/fragment-offset field (0x4000 DF, 0x2000
     * MF, low 13 bits the offset in 8-byte units); {@code options} are padded with EOL to a multiple
     * of 4. The header checksum is filled, and so is the transport checksum when the packet is
     * not a fragment.
     */
    public static byte[] ipv4(int src, int dst, int proto, int tos, int ttl, int flagsFrag, byte[] options,
                              byte[] payload) {
        int hlen = 20 + (options.length + 3 & ~3);
        byte[] p = new byte[hlen + payload.length];
        p[0] = (byte) (0x40 | hlen / 4);
        p[1] = (byte) tos;
        put16(p, 2, p.length);
        put16(p, 4, 0x1234);                                  // identification
        put16(p, 6, flagsFrag);
        p[8] = (byte) ttl;
        p[9] = (byte) proto;
        put32(p, 12, src);
        put32(p, 16, dst);
        System.arraycopy(options, 0, p, 20, options.length);
        put16(p, 10, fold(sum(p, 0, hlen, 0)));
        System.arraycopy(payload, 0, p, hlen, payload.length);
        if ((flagsFrag & 0x3FFF) == 0) {
            long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + proto + payload.length;
            transportChecksum(p, hlen, proto, proto == PROTO_ICMP ? -1 : pseudo);
        }
        return p;
    }

    /** IPv6 packet: traffic class 0, flow label 0, hop limit 64. */
    public static byte[] ipv6(long srcHi, long srcLo, long dstHi, long dstLo, int proto, byte[] upper, Ext... exts) {
        return ipv6(srcHi, srcLo, dstHi, dstLo, 0, 0, DEFAULT_TTL, proto, upper, exts);
    }

    /**
     * IPv6 packet carrying {@code upper} (of protocol {@code proto}) behind the extension headers
     * {@code exts}, chained in the given order. The transport checksum is filled unless a fragment
     * header marks the packet as a fragment.
     */
    public static byte[] ipv6(long srcHi, long srcLo, long dstHi, long dstLo, int trafficClass, int flowLabel,
                              int hopLimit, int proto, byte[] upper, Ext... exts) {
        int extLen = 0;
        for (Ext e : exts) {
            extLen += e.bytes.length;
        }
        byte[] p = new byte[40 + extLen + upper.length];
        put32(p, 0, 6 << 28 | (trafficClass & 0xFF) << 20 | flowLabel & 0xF_FFFF);
        put16(p, 4, p.length - 40);
        p[6] = (byte) (exts.length == 0 ? proto : exts[0].type);
        p[7] = (byte) hopLimit;
        put64(p, 8, srcHi);
        put64(p, 16, srcLo);
        put64(p, 24, dstHi);
        put64(p, 32, dstLo);
        int at = 40;
        boolean fragment = false;
        for (int i = 0; i < exts.length; i++) {
            byte[] b = exts[i].bytes;
            System.arraycopy(b, 0, p, at, b.length);
            p[at] = (byte) (i + 1 < exts.length ? exts[i + 1].type : proto);   // next header
            fragment |= exts[i].type == PROTO_FRAGMENT && (get16(b, 2) & 0xFFF9) != 0;
            at += b.length;
        }
        System.arraycopy(upper, 0, p, at, upper.length);
        if (!fragment) {
            long pseudo = upper.length + proto;
            for (int i = 8; i < 40; i += 2) {
                pseudo += get16(p, i);
            }
            transportChecksum(p, at, proto, pseudo);
        }
        return p;
    }

    /** An IPv6 extension header: its own protocol number and its bytes (next-header byte filled by {@link #ipv6}). */
    public record Ext(int type, byte[] bytes) {}

    /** Hop-by-hop options header of {@code 8 * units} bytes, filled with a PadN option. */
    public static Ext hopByHop(int units) {
        return new Ext(PROTO_HOPOPTS, optionsHeader(units));
    }

    /** Destination options header of {@code 8 * units} bytes, filled with a PadN option. */
    public static Ext destOptions(int units) {
        return new Ext(PROTO_DSTOPTS, optionsHeader(units));
    }

    /**
     * Routing header of the experimental type 253 (RFC 4727) with segments left 0, which receivers
     * skip: 8 bytes.
     */
    public static Ext routing() {
        byte[] b = new byte[8];
        b[2] = (byte) 253;
        return new Ext(PROTO_ROUTING, b);
    }

    /** Authentication header with SPI 0x100, sequence 1 and a 4-byte ICV: 16 bytes, length field 2. */
    public static Ext authHeader() {
        byte[] b = new byte[16];
        b[1] = 2;                                             // (16 / 4) - 2
        put32(b, 4, 0x100);
        put32(b, 8, 1);
        return new Ext(PROTO_AH, b);
    }

    /** Fragment header: offset in 8-byte units, M flag, identification. */
    public static Ext fragment(int offset8, boolean more, int id) {
        byte[] b = new byte[8];
        put16(b, 2, (offset8 & 0x1FFF) << 3 | (more ? 1 : 0));
        put32(b, 4, id);
        return new Ext(PROTO_FRAGMENT, b);
    }

    /** UDP header + payload; the checksum is filled by the IP builder. */
    public static byte[] udp(int srcPort, int dstPort, byte[] payload) {
        byte[] u = new byte[8 + payload.length];
        put16(u, 0, srcPort);
        put16(u, 2, dstPort);
        put16(u, 4, u.length);
        System.arraycopy(payload, 0, u, 8, payload.length);
        return u;
    }

    /** TCP header (20 bytes, seq 1, ack 0, window 65535) + payload; {@code flags} is the 12-bit field. */
    public static byte[] tcp(int srcPort, int dstPort, int flags, byte[] payload) {
        byte[] t = new byte[20 + payload.length];
        put16(t, 0, srcPort);
        put16(t, 2, dstPort);
        put32(t, 4, 1);
        put16(t, 12, 5 << 12 | flags & 0x0FFF);
        put16(t, 14, 0xFFFF);
        System.arraycopy(payload, 0, t, 20, payload.length);
        return t;
    }

    /** SCTP common header (verification tag 1) + chunk bytes; the CRC32c is filled by the IP builder. */
    public static byte[] sctp(int srcPort, int dstPort, byte[] chunks) {
        byte[] s = new byte[12 + chunks.length];
        put16(s, 0, srcPort);
        put16(s, 2, dstPort);
        put32(s, 4, 1);
        System.arraycopy(chunks, 0, s, 12, chunks.length);
        return s;
    }

    /** ICMP or ICMPv6 message: type, code, checksum (filled by the IP builder), the 4-byte {@code rest}, body. */
    public static byte[] icmp(int type, int code, int rest, byte[] body) {
        byte[] m = new byte[8 + body.length];
        m[0] = (byte) type;
        m[1] = (byte) code;
        put32(m, 4, rest);
        System.arraycopy(body, 0, m, 8, body.length);
        return m;
    }

    /** ND message (NS/NA): ICMPv6 header with the reserved/flags word, the target, then options. */
    public static byte[] nd(int type, int flagsWord, long targetHi, long targetLo, byte[]... options) {
        byte[] target = new byte[16];
        put64(target, 0, targetHi);
        put64(target, 8, targetLo);
        return icmp(type, 0, flagsWord, concat(target, concat(options)));
    }

    /** ND link-layer address option: 1 = source, 2 = target. */
    public static byte[] ndOption(int type, long mac) {
        byte[] o = new byte[8];
        o[0] = (byte) type;
        o[1] = 1;
        put48(o, 2, mac);
        return o;
    }

    /** ARP body with every field explicit (for Ethernet/IPv4: 1, 0x0800, 6, 4). */
    public static byte[] arpBody(int htype, int ptype, int hlen, int plen, int op, long sha, int spa, long tha,
                                 int tpa) {
        byte[] a = new byte[28];
        put16(a, 0, htype);
        put16(a, 2, ptype);
        a[4] = (byte) hlen;
        a[5] = (byte) plen;
        put16(a, 6, op);
        put48(a, 8, sha);
        put32(a, 14, spa);
        put48(a, 18, tha);
        put32(a, 24, tpa);
        return a;
    }

    /** {@code n} payload bytes 0, 1, 2, ... (mod 256): recognisable in dumps. */
    public static byte[] payload(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** {@code frame} zero-padded to at least {@code minLength} bytes (60 is the Ethernet minimum without FCS). */
    public static byte[] padTo(byte[] frame, int minLength) {
        return frame.length >= minLength ? frame : Arrays.copyOf(frame, minLength);
    }

    /** The arrays one after the other. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Hex dump on one line, for failure messages. */
    public static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit(x >>> 4 & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- internals

    private static byte[] optionsHeader(int units) {
        byte[] b = new byte[8 * units];
        b[1] = (byte) (units - 1);
        b[2] = 1;                                             // PadN option covering the rest
        b[3] = (byte) (b.length - 4);
        return b;
    }

    /**
     * Fills the checksum of the transport message at {@code p[at..]}: Internet checksum with the
     * pseudo-header sum {@code pseudo} (or without one if {@code pseudo} &lt; 0) for TCP, UDP,
     * ICMP and ICMPv6, CRC32c for SCTP. Messages too short to hold their header are left alone.
     */
    private static void transportChecksum(byte[] p, int at, int proto, long pseudo) {
        int len = p.length - at;
        int field = switch (proto) {
            case PROTO_TCP -> len >= 20 ? 16 : -1;
            case PROTO_UDP -> len >= 8 ? 6 : -1;
            case PROTO_ICMP, PROTO_ICMPV6 -> len >= 4 ? 2 : -1;
            case PROTO_SCTP -> len >= 12 ? 8 : -1;
            default -> -1;
        };
        if (field < 0) {
            return;
        }
        if (proto == PROTO_SCTP) {
            CRC32C crc = new CRC32C();
            crc.update(p, at, len);
            int v = (int) crc.getValue();
            // RFC 9260 appendix A: the CRC goes on the wire least significant byte first.
            put32(p, at + 8, Integer.reverseBytes(v));
            return;
        }
        int c = fold(sum(p, at, len, Math.max(pseudo, 0)));
        if (proto == PROTO_UDP && c == 0) {
            c = 0xFFFF;                                       // 0 means "no checksum" in UDP
        }
        put16(p, at + field, c);
    }

    private static long sum(byte[] b, int off, int len, long initial) {
        long s = initial;
        for (int i = 0; i + 1 < len; i += 2) {
            s += get16(b, off + i);
        }
        if ((len & 1) != 0) {
            s += (b[off + len - 1] & 0xFF) << 8;
        }
        return s;
    }

    private static int fold(long s) {
        while (s >>> 16 != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) ~s & 0xFFFF;
    }

    private static int get16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    static void put48(byte[] b, int at, long v) {
        put16(b, at, (int) (v >>> 32));
        put32(b, at + 2, (int) v);
    }

    static void put64(byte[] b, int at, long v) {
        put32(b, at, (int) (v >>> 32));
        put32(b, at + 4, (int) v);
    }
}
