package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.PortProviders;
import io.vswitch.datapath.sys.IfAddrs;
import io.vswitch.datapath.tunnel.TunnelControl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.vswitch.datapath.pipeline.Forwarder.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native tunnelling in the PMD, on exact bytes: an overlay bridge {@code br-int} (port p1, vport
 * vx0) and an underlay {@code br-phy} whose internal port {@code br-phy} has 172.31.0.1/24 and whose
 * port {@code eth} leads to the remote endpoint 172.31.0.2 (the kernel's view of the internal port is
 * given by the test).
 */
class TunnelForwardingTest {
    static final int LOCAL = 0xac1f0001, REMOTE = 0xac1f0002, OTHER = 0xac1f0003;
    static final long BR_MAC = 0x0200_00ac_1f01L, PEER_MAC = 0x0200_00ac_1f02L, VM_A = 0x5254_0000_000aL, VM_B = 0x5254_0000_000bL;

    private final Arena arena = Arena.ofShared();
    private final CountersFile counters = CountersFile.anonymous();
    private final MemoryPort.Provider memory = new MemoryPort.Provider(MemoryPort.TYPE, "internal");
    private Datapath dp;
    private Forwarder fwd;
    private Batch batch;

    @BeforeEach
    void setUp() {
        PortProviders providers = new PortProviders();
        providers.register(memory);
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "1000"));
        dp.useUnderlay(new TunnelControl.Underlay() {
            public List<IfAddrs.Address> addresses() {
                return List.of(new IfAddrs.Address("br-phy", LOCAL, 24));
            }

            public List<IfAddrs.KernelRoute> routes() {
                return List.of(new IfAddrs.KernelRoute("br-phy", LOCAL & 0xffffff00, 24, 0));
            }

            public long mac(String device) {
                return BR_MAC;
            }

            public int mtu(String device) {
                return 1500;
            }
        });
        dp.addBridge("br-int", Map.of());
        dp.addBridge("br-phy", Map.of());
        port("br-int", "p1", MemoryPort.TYPE, 1, Map.of());
        port("br-phy", "br-phy", "internal", DpPort.OFPP_LOCAL, Map.of());
        port("br-phy", "eth", MemoryPort.TYPE, 1, Map.of());
        fwd = new Forwarder(new PmdIo(0, arena), null);
        batch = new Batch(new PacketPool(arena, 256));
    }

    @AfterEach
    void tearDown() {
        dp.close();
        counters.close();
    }

    private void port(String bridge, String name, String type, int ofport, Map<String, String> options) {
        dp.addPort(new PortSpec(bridge, name, type, ofport, null, -1, "", options));
        if (memory.ports.containsKey(name)) memory.ports.get(name).record = true;
    }

    private void vxlan(Map<String, String> options) {
        port("br-int", "vx0", "vxlan", 2, options);
    }

    private void send(String bridge, String in, byte[]... frames) {
        batch.reset();
        for (int i = 0; i < frames.length; i++) {
            long off = batch.rxOffset(i);
            MemorySegment.copy(frames[i], 0, batch.memory(), JAVA_BYTE, off, frames[i].length);
            batch.offset[i] = off;
            batch.length[i] = frames[i].length;
        }
        batch.count = frames.length;
        DatapathView v = dp.view();
        fwd.process(batch, v.bridge(bridge).port(in), v, dp.now());
    }

    private List<byte[]> sent(String port) {
        return memory.ports.get(port).takeSent();
    }

    private void learnPeer() {
        send("br-phy", "eth", Frames.arpReply(PEER_MAC, REMOTE, BR_MAC, LOCAL));
        assertEquals(1, sent("br-phy").size(), "the ARP reply still reaches the kernel");
    }

    static byte[] vxlanFrame(int src, int dst, long vni, byte[] inner) {
        byte[] vx = ByteBuffer.allocate(8 + inner.length).putInt(0x0800_0000).putInt((int) (vni << 8)).put(inner).array();
        return Frames.ethernet(BR_MAC, PEER_MAC, Frames.ETH_TYPE_IPV4, Frames.ipv4(src, dst, Frames.PROTO_UDP, Frames.udp(40000, 4789, vx)));
    }

    /** A Geneve frame: {@code options} bytes of options (a multiple of 4), {@code flags} the O/C byte, {@code proto} the protocol type. */
    static byte[] geneveFrame(int src, int dst, long vni, int options, int flags, int proto, byte[] inner) {
        ByteBuffer g = ByteBuffer.allocate(8 + options + inner.length);
        g.put((byte) (options / 4)).put((byte) flags).putShort((short) proto).putInt((int) (vni << 8));
        for (int k = 0; k < options; k += 4) g.putInt(0x0105_0100 | k);              // class 0x0105, type 1, length 0 words
        g.put(inner);
        return Frames.ethernet(BR_MAC, PEER_MAC, Frames.ETH_TYPE_IPV4, Frames.ipv4(src, dst, Frames.PROTO_UDP, Frames.udp(40000, 6081, g.array())));
    }

    static byte[] greFrame(int src, int dst, Long key, byte[] inner) {
        ByteBuffer b = ByteBuffer.allocate(4 + (key == null ? 0 : 4) + inner.length);
        b.putShort((short) (key == null ? 0 : 0x2000)).putShort((short) 0x6558);
        if (key != null) b.putInt((int) (long) key);
        b.put(inner);
        return Frames.ethernet(BR_MAC, PEER_MAC, Frames.ETH_TYPE_IPV4, Frames.ipv4(src, dst, 47, b.array()));
    }

    private static int u16(byte[] f, int at) {
        return (f[at] & 0xff) << 8 | f[at + 1] & 0xff;
    }

    private static int u32(byte[] f, int at) {
        return u16(f, at) << 16 | u16(f, at + 2);
    }

    private static long mac(byte[] f, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) m = m << 8 | f[at + i] & 0xff;
        return m;
    }

    /** The one's-complement sum of a header is 0xffff when its checksum is right. */
    private static boolean checksumOk(byte[] f, int at, int len, long seed) {
        long s = seed;
        for (int i = 0; i < len; i += 2) s += (f[at + i] & 0xff) << 8 | (i + 1 < len ? f[at + i + 1] & 0xff : 0);
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return s == 0xffff;
    }

    @Test
    void aMissingNeighbourIsAskedForAndThePacketDropped() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30);
        send("br-int", "p1", inner);
        List<byte[]> out = sent("eth");
        assertEquals(1, out.size(), "an ARP request, not the packet");
        byte[] arp = out.get(0);
        assertEquals(42, arp.length);
        assertEquals(0xffff_ffff_ffffL, mac(arp, 0));
        assertEquals(BR_MAC, mac(arp, 6));
        assertEquals(0x0806, u16(arp, 12));
        assertEquals(1, u16(arp, 20), "a request");
        assertEquals(BR_MAC, mac(arp, 22));
        assertEquals(LOCAL, u32(arp, 28));
        assertEquals(REMOTE, u32(arp, 38));
        assertEquals(1, fwd.tunnelStat(TNL_NO_NEIGHBOUR));
        send("br-int", "p1", inner);
        assertTrue(sent("eth").isEmpty(), "one request per second per next hop");
        assertEquals(2, dp.view().bridge("br-int").port("vx0").counters().txDropped.get());
    }

    /**
     * The underlay bridge's default NORMAL flow counts every encapsulated packet and its outer bytes
     * (OVS: the flow's n_packets), across bridges and batches; they are added once per batch.
     */
    @Test
    void theUnderlaysNormalFlowCountsEveryEncapsulatedPacket() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        learnPeer();
        dp.setFlows("br-phy", OfPipeline.parse("0 0 - - - ; ; normal", 1));
        byte[] a = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30), b = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 3, 4, 90);
        send("br-int", "p1", a, b, a);
        send("br-int", "p1", b);
        assertEquals(4, sent("eth").size());
        long[] c = dp.view().bridge("br-phy").flows().countersWithTables();
        assertEquals(4, c[0], "packets");
        assertEquals(2 * (50 + a.length) + 2 * (50 + b.length), c[1], "outer bytes");
        assertEquals(4, c[2], "table 0 lookups");
        assertEquals(4, c[3], "table 0 matches");
    }

    /**
     * An encapsulated frame whose underlay pass is plain NORMAL to a learned port takes that decision
     * with the encapsulation (one pass per packet, as OVS's tnl_push); the decision follows the MAC
     * table: a forgotten peer is flooded, a peer that moved is followed. br-int forwards by a flow,
     * so the underlay's answer stays memoised from one packet to the next.
     */
    @Test
    void theUnderlaysNormalDecisionIsTakenWithTheEncapsulationAndFollowsTheMacTable() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        port("br-phy", "eth2", MemoryPort.TYPE, 2, Map.of());
        dp.setFlows("br-phy", OfPipeline.parse("0 0 - - - ; ; normal", 1));   // vswitchd's default flow
        dp.setFlows("br-int", OfPipeline.parse("0 a 1 - - ; ; output:2", 1));
        learnPeer();
        sent("eth2");                                                   // the reply, flooded before br-phy's MAC was learned
        byte[] a = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30), b = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 3, 4, 90);
        long passes = fwd.normalPasses();
        send("br-int", "p1", a, b, a);
        assertEquals(List.of(50 + a.length, 50 + b.length, 50 + a.length), sent("eth").stream().map(f -> f.length).toList());
        assertTrue(sent("eth2").isEmpty() && sent("br-phy").isEmpty(), "only to the port the peer was learned on");
        assertEquals(0, fwd.normalPasses() - passes, "no pass of its own: the underlay's is part of the encapsulation");
        assertEquals(1 + 3, dp.view().bridge("br-phy").flows().countersWithTables()[0], "the underlay's NORMAL flow counts them (and the ARP reply)");

        dp.view().bridge("br-phy").macs().flush();
        passes = fwd.normalPasses();
        send("br-int", "p1", a, b);
        assertEquals(2, sent("eth").size(), "a forgotten peer: flooded");
        assertEquals(2, sent("eth2").size());
        assertEquals(2, fwd.normalPasses() - passes, "a flood is a pass of its own");

        send("br-phy", "eth2", Frames.arpReply(PEER_MAC, REMOTE, BR_MAC, LOCAL));   // the peer moved behind eth2
        sent("br-phy");
        send("br-int", "p1", a, b);
        assertEquals(2, sent("eth2").size(), "the peer's new port");
        assertTrue(sent("eth").isEmpty());
    }

    /** An underlay pass that must tag the frame (the internal port is an access port, the uplink a trunk) is a full pass and tags it. */
    @Test
    void anEncapsulatedFrameTheUnderlayTagsTakesTheFullPass() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        dp.addPort(new PortSpec("br-phy", "br-phy", "internal", DpPort.OFPP_LOCAL, null, 10, "", Map.of()));
        send("br-phy", "eth", Frames.dot1q(Frames.arpReply(PEER_MAC, REMOTE, BR_MAC, LOCAL), 10));
        assertEquals(1, sent("br-phy").size(), "the ARP reply reaches the kernel untagged");
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30);
        long passes = fwd.normalPasses();
        send("br-int", "p1", inner, inner);
        List<byte[]> out = sent("eth");
        assertEquals(2, out.size());
        for (byte[] f : out) {
            assertEquals(54 + inner.length, f.length, "outer headers and a VLAN tag");
            assertEquals(0x8100, u16(f, 12));
            assertEquals(10, u16(f, 14) & 0xfff);
            assertEquals(0x0800, u16(f, 16));
            assertArrayEquals(inner, Arrays.copyOfRange(f, 54, f.length));
        }
        assertEquals(4, fwd.normalPasses() - passes, "br-int's and br-phy's");
    }

    @Test
    void vxlanEncapsulationWritesOvsHeadersInFrontOfTheFrame() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        learnPeer();
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30);
        send("br-int", "p1", inner);
        List<byte[]> out = sent("eth");
        assertEquals(1, out.size());
        byte[] f = out.get(0);
        assertEquals(50 + inner.length, f.length);
        assertEquals(PEER_MAC, mac(f, 0));
        assertEquals(BR_MAC, mac(f, 6));
        assertEquals(0x0800, u16(f, 12));
        assertEquals(0x4500, u16(f, 14), "IPv4, no options, TOS 0");
        assertEquals(36 + inner.length, u16(f, 16));
        assertEquals(0x0000_4000, u32(f, 18), "ID 0, DF");
        assertEquals(64 << 8 | 17, u16(f, 22), "TTL 64, UDP");
        assertTrue(checksumOk(f, 14, 20, 0), "IPv4 header checksum");
        assertEquals(LOCAL, u32(f, 26));
        assertEquals(REMOTE, u32(f, 30));
        int sport = u16(f, 34);
        assertTrue(sport >= 32768 && sport < 61000, "source port from the flow hash: " + sport);
        assertEquals(4789, u16(f, 36));
        assertEquals(16 + inner.length, u16(f, 38));
        assertEquals(0, u16(f, 40), "no UDP checksum by default (csum=false)");
        assertEquals(0x0800_0000, u32(f, 42));
        assertEquals(42 << 8, u32(f, 46));
        assertArrayEquals(inner, Arrays.copyOfRange(f, 50, f.length));
        send("br-int", "p1", inner);
        assertEquals(sport, u16(sent("eth").get(0), 34), "one flow, one source port");
        assertEquals(2, dp.view().bridge("br-int").port("vx0").counters().txPackets.get());
        assertEquals(2, fwd.tunnelStat(TNL_PUSH));
    }

    /**
     * The underlay pass matches the outer headers by the key the forwarder gives them without
     * parsing: one rule on br-phy matching every outer field exactly (a VXLAN and a GRE frame) must
     * forward them, and a rule that differs in the TTL alone must not.
     */
    @Test
    void theUnderlayBridgeMatchesTheOuterHeadersAsWritten() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42", "tos", "40", "ttl", "33"));
        port("br-int", "gre0", "gre", 3, Map.of("remote_ip", "172.31.0.2", "key", "7", "tos", "40", "ttl", "33"));
        learnPeer();
        String macs = String.format("9:ffffffffffff:%x a:ffffffffffff:%x", PEER_MAC, BR_MAC);
        String ips = String.format("d:ffffffffffffffff:%x", (long) LOCAL << 32 | (REMOTE & 0xffffffffL));
        long l3 = 0x0800 | 40L << 24 | 33L << 32;
        String vxlan = String.format("0 20 - - - ; %s c:ffffffffffffff:%x %s 13:ffff00000000:%x ; output:1", macs, l3 | 17 << 16, ips, 4789L << 32);
        String gre = String.format("0 20 - - - ; %s c:ffffffffffffff:%x %s 13:ffffffffffffffff:0 ; output:1", macs, l3 | 47 << 16, ips);
        dp.setFlows("br-phy", OfPipeline.parse(vxlan + "\n" + gre, 1));
        dp.setFlows("br-int", OfPipeline.parse("0 a 1 - - ; ; output:2 output:3", 1));
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30);
        send("br-int", "p1", inner);
        List<byte[]> out = sent("eth");
        assertEquals(2, out.size(), "both encapsulations match their exact rule");
        assertEquals(17, out.get(0)[23]);
        assertEquals(47, out.get(1)[23]);
        assertEquals(40, out.get(0)[15], "tos as configured");
        assertEquals(33, out.get(0)[22], "ttl as configured");
        for (byte[] f : out) assertTrue(checksumOk(f, 14, 20, 0), "IPv4 header checksum");

        dp.setFlows("br-phy", OfPipeline.parse((vxlan + "\n" + gre).replace(":" + Long.toHexString(l3 | 17 << 16), ":" + Long.toHexString(l3 + (1L << 32) | 17 << 16))
                .replace(":" + Long.toHexString(l3 | 47 << 16), ":" + Long.toHexString(l3 + (1L << 32) | 47 << 16)), 2));
        send("br-int", "p1", inner);
        assertTrue(sent("eth").isEmpty(), "a rule for TTL 34 matches neither");
    }

    @Test
    void vxlanDecapsulationDeliversTheInnerFrameOnTheVport() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 1, 2, 30);
        send("br-phy", "eth", vxlanFrame(REMOTE, LOCAL, 42, inner));
        List<byte[]> got = sent("p1");
        assertEquals(1, got.size());
        assertArrayEquals(inner, got.get(0));
        assertTrue(sent("br-phy").isEmpty(), "a tunnel packet does not reach the kernel");
        assertEquals(1, fwd.tunnelStat(TNL_POP));
        assertEquals(1, dp.view().bridge("br-int").port("vx0").counters().rxPackets.get());
        // the reply goes back without an ARP request: decapsulation taught the neighbour cache
        send("br-int", "p1", Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 2, 1, 30));
        byte[] back = sent("eth").get(0);
        assertEquals(PEER_MAC, mac(back, 0));
        assertEquals(42 << 8, u32(back, 46));
    }

    /**
     * The pass a decapsulated packet makes through the overlay's tables is a megaflow of its own (OVS:
     * a recirculation id's flow), keyed by the vport and the tunnel fields the tables looked at: after
     * the first packet, hits; after the tables change, translated again.
     */
    @Test
    void aDecapsulatedPassIsCachedAsAMegaflowOfItsVport() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "flow"));
        dp.setFlows("br-int", OfPipeline.parse("0 a 2 - - ; 6:ffffffffffffffff:2a ; output:1", 1));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 1, 2, 30);
        byte[] frame = vxlanFrame(REMOTE, LOCAL, 42, inner);
        for (int round = 0; round < 3; round++) send("br-phy", "eth", frame, frame, frame, frame);
        List<byte[]> got = sent("p1");
        assertEquals(12, got.size());
        for (byte[] f : got) assertArrayEquals(inner, f);
        assertEquals(1, fwd.upcalls(), "only the first decapsulated packet ran the tables");
        assertEquals(11, fwd.emcHits() + fwd.megaflowHits());
        DatapathView v = dp.view();
        String dump = fwd.dumpFlows(v, dp.now());
        assertTrue(dump.contains("in_port(" + v.bridge("br-int").port("vx0").index() + "),tunnel(tun_id=0x2a)")
                && dump.contains("actions:" + v.bridge("br-int").port("p1").index()), dump);

        send("br-phy", "eth", vxlanFrame(REMOTE, LOCAL, 7, inner));
        assertTrue(sent("p1").isEmpty(), "another VNI is another megaflow, and the flow does not match it");
        dp.setFlows("br-int", OfPipeline.parse("0 a 2 - - ; 6:ffffffffffffffff:2a ; ", 2));
        send("br-phy", "eth", frame);
        assertTrue(sent("p1").isEmpty(), "new tables: the megaflow of the old ones is not replayed");
        assertEquals(3, fwd.upcalls());
    }

    /**
     * A frame the underlay sends to another port as well as to its tunnel endpoint: an edit the
     * overlay makes to the decapsulated packet must not show in the outer frame (the inner bytes lie
     * inside it), with and without the caches.
     */
    @Test
    void editsAfterDecapsulationLeaveTheOuterFrameOtherOutputsSend() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        port("br-phy", "eth2", MemoryPort.TYPE, 2, Map.of());
        dp.setFlows("br-phy", OfPipeline.parse("0 a 1 - - ; ; output:2 local", 1));
        dp.setFlows("br-int", OfPipeline.parse("0 a 2 - - ; ; set_eth_dst:5254000000ff output:1", 1));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 1, 2, 30);
        byte[] frame = vxlanFrame(REMOTE, LOCAL, 42, inner);
        for (String limit : new String[] {"200000", "0"}) {
            fwd.cacheSettings(Integer.parseInt(limit), 10_000);
            send("br-phy", "eth", frame, frame);
            List<byte[]> copies = sent("eth2"), got = sent("p1");
            assertEquals(2, copies.size());
            for (byte[] f : copies) assertArrayEquals(frame, f, "the outer frame leaves eth2 as it came (flow-limit " + limit + ")");
            assertEquals(2, got.size());
            for (byte[] f : got) {
                assertEquals(0x5254_0000_00ffL, mac(f, 0));
                assertArrayEquals(Arrays.copyOfRange(inner, 6, inner.length), Arrays.copyOfRange(f, 6, f.length));
            }
        }
    }

    @Test
    void wrongVniUnknownRemoteAndMalformedHeadersAreDroppedAndCounted() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 1, 2, 30);
        send("br-phy", "eth", vxlanFrame(REMOTE, LOCAL, 43, inner), vxlanFrame(OTHER, LOCAL, 42, inner));
        assertEquals(2, fwd.tunnelStat(TNL_POP_NO_PORT));
        byte[] good = vxlanFrame(REMOTE, LOCAL, 42, inner);
        byte[] truncated = good.clone();                            // UDP says 8 bytes more than the IP datagram holds
        truncated[39] += 8;
        byte[] badChecksum = good.clone();
        badChecksum[24] ^= 1;
        byte[] noIFlag = good.clone();
        noIFlag[42] = 0;
        byte[] shortInner = vxlanFrame(REMOTE, LOCAL, 42, new byte[10]);
        send("br-phy", "eth", truncated, badChecksum, noIFlag, shortInner);
        assertEquals(4, fwd.tunnelStat(TNL_POP_ERRORS));
        assertTrue(sent("p1").isEmpty());
        assertTrue(sent("br-phy").isEmpty(), "tunnel traffic to the endpoint never reaches the kernel");
        // every prefix of a good frame: never delivered on the vport, never thrown (one the parser cannot
        // read as UDP to port 4789 is not a tunnel packet: it goes to the kernel, as in OVS)
        for (int n = 14; n < good.length; n++) send("br-phy", "eth", Arrays.copyOf(good, n));
        assertTrue(sent("p1").isEmpty());
    }

    @Test
    void theMtuOfTheInternalPortBoundsEncapsulatedPackets() {
        dp.useUnderlay(underlayWithMtu(1000));
        vxlan(Map.of("remote_ip", "172.31.0.2"));
        learnPeer();
        send("br-int", "p1", Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 1000 - 50 - 28 + 14 - 14));
        assertEquals(1, sent("eth").size(), "exactly at the MTU: sent");
        send("br-int", "p1", Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 1000 - 50 - 28 + 1));
        assertTrue(sent("eth").isEmpty(), "one byte more: dropped, never fragmented");
        assertEquals(1, fwd.tunnelStat(TNL_TOO_BIG));
    }

    private static TunnelControl.Underlay underlayWithMtu(int mtu) {
        return new TunnelControl.Underlay() {
            public List<IfAddrs.Address> addresses() {
                return List.of(new IfAddrs.Address("br-phy", LOCAL, 24));
            }

            public List<IfAddrs.KernelRoute> routes() {
                return List.of();                                    // no kernel routes: the connected subnet still routes
            }

            public long mac(String device) {
                return BR_MAC;
            }

            public int mtu(String device) {
                return mtu;
            }
        };
    }

    /**
     * Geneve (RFC 8926) as OVS writes it: UDP to 6081, version 0, no options, protocol 0x6558, the
     * VNI; received: options skipped, a critical option, another version or another protocol
     * dropped and counted.
     */
    @Test
    void geneveBothWaysWithOptionsSkippedAndCriticalOnesRefused() {
        port("br-int", "gnv0", "geneve", 3, Map.of("remote_ip", "172.31.0.2", "key", "5000", "csum", "true"));
        learnPeer();
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30);
        dp.setFlows("br-int", OfPipeline.parse("0 a 1 - - ; ; output:3\n0 a 3 - - ; ; output:1", 1));
        send("br-int", "p1", inner);
        byte[] f = sent("eth").get(0);
        assertEquals(50 + inner.length, f.length);
        assertEquals(17, f[23], "UDP");
        assertEquals(6081, u16(f, 36));
        assertEquals(16 + inner.length, u16(f, 38));
        assertTrue(checksumOk(f, 34, f.length - 34, (REMOTE >>> 16) + (REMOTE & 0xffff) + (LOCAL >>> 16) + (LOCAL & 0xffff) + 17 + 16 + inner.length),
                "UDP checksum (csum=true)");
        assertEquals(0x0000_6558, u32(f, 42), "version 0, no options, Ethernet");
        assertEquals(5000 << 8, u32(f, 46));
        assertArrayEquals(inner, Arrays.copyOfRange(f, 50, f.length));

        byte[] back = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 2, 1, 30);
        send("br-phy", "eth", geneveFrame(REMOTE, LOCAL, 5000, 0, 0, 0x6558, back), geneveFrame(REMOTE, LOCAL, 5000, 12, 0, 0x6558, back));
        List<byte[]> got = sent("p1");
        assertEquals(2, got.size(), "without and with (non-critical) options");
        for (byte[] g : got) assertArrayEquals(back, g);
        assertEquals(2, dp.view().bridge("br-int").port("gnv0").counters().rxPackets.get());
        byte[] critical = geneveFrame(REMOTE, LOCAL, 5000, 4, 0x40, 0x6558, back);
        byte[] version1 = geneveFrame(REMOTE, LOCAL, 5000, 0, 0, 0x6558, back);
        version1[42] = 0x40;
        byte[] ipv4Payload = geneveFrame(REMOTE, LOCAL, 5000, 0, 0, 0x0800, back);
        byte[] optionsBeyond = geneveFrame(REMOTE, LOCAL, 5000, 0, 0, 0x6558, back);
        optionsBeyond[42] = 0x3f;
        send("br-phy", "eth", critical, version1, ipv4Payload, optionsBeyond, geneveFrame(REMOTE, LOCAL, 5001, 0, 0, 0x6558, back));
        assertTrue(sent("p1").isEmpty());
        assertEquals(4, fwd.tunnelStat(TNL_POP_ERRORS));
        assertEquals(1, fwd.tunnelStat(TNL_POP_NO_PORT), "another VNI");
    }

    @Test
    void greWithKeyAndChecksumBothWays() {
        port("br-int", "gre0", "gre", 3, Map.of("remote_ip", "172.31.0.2", "key", "0x1c8", "csum", "true"));
        learnPeer();
        byte[] inner = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 31);
        dp.setFlows("br-int", OfPipeline.parse("0 a 1 - - ; ; output:3", 1));
        send("br-int", "p1", inner);
        byte[] f = sent("eth").get(0);
        assertEquals(14 + 20 + 12 + inner.length, f.length);
        assertEquals(47, f[23]);
        assertEquals(0xa000, u16(f, 34), "C and K flags");
        assertEquals(0x6558, u16(f, 36));
        assertTrue(checksumOk(f, 34, f.length - 34, 0), "GRE checksum over header and payload");
        assertEquals(0x1c8, u32(f, 42));
        assertArrayEquals(inner, Arrays.copyOfRange(f, 46, f.length));

        dp.setFlows("br-int", OfPipeline.parse("0 a 3 - - ; ; output:1", 1));
        byte[] back = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 2, 1, 31);
        send("br-phy", "eth", greFrame(REMOTE, LOCAL, 0x1c8L, back), greFrame(REMOTE, LOCAL, null, back));
        List<byte[]> got = sent("p1");
        assertEquals(1, got.size(), "the unkeyed packet has key 0: no port for it");
        assertArrayEquals(back, got.get(0));
        assertEquals(1, fwd.tunnelStat(TNL_POP_NO_PORT));
    }

    @Test
    void flowBasedTunnelsTakeRemoteAndKeyFromTheFlowAndReportThemOnReceive() {
        vxlan(Map.of("remote_ip", "flow", "key", "flow"));
        send("br-phy", "eth", Frames.arpReply(PEER_MAC, REMOTE, BR_MAC, LOCAL), Frames.arpReply(PEER_MAC + 1, OTHER, BR_MAC, LOCAL));
        // to 10.0.0.2 via remote .2 VNI 7, to 10.0.0.3 via remote .3 VNI 8; from the tunnel: tun_id and tun_src decide
        dp.setFlows("br-int", OfPipeline.parse(String.join("\n",
                "0 a 1 - - ; c:ffff:800 d:ffffffff:a000002 ; set_tun_id:7 set_tun_dst:ac1f0002 output:2",
                "0 a 1 - - ; c:ffff:800 d:ffffffff:a000003 ; set_tun_id:8 set_tun_dst:ac1f0003 output:2",
                "0 a 2 - - ; 6:ffffffffffffffff:8 7:ffffffff00000000:ac1f000300000000 ; output:1"), 1));
        send("br-int", "p1", Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1, 2, 30),
                Frames.udp4(VM_B, VM_A, Frames.IP4_A, 0x0a000003, 1, 2, 30));
        List<byte[]> out = sent("eth");
        assertEquals(2, out.size());
        assertEquals(REMOTE, u32(out.get(0), 30));
        assertEquals(7 << 8, u32(out.get(0), 46));
        assertEquals(OTHER, u32(out.get(1), 30));
        assertEquals(PEER_MAC + 1, mac(out.get(1), 0));
        assertEquals(8 << 8, u32(out.get(1), 46));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 2, 1, 30);
        send("br-phy", "eth", vxlanFrame(OTHER, LOCAL, 8, inner), vxlanFrame(REMOTE, LOCAL, 8, inner));
        List<byte[]> got = sent("p1");
        assertEquals(1, got.size(), "only tun_id=8 from 172.31.0.3 matches the flow");
        assertArrayEquals(inner, got.get(0));
    }

    @Test
    void floodingToSeveralTunnelsGivesEachItsOwnHeader() {
        port("br-int", "vx1", "vxlan", 2, Map.of("remote_ip", "172.31.0.2", "key", "1"));
        port("br-int", "vx2", "vxlan", 3, Map.of("remote_ip", "172.31.0.3", "key", "2"));
        send("br-phy", "eth", Frames.arpReply(PEER_MAC, REMOTE, BR_MAC, LOCAL), Frames.arpReply(PEER_MAC + 1, OTHER, BR_MAC, LOCAL));
        byte[] bcast = Frames.arpRequest(VM_A, Frames.IP4_A, Frames.IP4_B);
        send("br-int", "p1", bcast, bcast);
        List<byte[]> out = sent("eth");
        assertEquals(4, out.size());
        for (int k = 0; k < 4; k++) {
            byte[] f = out.get(k);
            boolean toRemote = u32(f, 30) == REMOTE;
            assertEquals(toRemote ? 1 << 8 : 2 << 8, u32(f, 46), "each copy keeps the VNI of its own vport");
            assertArrayEquals(bcast, Arrays.copyOfRange(f, 50, f.length));
        }
    }

    /** Encapsulating into the underlay and decapsulating into the overlay allocate nothing per packet. */
    @Test
    void tunnellingAllocatesNothing() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        learnPeer();
        memory.ports.values().forEach(p -> p.record = false);
        byte[][] out = new byte[Batch.MAX][], in = new byte[Batch.MAX][];
        for (int i = 0; i < Batch.MAX; i++) {
            out[i] = Frames.udp4(VM_B, VM_A, Frames.IP4_A, Frames.IP4_B, 1000 + i, 2, 30);
            in[i] = vxlanFrame(REMOTE, LOCAL, 42, Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 2, 1000 + i, 30));
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        for (int round = 0; round < 30_000; round++) {                   // warm-up: C2 must have compiled the path
            send("br-int", "p1", out);
            send("br-phy", "eth", in);
        }
        // Four windows: a late compilation may allocate a few hundred bytes once (as in PmdAllocationTest)
        long[] window = new long[4];
        for (int w = 0; w < window.length; w++) {
            long before = threads.getThreadAllocatedBytes(tid);
            for (int round = 0; round < 7_500; round++) {
                send("br-int", "p1", out);
                send("br-phy", "eth", in);
            }
            window[w] = threads.getThreadAllocatedBytes(tid) - before;
        }
        assertEquals(60_000L * Batch.MAX, fwd.tunnelStat(TNL_PUSH), "every packet was encapsulated");
        assertEquals(60_000L * Batch.MAX, fwd.tunnelStat(TNL_POP), "and every frame decapsulated");
        String seen = Arrays.toString(window) + " bytes in windows of " + 7_500L * 2 * Batch.MAX + " packets";
        assertTrue(Arrays.stream(window).filter(b -> b == 0).count() >= 3 && Arrays.stream(window).sum() < 1024, seen);
    }

    /** Random damage to the outer headers of VXLAN, GRE and Geneve frames: never thrown, and whatever reaches p1 is an inner frame as sent. */
    @Test
    void damagedOuterHeadersNeverThrowNorLeakOuterBytes() {
        vxlan(Map.of("remote_ip", "172.31.0.2", "key", "42"));
        port("br-int", "gre0", "gre", 3, Map.of("remote_ip", "172.31.0.2", "csum", "true", "key", "5"));
        port("br-int", "gnv0", "geneve", 4, Map.of("remote_ip", "172.31.0.2", "key", "6"));
        byte[] inner = Frames.udp4(VM_A, VM_B, Frames.IP4_B, Frames.IP4_A, 2, 1, 30);
        ByteBuffer gre = ByteBuffer.allocate(12 + inner.length).putShort((short) 0xa000).putShort((short) 0x6558).putInt(0).putInt(5).put(inner);
        byte[] greBody = gre.array();
        long sum = 0;
        for (int i = 0; i < greBody.length; i += 2) sum += (greBody[i] & 0xff) << 8 | (i + 1 < greBody.length ? greBody[i + 1] & 0xff : 0);
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        greBody[4] = (byte) (~sum >>> 8);
        greBody[5] = (byte) ~sum;
        byte[][] good = {vxlanFrame(REMOTE, LOCAL, 42, inner),
                Frames.ethernet(BR_MAC, PEER_MAC, Frames.ETH_TYPE_IPV4, Frames.ipv4(REMOTE, LOCAL, 47, greBody)),
                geneveFrame(REMOTE, LOCAL, 6, 8, 0, 0x6558, inner)};
        send("br-phy", "eth", good);
        assertEquals(3, sent("p1").size(), "the undamaged frames are delivered");
        java.util.Random r = new java.util.Random(7);
        for (int round = 0; round < 20_000; round++) {
            byte[] f = good[round % 3].clone();
            int header = round % 3 == 2 ? 58 : 50;                     // Geneve's with its 8 bytes of options
            for (int k = 1 + r.nextInt(3); k > 0; k--) f[14 + r.nextInt(header - 14)] = (byte) r.nextInt(256);
            if (r.nextInt(8) == 0) f = Arrays.copyOf(f, 14 + r.nextInt(f.length - 14));
            send("br-phy", "eth", f);
            for (byte[] got : sent("p1")) assertArrayEquals(inner, got, "a damaged frame must not deliver anything but the inner frame");
            sent("br-phy");
        }
    }
}
