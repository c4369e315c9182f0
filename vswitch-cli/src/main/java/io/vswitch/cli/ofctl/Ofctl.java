package io.vswitch.cli.ofctl;

import io.vswitch.datapath.RunDir;
import org.projectfloodlight.openflow.protocol.OFAggregateStatsReply;
import org.projectfloodlight.openflow.protocol.OFDescStatsReply;
import org.projectfloodlight.openflow.protocol.OFFeaturesReply;
import org.projectfloodlight.openflow.protocol.OFFlowMod;
import org.projectfloodlight.openflow.protocol.OFFlowStatsEntry;
import org.projectfloodlight.openflow.protocol.OFFlowStatsReply;
import org.projectfloodlight.openflow.protocol.OFGetConfigReply;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFPortConfig;
import org.projectfloodlight.openflow.protocol.OFPortDesc;
import org.projectfloodlight.openflow.protocol.OFPortDescStatsReply;
import org.projectfloodlight.openflow.protocol.OFPortStatsEntry;
import org.projectfloodlight.openflow.protocol.OFPortStatsReply;
import org.projectfloodlight.openflow.protocol.OFTableStatsEntry;
import org.projectfloodlight.openflow.protocol.OFTableStatsReply;
import org.projectfloodlight.openflow.types.OFBufferId;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ofctl [OPTIONS] COMMAND SWITCH [ARG...]}: ovs-ofctl's commands, syntax and output for
 * OpenFlow 1.3, against a bridge's management socket ({@code <rundir>/<bridge>.mgmt}) or
 * {@code unix:PATH} / {@code tcp:IP[:PORT]}. Exit code 0 on success, 1 with "ofctl: why" on stderr.
 */
public final class Ofctl {
    private boolean strict, stats = true;
    /** 0: as the switch sends them; 1: --sort (ascending priority); -1: --rsort. */
    private int sort;
    private final StringBuilder out = new StringBuilder();

    public static void main(String[] args) {
        System.exit(new Ofctl().run(args));
    }

    int run(String[] args) {
        List<String> rest = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("-") || a.equals("-")) {
                    rest.add(a);
                } else if (a.equals("-O") || a.equals("--protocols")) {
                    protocols(i + 1 < args.length ? args[++i] : "");
                } else if (a.startsWith("--protocols=")) {
                    protocols(a.substring(12));
                } else if (a.equals("--strict")) {
                    strict = true;
                } else if (a.equals("--no-stats")) {
                    stats = false;
                } else if (a.equals("--sort") || a.equals("--sort=priority")) {
                    sort = 1;
                } else if (a.equals("--rsort") || a.equals("--rsort=priority")) {
                    sort = -1;
                } else if (a.equals("-h") || a.equals("--help")) {
                    System.out.print(USAGE);
                    return 0;
                } else {
                    throw new OfctlException("unrecognized option '" + a + "' (\"ofctl --help\" for help)");
                }
            }
            if (rest.size() < 2) throw new OfctlException(rest.isEmpty() ? "missing command name; use --help for help" : "'" + rest.get(0) + "' command requires at least 1 arguments");
            Command c = COMMANDS.get(rest.get(0));
            if (c == null) throw new OfctlException("unknown command '" + rest.get(0) + "'; use --help for help");
            List<String> cargs = rest.subList(2, rest.size());
            if (cargs.size() < c.min || cargs.size() > c.max) {
                throw new OfctlException("'" + rest.get(0) + "' command takes " + (c.min == c.max ? c.min : c.min + " to " + c.max) + " arguments after the switch");
            }
            try (OfClient sw = OfClient.connect(rest.get(1), RunDir.resolve(new String[0]))) {
                c.body.run(this, sw, cargs);
            }
            System.out.print(out);
            return 0;
        } catch (OfctlException e) {
            System.out.print(out);
            System.out.flush();
            System.err.println(e.verbatim ? e.getMessage() : "ofctl: " + e.getMessage());
            return 1;
        } catch (IOException | IllegalArgumentException e) {       // the switch went away; a number or hex string that is none
            System.out.print(out);
            System.out.flush();
            System.err.println("ofctl: " + e.getMessage());
            return 1;
        }
    }

    private static void protocols(String p) throws OfctlException {
        if (!p.equals("OpenFlow13")) throw new OfctlException(p + ": this ofctl speaks OpenFlow13 (use the real ovs-ofctl for other versions)");
    }

    private interface Body {
        void run(Ofctl o, OfClient sw, List<String> args) throws IOException, OfctlException;
    }

    private record Command(int min, int max, Body body) {}

    private static final Map<String, Command> COMMANDS = Map.ofEntries(
            Map.entry("show", new Command(0, 0, Ofctl::show)),
            Map.entry("dump-desc", new Command(0, 0, Ofctl::dumpDesc)),
            Map.entry("dump-flows", new Command(0, 1, Ofctl::dumpFlows)),
            Map.entry("dump-aggregate", new Command(0, 1, Ofctl::dumpAggregate)),
            Map.entry("add-flow", new Command(1, 1, (o, sw, a) -> o.flowMods(sw, List.of(a.get(0)), Kind.ADD))),
            Map.entry("add-flows", new Command(1, 1, (o, sw, a) -> o.flowMods(sw, lines(a.get(0)), Kind.ADD))),
            Map.entry("mod-flows", new Command(1, 1, (o, sw, a) -> o.flowMods(sw, List.of(a.get(0)), Kind.MODIFY))),
            Map.entry("del-flows", new Command(0, 1, (o, sw, a) -> o.flowMods(sw, List.of(a.isEmpty() ? "" : a.get(0)), Kind.DELETE))),
            Map.entry("dump-ports", new Command(0, 1, Ofctl::dumpPorts)),
            Map.entry("dump-ports-desc", new Command(0, 0, Ofctl::dumpPortsDesc)),
            Map.entry("dump-tables", new Command(0, 0, Ofctl::dumpTables)),
            Map.entry("mod-port", new Command(2, 2, Ofctl::modPort)),
            Map.entry("packet-out", new Command(1, 1, Ofctl::packetOut)),
            Map.entry("add-group", new Command(1, 1, (o, sw, a) -> GroupsAndMeters.groupMod(sw, a.get(0), GroupsAndMeters.Op.ADD))),
            Map.entry("mod-group", new Command(1, 1, (o, sw, a) -> GroupsAndMeters.groupMod(sw, a.get(0), GroupsAndMeters.Op.MODIFY))),
            Map.entry("del-groups", new Command(0, 1, (o, sw, a) -> GroupsAndMeters.groupMod(sw, a.isEmpty() ? "" : a.get(0), GroupsAndMeters.Op.DELETE))),
            Map.entry("dump-groups", new Command(0, 1, (o, sw, a) -> o.out.append(GroupsAndMeters.dumpGroups(sw, a)))),
            Map.entry("dump-group-stats", new Command(0, 1, (o, sw, a) -> o.out.append(GroupsAndMeters.groupStats(sw, a)))),
            Map.entry("add-meter", new Command(1, 1, (o, sw, a) -> GroupsAndMeters.meterMod(sw, a.get(0), GroupsAndMeters.Op.ADD))),
            Map.entry("mod-meter", new Command(1, 1, (o, sw, a) -> GroupsAndMeters.meterMod(sw, a.get(0), GroupsAndMeters.Op.MODIFY))),
            Map.entry("del-meters", new Command(0, 1, (o, sw, a) -> GroupsAndMeters.meterMod(sw, a.isEmpty() ? "" : a.get(0), GroupsAndMeters.Op.DELETE))),
            Map.entry("dump-meters", new Command(0, 1, (o, sw, a) -> o.out.append(GroupsAndMeters.dumpMeters(sw, a)))),
            Map.entry("meter-stats", new Command(0, 1, (o, sw, a) -> o.out.append(GroupsAndMeters.meterStats(sw, a)))),
            Map.entry("monitor", new Command(0, 1, Ofctl::monitor)));

    static String header(String what, long xid) {
        return what + " (OF1.3) (xid=0x" + Long.toHexString(xid) + "):";
    }

    private void show(OfClient sw, List<String> args) throws IOException, OfctlException {
        OFFeaturesReply f = (OFFeaturesReply) sw.transact(OfClient.OF13.buildFeaturesRequest().setXid(sw.xid()).build());
        out.append(header("OFPT_FEATURES_REPLY", f.getXid())).append(" dpid:").append(f.getDatapathId().toString().replace(":", "")).append('\n');
        out.append("n_tables:").append(f.getNTables()).append(", n_buffers:").append(f.getNBuffers()).append('\n');
        StringBuilder caps = new StringBuilder("capabilities:");
        for (var c : List.of("FLOW_STATS", "TABLE_STATS", "PORT_STATS", "GROUP_STATS", "IP_REASM", "QUEUE_STATS", "PORT_BLOCKED")) {
            if (f.getCapabilities().stream().anyMatch(x -> x.name().equals(c))) caps.append(' ').append(c);
        }
        out.append(caps).append('\n');
        dumpPortsDesc(sw, args);
        OFGetConfigReply cfg = (OFGetConfigReply) sw.transact(OfClient.OF13.buildGetConfigRequest().setXid(sw.xid()).build());
        out.append(header("OFPT_GET_CONFIG_REPLY", cfg.getXid())).append(" frags=normal miss_send_len=").append(cfg.getMissSendLen()).append('\n');
    }

    private void dumpDesc(OfClient sw, List<String> args) throws IOException, OfctlException {
        OFDescStatsReply d = sw.multipart(OfClient.OF13.buildDescStatsRequest().setXid(sw.xid()).build()).get(0);
        out.append(header("OFPST_DESC reply", d.getXid())).append('\n').append("Manufacturer: ").append(d.getMfrDesc()).append('\n')
                .append("Hardware: ").append(d.getHwDesc()).append('\n').append("Software: ").append(d.getSwDesc()).append('\n')
                .append("Serial Num: ").append(d.getSerialNum()).append('\n').append("DP Description: ").append(d.getDpDesc()).append('\n');
    }

    private void dumpPortsDesc(OfClient sw, List<String> args) throws IOException, OfctlException {
        for (OFPortDescStatsReply r : sw.multipart(OfClient.OF13.buildPortDescStatsRequest().setXid(sw.xid()).build())) {
            out.append(header("OFPST_PORT_DESC reply", r.getXid())).append('\n');
            for (OFPortDesc p : r.getEntries()) out.append(PortPrinter.desc(p));
        }
    }

    private void dumpPorts(OfClient sw, List<String> args) throws IOException, OfctlException {
        OFPort which = args.isEmpty() ? OFPort.ANY : Ports.parse(args.get(0));
        for (OFPortStatsReply r : sw.multipart(OfClient.OF13.buildPortStatsRequest().setXid(sw.xid()).setPortNo(which).build())) {
            out.append(header("OFPST_PORT reply", r.getXid())).append(' ').append(r.getEntries().size()).append(" ports\n");
            for (OFPortStatsEntry e : r.getEntries()) out.append(PortPrinter.stats(e));
        }
    }

    /** Tables as ovs-ofctl prints them: a run of tables the same as the one before is "ditto". */
    private void dumpTables(OfClient sw, List<String> args) throws IOException, OfctlException {
        List<OFTableStatsEntry> all = new ArrayList<>();
        long xid = 0;
        for (OFTableStatsReply r : sw.multipart(OfClient.OF13.buildTableStatsRequest().setXid(sw.xid()).build())) {
            xid = r.getXid();
            all.addAll(r.getEntries());
        }
        out.append(header("OFPST_TABLE reply", xid)).append('\n');
        for (int i = 0; i < all.size(); ) {
            OFTableStatsEntry e = all.get(i);
            String body = "    active=" + e.getActiveCount() + ", lookup=" + e.getLookupCount().getValue() + ", matched=" + e.getMatchedCount().getValue() + "\n";
            int j = i + 1;
            if (i > 0) {
                while (j < all.size() && same(all.get(j), e)) j++;
            }
            if (i > 0 && same(e, all.get(i - 1))) {
                int end = i;
                while (end + 1 < all.size() && same(all.get(end + 1), e)) end++;
                out.append("  tables ").append(all.get(i).getTableId().getValue()).append("...").append(all.get(end).getTableId().getValue()).append(": ditto\n");
                i = end + 1;
                continue;
            }
            out.append("  table ").append(e.getTableId().getValue()).append(":\n").append(body).append('\n');
            i++;
        }
    }

    private static boolean same(OFTableStatsEntry a, OFTableStatsEntry b) {
        return a.getActiveCount() == b.getActiveCount() && a.getLookupCount().equals(b.getLookupCount()) && a.getMatchedCount().equals(b.getMatchedCount());
    }

    private void dumpFlows(OfClient sw, List<String> args) throws IOException, OfctlException {
        FlowParser.Flow f = FlowParser.parse(args.isEmpty() ? "" : args.get(0), FlowParser.Mode.FILTER);
        List<OFFlowStatsReply> replies = sw.multipart(OfClient.OF13.buildFlowStatsRequest().setXid(sw.xid()).setTableId(TableId.of(f.table()))
                .setOutPort(f.outPort()).setOutGroup(f.outGroup()).setCookie(f.cookie()).setCookieMask(f.cookieMask()).setMatch(f.match()).build());
        if (sort == 0) {
            for (OFFlowStatsReply r : replies) {
                out.append(header("OFPST_FLOW reply", r.getXid())).append('\n');
                for (OFFlowStatsEntry e : r.getEntries()) out.append(FlowPrinter.flowStats(e, stats)).append('\n');
            }
            return;
        }
        List<OFFlowStatsEntry> all = new ArrayList<>();
        for (OFFlowStatsReply r : replies) all.addAll(r.getEntries());
        Comparator<OFFlowStatsEntry> byPriority = Comparator.comparingInt(OFFlowStatsEntry::getPriority);
        all.sort(sort > 0 ? byPriority : byPriority.reversed());
        for (OFFlowStatsEntry e : all) out.append(FlowPrinter.flowStats(e, stats)).append('\n');
    }

    private void dumpAggregate(OfClient sw, List<String> args) throws IOException, OfctlException {
        FlowParser.Flow f = FlowParser.parse(args.isEmpty() ? "" : args.get(0), FlowParser.Mode.FILTER);
        OFAggregateStatsReply r = sw.multipart(OfClient.OF13.buildAggregateStatsRequest().setXid(sw.xid()).setTableId(TableId.of(f.table()))
                .setOutPort(f.outPort()).setOutGroup(f.outGroup()).setCookie(f.cookie()).setCookieMask(f.cookieMask()).setMatch(f.match()).build()).get(0);
        out.append(header("OFPST_AGGREGATE reply", r.getXid())).append(" packet_count=").append(r.getPacketCount().getValue())
                .append(" byte_count=").append(r.getByteCount().getValue()).append(" flow_count=").append(r.getFlowCount()).append('\n');
    }

    private enum Kind { ADD, MODIFY, DELETE }

    /** Flow-mods of a file's lines (or stdin's, for "-"), blank lines and # comments skipped. */
    private static List<String> lines(String file) throws IOException {
        List<String> lines = file.equals("-")
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().toList()
                : Files.readAllLines(Path.of(file));
        return lines.stream().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    /** Flow-mods a window at a time (one barrier per window), so a large file goes at the switch's pace; progress on stderr. */
    private void flowMods(OfClient sw, List<String> flows, Kind kind) throws IOException, OfctlException {
        final int window = 1000;
        boolean progress = flows.size() >= 20_000;
        for (int at = 0; at < flows.size(); at += window) {
            List<OFMessage> batch = new ArrayList<>();
            for (int i = at; i < Math.min(flows.size(), at + window); i++) batch.add(flowMod(sw, flows.get(i), kind));
            sw.transactAll(batch);
            if (progress && (at / window) % 10 == 9) System.err.printf("ofctl: %d of %d flows sent%n", at + window, flows.size());
        }
    }

    private OFFlowMod flowMod(OfClient sw, String text, Kind kind) throws OfctlException {
        FlowParser.Flow f = FlowParser.parse(text, kind == Kind.DELETE ? FlowParser.Mode.FILTER : kind == Kind.ADD ? FlowParser.Mode.ADD : FlowParser.Mode.MODIFY);
        var b = switch (kind) {
            case ADD -> OfClient.OF13.buildFlowAdd();
            case MODIFY -> strict ? OfClient.OF13.buildFlowModifyStrict() : OfClient.OF13.buildFlowModify();
            case DELETE -> strict ? OfClient.OF13.buildFlowDeleteStrict() : OfClient.OF13.buildFlowDelete();
        };
        int table = kind == Kind.MODIFY && f.table() == 0xff ? 0 : f.table();
        return b.setXid(sw.xid()).setTableId(TableId.of(table)).setPriority(f.priority()).setCookie(f.cookie()).setCookieMask(f.cookieMask())
                .setIdleTimeout(f.idleTimeout()).setHardTimeout(f.hardTimeout()).setFlags(f.flags()).setOutPort(f.outPort())
                .setOutGroup(f.outGroup()).setBufferId(OFBufferId.NO_BUFFER).setMatch(f.match()).setInstructions(f.instructions()).build();
    }

    /** mod-port PORT up|down|receive|noreceive|forward|noforward|packet-in|no-packet-in (the port's address comes from the switch). */
    private void modPort(OfClient sw, List<String> args) throws IOException, OfctlException {
        OFPortDesc port = null;
        for (OFPortDescStatsReply r : sw.multipart(OfClient.OF13.buildPortDescStatsRequest().setXid(sw.xid()).build())) {
            for (OFPortDesc p : r.getEntries()) {
                if (Ports.format(p.getPortNo()).equalsIgnoreCase(args.get(0)) || p.getName().equals(args.get(0))) port = p;
            }
        }
        if (port == null) throw new OfctlException(sw.name() + ": couldn't find port `" + args.get(0) + "'");
        OFPortConfig bit;
        boolean set;
        switch (args.get(1)) {
            case "up" -> { bit = OFPortConfig.PORT_DOWN; set = false; }
            case "down" -> { bit = OFPortConfig.PORT_DOWN; set = true; }
            case "receive" -> { bit = OFPortConfig.NO_RECV; set = false; }
            case "noreceive", "no-receive" -> { bit = OFPortConfig.NO_RECV; set = true; }
            case "forward" -> { bit = OFPortConfig.NO_FWD; set = false; }
            case "noforward", "no-forward" -> { bit = OFPortConfig.NO_FWD; set = true; }
            case "packet-in" -> { bit = OFPortConfig.NO_PACKET_IN; set = false; }
            case "nopacket-in", "no-packet-in" -> { bit = OFPortConfig.NO_PACKET_IN; set = true; }
            default -> throw new OfctlException("unknown mod-port command '" + args.get(1) + "'");
        }
        sw.transactNoReply(OfClient.OF13.buildPortMod().setXid(sw.xid()).setPortNo(port.getPortNo()).setHwAddr(port.getHwAddr())
                .setConfig(set ? EnumSet.of(bit) : Set.of()).setMask(EnumSet.of(bit)).setAdvertise(0).build());
    }

    /** packet-out "in_port=PORT packet=HEX actions=ACTIONS" (the terms may also be comma-separated). */
    private void packetOut(OfClient sw, List<String> args) throws IOException, OfctlException {
        String spec = args.get(0);
        int at = spec.indexOf("actions=");
        if (at < 0) throw new OfctlException("packet-out needs actions=");
        String actions = spec.substring(at + 8);
        OFPort in = OFPort.CONTROLLER;
        byte[] packet = null;
        for (String term : spec.substring(0, at).split("[,\\s]+")) {
            if (term.startsWith("in_port=")) in = Ports.parse(term.substring(8));
            else if (term.startsWith("packet=")) packet = HexFormat.of().parseHex(term.substring(7));
            else if (!term.isEmpty()) throw new OfctlException("unknown packet-out term " + term);
        }
        if (packet == null) throw new OfctlException("packet-out needs packet=HEX");
        sw.transactNoReply(OfClient.OF13.buildPacketOut().setXid(sw.xid()).setBufferId(OFBufferId.NO_BUFFER).setInPort(in)
                .setActions(ActionParser.actions(actions, OfClient.OF13.buildMatch().build())).setData(packet).build());
    }

    /** monitor [MISS-LEN]: asks for packet-ins (miss_send_len) and prints asynchronous messages until interrupted. */
    private void monitor(OfClient sw, List<String> args) throws IOException, OfctlException {
        int missLen = args.isEmpty() ? 0 : Integer.parseInt(args.get(0));
        sw.transactNoReply(OfClient.OF13.buildSetConfig().setXid(sw.xid()).setMissSendLen(missLen).build());
        while (true) {
            OFMessage m = sw.next();
            String line = Monitor.describe(m);
            if (line != null) {
                System.out.println(line);
                System.out.flush();
            }
        }
    }

    private static final String USAGE = """
            ofctl: OpenFlow switch management utility (ovs-ofctl's syntax, OpenFlow 1.3)
            usage: ofctl [OPTIONS] COMMAND SWITCH [ARG...]
              SWITCH: a bridge name (its socket in the run dir), unix:PATH or tcp:IP[:PORT]
            Commands:
              show, dump-desc, dump-tables, dump-ports [PORT], dump-ports-desc, mod-port PORT ACTION
              dump-flows [FLOW], dump-aggregate [FLOW], add-flow FLOW, add-flows FILE (- for stdin),
              mod-flows FLOW, del-flows [FLOW], packet-out "in_port=P packet=HEX actions=A", monitor [MISS-LEN]
              add-group GROUP, mod-group GROUP, del-groups [GROUP], dump-groups [GROUP], dump-group-stats [GROUP]
              add-meter METER, mod-meter METER, del-meters [METER], dump-meters [METER], meter-stats [METER]
            Options: -O OpenFlow13, --strict, --no-stats, --sort, --rsort, -h
            """;
}
