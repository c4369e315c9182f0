package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IpDscp;
import org.projectfloodlight.openflow.types.MacAddress;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.OFVlanVidMatch;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U64;
import org.projectfloodlight.openflow.types.VlanPcp;

import java.util.ArrayList;
import java.util.List;

import static io.vswitch.cli.ofctl.OfClient.OF13;

/**
 * ovs-ofctl's action syntax into OpenFlow 1.3 instructions: the actions are applied, except the
 * instruction-like ones ({@code meter:}, {@code clear_actions}, {@code write_actions(...)},
 * {@code write_metadata:}, {@code goto_table:}), which become instructions in OpenFlow's order.
 */
final class ActionParser {
    private ActionParser() {}

    static List<OFInstruction> parse(String text, Match match) throws OfctlException {
        try {
            return instructions(text, match);
        } catch (IllegalArgumentException e) {                   // a number in meter:, write_metadata:, goto_table:
            throw new OfctlException(text + ": " + e.getMessage());
        }
    }

    private static List<OFInstruction> instructions(String text, Match match) throws OfctlException {
        var ins = OF13.instructions();
        List<OFAction> apply = new ArrayList<>();
        OFInstruction meter = null, clear = null, write = null, metadata = null, gotoTable = null;
        for (String a : FlowParser.splitTopLevel(text)) {
            String lower = a.toLowerCase();
            if (lower.startsWith("meter:")) {
                meter = ins.buildMeter().setMeterId(FlowParser.longNumber(a.substring(6))).build();
            } else if (lower.equals("clear_actions")) {
                clear = ins.clearActions();
            } else if (lower.startsWith("write_actions(") && a.endsWith(")")) {
                write = ins.writeActions(actions(a.substring(14, a.length() - 1), match));
            } else if (lower.startsWith("write_metadata:")) {
                String[] vm = a.substring(15).split("/");
                U64 value = U64.of(FlowParser.longNumber(vm[0])), mask = vm.length > 1 ? U64.of(FlowParser.longNumber(vm[1])) : U64.NO_MASK;
                metadata = ins.writeMetadata(value, mask);
            } else if (lower.startsWith("goto_table:")) {
                gotoTable = ins.gotoTable(TableId.of(FlowParser.number(a.substring(11))));
            } else {
                apply.addAll(actions(a, match));
            }
        }
        List<OFInstruction> out = new ArrayList<>();
        if (meter != null) out.add(meter);
        if (!apply.isEmpty()) out.add(ins.applyActions(apply));
        if (clear != null) out.add(clear);
        if (write != null) out.add(write);
        if (metadata != null) out.add(metadata);
        if (gotoTable != null) out.add(gotoTable);
        return out;
    }

    /** A list of plain actions (inside write_actions, a bucket, a packet-out). */
    static List<OFAction> actions(String text, Match match) throws OfctlException {
        var act = OF13.actions();
        List<OFAction> out = new ArrayList<>();
        for (String a : FlowParser.splitTopLevel(text)) {
            String lower = a.toLowerCase();
            int colon = a.indexOf(':');
            String arg = colon < 0 ? "" : a.substring(colon + 1);
            String verb = colon < 0 ? lower : lower.substring(0, colon);
            try {
                switch (verb) {
                    case "drop" -> { }
                    case "output" -> out.add(act.output(Ports.parse(arg), 0xffff));
                    case "in_port", "normal", "flood", "all", "local" -> out.add(act.output(Ports.parse(verb), 0xffff));
                    case "controller" -> out.add(act.output(OFPort.CONTROLLER, colon < 0 ? 0xffff : FlowParser.number(arg)));
                    case "strip_vlan", "pop_vlan" -> out.add(act.popVlan());
                    case "push_vlan" -> out.add(act.pushVlan(EthType.of(FlowParser.number(arg))));
                    case "mod_vlan_vid" -> out.add(act.setField(OF13.oxms().vlanVid(OFVlanVidMatch.ofVlan(FlowParser.number(arg)))));
                    case "mod_vlan_pcp" -> out.add(act.setField(OF13.oxms().vlanPcp(VlanPcp.of((byte) FlowParser.number(arg)))));
                    case "mod_dl_src" -> out.add(act.setField(OF13.oxms().ethSrc(MacAddress.of(arg))));
                    case "mod_dl_dst" -> out.add(act.setField(OF13.oxms().ethDst(MacAddress.of(arg))));
                    case "mod_nw_src" -> out.add(act.setField(OF13.oxms().ipv4Src(IPv4Address.of(arg))));
                    case "mod_nw_dst" -> out.add(act.setField(OF13.oxms().ipv4Dst(IPv4Address.of(arg))));
                    case "mod_nw_tos" -> out.add(act.setField(OF13.oxms().ipDscp(IpDscp.of((byte) (FlowParser.number(arg) >> 2)))));
                    case "mod_tp_src", "mod_tp_dst" -> out.add(act.setField(FlowParser.oxm(verb.substring(4), arg, match)));
                    case "set_field" -> {
                        int arrow = arg.indexOf("->");
                        if (arrow < 0) throw new OfctlException(a + ": set_field needs VALUE->FIELD");
                        out.add(act.setField(FlowParser.oxm(arg.substring(arrow + 2), arg.substring(0, arrow), match)));
                    }
                    case "dec_ttl" -> out.add(act.decNwTtl());
                    case "set_queue" -> out.add(act.setQueue(FlowParser.longNumber(arg)));
                    case "group" -> out.add(act.group(OFGroup.of((int) FlowParser.longNumber(arg))));
                    default -> {
                        if (Character.isDigit(a.charAt(0))) out.add(act.output(Ports.parse(a), 0xffff));      // a bare port number
                        else throw new OfctlException("unknown action " + a);
                    }
                }
            } catch (IllegalArgumentException e) {
                throw new OfctlException(a + ": " + e.getMessage());
            }
        }
        return out;
    }
}
