package io.vswitch.datapath.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bridge's OpenFlow tables as the PMDs run them: immutable, replaced whole when vswitchd sends new
 * tables (published with the datapath view, so a PMD sees the old tables or the new ones, never a
 * mix). Each table is its rules by descending priority; a lookup returns the first that matches,
 * which is OpenFlow's highest-priority match (rules of equal priority that overlap are ambiguous in
 * the specification too). This is the slow path the caches of the performance issue will sit in
 * front of; a linear scan per table is what it costs until then.
 */
public final class OfPipeline {
    public static final int TABLES = 254;

    private final OfRule[][] tables = new OfRule[TABLES][];
    private final int ruleCount;
    private final boolean normalOnly;
    /** Per rule: packets at {@code 2*id}, bytes at {@code 2*id+1}. */
    private final AtomicLongArray counters;
    /** The generation vswitchd gave these tables (it re-sends when the dataplane reports another). */
    public final long generation;

    private OfPipeline(List<OfRule> rules, long generation) {
        this.generation = generation;
        this.ruleCount = rules.size();
        this.counters = new AtomicLongArray(2 * Math.max(1, rules.size()));
        List<List<OfRule>> byTable = new ArrayList<>();
        for (int t = 0; t < TABLES; t++) byTable.add(new ArrayList<>());
        for (OfRule r : rules) byTable.get(r.table).add(r);
        for (int t = 0; t < TABLES; t++) {
            List<OfRule> list = byTable.get(t);
            list.sort(Comparator.comparingInt((OfRule r) -> r.priority).reversed());
            tables[t] = list.toArray(new OfRule[0]);
        }
        normalOnly = rules.size() == 1 && tables[0].length == 1 && tables[0][0].isPlainNormal();
    }

    /** Parses the rules vswitchd sent (one per line, see {@link OfRule}). */
    public static OfPipeline parse(String text, long generation) {
        List<OfRule> rules = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            rules.add(OfRule.parse(rules.size(), line));
        }
        return new OfPipeline(rules, generation);
    }

    /** Whether the tables are exactly one catch-all rule in table 0 whose only action is NORMAL (a new bridge's default flow). */
    public boolean normalOnly() {
        return normalOnly;
    }

    /** Counts {@code packets} hits of the single NORMAL rule ({@link #normalOnly} tables). */
    void hitNormalOnly(long packets, long bytes) {
        hit(tables[0][0], packets, bytes);
    }

    /** The highest-priority rule of {@code table} matching the packet, or null (a table miss). */
    OfRule lookup(int table, long[] keys, int base, int inOfport) {
        for (OfRule r : tables[table]) if (r.matches(keys, base, inOfport)) return r;
        return null;
    }

    /** Adds hits to a rule's counters (several PMDs may share a rule, hence atomics; the forwarder batches them). */
    void hit(OfRule r, long packets, long bytes) {
        counters.getAndAdd(2 * r.id, packets);
        counters.getAndAdd(2 * r.id + 1, bytes);
    }

    public int size() {
        return ruleCount;
    }

    /** Packets and bytes of each rule, in the order they were sent: {@code [2*i]} packets, {@code [2*i+1]} bytes. */
    public long[] counters() {
        long[] out = new long[2 * ruleCount];
        for (int i = 0; i < out.length; i++) out[i] = counters.get(i);
        return out;
    }

    @Override
    public String toString() {
        return "OfPipeline[" + ruleCount + " rules, generation " + generation + ", tables " + Arrays.stream(tables).filter(t -> t.length > 0).count() + "]";
    }
}
