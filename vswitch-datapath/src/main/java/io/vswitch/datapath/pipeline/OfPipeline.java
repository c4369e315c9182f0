package io.vswitch.datapath.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bridge's OpenFlow tables as the PMDs run them: immutable, replaced whole when vswitchd sends new
 * tables (published with the datapath view, so a PMD sees the old tables or the new ones, never a
 * mix). Each table is a {@link FlowTable} (a tuple space: one hash probe per distinct mask); a
 * lookup returns OpenFlow's highest-priority match, ties broken by the order vswitchd sent the
 * rules (rules of equal priority that overlap are ambiguous in the specification).
 */
public final class OfPipeline {
    public static final int TABLES = 254;

    private final FlowTable[] tables = new FlowTable[TABLES];
    /** Groups by position; a rule's or packet-out's {@code group} action argument is a position here. */
    private final OfGroup[] groups;
    /** Meters by position, like groups. */
    private final OfMeter[] meters;
    private final int ruleCount;
    /** Rules, groups and buckets: each has two counters. */
    private final int counterCount;
    /** Per table: packets looked up at {@code 2*t}, packets that matched a rule at {@code 2*t+1}. */
    private final AtomicLongArray tableCounts;
    private final boolean normalOnly;
    /**
     * Per rule: packets at {@code 2*id}, bytes at {@code 2*id+1}; after the rules, each group's and
     * then its buckets' (see {@link OfGroup#counterId}).
     */
    private final AtomicLongArray counters;
    /** The generation vswitchd gave these tables (it re-sends when the dataplane reports another). */
    public final long generation;

    private OfPipeline(List<OfRule> rules, List<OfGroup> groups, List<OfMeter> meters, long[] portConfigs, int counterCount, long generation) {
        this.portConfigs = portConfigs;
        this.generation = generation;
        this.ruleCount = rules.size();
        this.counterCount = counterCount;
        this.groups = groups.toArray(new OfGroup[0]);
        this.meters = meters.toArray(new OfMeter[0]);
        this.counters = new AtomicLongArray(2 * Math.max(1, counterCount));
        this.tableCounts = new AtomicLongArray(2 * TABLES);
        List<List<OfRule>> byTable = new ArrayList<>();
        for (int t = 0; t < TABLES; t++) byTable.add(new ArrayList<>());
        for (OfRule r : rules) byTable.get(r.table).add(r);
        for (int t = 0; t < TABLES; t++) tables[t] = FlowTable.build(byTable.get(t));
        normalOnly = rules.size() == 1 && tables[0].rules.length == 1 && tables[0].rules[0].isPlainNormal();
    }

    /**
     * Parses the tables vswitchd sent: one rule per line (see {@link OfRule}), then the groups (lines
     * starting {@code g}, see {@link OfGroup}) and meters ({@code m}, see {@link OfMeter}). Group and
     * meter actions name numbers; they are resolved to positions here, so a PMD follows an index. A
     * group or meter that does not exist is an error. Counters: rules, then groups, then meters.
     */
    public static OfPipeline parse(String text, long generation) {
        return parse(text, generation, null);
    }

    /**
     * As {@link #parse(String, long)}, reusing the parsed rules of {@code previous} (the bridge's
     * current tables) whose line has not changed: a table transfer after one new flow among 100 000
     * parses one line, not 100 000. Rules that name a group or meter are always parsed again, since
     * positions may have moved.
     */
    public static OfPipeline parse(String text, long generation, OfPipeline previous) {
        List<String> ruleLines = new ArrayList<>(), groupLines = new ArrayList<>(), meterLines = new ArrayList<>(), portLines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            if (line.startsWith("g ")) groupLines.add(line);
            else if (line.startsWith("m ")) meterLines.add(line);
            else if (line.startsWith("p ")) portLines.add(line);
            else ruleLines.add(line);
        }
        int counter = ruleLines.size();
        List<OfGroup> groups = new ArrayList<>();
        java.util.Map<Long, Integer> groupAt = new java.util.HashMap<>();
        for (String line : groupLines) {
            OfGroup g = OfGroup.parse(line, counter);
            if (groupAt.put(g.id, groups.size()) != null) throw new IllegalArgumentException("group " + g.id + " twice");
            groups.add(g);
            counter += 1 + g.buckets();
        }
        for (OfGroup g : groups) for (long[] bucket : g.actions) resolveChained(bucket, groupAt);
        List<OfMeter> meters = new ArrayList<>();
        java.util.Map<Long, Integer> meterAt = new java.util.HashMap<>();
        for (String line : meterLines) {
            OfMeter m = OfMeter.parse(line, counter);
            if (meterAt.put(m.id, meters.size()) != null) throw new IllegalArgumentException("meter " + m.id + " twice");
            meters.add(m);
            counter += 1 + m.bands();
        }
        java.util.Map<String, OfRule> known = previous == null ? java.util.Map.of() : previous.plainRules;
        java.util.Map<String, OfRule> plain = new java.util.HashMap<>(2 * ruleLines.size());
        List<OfRule> rules = new ArrayList<>(ruleLines.size());
        for (String line : ruleLines) {
            OfRule before = known.get(line);
            OfRule r = before != null ? before.withId(rules.size()) : OfRule.parse(rules.size(), line);
            if (r.refersTo(OfRule.GROUP) || r.refersTo(OfRule.METER)) {
                resolve(r.actions, OfRule.GROUP, groupAt, "group");
                resolve(r.actions, OfRule.METER, meterAt, "meter");
            } else {
                plain.put(line, r);
            }
            rules.add(r);
        }
        long[] ports = new long[portLines.size()];
        for (int k = 0; k < ports.length; k++) {
            String[] f = OfRule.SPACES.split(portLines.get(k).trim());
            if (f.length != 3) throw new IllegalArgumentException("port line needs 'p OFPORT BITS': " + portLines.get(k));
            ports[k] = Long.parseLong(f[1], 16) << 32 | Long.parseLong(f[2], 16);
        }
        OfPipeline p = new OfPipeline(rules, groups, meters, ports, counter, generation);
        p.plainRules = plain;
        return p;
    }

    /** OpenFlow 1.3 port config bits (port-mod) the PMDs honour. */
    public static final int PORT_DOWN = 1, NO_RECV = 1 << 2, NO_FWD = 1 << 5, NO_PACKET_IN = 1 << 6;

    /** Port-mod settings: {@code ofport << 32 | bits} per port that has any (usually none). */
    private final long[] portConfigs;

    /** The port-mod bits of OpenFlow port {@code ofport}, 0 if it has none (a scan: few ports have any). */
    int portConfig(int ofport) {
        for (long c : portConfigs) if ((int) (c >>> 32) == ofport) return (int) c;
        return 0;
    }

    boolean hasPortConfigs() {
        return portConfigs.length != 0;
    }

    /** Rules without group or meter actions by their line, for the next transfer to reuse (control thread only). */
    private java.util.Map<String, OfRule> plainRules = java.util.Map.of();

    /** Turns the numbers in {@code op} actions into positions; throws if one is missing. */
    /** A bucket's group numbers as positions; a group that does not exist (vswitchd allows naming one, as OVS) becomes -1: nothing. */
    private static void resolveChained(long[] bucket, java.util.Map<Long, Integer> position) {
        for (int j = 0; j < bucket.length; j += 2) {
            if (bucket[j] == OfRule.GROUP) bucket[j + 1] = position.getOrDefault(bucket[j + 1], -1);
        }
    }

    private static void resolve(long[] actions, int op, java.util.Map<Long, Integer> position, String what) {
        for (int j = 0; j < actions.length; j += 2) {
            if ((actions[j] & ~OfRule.WRITE) != op) continue;
            Integer at = position.get(actions[j + 1]);
            if (at == null) throw new IllegalArgumentException("no " + what + " " + actions[j + 1]);
            actions[j + 1] = at;
        }
    }

    /** A packet-out's actions with group numbers resolved against these tables' groups. */
    public long[] resolve(long[] actions) {
        java.util.Map<Long, Integer> position = new java.util.HashMap<>();
        for (int k = 0; k < groups.length; k++) position.put(groups[k].id, k);
        long[] out = actions.clone();
        resolve(out, OfRule.GROUP, position, "group");
        return out;
    }

    OfMeter meter(int position) {
        return meters[position];
    }

    /** Keeps the token buckets of {@code old}'s meters that are unchanged here (called before these tables are published). */
    public void adoptMeters(OfPipeline old) {
        if (old == null) return;
        for (OfMeter m : meters) for (OfMeter o : old.meters) m.adopt(o);
    }

    OfGroup group(int position) {
        return groups[position];
    }

    /** Whether the tables are exactly one catch-all rule in table 0 whose only action is NORMAL (a new bridge's default flow). */
    public boolean normalOnly() {
        return normalOnly;
    }

    /** Counts {@code packets} hits of the single NORMAL rule ({@link #normalOnly} tables). */
    void hitNormalOnly(long packets, long bytes) {
        hit(tables[0].rules[0].id, packets, bytes);
        countTable(0, packets, packets);
    }

    /** {@link #counters} followed by each table's lookups and matches: what vswitchd gets in state dumps. */
    public long[] countersWithTables() {
        long[] c = counters();
        long[] out = java.util.Arrays.copyOf(c, c.length + 2 * TABLES);
        for (int i = 0; i < 2 * TABLES; i++) out[c.length + i] = tableCounts.get(i);
        return out;
    }

    /** {@link #countersWithTables}, listing only the counters that are not zero (no array of all of them is made). */
    public io.vswitch.datapath.ipc.FlowCounters nonZeroCounters() {
        int rules = counters.length();
        long[] pairs = new long[16];
        int n = 0;
        for (int i = 0; i < rules + 2 * TABLES; i++) {
            long v = i < rules ? counters.get(i) : tableCounts.get(i - rules);
            if (v == 0) continue;
            if (n == pairs.length) pairs = java.util.Arrays.copyOf(pairs, 2 * n);
            pairs[n++] = i;
            pairs[n++] = v;
        }
        return new io.vswitch.datapath.ipc.FlowCounters(rules + 2 * TABLES, java.util.Arrays.copyOf(pairs, n));
    }

    /** Adds lookups and matches to table {@code t}'s counters (the forwarder adds a batch's at once). */
    void countTable(int t, long lookups, long matches) {
        tableCounts.getAndAdd(2 * t, lookups);
        if (matches != 0) tableCounts.getAndAdd(2 * t + 1, matches);
    }

    /**
     * The highest-priority rule of {@code table} matching the packet, or null (a table miss); adds the
     * subtables probed to {@code probes[0]} and, if {@code unwildcard} is not null, their masks to it.
     */
    OfRule lookup(int table, long[] keys, int base, int inOfport, long[] probes, long[] unwildcard) {
        return tables[table].lookup(keys, base, inOfport, probes, unwildcard);
    }

    /**
     * Reads, for each of the {@code n} keys, where its table-0 lookup will go (see
     * {@link FlowTable#readAhead}), so that the cache misses of a whole batch are in flight together
     * instead of one after the other; returns a sum of what it read (the caller keeps it).
     */
    int readAhead(long[] keys, int n, int inOfport) {
        return tables[0].readAhead(keys, n, inOfport);
    }

    /**
     * Adds hits to counter {@code id}: a rule's (its id), a group's or bucket's ({@link OfGroup#counterId}),
     * a meter's or band's ({@link OfMeter}). Several PMDs may share them, hence atomics; the
     * forwarder tallies a batch's hits first.
     */
    void hit(int id, long packets, long bytes) {
        counters.getAndAdd(2 * id, packets);
        counters.getAndAdd(2 * id + 1, bytes);
    }

    public int size() {
        return ruleCount;
    }

    /**
     * Packets and bytes of each rule, in the order they were sent ({@code [2*i]} packets,
     * {@code [2*i+1]} bytes), then of each group followed by its buckets, then of each meter
     * followed by its bands.
     */
    public long[] counters() {
        long[] out = new long[2 * counterCount];
        for (int i = 0; i < out.length; i++) out[i] = counters.get(i);
        return out;
    }

    @Override
    public String toString() {
        return "OfPipeline[" + ruleCount + " rules, generation " + generation + ", tables " + Arrays.stream(tables).filter(t -> t.rules.length > 0).count() + "]";
    }
}
