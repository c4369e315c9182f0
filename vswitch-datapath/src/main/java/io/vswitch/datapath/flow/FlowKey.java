package io.vswitch.datapath.flow;

/**
 * Layout of a flow key: {@link #WORDS} longs per packet. A batch keeps its keys back to back in one
 * {@code long[]} (packet i occupies {@code [i*WORDS, (i+1)*WORDS)}), so a key is contiguous for
 * hashing and masking while the rest of the batch metadata is struct-of-arrays.
 *
 * <p>A fixed word layout (instead of objects) lets caches hash, mask and compare keys word by word
 * with no allocation: a megaflow mask is simply another {@code long[WORDS]}. Field conventions follow
 * OVS's {@code struct flow} so that anyone reading OVS finds the same meanings:
 * <ul>
 *   <li>A VLAN TCI carries {@link #VLAN_PRESENT} (the CFI bit, 0x1000) when a tag exists.</li>
 *   <li>For ARP, the opcode sits in nw_proto, SPA/TPA in the IPv4 word, SHA/THA in their own words.</li>
 *   <li>For ICMP/ICMPv6, type is carried in tp_src and code in tp_dst.</li>
 *   <li>For ND, the target is in its own words, SLL/TLL reuse the ARP SHA/THA words.</li>
 * </ul>
 * Words 0..8 are metadata set by the datapath (in_port, registers, tunnel, marks), not by the parser.
 */
public final class FlowKey {
    private FlowKey() {}

    /** in_port (bits 0-31, datapath port index), recirc_id (bits 32-63). */
    public static final int W_IN_PORT = 0;
    /** OpenFlow metadata. */
    public static final int W_METADATA = 1;
    /** Registers reg0..reg7, two per word: even register in bits 32-63, odd register in bits 0-31. */
    public static final int W_REGS = 2;
    public static final int REG_WORDS = 4;
    /** Tunnel id (VNI / GRE key). */
    public static final int W_TUN_ID = 6;
    /** Tunnel IPv4 source (bits 32-63) and destination (bits 0-31). */
    public static final int W_TUN_IPV4 = 7;
    /** skb_priority / queue (bits 32-63) and pkt_mark (bits 0-31). */
    public static final int W_MARK = 8;
    /** Ethernet destination, 48 bits, network byte order as a number (first octet in bits 40-47). */
    public static final int W_ETH_DST = 9;
    /** Ethernet source, same encoding as {@link #W_ETH_DST}. */
    public static final int W_ETH_SRC = 10;
    /**
     * VLAN tags: outer TCI (bits 48-63), outer TPID (bits 32-47), inner TCI (bits 16-31),
     * inner TPID (bits 0-15). Absent tags are all zero.
     */
    public static final int W_VLAN = 11;
    /**
     * dl_type (bits 0-15; the innermost ethertype after VLAN tags; 0x05ff for 802.3 frames without
     * an ethertype, as OVS), nw_proto (16-23), nw_tos (24-31, DSCP&lt;&lt;2 | ECN), nw_ttl (32-39),
     * nw_frag (40-47, {@link #FRAG_ANY} | {@link #FRAG_LATER}).
     */
    public static final int W_L3 = 12;
    /** IPv4 source (bits 32-63) and destination (bits 0-31); ARP SPA / TPA likewise. */
    public static final int W_IPV4 = 13;
    public static final int W_IPV6_SRC_HI = 14;
    public static final int W_IPV6_SRC_LO = 15;
    public static final int W_IPV6_DST_HI = 16;
    public static final int W_IPV6_DST_LO = 17;
    /** IPv6 flow label (bits 0-19). */
    public static final int W_IPV6_LABEL = 18;
    /** tp_src (bits 48-63), tp_dst (bits 32-47), tcp_flags (bits 16-27). */
    public static final int W_TP = 19;
    /** ARP SHA or ND SLL (48 bits). */
    public static final int W_ARP_SHA = 20;
    /** ARP THA or ND TLL (48 bits). */
    public static final int W_ARP_THA = 21;
    public static final int W_ND_TARGET_HI = 22;
    public static final int W_ND_TARGET_LO = 23;

    public static final int WORDS = 24;

    public static final int VLAN_PRESENT = 0x1000;
    public static final int VLAN_VID_MASK = 0x0fff;
    public static final int FRAG_ANY = 1;
    public static final int FRAG_LATER = 2;

    public static final int ETH_TYPE_IPV4 = 0x0800;
    public static final int ETH_TYPE_ARP = 0x0806;
    public static final int ETH_TYPE_IPV6 = 0x86dd;
    public static final int ETH_TYPE_VLAN = 0x8100;
    public static final int ETH_TYPE_QINQ = 0x88a8;
    /** dl_type for 802.3 frames (length field instead of an ethertype), as OVS's FLOW_DL_TYPE_NONE. */
    public static final int ETH_TYPE_NONE = 0x05ff;

    /**
     * The last step of a multiply-xor hash over key words: mixes every bit of {@code h} into every
     * bit of the result (the splitmix64 finaliser), so that any slice of it, low bits included, can
     * index a table. Without it a product only carries a word's bits upwards, and keys that differ
     * in high bits alone (a UDP source port, the first octet of an address) share their low bits.
     */
    public static int avalanche(long h) {
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 31));
    }

    public static int inPort(long[] k, int base) { return (int) k[base + W_IN_PORT]; }
    public static long ethDst(long[] k, int base) { return k[base + W_ETH_DST]; }
    public static long ethSrc(long[] k, int base) { return k[base + W_ETH_SRC]; }
    public static int outerTci(long[] k, int base) { return (int) (k[base + W_VLAN] >>> 48) & 0xffff; }
    public static int outerTpid(long[] k, int base) { return (int) (k[base + W_VLAN] >>> 32) & 0xffff; }
    public static int innerTci(long[] k, int base) { return (int) (k[base + W_VLAN] >>> 16) & 0xffff; }
    public static int innerTpid(long[] k, int base) { return (int) k[base + W_VLAN] & 0xffff; }
    public static int dlType(long[] k, int base) { return (int) k[base + W_L3] & 0xffff; }
    public static int nwProto(long[] k, int base) { return (int) (k[base + W_L3] >>> 16) & 0xff; }
    public static int nwTos(long[] k, int base) { return (int) (k[base + W_L3] >>> 24) & 0xff; }
    public static int nwTtl(long[] k, int base) { return (int) (k[base + W_L3] >>> 32) & 0xff; }
    public static int nwFrag(long[] k, int base) { return (int) (k[base + W_L3] >>> 40) & 0xff; }
    public static int ipv4Src(long[] k, int base) { return (int) (k[base + W_IPV4] >>> 32); }
    public static int ipv4Dst(long[] k, int base) { return (int) k[base + W_IPV4]; }
    public static int tpSrc(long[] k, int base) { return (int) (k[base + W_TP] >>> 48) & 0xffff; }
    public static int tpDst(long[] k, int base) { return (int) (k[base + W_TP] >>> 32) & 0xffff; }
    public static int tcpFlags(long[] k, int base) { return (int) (k[base + W_TP] >>> 16) & 0x0fff; }

    /** True for group (multicast and broadcast) Ethernet addresses: the I/G bit of the first octet. */
    public static boolean isMulticast(long mac) { return (mac & 0x0100_0000_0000L) != 0; }
}
