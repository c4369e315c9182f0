package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The datapath flow caches change nothing but speed: two bridges with the same random tables, one
 * forwarder with the caches and one without (flow-limit 0, every packet runs the tables), get the
 * same packets; every port must transmit the same bytes, the controller must get the same
 * packet-ins, and every rule and table must count the same.
 */
class CachedForwardingTest {
    static final long A = 0x0200_0000_000aL, B = 0x0200_0000_000bL, C = 0x0200_0000_000cL, BCAST = 0xffff_ffff_ffffL;
    static final int[] IPS = {0x0a000001, 0x0a000002, 0x0a000102, 0x0b000001};

    private BridgeHarness cached, plain;

    @BeforeEach
    void setUp() {
        cached = new BridgeHarness();
        plain = new BridgeHarness();
        plain.forwarder.cacheSettings(0, Forwarder.DEFAULT_MAX_IDLE_MS);
        for (BridgeHarness h : List.of(cached, plain)) {
            h.dp.addBridge("br0", java.util.Map.of("controller-rate-limit", "0"));   // no rate limit: packet-ins must not depend on timing
            for (int p = 1; p <= 3; p++) h.add("p" + p, p, null, -1, "");
        }
    }

    @AfterEach
    void tearDown() {
        cached.close();
        plain.close();
    }

    private void flows(String... rules) {
        String text = String.join("\n", rules);
        for (BridgeHarness h : List.of(cached, plain)) h.dp.setFlows("br0", OfPipeline.parse(text, 1));
    }

    /** Sends the batch to both and checks both did the same. */
    private void sendBoth(String in, byte[]... frames) {
        cached.send(in, frames);
        plain.send(in, frames);
        for (int p = 1; p <= 3; p++) {
            List<byte[]> a = cached.sent("p" + p), b = plain.sent("p" + p);
            assertEquals(b.size(), a.size(), "packets sent on p" + p);
            for (int k = 0; k < a.size(); k++) assertArrayEquals(b.get(k), a.get(k), "packet " + k + " on p" + p);
        }
        var want = plain.packetIns();
        var got = cached.packetIns();
        assertEquals(want.size(), got.size(), "packet-ins");
        for (int k = 0; k < got.size(); k++) {
            var w = want.get(k);
            var g = got.get(k);
            assertEquals(List.of(w.reason(), w.table(), w.inPort(), w.cookie(), w.metadata(), w.totalLength()),
                    List.of(g.reason(), g.table(), g.inPort(), g.cookie(), g.metadata(), g.totalLength()), "packet-in " + k);
            assertArrayEquals(want.get(k).data(), got.get(k).data(), "packet-in " + k);
        }
    }

    private void assertSameCounters() {
        assertArrayEquals(plain.dp.view().bridge("br0").flows().countersWithTables(), cached.dp.view().bridge("br0").flows().countersWithTables(),
                "rule, group and table counters");
        assertEquals(plain.forwarder.tableMisses(), cached.forwarder.tableMisses());
        assertEquals(plain.forwarder.ttlDrops(), cached.forwarder.ttlDrops());
    }

    /**
     * Flows one megaflow covers but that differ in one field each keep an exact-match slot of their
     * own: the second batch of 32 is all exact-match hits, whichever field tells them apart (a hash
     * that left the slot bits to some words only once put every source port in one slot).
     */
    @Test
    void flowsDifferingInOneFieldEachKeepTheirExactMatchSlot() {
        flows("0 a 1 - - ; ; output:2");
        cached.forwarder.emcInsertion(1);                        // every megaflow hit enters the EMC
        String[] fields = {"udp source port", "udp destination port", "source address", "destination address", "source MAC"};
        for (int f = 0; f < fields.length; f++) {
            byte[][] batch = new byte[32][];
            for (int k = 0; k < 32; k++) {
                int v = k + 1;
                batch[k] = Frames.udp4(f == 4 ? B + ((long) v << 40) : B, A, f == 2 ? v << 24 | 1 : IPS[0], f == 3 ? v << 24 | 2 : IPS[1],
                        f == 0 ? 1000 + (v << 8) : 1000, f == 1 ? 2000 + (v << 8) : 2000, 18);
            }
            cached.send("p1", batch);
            long before = cached.forwarder.emcHits();
            cached.send("p1", batch);
            assertEquals(32, cached.forwarder.emcHits() - before, "32 flows differing in their " + fields[f] + ": all exact-match hits");
            assertEquals(64, cached.sent("p2").size());
        }
    }

    /**
     * Consecutive exact-match hits on one megaflow whose program is a single output are counted and
     * output as one run (as OVS executes a batch grouped by flow): the same bytes in the same order,
     * and every rule, table and megaflow counter as packet by packet. A packet of another flow ends a
     * run; a flow with two outputs goes packet by packet.
     */
    @Test
    void runsOfOneFlowForwardAndCountAsPacketByPacket() {
        flows("0 a 1 - - ; ; output:2", "0 b 1 - - ; c:ffff:800 d:ffffffff:" + Integer.toHexString(IPS[2]) + " ; output:3",
                "0 b 1 - - ; c:ffff:800 d:ffffffff:" + Integer.toHexString(IPS[3]) + " ; output:2 output:3");
        cached.forwarder.emcInsertion(1);
        byte[][] batch = new byte[32][];
        for (int k = 0; k < 32; k++) {
            int ip = k == 10 ? IPS[2] : k >= 20 && k < 23 ? IPS[3] : IPS[1];
            batch[k] = Frames.udp4(B, A, Frames.IP4_A, ip, 1000 + k, 2000, 18 + k);   // lengths differ: bytes counted per packet
        }
        for (int round = 0; round < 3; round++) {
            long emc = cached.forwarder.emcHits(), runs = cached.forwarder.runPackets();
            sendBoth("p1", batch);
            if (round > 0) {
                assertEquals(32, cached.forwarder.emcHits() - emc, "round " + round + ": all exact-match hits");
                assertEquals(10 + 9 + 9, cached.forwarder.runPackets() - runs, "round " + round + ": packets 0-9, 11-19 and 23-31 as runs");
            }
            assertSameCounters();
        }
        cached.send("p1", batch);
        assertEquals(31, cached.sent("p2").size());   // 28 and the two-output flow's 3
        assertEquals(4, cached.sent("p3").size());
        long bytes = 0;
        for (int k = 0; k < 32; k++) if (k != 10 && !(k >= 20 && k < 23)) bytes += batch[k].length;
        String dump = cached.forwarder.dumpFlows(cached.dp.view(), cached.dp.now());
        // every packet of the four batches but the first, whose upcall made the megaflow
        assertTrue(dump.contains("packets:" + (4 * 28 - 1) + ", bytes:" + (4 * bytes - batch[0].length) + ","),
                "the output:2 megaflow counts every packet of its runs:\n" + dump);
    }

    /** A run whose program also counts a table miss (output, then a goto to an empty table) counts it per packet. */
    @Test
    void aRunCountsItsTableMissesPerPacket() {
        flows("0 a 1 1 - ; ; output:2");
        cached.forwarder.emcInsertion(1);
        byte[][] batch = new byte[32][];
        for (int k = 0; k < 32; k++) batch[k] = Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000 + k, 2000, 18);
        for (int round = 0; round < 3; round++) {
            long runs = cached.forwarder.runPackets();
            sendBoth("p1", batch);
            assertSameCounters();
            if (round > 0) assertEquals(32, cached.forwarder.runPackets() - runs, "round " + round);
        }
        assertEquals(96, cached.forwarder.tableMisses());
    }

    /**
     * other_config:emc-insert-inv-prob, as OVS: by default a flow enters the EMC with probability
     * 1/100 per megaflow hit (so after some 100 packets); 0 keeps the EMC out of it altogether; a
     * value out of range is refused with the range.
     */
    @Test
    void aFlowEntersTheExactMatchCacheWithProbabilityOneInN() {
        flows("0 a 1 - - ; ; output:2");
        byte[] f = Frames.udp4(B, A, IPS[0], IPS[1], 1000, 2000, 18);
        for (int k = 0; k < 3000; k++) cached.send("p1", f);
        var fw = cached.forwarder;
        assertEquals(1, fw.upcalls());
        assertTrue(fw.megaflowHits() >= 1 && fw.megaflowHits() < 3000 && fw.emcHits() > 0,
                "some megaflow hits before the flow entered the EMC: " + fw.megaflowHits() + " megaflow, " + fw.emcHits() + " EMC");
        cached.dp.configure(java.util.Map.of("emc-insert-inv-prob", "0"));   // accepted (the harness's PMDs get it) ...
        fw.emcInsertion(0);                                                // ... and this hand-driven forwarder too
        long emc = fw.emcHits(), mega = fw.megaflowHits();
        for (int k = 0; k < 100; k++) cached.send("p1", f);
        assertEquals(emc, fw.emcHits(), "EMC off");
        assertEquals(mega + 100, fw.megaflowHits());
        assertEquals(3100, cached.sent("p2").size());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> cached.dp.configure(java.util.Map.of("emc-insert-inv-prob", "4294967296")));
        assertTrue(e.getMessage().contains("emc-insert-inv-prob") && e.getMessage().contains("4294967295"), e.getMessage());
    }

    @Test
    void randomTablesForwardExactlyAsWithoutCaches() {
        Random rnd = new Random(7);
        List<byte[]> frames = frames(rnd);
        long hits = 0;
        for (int round = 0; round < 40; round++) {
            flows(randomTables(rnd));
            for (int b = 0; b < 20; b++) {
                byte[][] batch = new byte[1 + rnd.nextInt(32)][];
                for (int i = 0; i < batch.length; i++) batch[i] = frames.get(rnd.nextInt(frames.size()));
                sendBoth("p" + (1 + rnd.nextInt(3)), batch);
            }
            assertSameCounters();
            hits = cached.forwarder.emcHits() + cached.forwarder.megaflowHits();
        }
        assertTrue(hits > 5_000 && hits > cached.forwarder.upcalls(), "the cached side answered most passes from its caches: " + hits + " hits, "
                + cached.forwarder.upcalls() + " upcalls");
        assertTrue(cached.forwarder.megaflowHits() > 0 && cached.forwarder.emcHits() > 0, "both cache levels hit");
        assertEquals(0, plain.forwarder.emcHits() + plain.forwarder.megaflowHits(), "flow-limit 0: no caches");
        assertEquals(plain.forwarder.openflowPasses(), plain.forwarder.upcalls(), "flow-limit 0: every pass is an upcall");
        assertEquals(plain.forwarder.upcalls(), plain.forwarder.uninstalled(), "... and none is installed");
        Forwarder f = cached.forwarder;
        assertEquals(f.openflowPasses(), f.emcHits() + f.megaflowHits() + f.upcalls(), "every pass is a hit at one level or an upcall");
    }

    /** A megaflow made from older tables is translated again when the tables change, not replayed. */
    @Test
    void newTablesAreNotAnsweredFromOldMegaflows() {
        byte[] f = Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000, 2000, 18);
        flows("0 1 - - - ; c:ffff:800 ; output:2");
        sendBoth("p1", f, f, f);
        flows("0 1 - - - ; c:ffff:800 ; output:3");
        sendBoth("p1", f, f);
        assertTrue(cached.forwarder.upcalls() == 2, "one upcall per table version: " + cached.forwarder.upcalls());
        assertSameCounters();
    }

    /** dec_ttl's outcome depends on the TTL: a packet whose TTL expires goes to the controller, the others are forwarded. */
    @Test
    void theTtlDecTtlTestsIsPartOfTheMegaflow() {
        flows("0 1 - - - ; c:ffff:800 ; dec_ttl output:2");
        byte[] live = Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000, 2000, 18);
        byte[] dying = live.clone();
        dying[22] = 1;
        sendBoth("p1", live, dying, live, dying, live);
        sendBoth("p1", dying, live);
        assertEquals(3, plain.forwarder.ttlDrops(), "three expired");
        assertSameCounters();
    }

    @Test
    void theFlowLimitCapsTheMegaflowsAndTheRestStillForward() {
        cached.forwarder.cacheSettings(2, Forwarder.DEFAULT_MAX_IDLE_MS);
        flows("0 1 - - - ; d:ffffffff:a000001 ; output:2", "0 1 - - - ; d:ffffffff:a000002 ; output:2",
                "0 1 - - - ; d:ffffffff:a000102 ; output:3", "0 0 - - - ; ; output:3");
        byte[][] batch = new byte[4][];
        for (int k = 0; k < 4; k++) batch[k] = Frames.udp4(B, A, Frames.IP4_A, IPS[k], 1000, 2000, 18);
        sendBoth("p1", batch);
        sendBoth("p1", batch);
        assertEquals(2, cached.forwarder.megaflowCount());
        assertEquals(4, cached.forwarder.uninstalled(), "two packets of each round found no room");
        assertSameCounters();
    }

    @Test
    void idleMegaflowsAndThoseOfReplacedTablesAreSweptAway() {
        flows("0 1 - - - ; d:ffffffff:a000001 ; output:2", "0 0 - - - ; ; output:3");
        sendBoth("p1", Frames.udp4(B, A, Frames.IP4_A, IPS[0], 1000, 2000, 18), Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000, 2000, 18));
        assertEquals(2, cached.forwarder.megaflowCount());
        DatapathView v = cached.dp.view();
        int now = cached.dp.now();
        for (int k = 0; k < 100; k++) cached.forwarder.upkeep(v, now + 9);
        assertEquals(2, cached.forwarder.megaflowCount(), "9 s idle: kept (max-idle 10 s)");
        for (int k = 0; k < 100; k++) cached.forwarder.upkeep(v, now + 10);
        assertEquals(0, cached.forwarder.megaflowCount(), "10 s idle: gone");

        sendBoth("p1", Frames.udp4(B, A, Frames.IP4_A, IPS[0], 1000, 2000, 18));
        assertEquals(1, cached.forwarder.megaflowCount());
        flows("0 0 - - - ; ; output:3");
        for (int k = 0; k < 100; k++) cached.forwarder.upkeep(cached.dp.view(), now);
        assertEquals(0, cached.forwarder.megaflowCount(), "made from tables since replaced: gone");
    }

    /** dump-flows shows what the megaflow matches (only the bits the tables looked at) and its actions. */
    @Test
    void aDumpShowsTheMaskTheTablesConsultedAndTheActions() {
        flows("0 5 - 1 - ; c:ffff:800 d:ffffff00:a000000 ; set_eth_dst:2000000000c", "0 1 - - - ; ; ",
                "1 1 - - - ; c:ffffff:110800 13:ffff00000000:" + Long.toHexString(2000L << 32) + " ; output:3", "1 0 - - - ; ; output:2");
        byte[] f = Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000, 2000, 18);
        sendBoth("p1", f, f);
        String dump = cached.forwarder.dumpFlows(cached.dp.view(), cached.dp.now());
        DpBridge br = cached.dp.view().bridge("br0");
        assertEquals("recirc_id(0),in_port(" + br.port("p1").index() + "),packet_type(ns=0,id=0),eth_type(0x0800),"
                + "ipv4(dst=10.0.0.0/255.255.255.0,proto=17),udp(dst=2000), packets:1, bytes:60, used:0.0s, actions:set_eth_dst:2000000000c,"
                + br.port("p3").index() + "\n", dump);
    }

    // ---------------------------------------------------------------- random tables and packets

    private static List<byte[]> frames(Random rnd) {
        List<byte[]> out = new ArrayList<>();
        long[] macs = {A, B, C, BCAST};
        for (long dst : macs) {
            for (int ip : IPS) {
                out.add(Frames.udp4(dst, A, Frames.IP4_A, ip, 1000, 2000 + rnd.nextInt(3), 18));
                out.add(Frames.tcp4(dst, B, Frames.IP4_B, ip, 3000, 80, Frames.TCP_SYN, 10));
            }
        }
        byte[] dying = Frames.udp4(B, A, Frames.IP4_A, IPS[1], 1000, 2000, 18);
        dying[22] = 1;
        out.add(dying);
        out.add(Frames.dot1q(Frames.udp4(B, A, Frames.IP4_A, IPS[0], 1000, 2000, 18), 7));
        out.add(Frames.dot1q(Frames.udp4(C, A, Frames.IP4_A, IPS[2], 1000, 2001, 18), 9));
        out.add(Frames.arpRequest(A, Frames.IP4_A, IPS[1]));
        out.add(Frames.udp6(B, A, 0xfe80L << 48, 1, 0xfe80L << 48, 2, 1000, 2000, 18));
        return out;
    }

    private static String[] randomTables(Random rnd) {
        List<String> rules = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int n = 2 + rnd.nextInt(6);
            for (int r = 0; r < n; r++) {
                String inPort = rnd.nextInt(4) == 0 ? Integer.toString(1 + rnd.nextInt(3)) : "-";
                boolean go = t < 2 && rnd.nextBoolean();
                String meta = go && rnd.nextBoolean() ? Integer.toHexString(rnd.nextInt(3)) + "/ff" : "-";
                rules.add(t + " " + Integer.toHexString(rnd.nextInt(4)) + " " + inPort + " " + (go ? Integer.toString(t + 1 + rnd.nextInt(2 - t)) : "-")
                        + " " + meta + " ; " + matches(rnd, t) + " ; " + actions(rnd));
            }
        }
        return rules.toArray(new String[0]);
    }

    private static String matches(Random rnd, int table) {
        List<String> m = new ArrayList<>();
        if (rnd.nextInt(3) == 0) m.add("9:ffffffffffff:" + Long.toHexString(new long[] {A, B, C, BCAST}[rnd.nextInt(4)]));
        if (rnd.nextInt(2) == 0) {
            m.add("c:ffff:800");
            switch (rnd.nextInt(4)) {
                case 0 -> m.add("d:ffffffff:" + Integer.toHexString(IPS[rnd.nextInt(IPS.length)]));
                case 1 -> m.add("d:ffffff00:" + Integer.toHexString(IPS[rnd.nextInt(IPS.length)] & 0xffffff00));
                case 2 -> m.add("c:ff0000:" + (rnd.nextBoolean() ? "110000" : "60000"));
                default -> { }
            }
            if (rnd.nextInt(4) == 0) m.add("13:ffff00000000:" + Long.toHexString((long) (2000 + rnd.nextInt(3)) << 32));
        }
        if (rnd.nextInt(5) == 0) m.add("b:1fff000000000000:" + Long.toHexString((0x1000L | (rnd.nextBoolean() ? 7 : 9)) << 48));
        if (table > 0 && rnd.nextInt(3) == 0) m.add("1:ff:" + Integer.toHexString(rnd.nextInt(3)));
        return String.join(" ", m);
    }

    private static String actions(Random rnd) {
        String[] choices = {"output:1", "output:2", "output:3", "set_eth_dst:2000000000c", "set_ipv4_dst:a000005", "set_tp_dst:50",
            "dec_ttl", "push_vlan:8100 set_vlan_vid:64", "pop_vlan", "normal", "flood", "in_port", "controller:ffff", "set_queue:1",
            "w/output:2", "w/set_eth_src:20000000001", "clear_actions", "set_ip_dscp:2e"};
        List<String> a = new ArrayList<>();
        int n = rnd.nextInt(4);
        for (int k = 0; k < n; k++) a.add(choices[rnd.nextInt(choices.length)]);
        return String.join(" ", a);
    }
}
