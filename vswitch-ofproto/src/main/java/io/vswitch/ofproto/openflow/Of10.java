package io.vswitch.ofproto.openflow;

import org.projectfloodlight.openflow.protocol.OFBadActionCode;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowMod;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionEnqueue;
import org.projectfloodlight.openflow.protocol.action.OFActionOutput;
import org.projectfloodlight.openflow.protocol.action.OFActionPopVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionPushVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionSetDlDst;
import org.projectfloodlight.openflow.protocol.action.OFActionSetDlSrc;
import org.projectfloodlight.openflow.protocol.action.OFActionSetField;
import org.projectfloodlight.openflow.protocol.action.OFActionSetNwDst;
import org.projectfloodlight.openflow.protocol.action.OFActionSetNwSrc;
import org.projectfloodlight.openflow.protocol.action.OFActionSetNwTos;
import org.projectfloodlight.openflow.protocol.action.OFActionSetTpDst;
import org.projectfloodlight.openflow.protocol.action.OFActionSetTpSrc;
import org.projectfloodlight.openflow.protocol.action.OFActionSetVlanPcp;
import org.projectfloodlight.openflow.protocol.action.OFActionSetVlanVid;
import org.projectfloodlight.openflow.protocol.action.OFActionStripVlan;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionApplyActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteActions;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.protocol.oxm.OFOxm;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IpDscp;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.OFVlanVidMatch;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.TransportPort;
import org.projectfloodlight.openflow.types.U64;
import org.projectfloodlight.openflow.types.VlanPcp;
import org.projectfloodlight.openflow.types.VlanVid;

import java.util.ArrayList;
import java.util.List;

/**
 * OpenFlow 1.0, translated at the connection into the switch's 1.3 model and back. 1.0 has one
 * table as far as its flow-mods go, a fixed 12-field match and its own actions: {@code strip_vlan}
 * is pop_vlan, {@code mod_dl_src} a set_field, {@code mod_vlan_vid} a set_field on a tagged packet
 * and push_vlan plus set_field on an untagged one, and so on. Going back, what 1.0 cannot say (a
 * goto_table, a group, an IPv6 field) is left out of a dump, as 1.0 has no words for it; a 1.3
 * tool sees the whole flow.
 */
final class Of10 {
    private static final OFFactory OF13 = OFFactories.getFactory(OFVersion.OF_13);

    /** The match of a packet-out: nothing known. */
    static final Match ANY = OF13.buildMatch().build();

    private Of10() {}

    static boolean is10(OFFactory f) {
        return f.getVersion() == OFVersion.OF_10;
    }

    /** A 1.0 match in 1.3 form (openflowj already names 1.0's fields as OXM fields, by the match's protocol). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Match matchIn(Match m) {
        Match.Builder b = OF13.buildMatch();
        // OVS says "untagged" (vlan_tci=0x0000) as dl_vlan=0xffff with an exact dl_vlan_pcp of 0: a PCP without a tag means nothing
        boolean untagged = m.isExact(MatchField.VLAN_VID) && OFVlanVidMatch.UNTAGGED.equals(m.get(MatchField.VLAN_VID));
        for (MatchField f : m.getMatchFields()) {
            if (untagged && f == MatchField.VLAN_PCP) continue;
            if (m.isExact(f)) b.setExact(f, m.get(f));
            else if (m.isPartiallyMasked(f)) b.setMasked(f, m.getMasked(f));
        }
        return b.build();
    }

    /** A 1.3 match as 1.0 can say it: fields 1.0 has no place for are left out. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Match matchOut(OFFactory f10, Match m) {
        Match.Builder b = f10.buildMatch();
        for (MatchField f : m.getMatchFields()) {
            try {
                if (m.isExact(f)) b.setExact(f, m.get(f));
                else if (m.isPartiallyMasked(f)) b.setMasked(f, m.getMasked(f));
            } catch (UnsupportedOperationException | IllegalArgumentException notIn10) {
                // e.g. metadata, IPv6, a non-prefix IPv4 mask
            }
        }
        return b.build();
    }

    /** A 1.0 flow-mod in 1.3 form: table 0, the actions applied, no cookie filter (1.0 has none). */
    static OFFlowMod flowModIn(OFFlowMod fm) throws OfError {
        Match match = matchIn(fm.getMatch());
        List<OFAction> actions = actionsIn(fm.getActions(), match);
        OFFlowMod.Builder b = switch (fm.getCommand()) {
            case ADD -> OF13.buildFlowAdd();
            case MODIFY -> OF13.buildFlowModify();
            case MODIFY_STRICT -> OF13.buildFlowModifyStrict();
            case DELETE -> OF13.buildFlowDelete();
            case DELETE_STRICT -> OF13.buildFlowDeleteStrict();
        };
        boolean delete = fm.getCommand() == OFFlowModCommand.DELETE || fm.getCommand() == OFFlowModCommand.DELETE_STRICT;
        b.setXid(fm.getXid()).setMatch(match).setCookie(fm.getCookie()).setCookieMask(U64.ZERO)
                .setTableId(delete ? TableId.ALL : TableId.of(0)).setIdleTimeout(fm.getIdleTimeout()).setHardTimeout(fm.getHardTimeout())
                .setPriority(fm.getPriority()).setBufferId(fm.getBufferId()).setOutPort(fm.getOutPort()).setFlags(fm.getFlags())
                .setInstructions(actions.isEmpty() ? List.of() : List.of(OF13.instructions().applyActions(actions)));
        return b.build();
    }

    /** 1.0's modify adds the flow when it matches none (1.1 dropped that); this is the add. */
    static OFFlowMod addFor(OFFlowMod modify) {
        return OF13.buildFlowAdd().setXid(modify.getXid()).setMatch(modify.getMatch()).setCookie(modify.getCookie())
                .setTableId(TableId.of(0)).setIdleTimeout(modify.getIdleTimeout()).setHardTimeout(modify.getHardTimeout())
                .setPriority(modify.getPriority()).setFlags(modify.getFlags()).setInstructions(modify.getInstructions()).build();
    }

    /** 1.0 actions as the 1.3 ones that do the same to a packet that matched {@code match}. */
    static List<OFAction> actionsIn(List<OFAction> actions, Match match) throws OfError {
        var a = OF13.actions();
        var o = OF13.oxms();
        List<OFAction> out = new ArrayList<>(actions.size() + 1);
        IpProtocol proto = match.get(MatchField.IP_PROTO);
        for (OFAction x : actions) {
            switch (x) {
                case OFActionOutput output -> out.add(a.output(output.getPort(), output.getMaxLen()));
                case OFActionStripVlan strip -> out.add(a.popVlan());
                case OFActionSetVlanVid v -> {
                    pushIfUntagged(match, out, "mod_vlan_vid");
                    out.add(a.setField(o.vlanVid(OFVlanVidMatch.ofVlanVid(v.getVlanVid()))));
                }
                case OFActionSetVlanPcp p -> {
                    pushIfUntagged(match, out, "mod_vlan_pcp");
                    out.add(a.setField(o.vlanPcp(p.getVlanPcp())));
                }
                case OFActionSetDlSrc s -> out.add(a.setField(o.ethSrc(s.getDlAddr())));
                case OFActionSetDlDst d -> out.add(a.setField(o.ethDst(d.getDlAddr())));
                case OFActionSetNwSrc s -> out.add(a.setField(o.ipv4Src(s.getNwAddr())));
                case OFActionSetNwDst d -> out.add(a.setField(o.ipv4Dst(d.getNwAddr())));
                case OFActionSetNwTos t -> out.add(a.setField(o.ipDscp(IpDscp.of((byte) ((t.getNwTos() & 0xff) >> 2)))));
                case OFActionSetTpSrc s -> out.add(a.setField(transport(proto, true, s.getTpPort())));
                case OFActionSetTpDst d -> out.add(a.setField(transport(proto, false, d.getTpPort())));
                case OFActionEnqueue q -> {                      // 1.0's enqueue is 1.3's set_queue then output
                    out.add(a.setQueue(q.getQueueId()));
                    out.add(a.output(q.getPort(), 0xffff));
                }
                default -> throw OfError.badAction(OFBadActionCode.BAD_TYPE, x.getType() + " is not a supported OpenFlow 1.0 action");
            }
        }
        return out;
    }

    /**
     * 1.0's mod_vlan_vid/pcp tags an untagged packet. The switch decides that from the match: a
     * flow for untagged packets ({@code dl_vlan=0xffff}) pushes a tag first; one for tagged packets
     * sets the field; one that does not say cannot be run the same on both, and is refused.
     */
    private static void pushIfUntagged(Match match, List<OFAction> out, String what) throws OfError {
        OFVlanVidMatch vid = match.isExact(MatchField.VLAN_VID) ? match.get(MatchField.VLAN_VID) : null;
        boolean pushed = out.stream().anyMatch(x -> x instanceof OFActionPushVlan);
        if (pushed || vid != null && !vid.equals(OFVlanVidMatch.UNTAGGED)) return;
        if (vid == null) {
            throw OfError.badAction(OFBadActionCode.BAD_ARGUMENT, what + " needs a match on dl_vlan (a VLAN, or 0xffff for untagged packets)");
        }
        out.add(OF13.actions().pushVlan(EthType.VLAN_FRAME));
    }

    private static OFOxm<?> transport(IpProtocol proto, boolean source, TransportPort port) throws OfError {
        var o = OF13.oxms();
        if (IpProtocol.TCP.equals(proto)) return source ? o.tcpSrc(port) : o.tcpDst(port);
        if (IpProtocol.UDP.equals(proto)) return source ? o.udpSrc(port) : o.udpDst(port);
        throw OfError.badAction(OFBadActionCode.BAD_ARGUMENT, "mod_tp_src/dst need a match on tcp or udp");
    }

    /** A flow's instructions as 1.0 actions: the applied and written actions that 1.0 can say, in order. */
    static List<OFAction> actionsOut(OFFactory f10, List<OFInstruction> instructions) {
        List<OFAction> all = new ArrayList<>();
        for (OFInstruction i : instructions) {
            if (i instanceof OFInstructionApplyActions apply) all.addAll(apply.getActions());
            else if (i instanceof OFInstructionWriteActions write) all.addAll(write.getActions());
        }
        var a = f10.actions();
        List<OFAction> out = new ArrayList<>(all.size());
        for (int k = 0; k < all.size(); k++) {
            OFAction x = all.get(k);
            OFAction next = k + 1 < all.size() ? all.get(k + 1) : null;
            switch (x) {
                case org.projectfloodlight.openflow.protocol.action.OFActionSetQueue q when next instanceof OFActionOutput o -> {
                    out.add(a.enqueue(o.getPort(), q.getQueueId()));      // set_queue then output is 1.0's enqueue
                    k++;
                }
                case OFActionOutput output -> out.add(a.output(output.getPort(), output.getMaxLen()));
                case OFActionPopVlan pop -> out.add(a.stripVlan());
                case OFActionSetField s -> {
                    OFAction said = setFieldOut(f10, s.getField());
                    if (said != null) out.add(said);
                }
                default -> { }                             // push_vlan (said by the mod_vlan_vid after it), group, dec_ttl, ...
            }
        }
        return out;
    }

    private static OFAction setFieldOut(OFFactory f10, OFOxm<?> field) {
        var a = f10.actions();
        Object v = field.getValue();
        return switch (field.getMatchField().id) {
            case ETH_SRC -> a.setDlSrc((org.projectfloodlight.openflow.types.MacAddress) v);
            case ETH_DST -> a.setDlDst((org.projectfloodlight.openflow.types.MacAddress) v);
            case VLAN_VID -> a.setVlanVid(VlanVid.ofVlan(((OFVlanVidMatch) v).getVlan()));
            case VLAN_PCP -> a.setVlanPcp((VlanPcp) v);
            case IPV4_SRC -> a.setNwSrc((org.projectfloodlight.openflow.types.IPv4Address) v);
            case IPV4_DST -> a.setNwDst((org.projectfloodlight.openflow.types.IPv4Address) v);
            case IP_DSCP -> a.setNwTos((short) (((IpDscp) v).getDscpValue() << 2));
            case TCP_SRC, UDP_SRC -> a.setTpSrc((TransportPort) v);
            case TCP_DST, UDP_DST -> a.setTpDst((TransportPort) v);
            default -> null;
        };
    }
}
