package io.vswitch.datapath.cache;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.pipeline.OfRule;

import static io.vswitch.datapath.flow.FlowKeyFormat.ipv4;
import static io.vswitch.datapath.flow.FlowKeyFormat.ipv6;
import static io.vswitch.datapath.flow.FlowKeyFormat.mac;

/**
 * A megaflow as {@code dpctl/dump-flows} prints it, in the syntax of OVS's datapath flows: the
 * fields its mask covers, {@code value/mask} where only some bits are, then its actions
 * ({@code recirc_id(0),in_port(2),eth(dst=02:00:00:00:00:0b),eth_type(0x0800),ipv4(dst=10.0.0.2),
 * actions:3}). Outputs are datapath port numbers (as {@code dpctl/show} lists them); the other
 * actions are in the dataplane's rule syntax, and NORMAL, FLOOD and ALL stay as they are, since
 * the PMD runs them for each packet.
 */
final class MegaflowFormat {
    private MegaflowFormat() {}

    /** Appends what the megaflow at {@code keys[at..]} matches (its key under {@code mask}). */
    static void match(StringBuilder sb, long[] keys, int at, long[] mask) {
        sb.append("recirc_id(0),in_port(").append(keys[at + FlowKey.W_IN_PORT] & 0xffffffffL).append(')');
        long tunId = mask[FlowKey.W_TUN_ID], tunIps = mask[FlowKey.W_TUN_IPV4];
        if (tunId != 0 || tunIps != 0) {
            sb.append(",tunnel(");
            int n = sb.length();
            if (tunId != 0) field(sb, "tun_id", "0x" + Long.toHexString(keys[at + FlowKey.W_TUN_ID]), tunId, -1L, "0x" + Long.toHexString(tunId));
            if ((tunIps >>> 32) != 0) ip4(sb, "src", keys[at + FlowKey.W_TUN_IPV4] >>> 32, tunIps >>> 32);
            if ((int) tunIps != 0) ip4(sb, "dst", keys[at + FlowKey.W_TUN_IPV4], tunIps);
            close(sb, n);
        }
        long mark = mask[FlowKey.W_MARK];
        if ((mark >>> 32) != 0) sb.append(",skb_priority(0x").append(Long.toHexString(keys[at + FlowKey.W_MARK] >>> 32)).append(')');
        if ((int) mark != 0) sb.append(",skb_mark(0x").append(Long.toHexString(keys[at + FlowKey.W_MARK] & 0xffffffffL)).append(')');
        sb.append(",packet_type(ns=0,id=0)");
        long dst = mask[FlowKey.W_ETH_DST], src = mask[FlowKey.W_ETH_SRC];
        if (dst != 0 || src != 0) {
            sb.append(",eth(");
            int n = sb.length();
            if (src != 0) field(sb, "src", mac(keys[at + FlowKey.W_ETH_SRC]), src, 0xffff_ffff_ffffL, mac(src));
            if (dst != 0) field(sb, "dst", mac(keys[at + FlowKey.W_ETH_DST]), dst, 0xffff_ffff_ffffL, mac(dst));
            close(sb, n);
        }
        long vlan = mask[FlowKey.W_VLAN] >>> 48;
        if (vlan != 0) {
            int tci = (int) (keys[at + FlowKey.W_VLAN] >>> 48);
            sb.append(",vlan(");
            int n = sb.length();
            if ((vlan & 0x0fff) != 0) field(sb, "vid", Integer.toString(tci & 0x0fff), vlan & 0x0fff, 0x0fff, Long.toString(vlan & 0x0fff));
            if ((vlan & 0xe000) != 0) field(sb, "pcp", Integer.toString(tci >>> 13), vlan >>> 13, 7, Long.toString(vlan >>> 13));
            if (vlan == FlowKey.VLAN_PRESENT) sb.append((tci & FlowKey.VLAN_PRESENT) != 0 ? "present," : "none,");
            close(sb, n);
        }
        long l3 = mask[FlowKey.W_L3];
        long l3v = keys[at + FlowKey.W_L3];
        int dlType = (int) l3v & 0xffff;
        if ((l3 & 0xffff) != 0) sb.append(",eth_type(0x").append(String.format("%04x", dlType)).append(')');
        long ip = mask[FlowKey.W_IPV4];
        boolean v6 = dlType == FlowKey.ETH_TYPE_IPV6;
        boolean arp = dlType == FlowKey.ETH_TYPE_ARP;
        if (arp && (ip != 0 || (l3 & 0xff_0000) != 0 || mask[FlowKey.W_ARP_SHA] != 0 || mask[FlowKey.W_ARP_THA] != 0)) {
            sb.append(",arp(");
            int n = sb.length();
            if ((ip >>> 32) != 0) ip4(sb, "sip", keys[at + FlowKey.W_IPV4] >>> 32, ip >>> 32);
            if ((int) ip != 0) ip4(sb, "tip", keys[at + FlowKey.W_IPV4], ip);
            if ((l3 & 0xff_0000) != 0) sb.append("op=").append((l3v >>> 16) & 0xff).append(',');
            if (mask[FlowKey.W_ARP_SHA] != 0) field(sb, "sha", mac(keys[at + FlowKey.W_ARP_SHA]), mask[FlowKey.W_ARP_SHA], 0xffff_ffff_ffffL, mac(mask[FlowKey.W_ARP_SHA]));
            if (mask[FlowKey.W_ARP_THA] != 0) field(sb, "tha", mac(keys[at + FlowKey.W_ARP_THA]), mask[FlowKey.W_ARP_THA], 0xffff_ffff_ffffL, mac(mask[FlowKey.W_ARP_THA]));
            close(sb, n);
        } else if (!arp && (ip != 0 || (l3 >>> 16) != 0 || v6 && (mask[FlowKey.W_IPV6_SRC_HI] | mask[FlowKey.W_IPV6_SRC_LO]
                | mask[FlowKey.W_IPV6_DST_HI] | mask[FlowKey.W_IPV6_DST_LO]) != 0)) {
            sb.append(v6 ? ",ipv6(" : ",ipv4(");
            int n = sb.length();
            if (v6) {
                ip6(sb, "src", keys, at, mask, FlowKey.W_IPV6_SRC_HI);
                ip6(sb, "dst", keys, at, mask, FlowKey.W_IPV6_DST_HI);
            } else {
                if ((ip >>> 32) != 0) ip4(sb, "src", keys[at + FlowKey.W_IPV4] >>> 32, ip >>> 32);
                if ((int) ip != 0) ip4(sb, "dst", keys[at + FlowKey.W_IPV4], ip);
            }
            if ((l3 & 0xff_0000) != 0) sb.append("proto=").append((l3v >>> 16) & 0xff).append(',');
            if ((l3 & 0xff00_0000L) != 0) sb.append(v6 ? "tclass=0x" : "tos=0x").append(Long.toHexString((l3v >>> 24) & 0xff)).append(',');
            if ((l3 & 0xff_0000_0000L) != 0) sb.append(v6 ? "hlimit=" : "ttl=").append((l3v >>> 32) & 0xff).append(',');
            if ((l3 & 0xff00_0000_0000L) != 0) {
                int frag = (int) (l3v >>> 40) & 0xff;
                sb.append("frag=").append((frag & FlowKey.FRAG_ANY) == 0 ? "no" : (frag & FlowKey.FRAG_LATER) != 0 ? "later" : "first").append(',');
            }
            close(sb, n);
        }
        long tp = mask[FlowKey.W_TP];
        if ((tp >>> 32) != 0) {
            int proto = (int) (l3v >>> 16) & 0xff;
            String l4 = (l3 & 0xff_0000) == 0 ? "l4" : switch (proto) {
                case 6 -> "tcp";
                case 17 -> "udp";
                case 132 -> "sctp";
                case 1 -> "icmp";
                case 58 -> "icmpv6";
                default -> "l4";
            };
            boolean icmp = l4.startsWith("icmp");
            long tpv = keys[at + FlowKey.W_TP];
            sb.append(',').append(l4).append('(');
            int n = sb.length();
            if ((tp >>> 48) != 0) field(sb, icmp ? "type" : "src", Long.toString(tpv >>> 48), tp >>> 48, 0xffff, "0x" + Long.toHexString(tp >>> 48));
            if (((tp >>> 32) & 0xffff) != 0) field(sb, icmp ? "code" : "dst", Long.toString((tpv >>> 32) & 0xffff), (tp >>> 32) & 0xffff, 0xffff,
                    "0x" + Long.toHexString((tp >>> 32) & 0xffff));
            close(sb, n);
        }
        if ((tp & 0x0fff_0000L) != 0) sb.append(",tcp_flags(0x").append(Long.toHexString((keys[at + FlowKey.W_TP] >>> 16) & 0xfff)).append(')');
    }

    /** Appends {@code actions:...} for a megaflow's recorded program. */
    static void actions(StringBuilder sb, long[] program, int length) {
        sb.append("actions:");
        int n = sb.length();
        for (int j = 0; j < length; j += 2) {
            int op = (int) program[j];
            long arg = program[j + 1];
            if (op == Translation.RULE || op == Translation.MISS) continue;
            if (op == Translation.PORT) {
                if (arg >= 0) sb.append(arg).append(',');
            } else if (op == OfRule.METER) {
                sb.append("meter(").append(arg).append("),");
            } else {
                sb.append(OfRule.actionName(op));
                if (op >= OfRule.PUSH_VLAN && op != OfRule.POP_VLAN && op != OfRule.DEC_TTL) sb.append(':').append(Long.toHexString(arg));
                sb.append(',');
            }
        }
        if (sb.length() == n) sb.append("drop");
        else sb.setLength(sb.length() - 1);
    }

    /** {@code name=value,} or {@code name=value/mask,} when {@code mask} is not all of {@code full}. */
    private static void field(StringBuilder sb, String name, String value, long mask, long full, String maskText) {
        sb.append(name).append('=').append(value);
        if (mask != full) sb.append('/').append(maskText);
        sb.append(',');
    }

    private static void ip4(StringBuilder sb, String name, long value, long mask) {
        field(sb, name, ipv4((int) value), mask & 0xffffffffL, 0xffffffffL, ipv4((int) mask));
    }

    private static void ip6(StringBuilder sb, String name, long[] keys, int at, long[] mask, int w) {
        long hi = mask[w], lo = mask[w + 1];
        if ((hi | lo) == 0) return;
        field(sb, name, ipv6(keys[at + w], keys[at + w + 1]), (hi & lo) == -1L ? -1L : 0, -1L, ipv6(hi, lo));
    }

    /** Ends a group opened at {@code n}: drops the trailing comma. */
    private static void close(StringBuilder sb, int n) {
        if (sb.length() > n) sb.setLength(sb.length() - 1);
        sb.append(')');
    }
}
