package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadActionErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadInstructionErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadMatchErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadRequestErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFFlowModFailedErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFGroupModFailedErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFMeterModFailedErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFPortModFailedErrorMsg;

/** An ERROR as ovs-ofctl names it: {@code OFPT_ERROR (OF1.3) (xid=0x2): OFPBAC_BAD_OUT_GROUP}. */
final class Errors {
    private Errors() {}

    /** The error, and on a second line the request it answers when that is a flow-mod (as ovs-ofctl decodes the quoted request). */
    static OfctlException of(OFErrorMsg e, org.projectfloodlight.openflow.protocol.OFMessage request) {
        String text = describe(e);
        if (request instanceof org.projectfloodlight.openflow.protocol.OFFlowMod fm) {
            String cmd = switch (fm.getCommand()) {
                case ADD -> "ADD";
                case MODIFY -> "MOD";
                case MODIFY_STRICT -> "MOD_STRICT";
                case DELETE -> "DEL";
                case DELETE_STRICT -> "DEL_STRICT";
            };
            StringBuilder d = new StringBuilder(Ofctl.header("OFPT_FLOW_MOD", fm.getXid())).append(' ').append(cmd);
            if (fm.getTableId().getValue() != 0) d.append(" table:").append(fm.getTableId().getValue());
            d.append(' ').append(FlowPrinter.match(fm.getMatch(), fm.getPriority()));
            if (d.charAt(d.length() - 1) != ' ') d.append(' ');
            if (fm.getCookie().getValue() != 0 && fm.getCookieMask().getValue() == 0) d.append("cookie:0x").append(Long.toHexString(fm.getCookie().getValue())).append(' ');
            if (fm.getCookieMask().getValue() != 0) {
                d.append("cookie:0x").append(Long.toHexString(fm.getCookie().getValue())).append("/0x").append(Long.toHexString(fm.getCookieMask().getValue())).append(' ');
            }
            if (fm.getIdleTimeout() != 0) d.append("idle:").append(fm.getIdleTimeout()).append(' ');
            if (fm.getHardTimeout() != 0) d.append("hard:").append(fm.getHardTimeout()).append(' ');
            if (!fm.getOutPort().equals(org.projectfloodlight.openflow.types.OFPort.ANY)) d.append("out_port:").append(Ports.format(fm.getOutPort())).append(' ');
            d.append(FlowPrinter.flags(fm.getFlags()));
            text += "\n" + d + "actions=" + FlowPrinter.instructions(fm.getInstructions());
        } else if (request instanceof org.projectfloodlight.openflow.protocol.OFGroupMod gm) {
            String cmd = switch (gm.getCommand()) {
                case ADD -> "ADD";
                case MODIFY -> "MOD";
                default -> "DEL";
            };
            text += "\n" + Ofctl.header("OFPT_GROUP_MOD", gm.getXid()) + "\n " + cmd + " "
                    + GroupsAndMeters.describe(gm.getGroup(), gm.getGroupType(), gm.getCommand() == org.projectfloodlight.openflow.protocol.OFGroupModCommand.DELETE ? java.util.List.of() : gm.getBuckets());
        }
        return new OfctlException(text, true);
    }

    static String describe(OFErrorMsg e) {
        String code = switch (e) {
            case OFBadRequestErrorMsg x -> "OFPBRC_" + x.getCode();
            case OFBadActionErrorMsg x -> "OFPBAC_" + x.getCode();
            case OFBadInstructionErrorMsg x -> "OFPBIC_" + x.getCode();
            case OFBadMatchErrorMsg x -> "OFPBMC_" + x.getCode();
            case OFFlowModFailedErrorMsg x -> "OFPFMFC_" + x.getCode();
            case OFGroupModFailedErrorMsg x -> "OFPGMFC_" + x.getCode();
            case OFMeterModFailedErrorMsg x -> "OFPMMFC_" + x.getCode();
            case OFPortModFailedErrorMsg x -> "OFPPMFC_" + x.getCode();
            default -> e.getErrType().toString();
        };
        return "OFPT_ERROR (OF1.3) (xid=0x" + Long.toHexString(e.getXid()) + "): " + code;
    }
}
