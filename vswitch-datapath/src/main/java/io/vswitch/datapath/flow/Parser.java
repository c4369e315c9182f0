package io.vswitch.datapath.flow;

import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_ARP;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_IPV4;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_IPV6;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_NONE;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_QINQ;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_VLAN;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One-pass parser from an Ethernet frame to the fixed-layout {@link FlowKey}.
 *
 * <p><b>Approach.</b> The frame is walked once, front to back, with one cursor. Each header is read
 * with a few wide big-endian loads (the whole Ethernet header is two loads, an IPv4 header three)
 * and every load is preceded by an explicit length check, so nothing can run past the frame: the
 * parser throws nothing, allocates nothing and never needs to come back. One pass is all the flow
 * caches need, since they only hash and compare the resulting words.
 *
 * <p><b>Garbage in.</b> Like OVS's {@code miniflow_extract}, a frame is parsed as far as it is
 * valid and no further: a bad network header (too short, IHL &lt; 5, total/payload length
 * inconsistent with the frame, wrong version) keeps the L2 fields and dl_type and stops; a short
 * transport header keeps the L3 fields and stops. Stopping instead of guessing gives identical
 * garbage identical keys, and nothing downstream is told about a header that is not there.
 *
 * <p><b>Offsets.</b> {@link #parse} returns the L3 and L4 offsets packed in one int. An offset is
 * reported only for a header that was validated (IPv4, IPv6 fixed header, Ethernet/IPv4 ARP; TCP
 * of 20 bytes, UDP 8, SCTP 12, ICMP/ICMPv6 8) or, for a protocol this parser does not decode
 * (unknown ethertype, 802.3 LLC, GRE, ...), when at least one byte is there. A reported offset is
 * therefore always below the length, and set-field actions may touch the header it points to.
 *
 * <p><b>OVS conventions</b> (see {@link FlowKey}): a VLAN TCI is stored with the CFI bit as
 * "present", at most two tags are parsed and a third one leaves its TPID as dl_type; 802.3 frames
 * get dl_type 0x05ff unless they carry LLC/SNAP with OUI 0, whose ethertype is used; ARP/RARP
 * opcodes over 255 are not stored; ICMP type/code go to tp_src/tp_dst; IPv6 later fragments get
 * nw_proto 44; ND SLL/TLL options go to the ARP SHA/THA words and a repeated option voids the
 * target and both addresses. Unlike OVS the IP version nibble is checked.
 *
 * <p>Performance: pass native segments only, so {@code MemorySegment.get} sees a single
 * implementation class and stays monomorphic.
 */
public final class Parser {
    private Parser() {}

    /** Offset value meaning "no such layer". */
    public static final int NONE = 0xFFFF;

    /** L3 header offset from a {@link #parse} result, or {@link #NONE}. */
    public static int l3Offset(int packed) { return packed & 0xFFFF; }

    /** L4 header offset from a {@link #parse} result, or {@link #NONE}. */
    public static int l4Offset(int packed) { return packed >>> 16; }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final int NO_LAYERS = pack(NONE, NONE);
    private static final int ETH_HLEN = 14;
    /** Smaller values in the ethertype position are 802.3 length fields. */
    private static final int ETH_TYPE_MIN = 0x0600;
    private static final int ETH_TYPE_RARP = 0x8035;
    /** LLC DSAP 0xAA, SSAP 0xAA, control 0x03, then SNAP OUI 00-00-00 (followed by the ethertype). */
    private static final long LLC_SNAP_OUI0 = 0xAAAA_0300_0000_0000L;
    /** ARP htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4. */
    private static final long ARP_ETH_IPV4 = 0x0001_0800_0604L;
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private static final int IPPROTO_HOPOPTS = 0;
    private static final int IPPROTO_ICMP = 1;
    private static final int IPPROTO_TCP = 6;
    private static final int IPPROTO_UDP = 17;
    private static final int IPPROTO_ROUTING = 43;
    private static final int IPPROTO_FRAGMENT = 44;
    private static final int IPPROTO_AH = 51;
    private static final int IPPROTO_ICMPV6 = 58;
    private static final int IPPROTO_DSTOPTS = 60;
    private static final int IPPROTO_SCTP = 132;
    private static final int ND_NEIGHBOR_SOLICIT = 135;
    private static final int ND_NEIGHBOR_ADVERT = 136;
    private static final int ND_OPT_SLL = 1;
    private static final int ND_OPT_TLL = 2;

    /**
     * Parses the frame at {@code [offset, offset + length)} of {@code mem} into the key slot at
     * {@code base}. Words {@link FlowKey#W_ETH_DST}..{@link FlowKey#WORDS}-1 are zeroed and filled;
     * the metadata words before them are left alone.
     *
     * <p>No frame content can make this throw; the caller guarantees that the range lies inside
     * {@code mem} and that {@code key} has room for the slot. Lengths above 65535 are treated as
     * 65535 so that an offset can never collide with {@link #NONE}.
     *
     * @return L3 offset in bits 0-15 and L4 offset in bits 16-31, relative to the frame start
     */
    public static int parse(MemorySegment mem, long offset, int length, long[] key, int base) {
        Arrays.fill(key, base + W_ETH_DST, base + WORDS, 0L);
        int len = Math.min(length, 0xFFFF);
        if (len < ETH_HLEN) {
            return NO_LAYERS;
        }
        long srcType = mem.get(U64, offset + 6);          // source MAC + ethertype
        key[base + W_ETH_DST] = mem.get(U64, offset) >>> 16;
        key[base + W_ETH_SRC] = srcType >>> 16;
        int type = (int) srcType & 0xFFFF;
        int p = 12;                                       // cursor on the ethertype / TPID

        // Tags need their 4 bytes plus the 2 of the next ethertype, else the TPID stays as dl_type.
        if (isVlan(type) && len - p >= 6) {
            long vlan = ((long) tci(mem, offset + p) << 48) | ((long) type << 32);
            p += 4;
            type = u16(mem, offset + p);
            if (isVlan(type) && len - p >= 6) {
                vlan |= ((long) tci(mem, offset + p) << 16) | type;
                p += 4;
                type = u16(mem, offset + p);
            }
            key[base + W_VLAN] = vlan;
        }
        p += 2;

        if (type < ETH_TYPE_MIN) {                        // 802.3: a length, maybe LLC/SNAP after it
            long llc = len - p >= 8 ? mem.get(U64, offset + p) : 0;
            type = ETH_TYPE_NONE;
            if ((llc & ~0xFFFFL) == LLC_SNAP_OUI0) {
                p += 8;
                int snapType = (int) llc & 0xFFFF;
                if (snapType >= ETH_TYPE_MIN) {
                    type = snapType;
                }
            }
        }

        key[base + W_L3] = type;
        if (type == ETH_TYPE_IPV4) {
            return ipv4(mem, offset, p, len, key, base);
        }
        if (type == ETH_TYPE_IPV6) {
            return ipv6(mem, offset, p, len, key, base);
        }
        if (type == ETH_TYPE_ARP || type == ETH_TYPE_RARP) {
            return arp(mem, offset, p, len, key, base, type);
        }
        return pack(p < len ? p : NONE, NONE);           // a protocol we do not decode
    }

    private static int ipv4(MemorySegment mem, long frame, int p, int len, long[] key, int base) {
        if (len - p < 20) {
            return NO_LAYERS;
        }
        long h = mem.get(U64, frame + p);                 // ver/ihl, tos, total length, id, flags/frag
        int verIhl = (int) (h >>> 56);
        int ihl = (verIhl & 0xF) << 2;
        int total = (int) (h >>> 32) & 0xFFFF;
        // Non-short-circuit '|': one branch for all the sanity checks.
        if ((verIhl >>> 4) != 4 | ihl < 20 | total < ihl | total > len - p) {
            return NO_LAYERS;
        }
        int tos = (int) (h >>> 48) & 0xFF;
        int fragField = (int) h & 0x3FFF;                 // MF + fragment offset; DF and reserved ignored
        int frag = fragField == 0 ? 0 : (fragField & 0x1FFF) == 0 ? FRAG_ANY : FRAG_ANY | FRAG_LATER;
        int ttlProto = u16(mem, frame + p + 8);
        int proto = ttlProto & 0xFF;
        key[base + W_IPV4] = mem.get(U64, frame + p + 12);  // source in bits 32-63, destination in 0-31
        key[base + W_L3] = l3Word(ETH_TYPE_IPV4, proto, tos, ttlProto >>> 8, frag);
        if ((frag & FRAG_LATER) != 0) {
            return pack(p, NONE);                         // no transport header in later fragments
        }
        // Transport parsing stops at the IP total length: Ethernet padding is not payload.
        return pack(p, l4(mem, frame, p + ihl, p + total, proto, IPPROTO_ICMP, key, base));
    }

    private static int ipv6(MemorySegment mem, long frame, int p, int len, long[] key, int base) {
        if (len - p < 40) {
            return NO_LAYERS;
        }
        long h = mem.get(U64, frame + p);                 // ver, tc, label, payload length, next, hop limit
        int payloadLen = (int) (h >>> 16) & 0xFFFF;
        if ((h >>> 60) != 6 | payloadLen > len - p - 40) {
            return NO_LAYERS;
        }
        key[base + W_IPV6_SRC_HI] = mem.get(U64, frame + p + 8);
        key[base + W_IPV6_SRC_LO] = mem.get(U64, frame + p + 16);
        key[base + W_IPV6_DST_HI] = mem.get(U64, frame + p + 24);
        key[base + W_IPV6_DST_LO] = mem.get(U64, frame + p + 32);

        int next = (int) (h >>> 8) & 0xFF;
        int q = p + 40;
        int end = q + payloadLen;
        int frag = 0;
        // Skip extension headers. Each one is at least 8 bytes, so the loop ends within the frame.
        while (isIpv6Ext(next)) {
            if (end - q < 8) {
                return pack(p, NONE);                     // like OVS: addresses kept, nothing else
            }
            long ext = mem.get(U64, frame + q);          // next header, length, ...
            int hdrLen;
            if (next == IPPROTO_FRAGMENT) {
                int offFlags = (int) (ext >>> 32) & 0xFFFF;
                if (offFlags != 0) {                      // offset 0 and M clear: an atomic fragment
                    frag = (offFlags & 0xFFF8) == 0 ? FRAG_ANY : FRAG_ANY | FRAG_LATER;
                }
                hdrLen = 8;
            } else if (next == IPPROTO_AH) {
                hdrLen = (((int) (ext >>> 48) & 0xFF) + 2) << 2;   // AH counts 4-byte units, minus 2
            } else {
                hdrLen = (((int) (ext >>> 48) & 0xFF) + 1) << 3;   // 8-byte units, not counting the first
            }
            if (hdrLen > end - q) {
                return pack(p, NONE);
            }
            q += hdrLen;
            if ((frag & FRAG_LATER) != 0) {
                next = IPPROTO_FRAGMENT;                  // OVS: the upper protocol is not known
                break;
            }
            next = (int) (ext >>> 56);
        }
        key[base + W_L3] = l3Word(ETH_TYPE_IPV6, next, (int) (h >>> 52) & 0xFF, (int) h & 0xFF, frag);
        key[base + W_IPV6_LABEL] = (h >>> 32) & 0xF_FFFF;
        if ((frag & FRAG_LATER) != 0) {
            return pack(p, NONE);
        }
        return pack(p, l4(mem, frame, q, end, next, IPPROTO_ICMPV6, key, base));
    }

    /**
     * Transport header at {@code [p, end)}; {@code icmp} is the ICMP flavour of the network layer
     * (ICMP is decoded only over IPv4, ICMPv6 only over IPv6, as in OVS).
     *
     * @return the L4 offset or {@link #NONE}
     */
    private static int l4(MemorySegment mem, long frame, int p, int end, int proto, int icmp,
                          long[] key, int base) {
        int avail = end - p;
        long tp;
        switch (proto) {
            case IPPROTO_TCP -> {
                if (avail < 20) {
                    return NONE;
                }
                // Ports in bits 32-63 straight from the wire; flags are the low 12 bits (with NS).
                tp = ((long) mem.get(U32, frame + p) << 32) | ((long) (u16(mem, frame + p + 12) & 0x0FFF) << 16);
            }
            case IPPROTO_UDP -> {
                if (avail < 8) {
                    return NONE;
                }
                tp = (long) mem.get(U32, frame + p) << 32;
            }
            case IPPROTO_SCTP -> {
                if (avail < 12) {
                    return NONE;
                }
                tp = (long) mem.get(U32, frame + p) << 32;
            }
            default -> {
                if (proto != icmp) {
                    return avail > 0 ? p : NONE;          // not decoded: report the payload only
                }
                if (avail < 8) {
                    return NONE;
                }
                int typeCode = u16(mem, frame + p);
                tp = ((long) (typeCode >>> 8) << 48) | ((long) (typeCode & 0xFF) << 32);
                if (proto == IPPROTO_ICMPV6
                        && (typeCode == ND_NEIGHBOR_SOLICIT << 8 || typeCode == ND_NEIGHBOR_ADVERT << 8)) {
                    nd(mem, frame, p + 8, end, key, base);
                }
            }
        }
        key[base + W_TP] = tp;
        return p;
    }

    /** Neighbor Solicitation/Advertisement body after the 8-byte ICMPv6 header: target, then options. */
    private static void nd(MemorySegment mem, long frame, int p, int end, long[] key, int base) {
        if (end - p < 16) {
            return;
        }
        long targetHi = mem.get(U64, frame + p);
        long targetLo = mem.get(U64, frame + p + 8);
        long sll = 0;
        long tll = 0;
        p += 16;
        // Options are type, length in 8-byte units, data; a zero or overlong length ends the list.
        while (end - p >= 8) {
            long opt = mem.get(U64, frame + p);          // type, length, then a MAC for SLL/TLL
            int optType = (int) (opt >>> 56);
            int optLen = ((int) (opt >>> 48) & 0xFF) << 3;
            if (optLen == 0 || optLen > end - p) {
                break;
            }
            if (optLen == 8) {
                if (optType == ND_OPT_SLL) {
                    if (sll != 0) {
                        return;                           // repeated option: the message is invalid
                    }
                    sll = opt & MAC_MASK;
                } else if (optType == ND_OPT_TLL) {
                    if (tll != 0) {
                        return;
                    }
                    tll = opt & MAC_MASK;
                }
            }
            p += optLen;
        }
        key[base + W_ND_TARGET_HI] = targetHi;
        key[base + W_ND_TARGET_LO] = targetLo;
        key[base + W_ARP_SHA] = sll;
        key[base + W_ARP_THA] = tll;
    }

    private static int arp(MemorySegment mem, long frame, int p, int len, long[] key, int base, int type) {
        if (len - p < 28) {
            return NO_LAYERS;
        }
        long h = mem.get(U64, frame + p);                 // htype, ptype, hlen, plen, opcode
        if ((h >>> 16) != ARP_ETH_IPV4) {
            return NO_LAYERS;                             // only Ethernet/IPv4 ARP is decoded
        }
        int op = (int) h & 0xFFFF;
        key[base + W_ARP_SHA] = mem.get(U64, frame + p + 8) >>> 16;
        key[base + W_ARP_THA] = mem.get(U64, frame + p + 18) >>> 16;
        key[base + W_IPV4] = ((long) mem.get(U32, frame + p + 14) << 32)
                | (mem.get(U32, frame + p + 24) & 0xFFFF_FFFFL);
        if (op <= 0xFF) {                                 // nw_proto holds only 8 bits (as OVS)
            key[base + W_L3] = type | (long) op << 16;
        }
        return pack(p, NONE);
    }

    private static boolean isVlan(int type) {
        return type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ;
    }

    private static boolean isIpv6Ext(int next) {
        return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS
                || next == IPPROTO_FRAGMENT || next == IPPROTO_AH;
    }

    /** TCI of the tag whose TPID is at {@code at}, with the CFI bit meaning "present". */
    private static int tci(MemorySegment mem, long at) {
        return u16(mem, at + 2) | VLAN_PRESENT;
    }

    private static long l3Word(int dlType, int proto, int tos, int ttl, int frag) {
        return dlType | (long) proto << 16 | (long) tos << 24 | (long) ttl << 32 | (long) frag << 40;
    }

    private static int u16(MemorySegment mem, long at) {
        return mem.get(U16, at) & 0xFFFF;
    }

    private static int pack(int l3, int l4) {
        return l3 | l4 << 16;
    }
}
