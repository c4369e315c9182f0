package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tuple-space table must answer exactly what OpenFlow's definition gives: the first matching
 * rule of a scan by descending priority, ties in the order the rules were sent ({@link OfRule#matches}
 * is the definition). Random tables with overlapping masks, shared keys, equal priorities and input
 * ports are checked against that scan packet by packet.
 */
class FlowTableTest {
    private final long[] probes = new long[1];
    /** Masks the random rules pick from: overlapping, on shared words, some with several terms on one word. */
    private static final String[] SHAPES = {
        "",                                                   // catch-all
        "d:ffffffff:%s",                                      // nw_dst exact
        "d:ffffff00:%s",                                      // nw_dst /24
        "d:ffffffff00000000:%s",                              // nw_src exact
        "d:ffffffff00000000:%s d:ffffffff:%s",                // both, as two terms on one word
        "c:ffff:800 13:ffff00000000:%s",                      // ip, tp_dst
        "9:ffffffffffff:%s",                                  // dl_dst
        "c:ff0000:%s",                                        // nw_proto
    };

    @Test
    void answersWhatAScanByPriorityAnswers() {
        Random random = new Random(Long.getLong("fuzz.seed", 7));
        int specific = 0, misses = 0, checked = 0;
        for (int round = 0; round < 200; round++) {
            List<OfRule> rules = new ArrayList<>();
            int n = 1 + random.nextInt(round < 100 ? 20 : 400);
            for (int id = 0; id < n; id++) rules.add(OfRule.parse(id, randomRule(random)));
            FlowTable table = FlowTable.build(rules);
            List<OfRule> scan = new ArrayList<>(rules);
            scan.sort(FlowTable.BEST_FIRST);
            long[] key = new long[2 * FlowKey.WORDS];
            for (int p = 0; p < 300; p++) {
                randomPacket(random, key, FlowKey.WORDS);
                int inPort = random.nextInt(4);
                OfRule expected = null;
                for (OfRule r : scan) {
                    if (r.matches(key, FlowKey.WORDS, inPort)) {
                        expected = r;
                        break;
                    }
                }
                assertSame(expected, table.lookup(key, FlowKey.WORDS, inPort, probes, null), "round " + round + " packet " + p);
                checked++;
                if (expected == null) misses++;
                else if (expected.words.length > 0) specific++;
            }
        }
        // the random tables must exercise the interesting cases: packets won by specific rules, and misses
        assertTrue(specific > checked / 4 && misses > checked / 50, specific + " specific, " + misses + " misses of " + checked);
    }

    @Test
    void manyRulesOfOneMaskAreOneSubtable() {
        List<OfRule> rules = new ArrayList<>();
        for (int id = 0; id < 100_000; id++) rules.add(OfRule.parse(id, "0 64 - - - ; d:ffffffff:" + Integer.toHexString(0x0a000000 + id) + " ; output:2"));
        rules.add(OfRule.parse(100_000, "0 0 - - - ; ; normal"));
        FlowTable table = FlowTable.build(rules);
        assertEquals(2, table.subtableCount());
        long[] key0 = new long[FlowKey.WORDS];
        key0[FlowKey.W_IPV4] = 0x0a000005;
        probes[0] = 0;
        assertEquals(5, table.lookup(key0, 0, 1, probes, null).id);
        assertEquals(1, probes[0], "a match at priority 100 ends the search before the catch-all's subtable");
        long[] key = new long[FlowKey.WORDS];
        for (int id = 0; id < 100_000; id += 997) {
            key[FlowKey.W_IPV4] = 0x0a000000 + id;
            assertEquals(id, table.lookup(key, 0, 1, probes, null).id);
        }
        key[FlowKey.W_IPV4] = 0x0b000000;
        assertEquals(100_000, table.lookup(key, 0, 1, probes, null).id);         // only the catch-all
    }

    @Test
    void contradictoryTermsMatchNothingAndEmptyTablesMiss() {
        OfRule never = OfRule.parse(0, "0 64 - - - ; d:ffffffff:1 d:ff:2 ; output:2");
        long[] key = new long[FlowKey.WORDS];
        key[FlowKey.W_IPV4] = 1;
        assertTrue(!never.matches(key, 0, 1));
        assertNull(FlowTable.build(List.of(never)).lookup(key, 0, 1, probes, null));
        assertNull(FlowTable.build(List.of()).lookup(key, 0, 1, probes, null));
    }

    private static String randomRule(Random random) {
        String shape = SHAPES[random.nextInt(SHAPES.length)];
        Object[] values = new Object[2];
        for (int k = 0; k < 2; k++) {
            long v = smallValue(random);
            values[k] = Long.toHexString(v | v << 32);   // the same small number in either half of a word
        }
        String match = String.format(shape, values);
        String inPort = random.nextInt(3) == 0 ? Integer.toHexString(random.nextInt(4)) : "-";
        int priority = random.nextInt(6);                     // few priorities: many ties
        return "0 " + Integer.toHexString(priority) + " " + inPort + " - - ; " + match + " ; output:1";
    }

    /** Values from a small range, so that packets hit rules and rules share keys. */
    private static long smallValue(Random random) {
        return random.nextInt(4) * 0x0100_0001L + random.nextInt(3);
    }

    private static void randomPacket(Random random, long[] key, int base) {
        for (int w = 0; w < FlowKey.WORDS; w++) key[base + w] = 0;
        long a = smallValue(random), b = smallValue(random);
        key[base + FlowKey.W_IPV4] = a << 32 | b;
        long v = smallValue(random);
        key[base + FlowKey.W_ETH_DST] = (v | v << 32) & 0xffff_ffff_ffffL;
        key[base + FlowKey.W_L3] = random.nextBoolean() ? 0x800 | (long) random.nextInt(3) << 16 : smallValue(random);
        key[base + FlowKey.W_TP] = smallValue(random) << 32;
    }
}
