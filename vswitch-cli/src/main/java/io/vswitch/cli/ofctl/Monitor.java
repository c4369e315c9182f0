package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFFlowRemoved;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFPacketIn;
import org.projectfloodlight.openflow.protocol.OFPacketInReason;
import org.projectfloodlight.openflow.protocol.OFPortStatus;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.OFPort;

/** The asynchronous messages {@code ofctl monitor} prints, in ovs-ofctl's words. */
final class Monitor {
    private Monitor() {}

    /** One message's text, or null for one monitor does not print (echo, barrier replies). */
    static String describe(OFMessage m) {
        return switch (m) {
            case OFPacketIn p -> {
                OFPort in = p.getMatch().get(MatchField.IN_PORT);
                String reason = p.getReason() == OFPacketInReason.NO_MATCH ? "no_match" : p.getReason() == OFPacketInReason.INVALID_TTL ? "invalid_ttl" : "action";
                yield Ofctl.header("OFPT_PACKET_IN", p.getXid()) + " table_id=" + p.getTableId().getValue() + " cookie=0x"
                        + Long.toHexString(p.getCookie().getValue()) + " total_len=" + p.getTotalLen() + " in_port=" + (in == null ? "?" : Ports.format(in))
                        + " (via " + reason + ") data_len=" + p.getData().length + " (unbuffered)";
            }
            case OFPortStatus s -> Ofctl.header("OFPT_PORT_STATUS", s.getXid()) + " " + s.getReason().name() + ":" + PortPrinter.desc(s.getDesc()).stripTrailing();
            case OFFlowRemoved r -> Ofctl.header("OFPT_FLOW_REMOVED", r.getXid()) + " " + FlowPrinter.match(r.getMatch(), r.getPriority())
                    + " reason=" + r.getReason().name().toLowerCase() + " table_id=" + r.getTableId().getValue() + " duration"
                    + FlowPrinter.duration(r.getDurationSec(), r.getDurationNsec()) + "s pkts" + r.getPacketCount().getValue() + " bytes" + r.getByteCount().getValue();
            default -> null;
        };
    }
}
