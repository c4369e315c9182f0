package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.protocol.OFBucket;
import org.projectfloodlight.openflow.protocol.OFBucketCounter;
import org.projectfloodlight.openflow.protocol.OFGroupDescStatsEntry;
import org.projectfloodlight.openflow.protocol.OFGroupDescStatsReply;
import org.projectfloodlight.openflow.protocol.OFGroupStatsEntry;
import org.projectfloodlight.openflow.protocol.OFGroupStatsReply;
import org.projectfloodlight.openflow.protocol.OFGroupType;
import org.projectfloodlight.openflow.protocol.OFMeterBandStats;
import org.projectfloodlight.openflow.protocol.OFMeterConfig;
import org.projectfloodlight.openflow.protocol.OFMeterConfigStatsReply;
import org.projectfloodlight.openflow.protocol.OFMeterFlags;
import org.projectfloodlight.openflow.protocol.OFMeterModCommand;
import org.projectfloodlight.openflow.protocol.OFMeterStats;
import org.projectfloodlight.openflow.protocol.OFMeterStatsReply;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBand;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDrop;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDscpRemark;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static io.vswitch.cli.ofctl.OfClient.OF13;

/**
 * The group and meter commands: {@code group_id=1,type=select,bucket=weight:10,output:1,...} and
 * {@code meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100}, parsed and printed as
 * ovs-ofctl does.
 */
final class GroupsAndMeters {
    enum Op { ADD, MODIFY, DELETE }

    private GroupsAndMeters() {}

    // --- groups ---------------------------------------------------------------------------------

    static void groupMod(OfClient sw, String text, Op op) throws IOException, OfctlException {
        long id = op == Op.DELETE ? 0xfffffffcL : -1;                  // OFPG_ALL
        OFGroupType type = OFGroupType.ALL;
        List<OFBucket> buckets = new ArrayList<>();
        int firstBucket = text.indexOf("bucket=");
        String head = firstBucket < 0 ? text : text.substring(0, firstBucket);
        for (String term : head.split(",")) {
            term = term.trim();
            if (term.isEmpty()) continue;
            if (term.startsWith("group_id=")) id = term.substring(9).equals("all") ? 0xfffffffcL : FlowParser.longNumber(term.substring(9));
            else if (term.startsWith("type=")) type = switch (term.substring(5)) {
                case "all" -> OFGroupType.ALL;
                case "select" -> OFGroupType.SELECT;
                case "indirect" -> OFGroupType.INDIRECT;
                case "ff", "fast_failover" -> OFGroupType.FF;
                default -> throw new OfctlException(term.substring(5) + ": unknown group type (all, select, indirect, ff)");
            };
            else throw new OfctlException("unknown keyword " + term);
        }
        if (id < 0) throw new OfctlException("must specify a group_id");
        if (firstBucket >= 0) {
            for (String b : text.substring(firstBucket + 7).split(",bucket=")) buckets.add(bucket(b, type));
        }
        OFGroup group = OFGroup.of((int) id);
        var m = switch (op) {
            case ADD -> OF13.buildGroupAdd().setXid(sw.xid()).setGroup(group).setGroupType(type).setBuckets(buckets).build();
            case MODIFY -> OF13.buildGroupModify().setXid(sw.xid()).setGroup(group).setGroupType(type).setBuckets(buckets).build();
            case DELETE -> OF13.buildGroupDelete().setXid(sw.xid()).setGroup(group).setGroupType(type).build();
        };
        sw.transactNoReply(m);
    }

    private static OFBucket bucket(String text, OFGroupType type) throws OfctlException {
        int weight = type == OFGroupType.SELECT ? 1 : 0;
        OFPort watchPort = OFPort.ANY;
        OFGroup watchGroup = OFGroup.ANY;
        List<String> actions = new ArrayList<>();
        List<String> items = FlowParser.splitTopLevel(text);
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i);
            if (item.startsWith("weight:")) weight = FlowParser.number(item.substring(7));
            else if (item.startsWith("watch_port:")) watchPort = Ports.parse(item.substring(11));
            else if (item.startsWith("watch_group:")) watchGroup = OFGroup.of((int) FlowParser.longNumber(item.substring(12)));
            else if (item.startsWith("actions=")) {
                actions.add(item.substring(8));
                actions.addAll(items.subList(i + 1, items.size()));
                break;
            } else actions.add(item);
        }
        return OF13.buildBucket().setWeight(weight).setWatchPort(watchPort).setWatchGroup(watchGroup)
                .setActions(ActionParser.actions(String.join(",", actions), OF13.buildMatch().build())).build();
    }

    static String dumpGroups(OfClient sw, List<String> args) throws IOException, OfctlException {
        StringBuilder out = new StringBuilder();
        for (OFGroupDescStatsReply r : sw.multipart(OF13.buildGroupDescStatsRequest().setXid(sw.xid()).build())) {
            out.append(Ofctl.header("OFPST_GROUP_DESC reply", r.getXid())).append('\n');
            for (OFGroupDescStatsEntry g : r.getEntries()) {
                if (wanted(args, g.getGroup())) out.append(' ').append(describe(g.getGroup(), g.getGroupType(), g.getBuckets())).append('\n');
            }
        }
        return out.toString();
    }

    /** {@code group_id=N,type=T,bucket=...} as ovs-ofctl prints a group. */
    static String describe(OFGroup group, OFGroupType type, List<OFBucket> buckets) {
        StringBuilder out = new StringBuilder("group_id=").append(Integer.toUnsignedString(group.getGroupNumber())).append(",type=").append(typeName(type));
        for (OFBucket b : buckets) {
            out.append(",bucket=");
            if (type == OFGroupType.SELECT && b.getWeight() != 1) out.append("weight:").append(b.getWeight()).append(',');
            if (!b.getWatchPort().equals(OFPort.ANY)) out.append("watch_port:").append(Ports.format(b.getWatchPort())).append(',');
            if (!b.getWatchGroup().equals(OFGroup.ANY)) out.append("watch_group:").append(Integer.toUnsignedString(b.getWatchGroup().getGroupNumber())).append(',');
            out.append("actions=").append(FlowPrinter.actions(b.getActions()));
        }
        return out.toString();
    }

    private static boolean wanted(List<String> args, OFGroup g) {
        if (args.isEmpty() || !args.get(0).startsWith("group_id=")) return true;
        return args.get(0).substring(9).equals(Integer.toUnsignedString(g.getGroupNumber()));
    }

    private static String typeName(OFGroupType t) {
        return switch (t) {
            case ALL -> "all";
            case SELECT -> "select";
            case INDIRECT -> "indirect";
            case FF -> "ff";
        };
    }

    static String groupStats(OfClient sw, List<String> args) throws IOException, OfctlException {
        StringBuilder out = new StringBuilder();
        for (OFGroupStatsReply r : sw.multipart(OF13.buildGroupStatsRequest().setXid(sw.xid()).setGroup(OFGroup.ALL).build())) {
            out.append(Ofctl.header("OFPST_GROUP reply", r.getXid())).append('\n');
            for (OFGroupStatsEntry g : r.getEntries()) {
                if (!wanted(args, g.getGroup())) continue;
                out.append(" group_id=").append(Integer.toUnsignedString(g.getGroup().getGroupNumber())).append(",duration=")
                        .append(FlowPrinter.duration(g.getDurationSec(), g.getDurationNsec())).append("s,ref_count=").append(g.getRefCount())
                        .append(",packet_count=").append(g.getPacketCount().getValue()).append(",byte_count=").append(g.getByteCount().getValue());
                int k = 0;
                for (OFBucketCounter c : g.getBucketStats()) {
                    out.append(",bucket").append(k++).append(":packet_count=").append(c.getPacketCount().getValue())
                            .append(",byte_count=").append(c.getByteCount().getValue());
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    // --- meters ---------------------------------------------------------------------------------

    static void meterMod(OfClient sw, String text, Op op) throws IOException, OfctlException {
        long id = op == Op.DELETE ? 0xffffffffL : -1;                  // OFPM_ALL
        Set<OFMeterFlags> flags = EnumSet.noneOf(OFMeterFlags.class);
        List<OFMeterBand> bands = new ArrayList<>();
        int firstBand = text.indexOf("band=");
        String head = firstBand < 0 ? text : text.substring(0, firstBand);
        for (String term : head.split(",")) {
            term = term.trim();
            switch (term) {
                case "" -> { }
                case "kbps" -> flags.add(OFMeterFlags.KBPS);
                case "pktps" -> flags.add(OFMeterFlags.PKTPS);
                case "burst" -> flags.add(OFMeterFlags.BURST);
                case "stats" -> flags.add(OFMeterFlags.STATS);
                default -> {
                    if (term.startsWith("meter=")) id = term.substring(6).equals("all") ? 0xffffffffL : FlowParser.longNumber(term.substring(6));
                    else throw new OfctlException("unknown keyword " + term);
                }
            }
        }
        if (id < 0) throw new OfctlException("must specify a meter");
        if (firstBand >= 0) for (String b : text.substring(firstBand + 5).split(",band=")) bands.add(band(b));
        var cmd = switch (op) {
            case ADD -> OFMeterModCommand.ADD;
            case MODIFY -> OFMeterModCommand.MODIFY;
            case DELETE -> OFMeterModCommand.DELETE;
        };
        sw.transactNoReply(OF13.buildMeterMod().setXid(sw.xid()).setCommand(cmd).setMeterId(id).setFlags(flags).setMeters(bands).build());
    }

    private static OFMeterBand band(String text) throws OfctlException {
        String type = null;
        long rate = 0, burst = 0;
        short prec = 0;
        for (String term : text.split(",")) {
            String[] kv = term.trim().split("=", 2);
            if (kv.length != 2) throw new OfctlException("band: " + term + " needs a value");
            switch (kv[0]) {
                case "type" -> type = kv[1];
                case "rate" -> rate = FlowParser.longNumber(kv[1]);
                case "burst_size" -> burst = FlowParser.longNumber(kv[1]);
                case "prec_level" -> prec = (short) FlowParser.number(kv[1]);
                default -> throw new OfctlException("unknown band keyword " + kv[0]);
            }
        }
        if ("drop".equals(type)) return OF13.meterBands().buildDrop().setRate(rate).setBurstSize(burst).build();
        if ("dscp_remark".equals(type)) return OF13.meterBands().buildDscpRemark().setRate(rate).setBurstSize(burst).setPrecLevel(prec).build();
        throw new OfctlException("band type " + type + " (drop or dscp_remark)");
    }

    static String dumpMeters(OfClient sw, List<String> args) throws IOException, OfctlException {
        StringBuilder out = new StringBuilder();
        long which = meterId(args);
        for (OFMeterConfigStatsReply r : sw.multipart(OF13.buildMeterConfigStatsRequest().setXid(sw.xid()).setMeterId(which).build())) {
            out.append(Ofctl.header("OFPST_METER_CONFIG reply", r.getXid())).append('\n');
            boolean first = true;
            for (OFMeterConfig m : r.getEntries()) {
                if (!first) out.append('\n');                      // a blank line between meters
                first = false;
                out.append("meter=").append(m.getMeterId());
                for (var f : List.of(OFMeterFlags.KBPS, OFMeterFlags.PKTPS, OFMeterFlags.BURST, OFMeterFlags.STATS)) {
                    if (m.getFlags().contains(f)) out.append(' ').append(f.name().toLowerCase());
                }
                out.append(" bands=\n");
                for (OFMeterBand b : m.getEntries()) {
                    if (b instanceof OFMeterBandDrop d) out.append("type=drop rate=").append(d.getRate()).append(d.getBurstSize() != 0 ? " burst_size=" + d.getBurstSize() : "");
                    else if (b instanceof OFMeterBandDscpRemark d) out.append("type=dscp_remark rate=").append(d.getRate())
                            .append(d.getBurstSize() != 0 ? " burst_size=" + d.getBurstSize() : "").append(" prec_level=").append(d.getPrecLevel());
                    out.append('\n');
                }
            }
        }
        return out.toString();
    }

    static String meterStats(OfClient sw, List<String> args) throws IOException, OfctlException {
        StringBuilder out = new StringBuilder();
        for (OFMeterStatsReply r : sw.multipart(OF13.buildMeterStatsRequest().setXid(sw.xid()).setMeterId(meterId(args)).build())) {
            out.append(Ofctl.header("OFPST_METER reply", r.getXid())).append('\n');
            for (OFMeterStats m : r.getEntries()) {
                out.append("meter:").append(m.getMeterId()).append(" flow_count:").append(m.getFlowCount()).append(" packet_in_count:")
                        .append(m.getPacketInCount().getValue()).append(" byte_in_count:").append(m.getByteInCount().getValue()).append(" duration:")
                        .append(FlowPrinter.duration(m.getDurationSec(), m.getDurationNsec())).append("s bands:\n");
                int k = 0;
                for (OFMeterBandStats b : m.getBandStats()) {
                    out.append(k++).append(": packet_count:").append(b.getPacketBandCount().getValue()).append(" byte_count:").append(b.getByteBandCount().getValue()).append('\n');
                }
            }
        }
        return out.toString();
    }

    private static long meterId(List<String> args) {
        if (args.isEmpty() || !args.get(0).startsWith("meter=") || args.get(0).equals("meter=all")) return 0xffffffffL;
        return FlowParser.longNumber(args.get(0).substring(6));
    }
}
