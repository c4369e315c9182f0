package io.vswitch.ofproto.table;

import io.vswitch.datapath.flow.FlowKey;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionOutput;
import org.projectfloodlight.openflow.protocol.action.OFActionPopVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionPushVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionSetField;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionApplyActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionGotoTable;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteMetadata;
import org.projectfloodlight.openflow.types.OFPort;

import java.util.Set;

/**
 * Turns a flow of the authoritative tables into the dataplane's rule line (see the datapath's
 * {@code OfRule}): each OXM field becomes masked bits of the flow-key word that holds it (the
 * layout of {@link FlowKey}, which follows OVS's {@code struct flow}), each action an opcode.
 * {@link #SUPPORTED_FIELDS} is exactly what this mapping covers; {@link FlowCheck} refuses the rest.
 */
public final class RuleCompiler {
    /** OXM basic fields the dataplane matches. */
    public static final Set<Integer> SUPPORTED_FIELDS = Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 38);
    /**
     * OXM basic fields set_field can write in the dataplane: Ethernet, VLAN, IP DSCP and ECN, IPv4
     * and IPv6 addresses, the IPv6 flow label, TCP/UDP ports, ICMP/ICMPv6 type and code, the ARP
     * fields and the tunnel id; SCTP ports (the PMD recomputes the CRC32c); the ND target and link-layer addresses.
     */
    public static final Set<Integer> SETTABLE_FIELDS = Set.of(3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
            26, 27, 28, 29, 30, 31, 32, 33, 38);

    /** Nicira's tunnel endpoint fields (NXM_NX_TUN_IPV4_SRC/DST, class 0x0001), which ovs-ofctl sends for tun_src/tun_dst. */
    public static final int TUN_IPV4_SRC = 0x0001 << 7 | 31, TUN_IPV4_DST = 0x0001 << 7 | 32;

    private RuleCompiler() {}

    /** Whether the dataplane can match field {@code id} (OXM class and field). */
    public static boolean matchable(int id) {
        return id == TUN_IPV4_SRC || id == TUN_IPV4_DST || id >>> 7 == OxmMatch.OFPXMC_OPENFLOW_BASIC && SUPPORTED_FIELDS.contains(id & 0x7f);
    }

    /** Whether set_field can write field {@code id} in the dataplane. */
    public static boolean settable(int id) {
        return id == TUN_IPV4_SRC || id == TUN_IPV4_DST || id >>> 7 == OxmMatch.OFPXMC_OPENFLOW_BASIC && SETTABLE_FIELDS.contains(id & 0x7f);
    }

    public static String compile(FlowEntry e) {
        long[] mask = new long[FlowKey.WORDS];
        long[] value = new long[FlowKey.WORDS];
        int inPort = -1;
        for (OxmMatch.Field f : e.key().fields()) {
            int field = f.id() & 0x7f;
            long v = number(f.value()), m = number(f.mask());
            if (f.id() == TUN_IPV4_SRC || f.id() == TUN_IPV4_DST) {
                put(mask, value, FlowKey.W_TUN_IPV4, f.id() == TUN_IPV4_SRC ? 32 : 0, m, v);
                continue;
            }
            switch (field) {
                case 0, 1 -> inPort = (int) v;
                case 2 -> put(mask, value, FlowKey.W_METADATA, 0, m, v);
                case 3 -> put(mask, value, FlowKey.W_ETH_DST, 0, m, v);
                case 4 -> put(mask, value, FlowKey.W_ETH_SRC, 0, m, v);
                case 5 -> put(mask, value, FlowKey.W_L3, 0, m, v);
                case 6 -> put(mask, value, FlowKey.W_VLAN, 48, m & 0x1fff, v & 0x1fff);      // OFPVID_PRESENT is the TCI's 0x1000
                case 7 -> put(mask, value, FlowKey.W_VLAN, 61, m & 7, v & 7);
                case 8 -> put(mask, value, FlowKey.W_L3, 26, m & 0x3f, v & 0x3f);
                case 9 -> put(mask, value, FlowKey.W_L3, 24, m & 3, v & 3);
                case 10, 21 -> put(mask, value, FlowKey.W_L3, 16, m & 0xff, v & 0xff);       // ARP opcode sits in nw_proto
                case 11, 22 -> put(mask, value, FlowKey.W_IPV4, 32, m, v);
                case 12, 23 -> put(mask, value, FlowKey.W_IPV4, 0, m, v);
                case 13, 15, 17, 19, 29 -> put(mask, value, FlowKey.W_TP, 48, m & 0xffff, v & 0xffff);   // ICMP type in tp_src
                case 14, 16, 18, 20, 30 -> put(mask, value, FlowKey.W_TP, 32, m & 0xffff, v & 0xffff);   // ICMP code in tp_dst
                case 24, 32 -> put(mask, value, FlowKey.W_ARP_SHA, 0, m, v);
                case 25, 33 -> put(mask, value, FlowKey.W_ARP_THA, 0, m, v);
                case 26 -> put128(mask, value, FlowKey.W_IPV6_SRC_HI, f);
                case 27 -> put128(mask, value, FlowKey.W_IPV6_DST_HI, f);
                case 28 -> put(mask, value, FlowKey.W_IPV6_LABEL, 0, m & 0xfffff, v & 0xfffff);
                case 31 -> put128(mask, value, FlowKey.W_ND_TARGET_HI, f);
                case 38 -> put(mask, value, FlowKey.W_TUN_ID, 0, m, v);
                default -> throw new IllegalArgumentException("OXM field " + field + " cannot be matched by the dataplane");
            }
        }
        StringBuilder sb = new StringBuilder();
        int gotoTable = -1;
        String metadata = "-";
        // Instructions run in the specification's order whatever order they came in: meter,
        // apply_actions, clear_actions, write_actions (then write_metadata and goto_table, in the head).
        StringBuilder meter = new StringBuilder(), apply = new StringBuilder(), clear = new StringBuilder(), write = new StringBuilder();
        for (OFInstruction i : e.instructions()) {
            switch (i) {
                case OFInstructionGotoTable g -> gotoTable = g.getTableId().getValue();
                case OFInstructionWriteMetadata w -> metadata = Long.toHexString(w.getMetadata().getValue()) + "/" + Long.toHexString(w.getMetadataMask().getValue());
                case org.projectfloodlight.openflow.protocol.instruction.OFInstructionMeter m -> meter.append(" meter:").append(Long.toHexString(m.getMeterId()));
                case OFInstructionApplyActions a -> {
                    for (OFAction act : a.getActions()) apply.append(' ').append(action(act));
                }
                case org.projectfloodlight.openflow.protocol.instruction.OFInstructionClearActions c -> clear.append(" clear_actions");
                case org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteActions w -> {
                    for (OFAction act : w.getActions()) for (String one : action(act).split(" ")) write.append(" w/").append(one);
                }
                default -> throw new IllegalArgumentException("instruction " + i.getType() + " cannot be run by the dataplane");
            }
        }
        StringBuilder actions = meter.append(apply).append(clear).append(write);
        sb.append(Integer.toHexString(e.table())).append(' ').append(Integer.toHexString(e.priority())).append(' ')
                .append(inPort < 0 ? "-" : Integer.toHexString(inPort)).append(' ')
                .append(gotoTable < 0 ? "-" : Integer.toHexString(gotoTable)).append(' ').append(metadata);
        if (e.cookie().getValue() != 0) sb.append(' ').append(Long.toHexString(e.cookie().getValue()));
        sb.append(" ;");
        for (int w = 0; w < FlowKey.WORDS; w++) {
            if (mask[w] != 0) sb.append(' ').append(Integer.toHexString(w)).append(':').append(Long.toHexString(mask[w])).append(':').append(Long.toHexString(value[w]));
        }
        return sb.append(" ;").append(actions).toString();
    }

    /**
     * A group's line for the dataplane ({@code OfGroup}'s format); {@code live} says whether a port
     * (OpenFlow number) is up, for buckets that watch one.
     */
    public static String group(GroupTable.Group g, java.util.function.IntPredicate live) {
        StringBuilder sb = new StringBuilder("g ").append(Long.toHexString(g.id())).append(' ').append(switch (g.type()) {
            case ALL -> "all";
            case SELECT -> "select";
            case INDIRECT -> "indirect";
            case FF -> "ff";
        });
        for (org.projectfloodlight.openflow.protocol.OFBucket b : g.buckets()) {
            OFPort watch = b.getWatchPort();
            boolean up = watch.equals(OFPort.ANY) || live.test(watch.equals(OFPort.LOCAL) ? 65534 : watch.getPortNumber());
            sb.append(" ; ").append(up ? 1 : 0).append(' ').append(Integer.toHexString(b.getWeight()));
            String acts = actions(b.getActions());
            if (!acts.isEmpty()) sb.append(' ').append(acts);
        }
        return sb.toString();
    }

    /** A meter's line for the dataplane ({@code OfMeter}'s format; burst 0 when the meter has no BURST flag). */
    public static String meter(MeterTable.Meter m) {
        boolean burst = m.flags().contains(org.projectfloodlight.openflow.protocol.OFMeterFlags.BURST);
        StringBuilder sb = new StringBuilder("m ").append(Long.toHexString(m.id()))
                .append(m.flags().contains(org.projectfloodlight.openflow.protocol.OFMeterFlags.KBPS) ? " kbps" : " pktps");
        for (org.projectfloodlight.openflow.protocol.meterband.OFMeterBand b : m.bands()) {
            switch (b) {
                case org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDrop d -> sb.append(" ; drop ")
                        .append(Long.toHexString(d.getRate())).append(' ').append(Long.toHexString(burst ? d.getBurstSize() : 0));
                case org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDscpRemark r -> sb.append(" ; dscp_remark ")
                        .append(Long.toHexString(r.getRate())).append(' ').append(Long.toHexString(burst ? r.getBurstSize() : 0))
                        .append(' ').append(Integer.toHexString(r.getPrecLevel()));
                default -> throw new IllegalArgumentException("meter band " + b.getType() + " cannot be run by the dataplane");
            }
        }
        return sb.toString();
    }

    /** A port's port-mod settings for the dataplane ({@code p OFPORT BITS}, the OpenFlow 1.3 config bits in hex). */
    public static String port(int ofport, java.util.Set<org.projectfloodlight.openflow.protocol.OFPortConfig> config) {
        int bits = 0;
        for (org.projectfloodlight.openflow.protocol.OFPortConfig c : config) {
            bits |= switch (c) {
                case PORT_DOWN -> 1;
                case NO_RECV -> 1 << 2;
                case NO_FWD -> 1 << 5;
                case NO_PACKET_IN -> 1 << 6;
                default -> 0;
            };
        }
        return "p " + Integer.toHexString(ofport) + " " + Integer.toHexString(bits);
    }

    /** A packet-out's actions in the dataplane's format (space-separated). */
    public static String actions(java.util.List<OFAction> actions) {
        StringBuilder sb = new StringBuilder();
        for (OFAction a : actions) sb.append(sb.isEmpty() ? "" : " ").append(action(a));
        return sb.toString();
    }

    private static String action(OFAction a) {
        return switch (a) {
            case OFActionOutput o -> {
                OFPort p = o.getPort();
                if (p.equals(OFPort.IN_PORT)) yield "in_port";
                if (p.equals(OFPort.NORMAL)) yield "normal";
                if (p.equals(OFPort.FLOOD)) yield "flood";
                if (p.equals(OFPort.ALL)) yield "all";
                if (p.equals(OFPort.LOCAL)) yield "local";
                if (p.equals(OFPort.CONTROLLER)) yield "controller:" + Integer.toHexString(o.getMaxLen() & 0xffff);
                if (p.equals(OFPort.TABLE)) yield "table";
                yield "output:" + Integer.toHexString(p.getPortNumber());
            }
            case org.projectfloodlight.openflow.protocol.action.OFActionGroup g -> "group:" + Long.toHexString(g.getGroup().getGroupNumber() & 0xffffffffL);
            case OFActionPushVlan push -> "push_vlan:" + Integer.toHexString(push.getEthertype().getValue());
            case OFActionPopVlan pop -> "pop_vlan";
            case org.projectfloodlight.openflow.protocol.action.OFActionDecNwTtl dec -> "dec_ttl";
            case org.projectfloodlight.openflow.protocol.action.OFActionSetQueue q -> "set_queue:" + Long.toHexString(q.getQueueId());
            case OFActionSetField s -> {
                OxmMatch.Field f = OxmMatch.ofOxm(s.getField()).fields()[0];
                long v = number(f.value());
                if (f.id() == TUN_IPV4_SRC || f.id() == TUN_IPV4_DST) yield (f.id() == TUN_IPV4_SRC ? "set_tun_src:" : "set_tun_dst:") + Long.toHexString(v);
                yield switch (f.id() & 0x7f) {
                    case 3 -> "set_eth_dst:" + Long.toHexString(v);
                    case 4 -> "set_eth_src:" + Long.toHexString(v);
                    case 6 -> "set_vlan_vid:" + Long.toHexString(v & 0x0fff);
                    case 7 -> "set_vlan_pcp:" + Long.toHexString(v & 7);
                    case 8 -> "set_ip_dscp:" + Long.toHexString(v & 0x3f);
                    case 11 -> "set_ipv4_src:" + Long.toHexString(v);
                    case 12 -> "set_ipv4_dst:" + Long.toHexString(v);
                    case 13, 15, 17 -> "set_tp_src:" + Long.toHexString(v);
                    case 14, 16, 18 -> "set_tp_dst:" + Long.toHexString(v);
                    case 9 -> "set_ip_ecn:" + Long.toHexString(v & 3);
                    case 19, 29 -> "set_icmp_type:" + Long.toHexString(v & 0xff);
                    case 20, 30 -> "set_icmp_code:" + Long.toHexString(v & 0xff);
                    case 21 -> "set_arp_op:" + Long.toHexString(v & 0xffff);
                    case 22 -> "set_arp_spa:" + Long.toHexString(v);
                    case 23 -> "set_arp_tpa:" + Long.toHexString(v);
                    case 24 -> "set_arp_sha:" + Long.toHexString(v);
                    case 25 -> "set_arp_tha:" + Long.toHexString(v);
                    // 128 bits: two actions, the high and the low half
                    case 26 -> "set_ipv6_src_hi:" + Long.toHexString(number(f.value(), 0)) + " set_ipv6_src_lo:" + Long.toHexString(number(f.value(), 8));
                    case 27 -> "set_ipv6_dst_hi:" + Long.toHexString(number(f.value(), 0)) + " set_ipv6_dst_lo:" + Long.toHexString(number(f.value(), 8));
                    case 28 -> "set_ipv6_label:" + Long.toHexString(v & 0xfffff);
                    case 31 -> "set_nd_target_hi:" + Long.toHexString(number(f.value(), 0)) + " set_nd_target_lo:" + Long.toHexString(number(f.value(), 8));
                    case 32 -> "set_nd_sll:" + Long.toHexString(v);
                    case 33 -> "set_nd_tll:" + Long.toHexString(v);
                    case 38 -> "set_tun_id:" + Long.toHexString(v);
                    default -> throw new IllegalArgumentException("set_field on OXM field " + (f.id() & 0x7f) + " cannot be run by the dataplane");
                };
            }
            default -> throw new IllegalArgumentException("action " + a.getType() + " cannot be run by the dataplane");
        };
    }

    private static void put(long[] mask, long[] value, int word, int shift, long m, long v) {
        mask[word] |= m << shift;
        value[word] |= (v & m) << shift;
    }

    private static void put128(long[] mask, long[] value, int hiWord, OxmMatch.Field f) {
        byte[] v = f.value(), m = f.mask();
        mask[hiWord] |= number(m, 0);
        value[hiWord] |= number(v, 0) & number(m, 0);
        mask[hiWord + 1] |= number(m, 8);
        value[hiWord + 1] |= number(v, 8) & number(m, 8);
    }

    /** Big-endian bytes (up to 8) as a number. */
    private static long number(byte[] b) {
        long n = 0;
        for (int i = 0; i < Math.min(8, b.length); i++) n = n << 8 | (b[i] & 0xff);
        return n;
    }

    private static long number(byte[] b, int from) {
        long n = 0;
        for (int i = from; i < from + 8; i++) n = n << 8 | (b[i] & 0xff);
        return n;
    }
}
