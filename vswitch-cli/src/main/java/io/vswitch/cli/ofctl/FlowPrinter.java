package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.OFFlowStatsEntry;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionDecNwTtl;
import org.projectfloodlight.openflow.protocol.action.OFActionGroup;
import org.projectfloodlight.openflow.protocol.action.OFActionOutput;
import org.projectfloodlight.openflow.protocol.action.OFActionPopVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionPushVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionSetField;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionApplyActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionClearActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionGotoTable;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionMeter;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteMetadata;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.protocol.oxm.OFOxm;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.MacAddress;
import org.projectfloodlight.openflow.types.Masked;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.OFVlanVidMatch;

import java.util.List;

/**
 * Flows as ovs-ofctl prints them ({@code ofputil_flow_stats_format} and {@code match_format} in
 * OVS): counters, then the match with its protocol shorthand first and fields in OVS's order, then
 * the actions. A reader comparing our dump with Open vSwitch's sees the same text.
 */
final class FlowPrinter {
    private FlowPrinter() {}

    static String flowStats(OFFlowStatsEntry e, boolean stats) {
        StringBuilder s = new StringBuilder(" ");
        if (stats) {
            s.append("cookie=0x").append(Long.toHexString(e.getCookie().getValue())).append(", duration=")
                    .append(duration(e.getDurationSec(), e.getDurationNsec())).append("s, table=").append(e.getTableId().getValue())
                    .append(", n_packets=").append(e.getPacketCount().getValue()).append(", n_bytes=").append(e.getByteCount().getValue()).append(", ");
        } else {
            if (e.getCookie().getValue() != 0) s.append("cookie=0x").append(Long.toHexString(e.getCookie().getValue())).append(", ");
            if (e.getTableId().getValue() != 0) s.append("table=").append(e.getTableId().getValue()).append(", ");
        }
        if (e.getIdleTimeout() != 0) s.append("idle_timeout=").append(e.getIdleTimeout()).append(", ");
        if (e.getHardTimeout() != 0) s.append("hard_timeout=").append(e.getHardTimeout()).append(", ");
        s.append(flags(e.getFlags())).append(match(e.getMatch(), e.getPriority()));
        if (s.charAt(s.length() - 1) != ' ') s.append(' ');
        return s.append("actions=").append(instructions(e.getInstructions())).toString();
    }

    /** The flow-mod flags, each followed by a space, in OVS's order. */
    static String flags(java.util.Set<OFFlowModFlags> flags) {
        StringBuilder s = new StringBuilder();
        for (OFFlowModFlags f : List.of(OFFlowModFlags.SEND_FLOW_REM, OFFlowModFlags.CHECK_OVERLAP, OFFlowModFlags.RESET_COUNTS,
                OFFlowModFlags.NO_PKT_COUNTS, OFFlowModFlags.NO_BYT_COUNTS)) {
            if (flags.contains(f)) s.append(flagName(f)).append(' ');
        }
        return s.toString();
    }

    private static String flagName(OFFlowModFlags f) {
        return switch (f) {
            case SEND_FLOW_REM -> "send_flow_rem";
            case CHECK_OVERLAP -> "check_overlap";
            case RESET_COUNTS -> "reset_counts";
            case NO_PKT_COUNTS -> "no_packet_counts";
            default -> "no_byte_counts";
        };
    }

    /** Seconds with milliseconds, as OVS prints durations ("1.160", or "3" when whole). */
    static String duration(long sec, long nsec) {
        return nsec == 0 ? Long.toString(sec) : String.format("%d.%03d", sec, nsec / 1_000_000);
    }

    static String match(Match m, int priority) {
        StringBuilder s = new StringBuilder();
        if (priority != 32768) s.append("priority=").append(priority).append(',');
        EthType type = m.get(MatchField.ETH_TYPE);
        IpProtocol proto = m.get(MatchField.IP_PROTO);
        boolean skipType = false, skipProto = false;
        if (type != null) {
            skipType = true;
            String shorthand = null;
            if (type.equals(EthType.IPv4) || type.equals(EthType.IPv6)) {
                String six = type.equals(EthType.IPv6) ? "6" : "";
                shorthand = type.equals(EthType.IPv6) ? "ipv6" : "ip";
                if (proto != null) {
                    skipProto = true;
                    switch (proto.getIpProtocolNumber()) {
                        case 1 -> { if (six.isEmpty()) shorthand = "icmp"; else skipProto = false; }
                        case 58 -> { if (!six.isEmpty()) shorthand = "icmp6"; else skipProto = false; }
                        case 6 -> shorthand = "tcp" + six;
                        case 17 -> shorthand = "udp" + six;
                        case 132 -> shorthand = "sctp" + six;
                        default -> skipProto = false;
                    }
                }
            } else if (type.equals(EthType.ARP)) {
                shorthand = "arp";
            } else {
                skipType = false;
            }
            if (shorthand != null) s.append(shorthand).append(',');
        }
        masked(s, m, MatchField.METADATA, "metadata", true);
        if (m.get(MatchField.IN_PORT) != null) s.append("in_port=").append(Ports.format(m.get(MatchField.IN_PORT))).append(',');
        if (m.isPartiallyMasked(MatchField.VLAN_VID)) {
            Masked<OFVlanVidMatch> mv = m.getMasked(MatchField.VLAN_VID);
            s.append("vlan_tci=").append(String.format("0x%04x/0x%04x", mv.getValue().getRawVid() & 0x1fff, mv.getMask().getRawVid() & 0x1fff)).append(',');
        } else if (m.get(MatchField.VLAN_VID) != null) {
            OFVlanVidMatch vid = m.get(MatchField.VLAN_VID);
            if (vid.equals(OFVlanVidMatch.UNTAGGED)) s.append("vlan_tci=0x0000/0x1fff,");
            else s.append("dl_vlan=").append(vid.getVlan()).append(',');
        }
        if (m.get(MatchField.VLAN_PCP) != null) s.append("dl_vlan_pcp=").append(m.get(MatchField.VLAN_PCP).getValue()).append(',');
        mac(s, m, MatchField.ETH_SRC, "dl_src");
        mac(s, m, MatchField.ETH_DST, "dl_dst");
        if (!skipType && type != null) s.append("dl_type=0x").append(String.format("%04x", type.getValue())).append(',');
        if (EthType.IPv6.equals(type)) {
            ipv6(s, m, MatchField.IPV6_SRC, "ipv6_src");
            ipv6(s, m, MatchField.IPV6_DST, "ipv6_dst");
            if (m.get(MatchField.IPV6_FLABEL) != null) s.append("ipv6_label=0x").append(String.format("%05x", m.get(MatchField.IPV6_FLABEL).getIPv6FlowLabelValue())).append(',');
        } else if (EthType.ARP.equals(type)) {
            ip(s, m, MatchField.ARP_SPA, "arp_spa");
            ip(s, m, MatchField.ARP_TPA, "arp_tpa");
        } else {
            ip(s, m, MatchField.IPV4_SRC, "nw_src");
            ip(s, m, MatchField.IPV4_DST, "nw_dst");
        }
        if (EthType.ARP.equals(type) && m.get(MatchField.ARP_OP) != null) s.append("arp_op=").append(m.get(MatchField.ARP_OP).getOpcode()).append(',');
        if (!skipProto && proto != null) s.append("nw_proto=").append(proto.getIpProtocolNumber()).append(',');
        if (EthType.ARP.equals(type)) {
            mac(s, m, MatchField.ARP_SHA, "arp_sha");
            mac(s, m, MatchField.ARP_THA, "arp_tha");
        }
        if (m.get(MatchField.IP_DSCP) != null) s.append("nw_tos=").append(m.get(MatchField.IP_DSCP).getDscpValue() << 2).append(',');
        if (m.get(MatchField.IP_ECN) != null) s.append("nw_ecn=").append(m.get(MatchField.IP_ECN).getEcnValue()).append(',');
        if (m.get(MatchField.ICMPV4_TYPE) != null) s.append("icmp_type=").append(m.get(MatchField.ICMPV4_TYPE).getType()).append(',');
        if (m.get(MatchField.ICMPV4_CODE) != null) s.append("icmp_code=").append(m.get(MatchField.ICMPV4_CODE).getCode()).append(',');
        if (m.get(MatchField.ICMPV6_TYPE) != null) s.append("icmp_type=").append(m.get(MatchField.ICMPV6_TYPE).getValue()).append(',');
        if (m.get(MatchField.ICMPV6_CODE) != null) s.append("icmp_code=").append(m.get(MatchField.ICMPV6_CODE).getValue()).append(',');
        if (m.get(MatchField.IPV6_ND_TARGET) != null) s.append("nd_target=").append(m.get(MatchField.IPV6_ND_TARGET)).append(',');
        if (m.get(MatchField.IPV6_ND_SLL) != null) s.append("nd_sll=").append(m.get(MatchField.IPV6_ND_SLL)).append(',');
        if (m.get(MatchField.IPV6_ND_TLL) != null) s.append("nd_tll=").append(m.get(MatchField.IPV6_ND_TLL)).append(',');
        for (MatchField<?> f : List.of(MatchField.TCP_SRC, MatchField.UDP_SRC, MatchField.SCTP_SRC)) {
            if (m.get(f) != null) s.append("tp_src=").append(m.get(f)).append(',');
        }
        for (MatchField<?> f : List.of(MatchField.TCP_DST, MatchField.UDP_DST, MatchField.SCTP_DST)) {
            if (m.get(f) != null) s.append("tp_dst=").append(m.get(f)).append(',');
        }
        masked(s, m, MatchField.TUNNEL_ID, "tun_id", true);
        ip(s, m, MatchField.TUNNEL_IPV4_SRC, "tun_src");
        ip(s, m, MatchField.TUNNEL_IPV4_DST, "tun_dst");
        if (!s.isEmpty() && s.charAt(s.length() - 1) == ',') s.setLength(s.length() - 1);
        return s.toString();
    }

    private static void mac(StringBuilder s, Match m, MatchField<MacAddress> f, String name) {
        if (m.isPartiallyMasked(f)) {
            Masked<MacAddress> v = m.getMasked(f);
            s.append(name).append('=').append(v.getValue()).append('/').append(v.getMask()).append(',');
        } else if (m.get(f) != null) {
            s.append(name).append('=').append(m.get(f)).append(',');
        }
    }

    private static void ip(StringBuilder s, Match m, MatchField<IPv4Address> f, String name) {
        if (m.isPartiallyMasked(f)) {
            Masked<IPv4Address> v = m.getMasked(f);
            s.append(name).append('=').append(v.getValue()).append('/');
            s.append(v.getMask().isCidrMask() ? Integer.toString(v.getMask().asCidrMaskLength()) : v.getMask().toString()).append(',');
        } else if (m.get(f) != null) {
            s.append(name).append('=').append(m.get(f)).append(',');
        }
    }

    private static void ipv6(StringBuilder s, Match m, MatchField<org.projectfloodlight.openflow.types.IPv6Address> f, String name) {
        if (m.isPartiallyMasked(f)) {
            Masked<org.projectfloodlight.openflow.types.IPv6Address> v = m.getMasked(f);
            s.append(name).append('=').append(v.getValue()).append('/');
            s.append(v.getMask().isCidrMask() ? Integer.toString(v.getMask().asCidrMaskLength()) : v.getMask().toString()).append(',');
        } else if (m.get(f) != null) {
            s.append(name).append('=').append(m.get(f)).append(',');
        }
    }

    /** A field printed as value or value/mask in hex (metadata, tun_id) or as the type prints itself (IPv6). */
    private static <F extends org.projectfloodlight.openflow.types.OFValueType<F>> void masked(StringBuilder s, Match m, MatchField<F> f, String name, boolean hex) {
        if (m.isPartiallyMasked(f)) {
            Masked<F> v = m.getMasked(f);
            s.append(name).append('=').append(hex ? hex(v.getValue()) : v.getValue().toString()).append('/')
                    .append(hex ? hex(v.getMask()) : v.getMask().toString()).append(',');
        } else if (m.get(f) != null) {
            s.append(name).append('=').append(hex ? hex(m.get(f)) : m.get(f).toString()).append(',');
        }
    }

    private static String hex(Object value) {
        String t = value.toString();
        if (t.startsWith("0x")) t = t.substring(2);
        t = t.replaceFirst("^0+(?=.)", "");
        return "0x" + t;
    }

    static String instructions(List<OFInstruction> instructions) {
        StringBuilder s = new StringBuilder();
        for (OFInstruction i : instructions) {
            switch (i) {
                case OFInstructionMeter m -> s.append("meter:").append(m.getMeterId()).append(',');
                case OFInstructionApplyActions a -> { if (!a.getActions().isEmpty()) s.append(actions(a.getActions())).append(','); }
                case OFInstructionClearActions c -> s.append("clear_actions,");
                case OFInstructionWriteActions w -> s.append("write_actions(").append(actions(w.getActions())).append("),");
                case OFInstructionWriteMetadata w -> s.append("write_metadata:").append(hex(w.getMetadata()))
                        .append(w.getMetadataMask().equals(org.projectfloodlight.openflow.types.U64.NO_MASK) ? "" : "/" + hex(w.getMetadataMask())).append(',');
                case OFInstructionGotoTable g -> s.append("goto_table:").append(g.getTableId().getValue()).append(',');
                default -> s.append(i.getType().toString().toLowerCase()).append(',');
            }
        }
        if (s.isEmpty()) return "drop";
        s.setLength(s.length() - 1);
        return s.toString();
    }

    static String actions(List<OFAction> actions) {
        if (actions.isEmpty()) return "drop";
        StringBuilder s = new StringBuilder();
        for (OFAction a : actions) {
            if (!s.isEmpty()) s.append(',');
            switch (a) {
                case OFActionOutput o -> {
                    OFPort p = o.getPort();
                    if (p.equals(OFPort.CONTROLLER)) s.append("CONTROLLER:").append(o.getMaxLen());
                    else if (p.getPortNumber() > 0 && (p.getPortNumber() & 0xffffffffL) < 0xffffff00L) s.append("output:").append(Ports.format(p));
                    else s.append(Ports.format(p));
                }
                case OFActionPopVlan pop -> s.append("pop_vlan");
                case OFActionPushVlan push -> s.append("push_vlan:0x").append(String.format("%04x", push.getEthertype().getValue()));
                case OFActionSetField f -> s.append("set_field:").append(setFieldValue(f.getField())).append("->").append(fieldName(f.getField().getMatchField()));
                case OFActionDecNwTtl d -> s.append("dec_ttl");
                case org.projectfloodlight.openflow.protocol.action.OFActionSetQueue q -> s.append("set_queue:").append(q.getQueueId());
                case OFActionGroup g -> s.append("group:").append(g.getGroup().getGroupNumber());
                default -> s.append(a.getType().toString().toLowerCase());
            }
        }
        return s.toString();
    }

    /** OVS's name of a field where it differs from the OXM one. */
    private static String fieldName(MatchField<?> f) {
        return switch (f.getName()) {
            case "ipv4_src" -> "ip_src";
            case "ipv4_dst" -> "ip_dst";
            case "icmpv4_type" -> "icmp_type";
            case "icmpv4_code" -> "icmp_code";
            default -> f.getName();
        };
    }

    private static String setFieldValue(OFOxm<?> f) {
        Object v = f.getValue();
        if (v instanceof OFVlanVidMatch vid) return Integer.toString(vid.getRawVid() & 0xffff);
        if (v instanceof org.projectfloodlight.openflow.types.IpDscp d) return Integer.toString(d.getDscpValue());
        if (v instanceof org.projectfloodlight.openflow.types.VlanPcp p) return Integer.toString(p.getValue());
        return v.toString();
    }
}
