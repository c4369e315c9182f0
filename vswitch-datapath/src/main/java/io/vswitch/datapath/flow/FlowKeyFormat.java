package io.vswitch.datapath.flow;

import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_ARP;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_IPV4;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_IPV6;
import static io.vswitch.datapath.flow.FlowKey.ETH_TYPE_VLAN;
import static io.vswitch.datapath.flow.FlowKey.FRAG_ANY;
import static io.vswitch.datapath.flow.FlowKey.FRAG_LATER;
import static io.vswitch.datapath.flow.FlowKey.VLAN_PRESENT;
import static io.vswitch.datapath.flow.FlowKey.VLAN_VID_MASK;

/**
 * OVS-style text for a flow key ({@code in_port=1,dl_src=...,dl_type=0x0800,nw_src=...}), for logs,
 * traces and tests. Control path only: it allocates freely.
 *
 * <p>Only the fields that mean something for the protocols present are printed, in OVS's order and
 * with OVS's names; metadata (registers, tunnel, marks) is printed only when non-zero.
 */
public final class FlowKeyFormat {
    private FlowKeyFormat() {}

    private static final int ETH_TYPE_RARP = 0x8035;
    private static final int IPPROTO_ICMP = 1;
    private static final int IPPROTO_TCP = 6;
    private static final int IPPROTO_UDP = 17;
    private static final int IPPROTO_ICMPV6 = 58;
    private static final int IPPROTO_SCTP = 132;
    private static final String[] TCP_FLAG_NAMES =
            {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"};

    /** Formats the key slot at {@code base}. */
    public static String format(long[] key, int base) {
        StringBuilder sb = new StringBuilder(192);
        long w = key[base + FlowKey.W_IN_PORT];
        sb.append("in_port=").append(w & 0xFFFF_FFFFL);
        hexIfSet(sb, "recirc_id", w >>> 32);
        hexIfSet(sb, "metadata", key[base + FlowKey.W_METADATA]);
        for (int r = 0; r < 2 * FlowKey.REG_WORDS; r++) {
            long regs = key[base + FlowKey.W_REGS + r / 2];
            hexIfSet(sb, "reg" + r, (r & 1) == 0 ? regs >>> 32 : regs & 0xFFFF_FFFFL);
        }
        hexIfSet(sb, "tun_id", key[base + FlowKey.W_TUN_ID]);
        long tun = key[base + FlowKey.W_TUN_IPV4];
        if (tun != 0) {
            sb.append(",tun_src=").append(ipv4((int) (tun >>> 32)));
            sb.append(",tun_dst=").append(ipv4((int) tun));
        }
        long mark = key[base + FlowKey.W_MARK];
        hexIfSet(sb, "skb_priority", mark >>> 32);
        hexIfSet(sb, "pkt_mark", mark & 0xFFFF_FFFFL);

        vlan(sb, FlowKey.outerTci(key, base), FlowKey.outerTpid(key, base), "");
        vlan(sb, FlowKey.innerTci(key, base), FlowKey.innerTpid(key, base), "1");
        sb.append(",dl_src=").append(mac(FlowKey.ethSrc(key, base)));
        sb.append(",dl_dst=").append(mac(FlowKey.ethDst(key, base)));
        int dlType = FlowKey.dlType(key, base);
        sb.append(",dl_type=0x").append(hex4(dlType));

        switch (dlType) {
            case ETH_TYPE_IPV4 -> {
                sb.append(",nw_src=").append(ipv4(FlowKey.ipv4Src(key, base)));
                sb.append(",nw_dst=").append(ipv4(FlowKey.ipv4Dst(key, base)));
                ip(sb, key, base, IPPROTO_ICMP);
            }
            case ETH_TYPE_IPV6 -> {
                sb.append(",ipv6_src=").append(ipv6(key[base + FlowKey.W_IPV6_SRC_HI],
                        key[base + FlowKey.W_IPV6_SRC_LO]));
                sb.append(",ipv6_dst=").append(ipv6(key[base + FlowKey.W_IPV6_DST_HI],
                        key[base + FlowKey.W_IPV6_DST_LO]));
                sb.append(",ipv6_label=0x").append(String.format("%05x", key[base + FlowKey.W_IPV6_LABEL] & 0xF_FFFF));
                ip(sb, key, base, IPPROTO_ICMPV6);
            }
            case ETH_TYPE_ARP, ETH_TYPE_RARP -> {
                sb.append(",arp_spa=").append(ipv4(FlowKey.ipv4Src(key, base)));
                sb.append(",arp_tpa=").append(ipv4(FlowKey.ipv4Dst(key, base)));
                sb.append(",arp_op=").append(FlowKey.nwProto(key, base));
                sb.append(",arp_sha=").append(mac(key[base + FlowKey.W_ARP_SHA]));
                sb.append(",arp_tha=").append(mac(key[base + FlowKey.W_ARP_THA]));
            }
            default -> { }
        }
        return sb.toString();
    }

    /** Ethernet address as {@code 52:54:00:00:00:01} (first octet in bits 40-47). */
    public static String mac(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            int b = (int) (mac >>> shift) & 0xFF;
            sb.append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 0xF, 16));
            if (shift != 0) {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    /** IPv4 address held as a number in network order (10.0.0.1 = 0x0a000001) as dotted quad. */
    public static String ipv4(int addr) {
        return (addr >>> 24) + "." + (addr >>> 16 & 0xFF) + "." + (addr >>> 8 & 0xFF) + "." + (addr & 0xFF);
    }

    /**
     * IPv6 address ({@code hi} = first 8 bytes) in RFC 5952 form: lower case, no leading zeros,
     * the first longest run of two or more zero groups as {@code ::}.
     */
    public static String ipv6(long hi, long lo) {
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) (hi >>> (48 - 16 * i)) & 0xFFFF;
            g[i + 4] = (int) (lo >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestStart = -1;
        int bestLen = 1;                                  // a single zero group is not compressed
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /** nw_* fields and the transport fields of an IPv4/IPv6 key. */
    private static void ip(StringBuilder sb, long[] key, int base, int icmp) {
        int proto = FlowKey.nwProto(key, base);
        int tos = FlowKey.nwTos(key, base);
        int frag = FlowKey.nwFrag(key, base);
        sb.append(",nw_proto=").append(proto);
        sb.append(",nw_tos=").append(tos & 0xFC);         // DSCP bits, as OVS; ECN separately
        if ((tos & 3) != 0) {
            sb.append(",nw_ecn=").append(tos & 3);
        }
        sb.append(",nw_ttl=").append(FlowKey.nwTtl(key, base));
        sb.append(",nw_frag=").append((frag & FRAG_LATER) != 0 ? "later" : (frag & FRAG_ANY) != 0 ? "first" : "no");
        if ((frag & FRAG_LATER) != 0) {
            return;                                       // later fragments carry no transport header
        }
        int src = FlowKey.tpSrc(key, base);
        int dst = FlowKey.tpDst(key, base);
        if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
            sb.append(",tp_src=").append(src).append(",tp_dst=").append(dst);
            if (proto == IPPROTO_TCP) {
                sb.append(",tcp_flags=").append(tcpFlags(FlowKey.tcpFlags(key, base)));
            }
        } else if (proto == icmp) {
            sb.append(",icmp_type=").append(src).append(",icmp_code=").append(dst);
            if (proto == IPPROTO_ICMPV6 && dst == 0 && (src == 135 || src == 136)) {
                sb.append(",nd_target=").append(ipv6(key[base + FlowKey.W_ND_TARGET_HI],
                        key[base + FlowKey.W_ND_TARGET_LO]));
                sb.append(",nd_sll=").append(mac(key[base + FlowKey.W_ARP_SHA]));
                sb.append(",nd_tll=").append(mac(key[base + FlowKey.W_ARP_THA]));
            }
        }
    }

    /** TCP flags as OVS prints them: names joined by '|', or 0. */
    private static String tcpFlags(int flags) {
        if (flags == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < TCP_FLAG_NAMES.length; bit++) {
            if ((flags & 1 << bit) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(TCP_FLAG_NAMES[bit]);
            }
        }
        return sb.toString();
    }

    /** dl_vlan/dl_vlan_pcp of a present tag (suffix "1" for the inner one), and a TPID other than 0x8100. */
    private static void vlan(StringBuilder sb, int tci, int tpid, String suffix) {
        if ((tci & VLAN_PRESENT) == 0) {
            return;
        }
        sb.append(",dl_vlan").append(suffix).append('=').append(tci & VLAN_VID_MASK);
        sb.append(",dl_vlan_pcp").append(suffix).append('=').append(tci >>> 13);
        if (tpid != ETH_TYPE_VLAN) {
            sb.append(",vlan_tpid").append(suffix).append("=0x").append(hex4(tpid));
        }
    }

    private static void hexIfSet(StringBuilder sb, String name, long value) {
        if (value != 0) {
            sb.append(',').append(name).append("=0x").append(Long.toHexString(value));
        }
    }

    private static String hex4(int v) {
        return String.format("%04x", v);
    }
}
