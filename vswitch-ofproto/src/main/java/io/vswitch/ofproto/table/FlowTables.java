package io.vswitch.ofproto.table;

import io.vswitch.ofproto.openflow.OfError;
import org.projectfloodlight.openflow.protocol.OFFlowMod;
import org.projectfloodlight.openflow.protocol.OFFlowModFailedCode;
import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * A bridge's OpenFlow tables, the authoritative copy (OVS: {@code ofproto}'s classifier per table,
 * as the control plane sees it). Flow-mods are applied here with the specification's semantics;
 * the dataplane runs a replica compiled from these entries.
 *
 * <p>Each table maps (priority, match) to its entry, so identity lookups (add replacing a duplicate,
 * strict modify/delete) are hash lookups; loose operations and dumps scan the table, which is what a
 * control-plane operation can afford. Confined to one thread (the OpenFlow event loop).
 */
public final class FlowTables {
    /** Tables 0..253, as OVS exposes them. */
    public static final int TABLES = 254;
    /** OFPTT_ALL: every table (delete and statistics only). */
    public static final int ALL = 0xff;

    private record Key(int priority, OxmMatch match) {}

    private final List<Map<Key, FlowEntry>> tables = new ArrayList<>(TABLES);
    private final LongPredicate groupExists;
    private final LongPredicate meterExists;

    public FlowTables(LongPredicate groupExists, LongPredicate meterExists) {
        for (int t = 0; t < TABLES; t++) tables.add(new LinkedHashMap<>());
        this.groupExists = groupExists;
        this.meterExists = meterExists;
    }

    /** The tables' contents at one moment (entries are immutable, so the maps are copied, not the entries). */
    public static final class Snapshot {
        private final List<Map<Key, FlowEntry>> tables;

        private Snapshot(List<Map<Key, FlowEntry>> tables) {
            this.tables = tables;
        }
    }

    public Snapshot snapshot() {
        List<Map<Key, FlowEntry>> copy = new ArrayList<>(TABLES);
        for (Map<Key, FlowEntry> t : tables) copy.add(t.isEmpty() ? new LinkedHashMap<>() : new LinkedHashMap<>(t));
        return new Snapshot(copy);
    }

    /** Puts back what {@link #snapshot} saw (an OpenFlow 1.4 bundle that failed). */
    public void restore(Snapshot s) {
        for (int t = 0; t < TABLES; t++) tables.set(t, s.tables.get(t));
    }

    /** What a flow-mod did: the entries it removed (deletes send FLOW_REMOVED for those that asked). */
    public record Outcome(List<FlowEntry> removed, int changed) {}

    /** Applies a flow-mod, or throws the error it deserves and changes nothing. */
    public Outcome apply(OFFlowMod fm, long nowNanos) throws OfError {
        return apply(fm, nowNanos, false);
    }

    /**
     * Applies a flow-mod; {@code modifySetsCookie}: a modify also gives the flows it changes the
     * flow-mod's cookie (OpenFlow 1.0, where the cookie does not select flows).
     */
    public Outcome apply(OFFlowMod fm, long nowNanos, boolean modifySetsCookie) throws OfError {
        int table = fm.getTableId().getValue();
        OxmMatch match = OxmMatch.of(fm.getMatch());
        switch (fm.getCommand()) {
            case ADD -> {
                checkTable(table);
                FlowCheck.match(match);
                FlowCheck.instructions(fm.getInstructions(), table, TABLES, match, groupExists, meterExists);
                Map<Key, FlowEntry> t = tables.get(table);
                Key key = new Key(fm.getPriority(), match);
                if (fm.getFlags().contains(OFFlowModFlags.CHECK_OVERLAP)) {
                    for (FlowEntry e : t.values()) {
                        if (e.priority() == fm.getPriority() && !e.key().equals(match) && e.key().overlaps(match)) {
                            throw OfError.flowModFailed(OFFlowModFailedCode.OVERLAP, "overlaps a flow of the same priority");
                        }
                    }
                }
                FlowEntry old = t.get(key);
                boolean keepCounts = old != null && !fm.getFlags().contains(OFFlowModFlags.RESET_COUNTS);
                t.put(key, new FlowEntry(table, fm.getPriority(), match, fm.getMatch(), fm.getCookie(), fm.getInstructions(),
                        fm.getIdleTimeout(), fm.getHardTimeout(), fm.getFlags(), nowNanos,
                        keepCounts ? old.packets() : 0, keepCounts ? old.bytes() : 0, nowNanos));
                return new Outcome(List.of(), 1);
            }
            case MODIFY, MODIFY_STRICT -> {
                checkTable(table);
                FlowCheck.match(match);
                FlowCheck.instructions(fm.getInstructions(), table, TABLES, match, groupExists, meterExists);
                boolean strict = fm.getCommand() == org.projectfloodlight.openflow.protocol.OFFlowModCommand.MODIFY_STRICT;
                boolean reset = fm.getFlags().contains(OFFlowModFlags.RESET_COUNTS);
                int changed = 0;
                for (Map.Entry<Key, FlowEntry> e : tables.get(table).entrySet()) {
                    FlowEntry f = e.getValue();
                    if (!selected(f, strict, fm.getPriority(), match, fm.getCookie(), fm.getCookieMask(), OFPort.ANY, OFGroup.ANY)) continue;
                    e.setValue(f.withInstructions(fm.getInstructions(), reset, modifySetsCookie ? fm.getCookie() : f.cookie()));
                    changed++;
                }
                return new Outcome(List.of(), changed);
            }
            case DELETE, DELETE_STRICT -> {
                if (table != ALL) checkTable(table);
                boolean strict = fm.getCommand() == org.projectfloodlight.openflow.protocol.OFFlowModCommand.DELETE_STRICT;
                List<FlowEntry> removed = new ArrayList<>();
                for (int t = table == ALL ? 0 : table; t <= (table == ALL ? TABLES - 1 : table); t++) {
                    var it = tables.get(t).values().iterator();
                    while (it.hasNext()) {
                        FlowEntry f = it.next();
                        if (!selected(f, strict, fm.getPriority(), match, fm.getCookie(), fm.getCookieMask(), fm.getOutPort(), fm.getOutGroup())) continue;
                        it.remove();
                        removed.add(f);
                    }
                }
                return new Outcome(removed, removed.size());
            }
            default -> throw OfError.flowModFailed(OFFlowModFailedCode.BAD_COMMAND, "unknown flow-mod command");
        }
    }

    private static void checkTable(int table) throws OfError {
        if (table >= TABLES) throw OfError.flowModFailed(OFFlowModFailedCode.BAD_TABLE_ID, "there is no table " + table + " (tables 0-" + (TABLES - 1) + ")");
    }

    /** OpenFlow's selection for modify/delete/statistics: strict = same priority and match; loose = the request's match covers the flow's. */
    private static boolean selected(FlowEntry f, boolean strict, int priority, OxmMatch match, U64 cookie, U64 cookieMask,
                                    OFPort outPort, OFGroup outGroup) {
        if (strict ? f.priority() != priority || !f.key().equals(match) : !match.covers(f.key())) return false;
        if (!f.cookieMatches(cookie, cookieMask)) return false;
        if (!outPort.equals(OFPort.ANY) && !f.outputsTo(outPort)) return false;
        return outGroup.equals(OFGroup.ANY) || f.usesGroup(outGroup);
    }

    /** The flows a statistics request selects (loose), tables in order, higher priorities first. */
    public List<FlowEntry> select(int table, OxmMatch match, OFPort outPort, OFGroup outGroup, U64 cookie, U64 cookieMask) {
        List<FlowEntry> out = new ArrayList<>();
        if (table != ALL && table >= TABLES) return out;
        for (int t = table == ALL ? 0 : table; t <= (table == ALL ? TABLES - 1 : table); t++) {
            List<FlowEntry> inTable = new ArrayList<>();
            for (FlowEntry f : tables.get(t).values()) {
                if (selected(f, false, 0, match, cookie, cookieMask, outPort, outGroup)) inTable.add(f);
            }
            inTable.sort((a, b) -> Integer.compare(b.priority(), a.priority()));
            out.addAll(inTable);
        }
        return out;
    }

    /**
     * Sets the counters of the flow that {@code e} was (same table, priority and match), if it is
     * still there; a flow that was replaced by an add since keeps its own.
     */
    public void setCounts(FlowEntry e, long packets, long bytes) {
        Map<Key, FlowEntry> t = tables.get(e.table());
        Key key = new Key(e.priority(), e.key());
        FlowEntry now = t.get(key);
        if (now != null && now.createdNanos() == e.createdNanos() && (now.packets() != packets || now.bytes() != bytes)) {
            t.put(key, now.withCounts(packets, bytes));
        }
    }

    /** A flow that timed out: {@code reason} 0 idle, 1 hard (OFPRR_IDLE_TIMEOUT / OFPRR_HARD_TIMEOUT). */
    public record Expired(FlowEntry entry, int reason) {}

    /** Removes and returns the flows whose idle or hard timeout has passed at {@code nowNanos}. */
    public List<Expired> expire(long nowNanos) {
        List<Expired> out = new ArrayList<>();
        for (Map<Key, FlowEntry> t : tables) {
            var it = t.values().iterator();
            while (it.hasNext()) {
                FlowEntry e = it.next();
                int why = e.expiry(nowNanos);
                if (why < 0) continue;
                it.remove();
                out.add(new Expired(e, why));
            }
        }
        return out;
    }

    /** Removes and returns the flows {@code which} selects (a deleted meter's flows). */
    public List<FlowEntry> removeIf(java.util.function.Predicate<FlowEntry> which) {
        List<FlowEntry> out = new ArrayList<>();
        for (Map<Key, FlowEntry> t : tables) {
            var it = t.values().iterator();
            while (it.hasNext()) {
                FlowEntry e = it.next();
                if (which.test(e)) {
                    it.remove();
                    out.add(e);
                }
            }
        }
        return out;
    }

    /** Every flow, table by table, in no particular order within a table (cheaper than {@link #select}: no sort). */
    public List<FlowEntry> all() {
        int n = 0;
        for (Map<Key, FlowEntry> t : tables) n += t.size();
        List<FlowEntry> out = new ArrayList<>(n);
        for (Map<Key, FlowEntry> t : tables) out.addAll(t.values());
        return out;
    }

    /** Flows in {@code table}. */
    public int count(int table) {
        return tables.get(table).size();
    }
}
