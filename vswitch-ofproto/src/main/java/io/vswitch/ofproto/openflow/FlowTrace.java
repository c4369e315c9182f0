package io.vswitch.ofproto.openflow;

import io.vswitch.ofproto.table.FlowEntry;
import io.vswitch.ofproto.table.FlowTables;
import io.vswitch.ofproto.table.GroupTable;
import io.vswitch.ofproto.table.OxmMatch;
import org.projectfloodlight.openflow.protocol.OFBucket;
import org.projectfloodlight.openflow.protocol.action.OFAction;
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
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ofproto/trace BRIDGE FLOW} (OVS: {@code ofproto/trace}): runs a packet described in OVS's
 * flow syntax through a bridge's authoritative tables and prints each table's matching flow, its
 * actions, and what the packet ends as. A field the flow does not give is zero, as in OVS.
 *
 * <p>The packet is kept as OXM basic fields (number to value), which is how the tables' matches are
 * kept too ({@link OxmMatch}): a flow matches when every field it names is present in the packet
 * and equal under its mask.
 */
final class FlowTrace {
    // OXM basic field numbers and their widths in bytes.
    static final int IN_PORT = 0, METADATA = 2, ETH_DST = 3, ETH_SRC = 4, ETH_TYPE = 5, VLAN_VID = 6, VLAN_PCP = 7, IP_DSCP = 8,
            IP_ECN = 9, IP_PROTO = 10, IPV4_SRC = 11, IPV4_DST = 12, TCP_SRC = 13, TCP_DST = 14, UDP_SRC = 15, UDP_DST = 16,
            ICMP_TYPE = 19, ICMP_CODE = 20, ARP_OP = 21, ARP_SPA = 22, ARP_TPA = 23, TUNNEL_ID = 38;
    /** Nicira's tunnel endpoints keep their whole OXM id (class 0x0001): no basic field number is that large. */
    static final int TUN_SRC = io.vswitch.ofproto.table.RuleCompiler.TUN_IPV4_SRC, TUN_DST = io.vswitch.ofproto.table.RuleCompiler.TUN_IPV4_DST;
    private static final Map<Integer, Integer> WIDTH = Map.ofEntries(Map.entry(IN_PORT, 4), Map.entry(METADATA, 8),
            Map.entry(ETH_DST, 6), Map.entry(ETH_SRC, 6), Map.entry(ETH_TYPE, 2), Map.entry(VLAN_VID, 2), Map.entry(VLAN_PCP, 1),
            Map.entry(IP_DSCP, 1), Map.entry(IP_ECN, 1), Map.entry(IP_PROTO, 1), Map.entry(IPV4_SRC, 4), Map.entry(IPV4_DST, 4),
            Map.entry(TCP_SRC, 2), Map.entry(TCP_DST, 2), Map.entry(UDP_SRC, 2), Map.entry(UDP_DST, 2), Map.entry(ICMP_TYPE, 1),
            Map.entry(ICMP_CODE, 1), Map.entry(ARP_OP, 2), Map.entry(ARP_SPA, 4), Map.entry(ARP_TPA, 4), Map.entry(TUNNEL_ID, 8),
            Map.entry(TUN_SRC, 4), Map.entry(TUN_DST, 4));
    /** OVS's names (and aliases) of the fields a trace's flow may give. */
    private static final Map<String, Integer> NAMES = Map.ofEntries(Map.entry("in_port", IN_PORT), Map.entry("metadata", METADATA),
            Map.entry("dl_dst", ETH_DST), Map.entry("eth_dst", ETH_DST), Map.entry("dl_src", ETH_SRC), Map.entry("eth_src", ETH_SRC),
            Map.entry("dl_type", ETH_TYPE), Map.entry("eth_type", ETH_TYPE), Map.entry("dl_vlan", VLAN_VID), Map.entry("vlan_vid", VLAN_VID),
            Map.entry("dl_vlan_pcp", VLAN_PCP), Map.entry("vlan_pcp", VLAN_PCP), Map.entry("ip_dscp", IP_DSCP), Map.entry("ip_ecn", IP_ECN),
            Map.entry("nw_proto", IP_PROTO), Map.entry("ip_proto", IP_PROTO), Map.entry("nw_src", IPV4_SRC), Map.entry("ip_src", IPV4_SRC),
            Map.entry("nw_dst", IPV4_DST), Map.entry("ip_dst", IPV4_DST), Map.entry("tp_src", -1), Map.entry("tp_dst", -2),
            Map.entry("tcp_src", TCP_SRC), Map.entry("tcp_dst", TCP_DST), Map.entry("udp_src", UDP_SRC), Map.entry("udp_dst", UDP_DST),
            Map.entry("icmp_type", ICMP_TYPE), Map.entry("icmp_code", ICMP_CODE), Map.entry("arp_op", ARP_OP),
            Map.entry("arp_spa", ARP_SPA), Map.entry("arp_tpa", ARP_TPA), Map.entry("tun_id", TUNNEL_ID), Map.entry("tunnel_id", TUNNEL_ID),
            Map.entry("tun_src", TUN_SRC), Map.entry("tun_dst", TUN_DST));
    /** Shorthands: the ethertype and IP protocol they stand for. */
    private static final Map<String, int[]> SHORTHANDS = Map.of("ip", new int[] {0x0800, -1}, "arp", new int[] {0x0806, -1},
            "tcp", new int[] {0x0800, 6}, "udp", new int[] {0x0800, 17}, "icmp", new int[] {0x0800, 1});

    private FlowTrace() {}

    /** The packet a flow string describes, every field it implies present (zero unless given). */
    static Map<Integer, Long> parse(String flow) {
        Map<String, String> given = new LinkedHashMap<>();
        int ethType = 0, proto = 0;
        for (String term : flow.split(",")) {
            term = term.trim();
            if (term.isEmpty()) continue;
            int[] sh = SHORTHANDS.get(term);
            if (sh != null) {
                ethType = sh[0];
                if (sh[1] >= 0) proto = sh[1];
                continue;
            }
            String[] kv = term.split("=", 2);
            if (kv.length != 2 || !NAMES.containsKey(kv[0])) {
                throw new IllegalArgumentException("unknown field or shorthand '" + term + "' (known: " + new TreeMap<>(NAMES).keySet() + ", " + SHORTHANDS.keySet() + ")");
            }
            given.put(kv[0], kv[1]);
        }
        Map<Integer, Long> p = new TreeMap<>();
        for (int f : new int[] {IN_PORT, METADATA, ETH_DST, ETH_SRC, ETH_TYPE, VLAN_VID, TUNNEL_ID, TUN_SRC, TUN_DST}) p.put(f, 0L);
        p.put(ETH_TYPE, (long) ethType);
        for (Map.Entry<String, String> e : given.entrySet()) {
            int f = NAMES.get(e.getKey());
            if (f == ETH_TYPE) p.put(ETH_TYPE, number(e.getValue()));
            if (f == IP_PROTO) proto = (int) number(e.getValue());
        }
        long type = p.get(ETH_TYPE);
        if (type == 0x0800) {
            for (int f : new int[] {IP_DSCP, IP_ECN, IP_PROTO, IPV4_SRC, IPV4_DST}) p.put(f, 0L);
            p.put(IP_PROTO, (long) proto);
            int[] l4 = switch (proto) {
                case 6 -> new int[] {TCP_SRC, TCP_DST};
                case 17 -> new int[] {UDP_SRC, UDP_DST};
                case 1 -> new int[] {ICMP_TYPE, ICMP_CODE};
                default -> new int[0];
            };
            for (int f : l4) p.put(f, 0L);
        } else if (type == 0x0806) {
            for (int f : new int[] {ARP_OP, ARP_SPA, ARP_TPA}) p.put(f, 0L);
        }
        for (Map.Entry<String, String> e : given.entrySet()) {
            int f = NAMES.get(e.getKey());
            if (f == -1 || f == -2) {                          // tp_src/tp_dst: the transport's own field
                f = proto == 17 ? (f == -1 ? UDP_SRC : UDP_DST) : (f == -1 ? TCP_SRC : TCP_DST);
            }
            if (!p.containsKey(f)) throw new IllegalArgumentException(e.getKey() + " needs its protocol (ip, tcp, udp, icmp or arp) in the flow");
            long v = value(f, e.getValue());
            if (f == VLAN_VID) {
                p.put(VLAN_VID, 0x1000 | (v & 0xfff));
                p.putIfAbsent(VLAN_PCP, 0L);
            } else {
                p.put(f, v);
            }
        }
        return p;
    }

    private static long value(int field, String s) {
        if (field == ETH_DST || field == ETH_SRC) return Long.parseLong(s.replace(":", ""), 16);
        if (field == IPV4_SRC || field == IPV4_DST || field == ARP_SPA || field == ARP_TPA || field == TUN_SRC || field == TUN_DST) {
            String[] o = s.split("\\.");
            if (o.length != 4) throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
            long v = 0;
            for (String b : o) v = v << 8 | Integer.parseInt(b);
            return v;
        }
        if (field == IN_PORT && s.equalsIgnoreCase("LOCAL")) return 0xfffffffeL;
        return number(s);
    }

    private static long number(String s) {
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }

    /** The packet map's key of an OXM field: its basic field number, the whole id of a tunnel endpoint, else -1. */
    private static int key(int oxmId) {
        if (oxmId == TUN_SRC || oxmId == TUN_DST) return oxmId;
        return oxmId >>> 7 == OxmMatch.OFPXMC_OPENFLOW_BASIC ? oxmId & 0x7f : -1;
    }

    /** Whether flow {@code m} matches the packet: every field it names is there and equal under the mask. */
    static boolean matches(OxmMatch m, Map<Integer, Long> p) {
        for (OxmMatch.Field f : m.fields()) {
            if (key(f.id()) < 0) return false;
            Long have = p.get(key(f.id()));
            if (have == null) return false;
            long mask = bytes(f.mask()), value = bytes(f.value());
            if ((have & mask) != value) return false;
        }
        return true;
    }

    private static long bytes(byte[] b) {
        long n = 0;
        for (int i = 0; i < Math.min(8, b.length); i++) n = n << 8 | (b[i] & 0xff);
        return n;
    }

    /** The trace's text, in the shape of OVS's. */
    static String trace(String bridge, String flow, FlowTables tables, GroupTable groups) {
        Map<Integer, Long> p = parse(flow);
        String start = format(p);
        StringBuilder out = new StringBuilder("Flow: ").append(start).append("\n\nbridge(\"").append(bridge).append("\")\n")
                .append("-".repeat(bridge.length() + 10)).append('\n');
        List<String> outputs = new ArrayList<>();
        List<OFAction> actionSet = new ArrayList<>();
        int table = 0;
        while (true) {
            FlowEntry hit = null;
            for (FlowEntry e : tables.select(table, OxmMatch.any(), OFPort.ANY, org.projectfloodlight.openflow.types.OFGroup.ANY, U64.ZERO, U64.ZERO)) {
                if (matches(e.key(), p)) {
                    hit = e;
                    break;
                }
            }
            if (hit == null) {
                out.append(String.format("%2d. No match.%n    drop%n", table));
                actionSet.clear();
                break;
            }
            out.append(String.format("%2d. %spriority %d%s%n", table, hit.key().fields().length == 0 ? "" : formatMatch(hit.key()) + ", ",
                    hit.priority(), hit.cookie().getValue() == 0 ? "" : ", cookie 0x" + Long.toHexString(hit.cookie().getValue())));
            int next = -1;
            for (OFInstruction i : hit.instructions()) {
                switch (i) {
                    case OFInstructionMeter m -> out.append("    meter:").append(m.getMeterId()).append('\n');
                    case OFInstructionApplyActions a -> apply(a.getActions(), p, outputs, groups, out, "    ");
                    case OFInstructionClearActions c -> {
                        actionSet.clear();
                        out.append("    clear_actions\n");
                    }
                    case OFInstructionWriteActions w -> {
                        actionSet.addAll(w.getActions());
                        out.append("    write_actions(").append(names(w.getActions())).append(")\n");
                    }
                    case OFInstructionWriteMetadata w -> {
                        long mask = w.getMetadataMask().getValue();
                        p.put(METADATA, (p.get(METADATA) & ~mask) | (w.getMetadata().getValue() & mask));
                        out.append("    write_metadata:0x").append(Long.toHexString(w.getMetadata().getValue())).append('\n');
                    }
                    case OFInstructionGotoTable g -> {
                        next = g.getTableId().getValue();
                        out.append("    goto_table:").append(next).append('\n');
                    }
                    default -> out.append("    ").append(i.getType()).append('\n');
                }
            }
            if (next < 0) break;
            table = next;
        }
        if (!actionSet.isEmpty()) {
            out.append("    executing the action set:\n");
            List<OFAction> ordered = new ArrayList<>();
            for (OFAction a : actionSet) if (a instanceof OFActionPopVlan) ordered.add(a);
            for (OFAction a : actionSet) if (a instanceof OFActionPushVlan) ordered.add(a);
            for (OFAction a : actionSet) if (!(a instanceof OFActionPopVlan || a instanceof OFActionPushVlan || a instanceof OFActionOutput || a instanceof OFActionGroup)) ordered.add(a);
            boolean group = actionSet.stream().anyMatch(a -> a instanceof OFActionGroup);
            for (OFAction a : actionSet) if (group ? a instanceof OFActionGroup : a instanceof OFActionOutput) ordered.add(a);
            apply(ordered, p, outputs, groups, out, "        ");
        }
        String end = format(p);
        out.append("\nFinal flow: ").append(end.equals(start) ? "unchanged" : end).append('\n');
        out.append("Datapath actions: ").append(outputs.isEmpty() ? "drop" : String.join(",", outputs)).append('\n');
        return out.toString();
    }

    private static void apply(List<OFAction> actions, Map<Integer, Long> p, List<String> outputs, GroupTable groups, StringBuilder out, String indent) {
        for (OFAction a : actions) {
            out.append(indent).append(name(a)).append('\n');
            switch (a) {
                case OFActionOutput o -> outputs.add(portName(o.getPort()));
                case OFActionPushVlan push -> {
                    p.put(VLAN_VID, 0x1000 | (p.get(VLAN_VID) & 0xfff));
                    p.putIfAbsent(VLAN_PCP, 0L);
                }
                case OFActionPopVlan pop -> {
                    p.put(VLAN_VID, 0L);
                    p.remove(VLAN_PCP);
                }
                case OFActionSetField s -> {
                    OxmMatch.Field f = OxmMatch.ofOxm(s.getField()).fields()[0];
                    int id = key(f.id());
                    long v = bytes(f.value());
                    p.put(id, id == VLAN_VID ? 0x1000 | (v & 0xfff) : v);
                }
                case OFActionGroup g -> {
                    GroupTable.Group group = groups.get(g.getGroup().getGroupNumber() & 0xffffffffL);
                    if (group == null) continue;
                    out.append(indent).append("  ").append(group.type().toString().toLowerCase()).append(" group, ")
                            .append(group.buckets().size()).append(" bucket(s)")
                            .append(group.type() == org.projectfloodlight.openflow.protocol.OFGroupType.ALL ? "" : "; the dataplane picks one per packet")
                            .append('\n');
                    int k = 0;
                    for (OFBucket b : group.buckets()) {
                        out.append(indent).append("  bucket ").append(k++).append(":\n");
                        Map<Integer, Long> copy = new TreeMap<>(p);      // each bucket works on its own clone
                        apply(b.getActions(), copy, outputs, groups, out, indent + "    ");
                    }
                }
                default -> { }
            }
        }
    }

    private static String names(List<OFAction> actions) {
        List<String> n = new ArrayList<>();
        for (OFAction a : actions) n.add(name(a));
        return String.join(",", n);
    }

    private static String name(OFAction a) {
        return switch (a) {
            case OFActionOutput o -> o.getPort().equals(OFPort.CONTROLLER) ? "CONTROLLER:" + (o.getMaxLen() & 0xffff)
                    : o.getPort().equals(OFPort.NORMAL) || o.getPort().equals(OFPort.FLOOD) || o.getPort().equals(OFPort.ALL)
                    || o.getPort().equals(OFPort.IN_PORT) || o.getPort().equals(OFPort.LOCAL) ? portName(o.getPort()) : "output:" + portName(o.getPort());
            case OFActionPushVlan push -> "push_vlan:0x" + Integer.toHexString(push.getEthertype().getValue());
            case OFActionPopVlan pop -> "pop_vlan";
            case OFActionGroup g -> "group:" + (g.getGroup().getGroupNumber() & 0xffffffffL);
            case OFActionSetField s -> {
                OxmMatch.Field f = OxmMatch.ofOxm(s.getField()).fields()[0];
                yield "set_field:" + value(key(f.id()), bytes(f.value())) + "->" + fieldName(key(f.id()));
            }
            default -> a.getType().toString().toLowerCase();
        };
    }

    private static String portName(OFPort port) {
        if (port.equals(OFPort.NORMAL)) return "NORMAL";
        if (port.equals(OFPort.FLOOD)) return "FLOOD";
        if (port.equals(OFPort.ALL)) return "ALL";
        if (port.equals(OFPort.IN_PORT)) return "IN_PORT";
        if (port.equals(OFPort.LOCAL)) return "LOCAL";
        if (port.equals(OFPort.CONTROLLER)) return "CONTROLLER";
        return Integer.toUnsignedString(port.getPortNumber());
    }

    /** The packet in OVS's flow syntax (its fields in a fixed order). */
    static String format(Map<Integer, Long> p) {
        List<String> terms = new ArrayList<>();
        long type = p.getOrDefault(ETH_TYPE, 0L);
        long proto = p.getOrDefault(IP_PROTO, 0L);
        if (type == 0x0800) terms.add(proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : "ip");
        else if (type == 0x0806) terms.add("arp");
        for (int f : new int[] {TUNNEL_ID, TUN_SRC, TUN_DST}) {      // as OVS: tunnel metadata first, when there is some
            long v = p.getOrDefault(f, 0L);
            if (v != 0) terms.add(fieldName(f) + "=" + value(f, v));
        }
        for (Map.Entry<Integer, Long> e : p.entrySet()) {
            int f = e.getKey();
            if (f == TUNNEL_ID || f == TUN_SRC || f == TUN_DST) continue;
            if (f == ETH_TYPE && (type == 0x0800 || type == 0x0806)) continue;
            if (f == IP_PROTO && (proto == 6 || proto == 17 || proto == 1)) continue;
            if ((f == METADATA || f == TUNNEL_ID || f == VLAN_PCP && (p.get(VLAN_VID) & 0x1000) == 0) && e.getValue() == 0) continue;
            terms.add(fieldName(f) + "=" + (f == VLAN_VID ? ((e.getValue() & 0x1000) == 0 ? "none" : Long.toString(e.getValue() & 0xfff))
                    : value(f, e.getValue())));
        }
        return String.join(",", terms);
    }

    /** A flow's match in OVS's syntax (masked fields as value/mask, CIDR for IPv4). */
    static String formatMatch(OxmMatch m) {
        List<String> terms = new ArrayList<>();
        for (OxmMatch.Field f : m.fields()) {
            int id = key(f.id());
            long v = bytes(f.value()), mask = bytes(f.mask());
            long full = WIDTH.getOrDefault(id, 8) == 8 ? -1L : (1L << (8 * WIDTH.getOrDefault(id, 8))) - 1;
            String value = value(id, v);
            if (mask != full) {
                boolean ipv4 = id == IPV4_SRC || id == IPV4_DST || id == ARP_SPA || id == ARP_TPA || id == TUN_SRC || id == TUN_DST;
                int bits = Long.bitCount(mask);
                value += ipv4 && mask == (full << (32 - bits) & full) ? "/" + bits : "/" + value(id, mask);
            }
            terms.add(fieldName(id) + "=" + value);
        }
        return String.join(",", terms);
    }

    private static String value(int field, long v) {
        return switch (field) {
            case ETH_DST, ETH_SRC -> String.format("%02x:%02x:%02x:%02x:%02x:%02x", v >>> 40 & 0xff, v >>> 32 & 0xff, v >>> 24 & 0xff,
                    v >>> 16 & 0xff, v >>> 8 & 0xff, v & 0xff);
            case IPV4_SRC, IPV4_DST, ARP_SPA, ARP_TPA, TUN_SRC, TUN_DST -> (v >>> 24 & 0xff) + "." + (v >>> 16 & 0xff) + "." + (v >>> 8 & 0xff) + "." + (v & 0xff);
            case ETH_TYPE, METADATA, TUNNEL_ID -> "0x" + Long.toHexString(v);
            case IN_PORT -> v == 0xfffffffeL ? "LOCAL" : Long.toString(v);
            default -> Long.toString(v);
        };
    }

    private static String fieldName(int field) {
        return switch (field) {
            case IN_PORT -> "in_port";
            case METADATA -> "metadata";
            case ETH_DST -> "dl_dst";
            case ETH_SRC -> "dl_src";
            case ETH_TYPE -> "dl_type";
            case VLAN_VID -> "dl_vlan";
            case VLAN_PCP -> "dl_vlan_pcp";
            case IP_DSCP -> "ip_dscp";
            case IP_ECN -> "ip_ecn";
            case IP_PROTO -> "nw_proto";
            case IPV4_SRC -> "nw_src";
            case IPV4_DST -> "nw_dst";
            case TCP_SRC, UDP_SRC -> "tp_src";
            case TCP_DST, UDP_DST -> "tp_dst";
            case ICMP_TYPE -> "icmp_type";
            case ICMP_CODE -> "icmp_code";
            case ARP_OP -> "arp_op";
            case ARP_SPA -> "arp_spa";
            case ARP_TPA -> "arp_tpa";
            case TUNNEL_ID -> "tun_id";
            case TUN_SRC -> "tun_src";
            case TUN_DST -> "tun_dst";
            default -> "field" + field;
        };
    }
}
