package io.vswitch.ofproto.table;

import io.vswitch.ofproto.openflow.OfError;
import org.projectfloodlight.openflow.protocol.OFBadActionCode;
import org.projectfloodlight.openflow.protocol.OFBadInstructionCode;
import org.projectfloodlight.openflow.protocol.OFBadMatchCode;
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

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.vswitch.ofproto.table.OxmMatch.basic;

/**
 * Checks a flow before it enters a table, with the error the OpenFlow 1.3 specification assigns to
 * each problem: match prerequisites (section 7.2.3.6: a TCP port needs ip_proto=6, which needs an IP
 * eth_type), instruction order and targets, output ports, set-field consistency with the match.
 */
public final class FlowCheck {
    static final int IN_PORT = basic(0), IN_PHY_PORT = basic(1), ETH_TYPE = basic(5), VLAN_VID = basic(6),
            VLAN_PCP = basic(7), IP_DSCP = basic(8), IP_ECN = basic(9), IP_PROTO = basic(10), IPV4_SRC = basic(11),
            IPV4_DST = basic(12), TCP_SRC = basic(13), TCP_DST = basic(14), UDP_SRC = basic(15), UDP_DST = basic(16),
            SCTP_SRC = basic(17), SCTP_DST = basic(18), ICMPV4_TYPE = basic(19), ICMPV4_CODE = basic(20),
            ARP_OP = basic(21), ARP_THA = basic(25), IPV6_SRC = basic(26), IPV6_FLABEL = basic(28),
            ICMPV6_TYPE = basic(29), ICMPV6_CODE = basic(30), ND_TARGET = basic(31), ND_SLL = basic(32),
            ND_TLL = basic(33), MPLS_LABEL = basic(34), MPLS_BOS = basic(36);
    private static final int OFPVID_PRESENT = 0x1000;
    /** OFPP_MAX: ports above it are reserved ones. */
    private static final long OFPP_MAX = 0xffffff00L;

    private FlowCheck() {}

    /** Throws the BAD_MATCH error a field without its prerequisite, or one the dataplane cannot match, gets. */
    public static void match(OxmMatch m) throws OfError {
        for (OxmMatch.Field f : m.fields()) {
            if (!RuleCompiler.matchable(f.id())) {
                throw OfError.badMatch(OFBadMatchCode.BAD_FIELD, "match field " + (f.id() & 0x7f) + " (class 0x" + Integer.toHexString(f.id() >>> 7) + ") is not supported");
            }
            if (!prerequisitesHold(f.id(), m)) {
                throw OfError.badMatch(OFBadMatchCode.BAD_PREREQ, "match field " + (f.id() & 0x7f) + " lacks its prerequisite");
            }
        }
    }

    /** Whether a packet matching {@code m} is known to have field {@code id}. */
    static boolean prerequisitesHold(int id, OxmMatch m) {
        long ethType = m.exactValue(ETH_TYPE);
        long proto = m.exactValue(IP_PROTO);
        boolean ip = ethType == 0x0800 || ethType == 0x86dd;
        if (id == IN_PHY_PORT) return m.get(IN_PORT) != null;
        if (id == VLAN_PCP) return vlanPresent(m);
        if (id == IP_DSCP || id == IP_ECN || id == IP_PROTO) return ip;
        if (id == IPV4_SRC || id == IPV4_DST) return ethType == 0x0800;
        if (id == TCP_SRC || id == TCP_DST) return ip && proto == 6;
        if (id == UDP_SRC || id == UDP_DST) return ip && proto == 17;
        if (id == SCTP_SRC || id == SCTP_DST) return ip && proto == 132;
        if (id == ICMPV4_TYPE || id == ICMPV4_CODE) return ethType == 0x0800 && proto == 1;
        if (id >= ARP_OP && id <= ARP_THA) return ethType == 0x0806;
        if (id >= IPV6_SRC && id <= IPV6_FLABEL) return ethType == 0x86dd;
        if (id == ICMPV6_TYPE || id == ICMPV6_CODE) return ethType == 0x86dd && proto == 58;
        long icmp6 = ethType == 0x86dd && proto == 58 ? m.exactValue(ICMPV6_TYPE) : -1;
        if (id == ND_TARGET) return icmp6 == 135 || icmp6 == 136;
        if (id == ND_SLL) return icmp6 == 135;
        if (id == ND_TLL) return icmp6 == 136;
        if (id >= MPLS_LABEL && id <= MPLS_BOS) return ethType == 0x8847 || ethType == 0x8848;
        return true;
    }

    private static boolean vlanPresent(OxmMatch m) {
        OxmMatch.Field vid = m.get(VLAN_VID);
        return vid != null && (vid.value()[0] & 0x10) != 0 && (vid.mask()[0] & 0x10) != 0;
    }

    /**
     * Checks the instructions of a flow in {@code table} with match {@code m}; {@code tables} is how
     * many tables there are, {@code groupExists} and {@code meterExists} say what the switch has.
     */
    public static void instructions(List<OFInstruction> instructions, int table, int tables, OxmMatch m,
                                    java.util.function.LongPredicate groupExists, java.util.function.LongPredicate meterExists) throws OfError {
        Set<Object> seen = new HashSet<>();
        for (OFInstruction i : instructions) {
            if (!seen.add(i.getType())) throw OfError.badInstruction(OFBadInstructionCode.UNSUP_INST, "an instruction appears twice");
            switch (i) {
                case OFInstructionGotoTable g -> {
                    int next = g.getTableId().getValue();
                    if (next <= table || next >= tables) {
                        throw OfError.badInstruction(OFBadInstructionCode.BAD_TABLE_ID, "goto_table:" + next + " from table " + table);
                    }
                }
                case OFInstructionApplyActions a -> actions(a.getActions(), m, groupExists);
                case OFInstructionMeter meter -> {
                    if (!meterExists.test(meter.getMeterId())) {
                        throw OfError.meterModFailed("meter " + meter.getMeterId() + " does not exist");
                    }
                }
                case OFInstructionWriteMetadata w -> { }
                case OFInstructionWriteActions w -> writeActions(w.getActions(), m, groupExists);
                case OFInstructionClearActions c -> { }
                default -> throw OfError.badInstruction(OFBadInstructionCode.UNKNOWN_INST, "unsupported instruction " + i.getType());
            }
        }
    }

    /**
     * An action set holds one action of each kind (one set_field per field) and none that only makes
     * sense in a list, except that, as OVS allows, one write_actions may hold several outputs; the
     * set runs pop, push, then set-fields, so consistency is checked in that order.
     */
    private static void writeActions(List<OFAction> actions, OxmMatch m, java.util.function.LongPredicate groupExists) throws OfError {
        Set<Object> kinds = new HashSet<>();
        for (OFAction a : actions) {
            Object kind = a instanceof OFActionSetField s ? OxmMatch.ofOxm(s.getField()).fields()[0].id() : a.getType();
            if (!kinds.add(kind) && !(a instanceof OFActionOutput)) throw OfError.badAction(OFBadActionCode.UNSUPPORTED_ORDER, "an action set holds one " + a.getType() + " of each kind");
            if (a instanceof OFActionOutput o && o.getPort().equals(OFPort.TABLE)) {
                throw OfError.badAction(OFBadActionCode.BAD_OUT_PORT, "output:TABLE is for packet-outs");
            }
        }
        List<OFAction> ordered = new java.util.ArrayList<>();
        for (OFAction a : actions) if (a instanceof OFActionPopVlan) ordered.add(a);
        for (OFAction a : actions) if (a instanceof OFActionPushVlan) ordered.add(a);
        for (OFAction a : actions) if (!(a instanceof OFActionPopVlan) && !(a instanceof OFActionPushVlan)) ordered.add(a);
        actions(ordered, m, groupExists);
    }

    /**
     * Checks an action list; the VLAN state follows push/pop so that a set_field on vlan_vid after a
     * push is consistent. As in OVS, the tags known are counted (up to two: QinQ): one the match
     * guarantees, plus those pushed; a pop needs one. {@code m} null: a packet-out's actions, which may output to TABLE and whose
     * consistency is the packet's own (an edit the packet has no field for does nothing).
     */
    public static void actions(List<OFAction> actions, OxmMatch m, java.util.function.LongPredicate groupExists) throws OfError {
        boolean packetOut = m == null;
        int tags = packetOut ? Integer.MAX_VALUE : vlanPresent(m) ? 1 : 0;   // a packet-out's own tags are its business
        for (OFAction a : actions) {
            switch (a) {
                case OFActionOutput o -> {
                    OFPort p = o.getPort();
                    long n = p.getPortNumber() & 0xffffffffL;
                    if (n == 0 || (n > OFPP_MAX && !p.equals(OFPort.IN_PORT) && !p.equals(OFPort.NORMAL) && !p.equals(OFPort.FLOOD)
                            && !p.equals(OFPort.ALL) && !p.equals(OFPort.CONTROLLER) && !p.equals(OFPort.LOCAL)
                            && !(packetOut && p.equals(OFPort.TABLE)))) {
                        throw OfError.badAction(OFBadActionCode.BAD_OUT_PORT, "output to port " + p + " is not possible in a flow");
                    }
                }
                case OFActionGroup g -> {
                    if (!groupExists.test(g.getGroup().getGroupNumber() & 0xffffffffL)) {
                        throw OfError.badAction(OFBadActionCode.BAD_OUT_GROUP, "group " + g.getGroup() + " does not exist");
                    }
                }
                case OFActionPushVlan push -> {
                    int type = push.getEthertype().getValue();
                    if (type != 0x8100 && type != 0x88a8) {
                        throw OfError.badAction(OFBadActionCode.BAD_ARGUMENT, "push_vlan takes 0x8100 or 0x88a8, not 0x" + Integer.toHexString(type));
                    }
                    if (tags < 2) tags++;
                }
                case OFActionPopVlan pop -> {
                    if (tags == 0) throw OfError.badAction(OFBadActionCode.MATCH_INCONSISTENT, "pop_vlan on a flow that does not match a VLAN tag");
                    if (!packetOut) tags--;
                }
                case OFActionSetField s -> {
                    OxmMatch field = OxmMatch.ofOxm(s.getField());
                    int id = field.fields()[0].id();
                    if (!RuleCompiler.settable(id)) {
                        throw OfError.badAction(OFBadActionCode.BAD_SET_TYPE, "set_field on field " + (id & 0x7f) + " is not supported yet");
                    }
                    boolean ok = packetOut || (id == VLAN_PCP ? tags > 0 : id == VLAN_VID || prerequisitesHold(id, m));
                    if (!ok) throw OfError.badAction(OFBadActionCode.MATCH_INCONSISTENT, "set_field on field " + (id & 0x7f) + " that the match does not guarantee");
                }
                case org.projectfloodlight.openflow.protocol.action.OFActionDecNwTtl dec -> { }
                case org.projectfloodlight.openflow.protocol.action.OFActionSetQueue q -> { }                // any queue id, as OVS: one without QoS is the port's only queue
                default -> throw OfError.badAction(OFBadActionCode.BAD_TYPE, "action " + a.getType() + " is not supported yet");
            }
        }
    }
}
