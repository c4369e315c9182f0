package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One OpenFlow table as a tuple space (the scheme of OVS's {@code lib/classifier.c}): the rules are
 * grouped into <em>subtables</em> by their mask (which flow-key bits they look at, and whether they
 * match the input port), and each subtable is a hash table from the masked key to the best rule
 * with that key. A lookup masks the packet's key once per subtable and probes; the cost grows with
 * the number of distinct masks, not with the number of rules, so 100 000 flows on {@code nw_dst}
 * cost one probe, as one flow does.
 *
 * <p>Which rule wins is exactly what a scan of the rules by descending priority (ties: the order
 * vswitchd sent them, i.e. the lower id) would return: each subtable keeps, per key, only the best
 * rule (the others can never win), subtables are visited by descending maximum priority, and the
 * search stops at the first subtable whose maximum priority is below the best match so far.
 *
 * <p>Immutable once built (a table transfer builds new ones); a lookup allocates nothing.
 */
final class FlowTable {
    static final FlowTable EMPTY = new FlowTable(new Subtable[0], new OfRule[0]);

    /** By descending maximum priority. */
    private final Subtable[] subtables;
    /** The rules by descending priority, ties by id (what the tables were before subtables; NORMAL-only detection uses it). */
    final OfRule[] rules;

    private FlowTable(Subtable[] subtables, OfRule[] rules) {
        this.subtables = subtables;
        this.rules = rules;
    }

    /** Builds the table of {@code rules} (all of one table). */
    static FlowTable build(List<OfRule> rules) {
        if (rules.isEmpty()) return EMPTY;
        OfRule[] sorted = rules.toArray(new OfRule[0]);
        Arrays.sort(sorted, BEST_FIRST);
        Map<Shape, List<OfRule>> byShape = new HashMap<>();
        for (OfRule r : sorted) {
            Shape shape = Shape.of(r);
            if (shape != null) byShape.computeIfAbsent(shape, s -> new ArrayList<>()).add(r);   // null: contradictory terms, never matches
        }
        Subtable[] subtables = new Subtable[byShape.size()];
        int k = 0;
        for (Map.Entry<Shape, List<OfRule>> e : byShape.entrySet()) subtables[k++] = new Subtable(e.getKey(), e.getValue());
        Arrays.sort(subtables, Comparator.comparingInt((Subtable s) -> s.maxPriority).reversed());
        return new FlowTable(subtables, sorted);
    }

    /** Priority descending, then the order vswitchd sent them. */
    static final Comparator<OfRule> BEST_FIRST = Comparator.comparingInt((OfRule r) -> r.priority).reversed().thenComparingInt(r -> r.id);

    /**
     * The highest-priority rule matching the packet (ties: the lowest id), or null; adds the subtables
     * probed to {@code probes[0]}. {@code unwildcard}, if not null, gets the masks of the subtables
     * probed: the bits the answer depended on (a megaflow's mask).
     */
    OfRule lookup(long[] keys, int base, int inOfport, long[] probes, long[] unwildcard) {
        OfRule best = null;
        int probed = 0;
        for (Subtable s : subtables) {
            if (best != null && s.maxPriority < best.priority) break;
            probed++;
            if (unwildcard != null) s.unwildcard(unwildcard);
            OfRule r = s.find(keys, base, inOfport);
            if (r != null && (best == null || r.priority > best.priority || (r.priority == best.priority && r.id < best.id))) best = r;
        }
        probes[0] += probed;
        return best;
    }

    /**
     * Reads the slot, the rule and the rule's actions that {@code n} keys ({@code FlowKey.WORDS}
     * apart) would find in the first subtable. Java has no prefetch instruction, but independent
     * loads overlap: after this loop the lines a batch's lookups need are in cache or on their way,
     * and the lookups proper, one packet at a time, mostly hit. Returns a sum of what it read.
     */
    int readAhead(long[] keys, int n, int inOfport) {
        if (subtables.length == 0) return 0;
        Subtable s = subtables[0];
        int sum = 0;
        for (int i = 0; i < n; i++) sum += s.touch(keys, i * FlowKey.WORDS, inOfport);
        return sum;
    }

    int subtableCount() {
        return subtables.length;
    }

    /**
     * What a rule looks at: the mask of every flow-key word it matches (several terms on one word
     * merged) and whether it names an input port. Rules of one shape share a subtable.
     */
    private record Shape(int[] words, long[] masks, boolean inPort) {
        /** The rule's shape, or null if two of its terms contradict each other (it can match nothing). */
        static Shape of(OfRule r) {
            long[] mask = new long[FlowKey.WORDS], value = new long[FlowKey.WORDS];
            for (int j = 0; j < r.words.length; j++) {
                int w = r.words[j];
                long common = mask[w] & r.masks[j];
                if ((value[w] & common) != (r.values[j] & common)) return null;
                mask[w] |= r.masks[j];
                value[w] |= r.values[j];
            }
            int n = 0;
            for (long m : mask) if (m != 0) n++;
            int[] words = new int[n];
            long[] masks = new long[n];
            n = 0;
            for (int w = 0; w < FlowKey.WORDS; w++) {
                if (mask[w] == 0) continue;
                words[n] = w;
                masks[n++] = mask[w];
            }
            return new Shape(words, masks, r.inPort >= 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Shape s && inPort == s.inPort && Arrays.equals(words, s.words) && Arrays.equals(masks, s.masks);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(words) + Arrays.hashCode(masks)) + (inPort ? 1 : 0);
        }
    }

    /**
     * The rules of one shape: an open-addressing hash table (linear probing, at most half full) from
     * the masked key (and input port) to the best rule with exactly that key. A slot's key and rule
     * sit at the slot's own position (no index to follow), so a probe into a large table costs two
     * cache misses before the rule itself: its key words and its rule reference.
     */
    private static final class Subtable {
        final int maxPriority;
        private final int[] words;
        private final long[] masks;
        private final boolean inPort;
        /** Longs per slot in {@link #slotKeys}: the input port, then the masked words. */
        private final int stride;
        private final long[] slotKeys;
        /** Per slot: the rule, or null (an empty slot). */
        private final OfRule[] slotRule;
        private final int slotMask;

        Subtable(Shape shape, List<OfRule> bestFirst) {
            words = shape.words;
            masks = shape.masks;
            inPort = shape.inPort;
            maxPriority = bestFirst.get(0).priority;
            stride = 1 + words.length;
            int capacity = Integer.highestOneBit(Math.max(2, bestFirst.size()) * 2 - 1) << 1;
            slotKeys = new long[capacity * stride];
            slotRule = new OfRule[capacity];
            slotMask = capacity - 1;
            long[] key = new long[1 + FlowKey.WORDS];
            for (OfRule r : bestFirst) {                 // best first: a later rule with the same key is shadowed and left out
                java.util.Arrays.fill(key, 0);
                for (int j = 0; j < r.words.length; j++) key[1 + r.words[j]] |= r.values[j];
                int port = inPort ? r.inPort : 0;
                int slot = hash(key, 1, port) & slotMask;
                while (slotRule[slot] != null && !sameKey(slot, key, 1, port)) slot = (slot + 1) & slotMask;
                if (slotRule[slot] != null) continue;
                slotKeys[slot * stride] = port;
                for (int j = 0; j < words.length; j++) slotKeys[slot * stride + 1 + j] = key[1 + words[j]] & masks[j];
                slotRule[slot] = r;
            }
        }

        /** The best rule of this subtable matching the packet, or null. */
        OfRule find(long[] k, int base, int inOfport) {
            int port = inPort ? inOfport : 0;
            for (int slot = hash(k, base, port) & slotMask; ; slot = (slot + 1) & slotMask) {
                OfRule r = slotRule[slot];
                if (r == null || sameKey(slot, k, base, port)) return r;
            }
        }

        /** Adds this subtable's mask to {@code mask} (a flow-key mask; the input port is always in a megaflow's). */
        void unwildcard(long[] mask) {
            for (int j = 0; j < words.length; j++) mask[words[j]] |= masks[j];
        }

        /** Reads what a lookup of the key reads first: its first slot's key and rule, the rule's actions; returns a sum of them. */
        int touch(long[] k, int base, int inOfport) {
            int slot = hash(k, base, inPort ? inOfport : 0) & slotMask;
            OfRule r = slotRule[slot];
            return (int) slotKeys[slot * stride] + (r == null ? 0 : r.actions.length);
        }

        /** Whether slot {@code slot} holds input port {@code port} and the masked words of key {@code k[base..]}. */
        private boolean sameKey(int slot, long[] k, int base, int port) {
            int at = slot * stride;
            if (slotKeys[at] != port) return false;
            for (int j = 0; j < words.length; j++) if (slotKeys[at + 1 + j] != (k[base + words[j]] & masks[j])) return false;
            return true;
        }

        /** A 32-bit mix of the masked words and the input port (multiply and xor-shift: neighbouring addresses spread). */
        private int hash(long[] k, int base, int port) {
            long h = 0x9E3779B97F4A7C15L ^ port;
            for (int j = 0; j < words.length; j++) {
                h = (h ^ (k[base + words[j]] & masks[j])) * 0xBF58476D1CE4E5B9L;
                h ^= h >>> 31;
            }
            h *= 0x94D049BB133111EBL;
            return (int) (h ^ (h >>> 32));
        }
    }
}
