package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFPortConfig;
import org.projectfloodlight.openflow.protocol.OFPortDesc;
import org.projectfloodlight.openflow.protocol.OFPortFeatures;
import org.projectfloodlight.openflow.protocol.OFPortState;
import org.projectfloodlight.openflow.protocol.OFPortStatsEntry;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.Set;
import java.util.StringJoiner;

/** Port descriptions and statistics as ovs-ofctl prints them (show, dump-ports-desc, dump-ports). */
final class PortPrinter {
    private PortPrinter() {}

    static String desc(OFPortDesc p) {
        StringBuilder s = new StringBuilder(" ").append(Ports.format(p.getPortNo())).append('(').append(p.getName()).append("): addr:")
                .append(p.getHwAddr()).append('\n');
        s.append("     config:     ").append(config(p.getConfig())).append('\n');
        s.append("     state:      ").append(state(p.getState())).append('\n');
        features(s, "current:    ", p.getCurr());
        features(s, "advertised: ", p.getAdvertised());
        features(s, "supported:  ", p.getSupported());
        features(s, "peer:       ", p.getPeer());
        if (p.getCurrSpeed() != 0 || p.getMaxSpeed() != 0) {
            s.append("     speed: ").append(p.getCurrSpeed() / 1000).append(" Mbps now, ").append(p.getMaxSpeed() / 1000).append(" Mbps max\n");
        }
        return s.toString();
    }

    private static String config(Set<OFPortConfig> c) {
        StringJoiner j = new StringJoiner(" ");
        for (OFPortConfig x : c) j.add(x.name());
        return j.length() == 0 ? "0" : j.toString();
    }

    private static String state(Set<OFPortState> st) {
        StringJoiner j = new StringJoiner(" ");
        for (OFPortState x : st) j.add(x.name());
        return j.length() == 0 ? "0" : j.toString();
    }

    private static void features(StringBuilder s, String label, Set<OFPortFeatures> f) {
        if (f.isEmpty()) return;
        StringJoiner j = new StringJoiner(" ");
        for (OFPortFeatures x : f) j.add(x.name().substring(3).replace('_', '-'));   // PF_10GB_FD -> 10GB-FD
        s.append("     ").append(label).append(j).append('\n');
    }

    static String stats(OFPortStatsEntry e) {
        OFPort p = e.getPortNo();
        String name = Ports.format(p);
        StringBuilder s = new StringBuilder("  port ").append(name.length() == 1 ? " " : "").append(name).append(": rx pkts=")
                .append(n(e.getRxPackets())).append(", bytes=").append(n(e.getRxBytes())).append(", drop=").append(n(e.getRxDropped()))
                .append(", errs=").append(n(e.getRxErrors())).append(", frame=").append(n(e.getRxFrameErr())).append(", over=")
                .append(n(e.getRxOverErr())).append(", crc=").append(n(e.getRxCrcErr())).append('\n');
        s.append("           tx pkts=").append(n(e.getTxPackets())).append(", bytes=").append(n(e.getTxBytes())).append(", drop=")
                .append(n(e.getTxDropped())).append(", errs=").append(n(e.getTxErrors())).append(", coll=").append(n(e.getCollisions())).append('\n');
        if (e.getDurationSec() != 0xffffffffL) {
            s.append("           duration=").append(e.getDurationSec()).append('.').append(String.format("%03d", e.getDurationNsec() / 1_000_000)).append("s\n");
        }
        return s.toString();
    }

    private static String n(U64 v) {
        return v.equals(U64.NO_MASK) ? "?" : Long.toUnsignedString(v.getValue());
    }
}
