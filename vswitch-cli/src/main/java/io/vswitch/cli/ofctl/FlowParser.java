package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.protocol.oxm.OFOxm;
import org.projectfloodlight.openflow.types.ArpOpcode;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.ICMPv4Code;
import org.projectfloodlight.openflow.types.ICMPv4Type;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IPv4AddressWithMask;
import org.projectfloodlight.openflow.types.IPv6Address;
import org.projectfloodlight.openflow.types.IPv6AddressWithMask;
import org.projectfloodlight.openflow.types.IPv6FlowLabel;
import org.projectfloodlight.openflow.types.IpDscp;
import org.projectfloodlight.openflow.types.IpEcn;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.MacAddress;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFMetadata;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.OFVlanVidMatch;
import org.projectfloodlight.openflow.types.TransportPort;
import org.projectfloodlight.openflow.types.U64;
import org.projectfloodlight.openflow.types.VlanPcp;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.vswitch.cli.ofctl.OfClient.OF13;

/**
 * ovs-ofctl's flow syntax ({@code ovs-fields(7)}, {@code ovs-actions(7)}) for the fields and actions
 * this switch supports: {@code priority=10,tcp,in_port=1,nw_dst=10.0.0.0/8,tp_dst=80,actions=output:2}.
 * Shorthands (ip, tcp, arp, ...) set the ethertype and protocol that later fields depend on, as in
 * OVS; the old names (dl_src, nw_dst, tp_src) and the OXM ones (eth_src, ipv4_dst, tcp_src) both work.
 */
final class FlowParser {
    /** What a flow string says. */
    record Flow(int table, int priority, U64 cookie, U64 cookieMask, int idleTimeout, int hardTimeout,
                Set<OFFlowModFlags> flags, OFPort outPort, OFGroup outGroup, Match match, List<OFInstruction> instructions) {}

    /** Whether actions are required (add, modify), forbidden (delete, dump), or what. */
    enum Mode { ADD, MODIFY, FILTER }

    private static final Map<String, int[]> SHORTHANDS = Map.ofEntries(
            Map.entry("ip", new int[] {0x0800, -1}), Map.entry("ipv6", new int[] {0x86dd, -1}), Map.entry("arp", new int[] {0x0806, -1}),
            Map.entry("icmp", new int[] {0x0800, 1}), Map.entry("tcp", new int[] {0x0800, 6}), Map.entry("udp", new int[] {0x0800, 17}),
            Map.entry("sctp", new int[] {0x0800, 132}), Map.entry("icmp6", new int[] {0x86dd, 58}), Map.entry("tcp6", new int[] {0x86dd, 6}),
            Map.entry("udp6", new int[] {0x86dd, 17}), Map.entry("sctp6", new int[] {0x86dd, 132}));

    private FlowParser() {}

    static Flow parse(String text, Mode mode) throws OfctlException {
        String spec = text.trim(), actions = null;
        int at = actionsAt(spec);
        if (at >= 0) {
            actions = spec.substring(at + "actions=".length());
            spec = spec.substring(0, at);
        }
        if (mode != Mode.FILTER && actions == null) throw new OfctlException("must specify an action");
        if (mode == Mode.FILTER && actions != null) throw new OfctlException("actions are not allowed here");
        int table = mode == Mode.ADD ? 0 : 0xff, priority = 32768, idle = 0, hard = 0;
        U64 cookie = U64.ZERO, cookieMask = U64.ZERO;
        Set<OFFlowModFlags> flags = EnumSet.noneOf(OFFlowModFlags.class);
        OFPort outPort = OFPort.ANY;
        OFGroup outGroup = OFGroup.ANY;
        Match.Builder m = OF13.buildMatch();
        int ethType = -1, proto = -1;
        for (String term : spec.split("[,\\s]+")) {
            if (term.isEmpty()) continue;
            int[] sh = SHORTHANDS.get(term);
            if (sh != null) {
                ethType = sh[0];
                m.setExact(MatchField.ETH_TYPE, EthType.of(ethType));
                if (sh[1] >= 0) {
                    proto = sh[1];
                    m.setExact(MatchField.IP_PROTO, IpProtocol.of((short) proto));
                }
                continue;
            }
            switch (term) {
                case "send_flow_rem" -> { flags.add(OFFlowModFlags.SEND_FLOW_REM); continue; }
                case "check_overlap" -> { flags.add(OFFlowModFlags.CHECK_OVERLAP); continue; }
                case "reset_counts" -> { flags.add(OFFlowModFlags.RESET_COUNTS); continue; }
                case "no_packet_counts" -> { flags.add(OFFlowModFlags.NO_PKT_COUNTS); continue; }
                case "no_byte_counts" -> { flags.add(OFFlowModFlags.NO_BYT_COUNTS); continue; }
                default -> { }
            }
            int eq = term.indexOf('=');
            if (eq < 0) throw new OfctlException("field " + term + " missing value");
            String name = term.substring(0, eq), value = term.substring(eq + 1);
            try {
                switch (name) {
                    case "table" -> table = Integer.parseInt(value);
                    case "priority" -> priority = Integer.parseInt(value);
                    case "idle_timeout" -> idle = Integer.parseInt(value);
                    case "hard_timeout" -> hard = Integer.parseInt(value);
                    case "cookie" -> {
                        String[] vm = value.split("/");
                        cookie = U64.of(Long.parseUnsignedLong(strip0x(vm[0]), radix(vm[0])));
                        if (vm.length > 1) {
                            if (mode == Mode.ADD) throw new OfctlException("flow additions cannot use a cookie mask");
                            cookieMask = vm[1].equals("-1") ? U64.NO_MASK : U64.of(Long.parseUnsignedLong(strip0x(vm[1]), radix(vm[1])));
                        }
                    }
                    case "out_port" -> outPort = Ports.parse(value);
                    case "out_group" -> outGroup = OFGroup.of(Integer.parseUnsignedInt(value));
                    default -> {
                        int[] ctx = {ethType, proto};
                        match(m, name, value, ctx);
                        ethType = ctx[0];
                        proto = ctx[1];
                    }
                }
            } catch (IllegalArgumentException e) {            // numbers, addresses and masks openflowj refuses
                throw new OfctlException(value + ": bad value for " + name);
            }
        }
        Match match = m.build();
        List<OFInstruction> instructions = actions == null ? List.of() : ActionParser.parse(actions, match);
        return new Flow(table, priority, cookie, cookieMask, idle, hard, flags, outPort, outGroup, match, instructions);
    }

    /** Where "actions=" starts (outside parentheses), or -1. */
    private static int actionsAt(String s) {
        int at = s.indexOf("actions=");
        while (at > 0 && Character.isLetterOrDigit(s.charAt(at - 1))) at = s.indexOf("actions=", at + 1);  // write_actions( is not it
        return at;
    }

    private static void match(Match.Builder m, String name, String value, int[] ctx) throws OfctlException {
        String[] vm = value.split("/", 2);
        String v = vm[0], mask = vm.length > 1 ? vm[1] : null;
        boolean ipv6 = ctx[0] == 0x86dd, arp = ctx[0] == 0x0806;
        switch (name) {
            case "in_port" -> m.setExact(MatchField.IN_PORT, Ports.parse(value));
            case "dl_src", "eth_src" -> mac(m, MatchField.ETH_SRC, v, mask);
            case "dl_dst", "eth_dst" -> mac(m, MatchField.ETH_DST, v, mask);
            case "dl_type", "eth_type" -> {
                ctx[0] = number(v);
                m.setExact(MatchField.ETH_TYPE, EthType.of(ctx[0]));
            }
            case "dl_vlan" -> {
                int vid = number(v);
                m.setExact(MatchField.VLAN_VID, vid == 0xffff ? OFVlanVidMatch.UNTAGGED : OFVlanVidMatch.ofVlan(vid));
            }
            case "vlan_vid" -> m.setExact(MatchField.VLAN_VID, OFVlanVidMatch.ofRawVid((short) number(v)));
            case "dl_vlan_pcp", "vlan_pcp" -> m.setExact(MatchField.VLAN_PCP, VlanPcp.of((byte) number(v)));
            case "vlan_tci" -> {
                int tci = number(v), tciMask = mask == null ? 0xffff : number(mask);
                if (tci == 0 && (tciMask & 0x1fff) == 0x1fff) m.setExact(MatchField.VLAN_VID, OFVlanVidMatch.UNTAGGED);
                else if ((tciMask & 0x1fff) == 0x1fff) m.setExact(MatchField.VLAN_VID, OFVlanVidMatch.ofRawVid((short) (tci & 0x1fff)));
                else throw new OfctlException("vlan_tci=" + value + ": only whole VIDs (mask 0x1fff or 0xffff) are supported");
                if ((tciMask & 0xe000) == 0xe000 && tci != 0) m.setExact(MatchField.VLAN_PCP, VlanPcp.of((byte) (tci >> 13)));
            }
            case "nw_src", "ip_src", "ipv4_src" -> ipv4(m, arp ? MatchField.ARP_SPA : MatchField.IPV4_SRC, value);
            case "nw_dst", "ip_dst", "ipv4_dst" -> ipv4(m, arp ? MatchField.ARP_TPA : MatchField.IPV4_DST, value);
            case "arp_spa" -> ipv4(m, MatchField.ARP_SPA, value);
            case "arp_tpa" -> ipv4(m, MatchField.ARP_TPA, value);
            case "arp_sha" -> mac(m, MatchField.ARP_SHA, v, mask);
            case "arp_tha" -> mac(m, MatchField.ARP_THA, v, mask);
            case "arp_op" -> m.setExact(MatchField.ARP_OP, ArpOpcode.of(number(v)));
            case "nw_proto", "ip_proto" -> {
                if (arp) {
                    m.setExact(MatchField.ARP_OP, ArpOpcode.of(number(v)));
                } else {
                    ctx[1] = number(v);
                    m.setExact(MatchField.IP_PROTO, IpProtocol.of((short) ctx[1]));
                }
            }
            case "nw_tos" -> m.setExact(MatchField.IP_DSCP, IpDscp.of((byte) (number(v) >> 2)));
            case "ip_dscp" -> m.setExact(MatchField.IP_DSCP, IpDscp.of((byte) number(v)));
            case "nw_ecn", "ip_ecn" -> m.setExact(MatchField.IP_ECN, IpEcn.of((byte) number(v)));
            case "tp_src", "tp_dst" -> {
                boolean src = name.equals("tp_src");
                MatchField<TransportPort> f = switch (ctx[1]) {
                    case 6 -> src ? MatchField.TCP_SRC : MatchField.TCP_DST;
                    case 17 -> src ? MatchField.UDP_SRC : MatchField.UDP_DST;
                    case 132 -> src ? MatchField.SCTP_SRC : MatchField.SCTP_DST;
                    default -> throw new OfctlException(name + " needs tcp, udp or sctp before it");
                };
                m.setExact(f, TransportPort.of(number(v)));
            }
            case "tcp_src" -> m.setExact(MatchField.TCP_SRC, TransportPort.of(number(v)));
            case "tcp_dst" -> m.setExact(MatchField.TCP_DST, TransportPort.of(number(v)));
            case "udp_src" -> m.setExact(MatchField.UDP_SRC, TransportPort.of(number(v)));
            case "udp_dst" -> m.setExact(MatchField.UDP_DST, TransportPort.of(number(v)));
            case "sctp_src" -> m.setExact(MatchField.SCTP_SRC, TransportPort.of(number(v)));
            case "sctp_dst" -> m.setExact(MatchField.SCTP_DST, TransportPort.of(number(v)));
            case "icmp_type" -> {
                if (ipv6) m.setExact(MatchField.ICMPV6_TYPE, org.projectfloodlight.openflow.types.U8.of((short) number(v)));
                else m.setExact(MatchField.ICMPV4_TYPE, ICMPv4Type.of((short) number(v)));
            }
            case "icmp_code" -> {
                if (ipv6) m.setExact(MatchField.ICMPV6_CODE, org.projectfloodlight.openflow.types.U8.of((short) number(v)));
                else m.setExact(MatchField.ICMPV4_CODE, ICMPv4Code.of((short) number(v)));
            }
            case "ipv6_src" -> m.setMasked(MatchField.IPV6_SRC, IPv6AddressWithMask.of(value));
            case "ipv6_dst" -> m.setMasked(MatchField.IPV6_DST, IPv6AddressWithMask.of(value));
            case "ipv6_label" -> m.setExact(MatchField.IPV6_FLABEL, IPv6FlowLabel.of(number(v)));
            case "nd_target" -> m.setExact(MatchField.IPV6_ND_TARGET, IPv6Address.of(v));
            case "nd_sll" -> m.setExact(MatchField.IPV6_ND_SLL, MacAddress.of(v));
            case "nd_tll" -> m.setExact(MatchField.IPV6_ND_TLL, MacAddress.of(v));
            case "metadata" -> {
                if (mask == null) m.setExact(MatchField.METADATA, OFMetadata.of(U64.of(longNumber(v))));
                else m.setMasked(MatchField.METADATA, OFMetadata.of(U64.of(longNumber(v))), OFMetadata.of(U64.of(longNumber(mask))));
            }
            case "tun_id", "tunnel_id" -> {
                if (mask == null) m.setExact(MatchField.TUNNEL_ID, U64.of(longNumber(v)));
                else m.setMasked(MatchField.TUNNEL_ID, U64.of(longNumber(v)), U64.of(longNumber(mask)));
            }
            case "tun_src" -> ipv4(m, MatchField.TUNNEL_IPV4_SRC, value);
            case "tun_dst" -> ipv4(m, MatchField.TUNNEL_IPV4_DST, value);
            default -> throw new OfctlException("unknown keyword " + name);
        }
    }

    private static void mac(Match.Builder m, MatchField<MacAddress> f, String v, String mask) {
        if (mask == null) m.setExact(f, MacAddress.of(v));
        else m.setMasked(f, MacAddress.of(v), MacAddress.of(mask));
    }

    private static void ipv4(Match.Builder m, MatchField<IPv4Address> f, String value) {
        IPv4AddressWithMask a = IPv4AddressWithMask.of(value);
        if (a.getMask().equals(IPv4Address.NO_MASK)) m.setExact(f, a.getValue());
        else m.setMasked(f, a);
    }

    static int number(String s) {
        return (int) longNumber(s);
    }

    static long longNumber(String s) {
        return Long.parseUnsignedLong(strip0x(s), radix(s));
    }

    private static String strip0x(String s) {
        return s.startsWith("0x") || s.startsWith("0X") ? s.substring(2) : s;
    }

    private static int radix(String s) {
        return s.startsWith("0x") || s.startsWith("0X") ? 16 : 10;
    }

    /** A set_field's value for {@code field}, in OVS's notation for it. */
    static OFOxm<?> oxm(String field, String value, Match match) throws OfctlException {
        var o = OF13.oxms();
        IpProtocol proto = match.get(MatchField.IP_PROTO);
        try {
            return switch (field) {
                case "eth_src", "dl_src" -> o.ethSrc(MacAddress.of(value));
                case "eth_dst", "dl_dst" -> o.ethDst(MacAddress.of(value));
                case "vlan_vid" -> o.vlanVid(OFVlanVidMatch.ofRawVid((short) number(value)));
                case "vlan_pcp", "dl_vlan_pcp" -> o.vlanPcp(VlanPcp.of((byte) number(value)));
                case "ip_src", "nw_src", "ipv4_src" -> o.ipv4Src(IPv4Address.of(value));
                case "ip_dst", "nw_dst", "ipv4_dst" -> o.ipv4Dst(IPv4Address.of(value));
                case "ip_dscp" -> o.ipDscp(IpDscp.of((byte) number(value)));
                case "nw_tos" -> o.ipDscp(IpDscp.of((byte) (number(value) >> 2)));
                case "tcp_src" -> o.tcpSrc(TransportPort.of(number(value)));
                case "tcp_dst" -> o.tcpDst(TransportPort.of(number(value)));
                case "udp_src" -> o.udpSrc(TransportPort.of(number(value)));
                case "udp_dst" -> o.udpDst(TransportPort.of(number(value)));
                case "tun_id", "tunnel_id" -> o.tunnelId(U64.of(longNumber(value)));
                case "tun_src" -> o.tunnelIpv4Src(IPv4Address.of(value));
                case "tun_dst" -> o.tunnelIpv4Dst(IPv4Address.of(value));
                case "tp_src", "tp_dst" -> {
                    boolean src = field.equals("tp_src");
                    if (IpProtocol.TCP.equals(proto)) yield src ? o.tcpSrc(TransportPort.of(number(value))) : o.tcpDst(TransportPort.of(number(value)));
                    if (IpProtocol.UDP.equals(proto)) yield src ? o.udpSrc(TransportPort.of(number(value))) : o.udpDst(TransportPort.of(number(value)));
                    throw new OfctlException(field + " needs a tcp or udp flow");
                }
                default -> throw new OfctlException(field + " is not a field set_field can write here (eth_src, eth_dst, vlan_vid, vlan_pcp, "
                        + "ip_src, ip_dst, ip_dscp, tcp_src, tcp_dst, udp_src, udp_dst, tun_id, tun_src, tun_dst)");
            };
        } catch (IllegalArgumentException e) {
            throw new OfctlException(value + ": bad value for " + field);
        }
    }

    static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i).trim());
                start = i + 1;
            }
        }
        if (start < s.length()) out.add(s.substring(start).trim());
        out.removeIf(String::isEmpty);
        return out;
    }
}
