package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.flow.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenFlow tables as the PMDs run them (rules in the text form vswitchd sends), checked on the exact
 * bytes each port transmits. Ports: p1..p3 are OpenFlow ports 1..3 (all trunks for NORMAL).
 */
class OpenFlowForwardingTest {
    static final long A = 0x0200_0000_000aL, B = 0x0200_0000_000bL;

    private BridgeHarness h;
    private Datapath dp;
    private Forwarder forwarder;

    @BeforeEach
    void setUp() {
        h = new BridgeHarness();
        dp = h.dp;
        forwarder = h.forwarder;
        for (int p = 1; p <= 3; p++) h.add("p" + p, p, null, -1, "");
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private void flows(String... rules) {
        dp.setFlows("br0", OfPipeline.parse(String.join("\n", rules), 1));
    }

    private void send(String in, byte[]... frames) {
        h.send(in, frames);
    }

    private List<byte[]> sent(String port) {
        return h.sent(port);
    }

    private static byte[] udp(long dst, long src, int dstIp) {
        return Frames.udp4(dst, src, Frames.IP4_A, dstIp, 1000, 2000, 18);
    }

    @Test
    void aTableMissDropsAndInPortSelectsTheFlow() {
        flows("0 a 1 - - ; ; output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertArrayEquals(f, sent("p2").get(0));
        assertTrue(sent("p3").isEmpty());
        send("p3", f);
        assertTrue(sent("p1").isEmpty() && sent("p2").isEmpty(), "no flow for in_port 3: dropped");
        assertEquals(1, forwarder.tableMisses());
        send("p1", f, f);
        assertArrayEquals(new long[] {3, 3L * f.length}, dp.view().bridge("br0").flows().counters(), "the rule's packets and bytes");
    }

    @Test
    void higherPriorityWinsAndMasksMatchBitsOnly() {
        // eth_type=0x0800 and nw_dst=10.0.0.0/8 -> p3 at priority 20; everything -> p2 at priority 10
        flows("0 14 - - - ; c:ffff:800 d:ff000000:a000000 ; output:3", "0 a - - - ; ; output:2");
        byte[] ten = udp(B, A, 0x0a010203);
        byte[] other = udp(B, A, 0x0b010203);
        send("p1", ten, other);
        List<byte[]> p3 = sent("p3");
        assertEquals(1, p3.size());
        assertArrayEquals(ten, p3.get(0));
        List<byte[]> p2 = sent("p2");
        assertEquals(1, p2.size());
        assertArrayEquals(other, p2.get(0));
    }

    @Test
    void actionsApplyInOrderAndEarlierOutputsKeepTheOldBytes() {
        flows("0 1 1 - - ; ; output:3 push_vlan:8100 set_vlan_vid:64 output:2 pop_vlan set_eth_dst:2000000000c local");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertArrayEquals(f, sent("p3").get(0), "output before the push: untagged");
        assertArrayEquals(Frames.dot1q(f, 100), sent("p2").get(0), "after push_vlan and set_vlan_vid 100");
    }

    @Test
    void gotoTableAndMetadataCarryThePacketOn() {
        flows("0 1 - 3 5/ff ; ; ", "3 1 - - - ; 1:ff:5 ; set_eth_dst:2000000000c output:2", "3 0 - - - ; ; output:3");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        byte[] rewritten = f.clone();
        rewritten[5] = 0x0c;
        rewritten[0] = 0x02;
        rewritten[1] = rewritten[2] = rewritten[3] = rewritten[4] = 0;
        assertArrayEquals(rewritten, sent("p2").get(0), "table 3 matched the metadata table 0 wrote, and rewrote eth_dst");
        assertTrue(sent("p3").isEmpty());
    }

    /** Rules hit in turn by the packets of one batch (a pipeline of tables, more rules than the forwarder tallies at once) all count exactly. */
    @Test
    void everyRuleOfAMultiTablePipelineCountsItsPacketsAndBytes() {
        // table 0: one rule per destination 10.0.0.k (k = 0..11) writes metadata k and goes to table 1; table 1: one rule per metadata value
        String[] rules = new String[24];
        for (int k = 0; k < 12; k++) {
            rules[k] = "0 1 - 1 " + Integer.toHexString(k) + "/ff ; c:ffff:800 d:ffffffff:" + Integer.toHexString(0x0a000000 + k) + " ; ";
            rules[12 + k] = "1 1 - - - ; 1:ff:" + Integer.toHexString(k) + " ; output:2";
        }
        flows(rules);
        byte[][] batch = new byte[30][];
        long[] expected = new long[48];
        for (int i = 0; i < batch.length; i++) {
            int k = (i * 7) % 12;                      // destinations interleaved: consecutive packets hit other rules
            batch[i] = Frames.udp4(B, A, Frames.IP4_A, 0x0a000000 + k, 1000, 2000, 18 + k);
            for (int rule : new int[] {k, 12 + k}) {
                expected[2 * rule]++;
                expected[2 * rule + 1] += batch[i].length;
            }
        }
        send("p1", batch);
        assertEquals(30, sent("p2").size());
        OfPipeline tables = dp.view().bridge("br0").flows();
        assertArrayEquals(expected, tables.counters());
        assertArrayEquals(tables.countersWithTables(), tables.nonZeroCounters().dense(), "what state dumps carry");
    }

    @Test
    void laterTablesMatchWhatEarlierOnesMadeOfThePacket() {
        // table 0 tags with VLAN 7 and goes on; table 1 matches vlan_vid=7 (with OFPVID_PRESENT)
        flows("0 1 - 1 - ; ; push_vlan:8100 set_vlan_vid:7", "1 1 - - - ; b:1fff000000000000:1007000000000000 ; output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertArrayEquals(Frames.dot1q(f, 7), sent("p2").get(0));
    }

    @Test
    void normalInAFlowLearnsAndFloodsLikeTheDefaultBridge() {
        flows("0 0 - - - ; ; normal");
        byte[] bc = Frames.padTo(Frames.arpRequest(A, Frames.IP4_A, Frames.IP4_B), 60);
        send("p1", bc);
        assertArrayEquals(bc, sent("p2").get(0));
        assertArrayEquals(bc, sent("p3").get(0));
        byte[] toA = udp(A, B, Frames.IP4_A);
        send("p2", toA);
        assertArrayEquals(toA, sent("p1").get(0), "A was learned on p1");
        assertTrue(sent("p3").isEmpty());
        assertArrayEquals(new long[] {2, bc.length + toA.length}, dp.view().bridge("br0").flows().counters(),
                "the default flow takes the direct NORMAL path and still counts");
    }

    /** Rewritten addresses and ports carry correct checksums: the bytes equal a frame built with the new values. */
    @Test
    void ipAndPortRewritesPatchTheChecksums() {
        flows("0 2 1 - - ; c:ffffff:110800 ; set_ipv4_dst:0a000009 set_tp_dst:1f90 output:2",
              "0 1 1 - - ; c:ffffff:60800 ; set_ipv4_src:c0a80001 set_tp_src:50 output:2",
              "0 0 1 - - ; ; dec_ttl output:3");
        send("p1", Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 18),
                Frames.tcp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 0x002, 10));
        List<byte[]> out = sent("p2");
        assertEquals(2, out.size());
        assertArrayEquals(Frames.udp4(B, A, Frames.IP4_A, 0x0a000009, 1000, 8080, 18), out.get(0), "UDP to 10.0.0.9:8080");
        assertArrayEquals(Frames.tcp4(B, A, 0xc0a80001, Frames.IP4_B, 80, 2000, 0x002, 10), out.get(1), "TCP from 192.168.0.1:80");

        byte[] ttl2 = Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1, 2, 0);
        ttl2[14 + 8] = 2;
        fixIpChecksum(ttl2);
        byte[] ttl1 = ttl2.clone();
        ttl1[14 + 8] = 1;
        fixIpChecksum(ttl1);
        flows("0 0 1 - - ; ; dec_ttl output:3");
        send("p1", ttl2, ttl1);
        List<byte[]> p3 = sent("p3");
        assertEquals(1, p3.size(), "TTL 1 is not decremented to 0 and sent: dropped");
        byte[] expected = ttl1.clone();                          // what TTL 2 - 1 must look like
        assertArrayEquals(expected, p3.get(0), "TTL decremented, header checksum patched");
        assertEquals(1, forwarder.ttlDrops());
        List<io.vswitch.datapath.ipc.PacketIn> pins = h.packetIns();
        assertEquals(1, pins.size(), "the expired packet goes to the controllers, as OVS sends it");
        assertEquals(io.vswitch.datapath.ipc.PacketIn.REASON_INVALID_TTL, pins.get(0).reason());
        assertArrayEquals(ttl1, pins.get(0).data(), "unchanged: TTL 1");
    }

    /**
     * set_field beyond Ethernet/IPv4/ports: ARP fields, ICMP type and code, IPv4 ECN, IPv6 addresses
     * (whose change the UDP checksum follows through the pseudo-header), IPv6 ports and flow label.
     * Each result equals the frame built with the new values, checksums included.
     */
    @Test
    void arpIcmpEcnAndIpv6RewritesKeepFramesAndChecksumsRight() {
        flows("0 4 1 - - ; c:ffff:806 ; set_arp_op:2 set_arp_sha:20000000001 set_arp_spa:c0a80001 set_arp_tha:20000000002 set_arp_tpa:c0a80002 output:2",
              "0 3 1 - - ; c:ffffff:10800 ; set_icmp_type:0 set_icmp_code:3 output:2",
              "0 2 1 - - ; c:ffffff:110800 ; set_ip_ecn:3 output:2",
              "0 1 1 - - ; c:ffffff:1186dd ; set_ipv6_src_hi:20010db800000000 set_ipv6_src_lo:99 set_ipv6_dst_hi:fd00000000000000 "
                      + "set_ipv6_dst_lo:7 set_tp_dst:35 set_ipv6_label:abcde output:2");
        send("p1", Frames.arpRequest(A, Frames.IP4_A, Frames.IP4_B),
                Frames.icmp4(B, A, Frames.IP4_A, Frames.IP4_B, 8, 0, 16),
                Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 18),
                Frames.udp6(B, A, Frames.IP6_A_HI, Frames.IP6_A_LO, Frames.IP6_B_HI, Frames.IP6_B_LO, 1000, 2000, 18));
        List<byte[]> out = sent("p2");
        assertEquals(4, out.size());
        byte[] arp = Frames.arp(0xffff_ffff_ffffL, A, 2, 0x0200_0000_0001L, 0xc0a8_0001, 0x0200_0000_0002L, 0xc0a8_0002);
        assertArrayEquals(arp, out.get(0), "ARP reply with the new addresses");
        byte[] icmp = Frames.icmp4(B, A, Frames.IP4_A, Frames.IP4_B, 0, 3, 16);
        assertArrayEquals(icmp, out.get(1), "ICMP type 0 code 3, checksum patched");
        byte[] ecn = Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 18);
        ecn[15] |= 3;
        fixIpChecksum(ecn);
        assertArrayEquals(ecn, out.get(2), "ECN 3, header checksum patched");
        byte[] v6 = Frames.udp6(B, A, 0x2001_0db8_0000_0000L, 0x99, 0xfd00_0000_0000_0000L, 7, 1000, 53, 18);
        v6[15] = (byte) (v6[15] & 0xf0 | 0xa);                   // flow label 0xabcde: not under any checksum
        v6[16] = (byte) 0xbc;
        v6[17] = (byte) 0xde;
        assertArrayEquals(v6, out.get(3), "new IPv6 addresses, port 53 and label; UDP checksum follows the pseudo-header");

        flows("0 1 1 - - ; c:ffffff:840800 ; set_tp_src:b set_tp_dst:16 output:2");          // SCTP: the CRC32c is recomputed
        send("p1", Frames.sctp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 20));
        assertArrayEquals(Frames.sctp4(B, A, Frames.IP4_A, Frames.IP4_B, 11, 22, 20), sent("p2").get(0), "SCTP ports 11 and 22, CRC32c right");

        flows("0 1 1 - - ; ; set_queue:3 output:2");                              // no QoS on the port: its one queue
        byte[] plain = Frames.udp4(B, A, Frames.IP4_A, Frames.IP4_B, 1000, 2000, 18);
        send("p1", plain);
        assertArrayEquals(plain, sent("p2").get(0), "set_queue leaves the frame alone");

        flows("0 1 1 - - ; c:ffffff:3a86dd ; set_nd_target_hi:20010db800000000 set_nd_target_lo:1000002 set_nd_sll:20000000099 output:2");
        send("p1", Frames.ndNs(A, Frames.IP6_A_HI, Frames.IP6_A_LO, Frames.IP6_B_HI, Frames.IP6_B_LO));
        // the new target keeps the low 24 bits, so the solicited-node group (the frame's destination) is the same
        assertArrayEquals(patchSrcMac(Frames.ndNs(0x0200_0000_0099L, Frames.IP6_A_HI, Frames.IP6_A_LO, 0x2001_0db8_0000_0000L, 0x0100_0002L), A),
                sent("p2").get(0), "target 2001:db8::100:2 and SLL 02:00:00:00:00:99; ICMPv6 checksum patched");
    }

    /** The frame with its Ethernet source set to {@code mac} (set_nd_sll changes the option, not the header). */
    private static byte[] patchSrcMac(byte[] f, long mac) {
        byte[] out = f.clone();
        for (int k = 0; k < 6; k++) out[6 + k] = (byte) (mac >>> (40 - 8 * k));
        return out;
    }

    private static void fixIpChecksum(byte[] f) {
        f[24] = 0;
        f[25] = 0;
        int sum = 0;
        for (int i = 14; i < 34; i += 2) sum += (f[i] & 0xff) << 8 | (f[i + 1] & 0xff);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        sum = ~sum & 0xffff;
        f[24] = (byte) (sum >>> 8);
        f[25] = (byte) sum;
    }

    @Test
    void malformedRulesAreRefusedWithTheReason() {
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 1 - - - ; ; jump", 1));
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 1 - - - ; 99:1:1 ; ", 1));
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("3 1 - 2 - ; ; ", 1), "goto backwards");
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 1 - -", 1));
    }

    @Test
    void controllerActionWritesAPacketInWithTheFlowsTableCookieAndTheEditedFrame() {
        // table 0 tags with VID 5 and goes to table 1, whose flow (cookie 0xc0ffee) sends 40 bytes to the controller
        flows("0 a 1 1 7/ff ; ; push_vlan:8100 set_vlan_vid:5", "1 1 - - - c0ffee ; ; controller:28 output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        List<io.vswitch.datapath.ipc.PacketIn> pins = h.packetIns();
        assertEquals(1, pins.size());
        io.vswitch.datapath.ipc.PacketIn p = pins.get(0);
        assertEquals("br0", p.bridge());
        assertEquals(1, p.table());
        assertEquals(0xc0ffeeL, p.cookie());
        assertEquals(1, p.inPort());
        assertEquals(7, p.metadata(), "metadata written by table 0");
        assertEquals(io.vswitch.datapath.ipc.PacketIn.REASON_ACTION, p.reason());
        byte[] tagged = sent("p2").get(0);
        assertEquals(f.length + 4, p.totalLength(), "the frame as tagged by table 0");
        assertArrayEquals(java.util.Arrays.copyOf(tagged, 40), p.data(), "cut to max_len 40");
        assertEquals(1, forwarder.packetInsSent());
    }

    @Test
    void packetInsBeyondTheBridgesRateAreDroppedAndCounted() {
        dp.addBridge("br0", java.util.Map.of("controller-rate-limit", "100", "controller-burst-limit", "3"));
        flows("0 a - - - ; ; controller:ffff");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f, f, f, f, f);
        assertEquals(3, h.packetIns().size(), "a burst of 3");
        assertTrue(h.packetIns().isEmpty(), "read once");
        assertEquals(2, forwarder.packetInsLimited());
    }

    @Test
    void packetOutRunsItsActionsOrTheTables() {
        byte[] f = udp(B, A, Frames.IP4_B);
        h.packetOut(0xfffffffd, "output:3", f);                   // in_port=CONTROLLER
        assertArrayEquals(f, sent("p3").get(0));
        h.packetOut(1, "flood", f);                               // FLOOD leaves out the in_port
        assertTrue(sent("p1").isEmpty());
        assertEquals(1, sent("p2").size());
        assertEquals(1, sent("p3").size());
        h.packetOut(1, "push_vlan:8100 set_vlan_vid:9 output:2", f);
        assertEquals(f.length + 4, sent("p2").get(0).length, "edits apply to packet-outs");
        flows("0 a 2 - - ; ; output:3");
        h.packetOut(2, "table", f);                               // output:TABLE runs the tables as received on port 2
        assertArrayEquals(f, sent("p3").get(0));
        h.packetOut(0xfffffffd, "table", f);                      // no flow for in_port=CONTROLLER: a table miss
        assertTrue(sent("p3").isEmpty());
        assertEquals(5, forwarder.packetOuts());
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 1 - - - ; ; table", 1), "table is for packet-outs only");
    }

    /** A bucket may go to another group (chaining): all group 1's second bucket tags its copy and hands it to all group 2. */
    @Test
    void chainedGroupsRunTheirBucketsInTurnAndLoopsEnd() {
        flows("0 a 1 - - ; ; group:1 output:3",
              "g 1 all ; 1 0 output:2 ; 1 0 push_vlan:8100 set_vlan_vid:7 group:2",
              "g 2 all ; 1 0 output:3 ; 1 0 set_vlan_vid:9 output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        List<byte[]> p2 = sent("p2"), p3 = sent("p3");
        assertEquals(2, p2.size());
        assertArrayEquals(f, p2.get(0), "group 1, bucket 0: as it came");
        assertEquals(9, p2.get(1)[15], "group 2, bucket 1: retagged VID 9");
        assertEquals(2, p3.size());
        assertEquals(7, p3.get(0)[15], "group 2, bucket 0: the copy group 1 tagged VID 7");
        assertArrayEquals(f, p3.get(1), "after both groups the packet is as it came");

        // As OVS, a loop is accepted; the PMD stops the packet after so many groups or buckets.
        flows("0 a 1 - - ; ; group:1", "g 1 all ; 1 0 output:2 ; 1 0 group:1");
        send("p1", f);
        assertEquals(Forwarder.MAX_GROUP_DEPTH, sent("p2").size(), "one copy per level, then dropped");
        assertTrue(forwarder.groupLoopDrops() > 0);
        flows("0 a 1 - - ; ; group:1", "g 1 all ; 1 0 group:1 ; 1 0 group:1");     // doubles at every level
        long before = forwarder.groupLoopDrops();
        send("p1", f);
        assertTrue(forwarder.groupLoopDrops() > before, "the bucket budget ends it");
        flows("0 a 1 - - ; ; group:1", "g 1 all ; 1 0 output:2 ; 1 0 group:63");           // a group that does not exist: nothing
        send("p1", f);
        assertEquals(1, sent("p2").size());
    }

    @Test
    void anAllGroupClonesThePacketForEachBucket() {
        flows("0 a 1 - - ; ; group:1 output:3", "g 1 all ; 1 0 output:2 ; 1 0 push_vlan:8100 set_vlan_vid:7 output:3");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertArrayEquals(f, sent("p2").get(0), "bucket 0 got the packet as it came");
        List<byte[]> p3 = sent("p3");
        assertEquals(2, p3.size());
        assertEquals(f.length + 4, p3.get(0).length, "bucket 1 tagged its own copy");
        assertEquals(7, p3.get(0)[15], "VID 7");
        assertArrayEquals(f, p3.get(1), "after the group, the packet is untouched by the buckets");
        long[] c = dp.view().bridge("br0").flows().counters();
        assertArrayEquals(new long[] {1, f.length, 1, f.length, 1, f.length, 1, f.length}, c, "rule, group, bucket 0, bucket 1");
        send("p1", f, f, f);                                            // a batch's hits are added once, all of them
        assertArrayEquals(new long[] {4, 4L * f.length, 4, 4L * f.length, 4, 4L * f.length, 4, 4L * f.length},
                dp.view().bridge("br0").flows().counters());
    }

    @Test
    void aSelectGroupSpreadsFlowsAndKeepsEachFlowOnOneBucket() {
        flows("0 a - - - ; ; group:2", "g 2 select ; 1 1 output:2 ; 1 1 output:3 ; 0 5 output:1");
        // flows that differ in the source port only, then in the first octet of the source address only
        for (String differing : new String[] {"source port", "source address"}) {
            int[] perPort = new int[4];
            for (int k = 0; k < 64; k++) {
                boolean port = differing.equals("source port");
                byte[] f = Frames.udp4(B, A, port ? Frames.IP4_A : k << 24 | 1, Frames.IP4_B, port ? 1000 + k : 1000, 2000, 18);
                for (int again = 0; again < 3; again++) send("p1", f);
                int p2 = sent("p2").size(), p3 = sent("p3").size();
                assertEquals(3, p2 + p3, "one bucket per packet, never the dead one");
                assertTrue(p2 == 0 || p3 == 0, "a flow stays on one bucket");
                perPort[p2 > 0 ? 2 : 3]++;
            }
            assertTrue(perPort[2] > 16 && perPort[3] > 16, "64 flows by " + differing + " spread over both live buckets: " + perPort[2] + "/" + perPort[3]);
        }
    }

    @Test
    void fastFailoverTakesTheFirstLiveBucketAndIndirectItsOnlyOne() {
        flows("0 a 1 - - ; ; group:3", "0 a 2 - - ; ; group:4", "g 3 ff ; 0 0 output:2 ; 1 0 output:3", "g 4 indirect ; 1 0 output:1",
                "g 5 ff ; 0 0 output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertTrue(sent("p2").isEmpty());
        assertEquals(1, sent("p3").size(), "the watched port of bucket 0 is down: bucket 1");
        send("p2", f);
        assertEquals(1, sent("p1").size());
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 a - - - ; ; group:9", 1), "no such group");
        h.packetOut(0xfffffffd, "group:4", f);
        assertEquals(1, sent("p1").size(), "packet-outs use groups too");
    }

    @Test
    void aMeterDropsWhatExceedsItsRateAndKeepsItsBucketAcrossNewTables() {
        String meter = "m 1 pktps ; drop a 5";                         // 10 packets/s, bursts of 5
        flows("0 a - - - ; ; meter:1 output:2", meter);
        byte[] f = udp(B, A, Frames.IP4_B);
        for (int n = 0; n < 20; n++) send("p1", f);
        int passed = sent("p2").size();
        assertTrue(passed >= 5 && passed <= 6, "a burst of 5 (and one more if 100 ms passed): " + passed);
        long[] c = dp.view().bridge("br0").flows().counters();
        assertEquals(20, c[2], "20 packets into the meter");
        assertEquals(20 - passed, c[4], "the rest fell into the drop band");
        assertEquals(20 - passed, forwarder.meterDrops());
        send("p1", f, f, f, f);                                         // in one batch: counted alike
        passed += sent("p2").size();
        c = dp.view().bridge("br0").flows().counters();
        assertEquals(24, c[2]);
        assertEquals(24L * f.length, c[3]);
        assertEquals(24 - passed, c[4]);
        flows("0 b - - - ; ; meter:1 output:3", meter);               // other flows, same meter: the bucket stays empty
        send("p1", f);
        assertTrue(sent("p3").size() <= 1, "no new burst after a table change");
        assertThrows(IllegalArgumentException.class, () -> OfPipeline.parse("0 a - - - ; ; meter:2", 1), "no such meter");
    }

    @Test
    void aDscpRemarkBandRaisesTheDropPrecedenceOfAssuredForwarding() {
        flows("0 a - - - ; ; meter:1 output:2", "m 1 pktps ; dscp_remark 1 1 1");
        byte[] af11 = udp(B, A, Frames.IP4_B);
        af11[15] = (byte) (10 << 2);                                    // DSCP AF11
        fixIpChecksum(af11);
        send("p1", af11, af11);
        List<byte[]> out = sent("p2");
        assertEquals(2, out.size(), "remarked, not dropped");
        assertArrayEquals(af11, out.get(0), "within the rate: unchanged");
        byte[] af12 = af11.clone();
        af12[15] = (byte) (12 << 2);
        fixIpChecksum(af12);
        assertArrayEquals(af12, out.get(1), "over the rate: AF12, checksum patched");
        assertEquals(10, OfMeter.remark(10, 1) - 2);
        assertEquals(14, OfMeter.remark(12, 5), "at most AFx3");
        assertEquals(46, OfMeter.remark(46, 1), "EF is not assured forwarding");
    }

    @Test
    void theActionSetRunsWhenThePacketLeavesTheTablesInTheSpecificationsOrder() {
        // table 0 writes output:3, a VID and a push (in the "wrong" order); table 1 replaces the output with 2
        flows("0 a 1 1 - ; ; w/output:3 w/set_vlan_vid:5 w/push_vlan:8100", "1 1 - - - ; ; w/output:2");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        assertTrue(sent("p3").isEmpty(), "the last written output wins");
        List<byte[]> p2 = sent("p2");
        assertEquals(1, p2.size(), "the action set's output");
        byte[] out = p2.get(0);
        assertEquals(f.length + 4, out.length, "push ran before the set-field");
        assertEquals(5, out[15], "VID 5");

        flows("0 a 1 1 - ; ; w/output:3 w/set_vlan_vid:5 w/push_vlan:8100", "1 1 - - - ; ; clear_actions w/output:2");
        send("p1", f);
        assertArrayEquals(f, sent("p2").get(0), "clear_actions emptied the set first");

        flows("0 a - - - ; ; w/output:3 w/group:1", "g 1 indirect ; 1 0 output:2");
        send("p1", f);
        assertTrue(sent("p3").isEmpty(), "a group in the set takes the place of the output");
        assertEquals(1, sent("p2").size());

        flows("0 a - - - ; ; w/output:2 w/output:3");
        send("p1", f);
        assertEquals(1, sent("p2").size(), "one write_actions may hold several outputs (as OVS allows)");
        assertEquals(1, sent("p3").size());

        flows("0 a - 1 - ; ; w/output:3", "1 1 2 - - ; ; output:2");
        send("p1", f);
        assertTrue(sent("p3").isEmpty() && sent("p2").isEmpty(), "a table miss drops the packet with its action set");
    }

    @Test
    void portModsStopWhatAPortReceivesSendsOrReportsAndNothingElse() {
        byte[] f = udp(B, A, Frames.IP4_B);
        flows("0 a - - - ; ; flood controller:ffff", "p 2 20", "p 3 40");   // port 2: no_fwd; port 3: no_packet_in
        send("p1", f);
        assertTrue(sent("p2").isEmpty(), "no_fwd: nothing goes out of port 2");
        assertEquals(1, sent("p3").size());
        assertEquals(1, h.packetIns().size(), "port 1 reports packet-ins");
        send("p3", f);
        assertEquals(1, sent("p1").size());
        assertTrue(h.packetIns().isEmpty(), "no_packet_in on port 3");
        flows("0 a - - - ; ; flood", "p 1 1");                           // port 1 down: it neither receives nor sends
        send("p1", f);
        assertTrue(sent("p2").isEmpty() && sent("p3").isEmpty());
        send("p2", f);
        assertTrue(sent("p1").isEmpty());
        assertEquals(1, sent("p3").size());
    }

    @Test
    void aTransferReusesUnchangedRulesWithTheirNewPositions() {
        flows("0 a 1 - - ; ; output:2", "0 a 2 - - ; ; output:1");
        OfPipeline before = dp.view().bridge("br0").flows();
        // a new first rule moves the others; one rule names a group, whose position changes too
        dp.setFlows("br0", OfPipeline.parse(String.join("\n", "0 b 3 - - ; ; group:5", "0 a 1 - - ; ; output:2", "0 a 2 - - ; ; output:1",
                "g 4 indirect ; 1 0 output:3", "g 5 indirect ; 1 0 output:1"), 2, before));
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f);
        send("p3", f);
        assertEquals(1, sent("p2").size(), "a reused rule still forwards");
        assertEquals(1, sent("p1").size(), "group 5 is the second group now");
        long[] c = dp.view().bridge("br0").flows().counters();
        assertArrayEquals(new long[] {1, f.length, 1, f.length, 0, 0}, java.util.Arrays.copyOf(c, 6), "counters at the rules' new positions");
    }

    @Test
    void tablesCountTheirLookupsAndMatches() {
        flows("0 a 1 1 - ; ; ", "1 1 2 - - ; ; output:1");
        byte[] f = udp(B, A, Frames.IP4_B);
        send("p1", f, f);
        send("p2", f);
        long[] c = dp.view().bridge("br0").flows().countersWithTables();
        int tables = c.length - 2 * OfPipeline.TABLES;
        assertArrayEquals(new long[] {3, 2, 2, 0}, java.util.Arrays.copyOfRange(c, tables, tables + 4),
                "table 0: 3 lookups, 2 matches; table 1: 2 lookups (from port 1), none matched");
    }
}
