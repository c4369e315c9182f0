package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4AddressWithMask;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.U32;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connection fed mutated and random OpenFlow messages must answer errors, never throw, and keep
 * serving: after every hostile message, an ECHO_REQUEST still gets its ECHO_REPLY.
 */
class OfConnectionFuzzTest {
    private OFFactory f = OFFactories.getFactory(OFVersion.OF_13);

    private EmbeddedChannel connect(OfSwitch sw) {
        EmbeddedChannel ch = new EmbeddedChannel();
        OfTransport.pipeline(ch, new OfConnection(sw, OfConnection.Kind.SERVICE, "test"), 0);
        ch.pipeline().fireChannelActive();
        drain(ch);                                                   // our HELLO
        ch.writeInbound(bytes(f.getVersion() == OFVersion.OF_10 ? f.buildHello().setXid(1).build()      // 1.0: no bitmap, "up to 1.0"
                : f.buildHello().setXid(1).setElements(List.of(
                        f.buildHelloElemVersionbitmap().setBitmaps(List.of(U32.of(1 << f.getVersion().getWireVersion()))).build())).build()));
        return ch;
    }

    private static ByteBuf bytes(OFMessage m) {
        ByteBuf b = Unpooled.buffer();
        m.writeTo(b);
        return b;
    }

    private static List<ByteBuf> drain(EmbeddedChannel ch) {
        List<ByteBuf> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) out.add((ByteBuf) o);
        return out;
    }

    private static OfSwitch bridge() {
        return new OfSwitch(new BridgeView("br0", 1, List.of(), false,
                List.of(new BridgeView.PortView(1, "p1", "00:00:00:00:00:01", true, true, java.util.Map.of()))));
    }

    /** OpenFlow 1.0's messages: actions in the flow-mod, a fixed match, in_port in the packet-out. */
    private List<byte[]> seeds10() {
        var match = f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).setExact(MatchField.IP_PROTO, org.projectfloodlight.openflow.types.IpProtocol.TCP)
                .setMasked(MatchField.IPV4_DST, IPv4AddressWithMask.of("10.0.0.0/8")).build();
        List<OFMessage> messages = List.of(
                f.buildFlowAdd().setXid(2).setPriority(5).setMatch(match).setActions(List.of(f.actions().setTpDst(org.projectfloodlight.openflow.types.TransportPort.of(80)),
                        f.actions().setDlSrc(org.projectfloodlight.openflow.types.MacAddress.of(1)), f.actions().output(OFPort.of(1), 0))).build(),
                f.buildFlowModify().setXid(3).setMatch(f.buildMatch().setExact(MatchField.VLAN_VID, org.projectfloodlight.openflow.types.OFVlanVidMatch.ofVlan(100)).build())
                        .setActions(List.of(f.actions().stripVlan())).build(),
                f.buildFlowDelete().setXid(4).setMatch(match).build(),
                f.buildFlowStatsRequest().setXid(5).setMatch(match).setTableId(org.projectfloodlight.openflow.types.TableId.ALL).setOutPort(OFPort.ANY).build(),
                f.buildFeaturesRequest().setXid(6).build(),
                f.buildSetConfig().setXid(7).setMissSendLen(128).build(),
                f.buildPacketOut().setXid(8).setBufferId(org.projectfloodlight.openflow.types.OFBufferId.NO_BUFFER).setInPort(OFPort.CONTROLLER)
                        .setActions(List.of(f.actions().output(OFPort.of(1), 0))).setData(new byte[60]).build());
        List<byte[]> seeds = new ArrayList<>();
        for (OFMessage m : messages) seeds.add(io.netty.buffer.ByteBufUtil.getBytes(bytes(m)));
        return seeds;
    }

    private List<byte[]> seeds() {
        if (f.getVersion() == OFVersion.OF_10) return seeds10();
        var match = f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4)
                .setMasked(MatchField.IPV4_DST, IPv4AddressWithMask.of("10.0.0.0/8")).build();
        var packetOut = f.buildPacketOut().setXid(9).setBufferId(org.projectfloodlight.openflow.types.OFBufferId.NO_BUFFER)
                .setActions(List.of(f.actions().output(OFPort.of(1), 0), f.actions().pushVlan(EthType.VLAN_FRAME), f.actions().output(OFPort.TABLE, 0)))
                .setData(new byte[60]);
        if (f.getVersion() == OFVersion.OF_15) packetOut.setMatch(f.buildMatch().setExact(MatchField.IN_PORT, OFPort.of(1)).build());
        else packetOut.setInPort(OFPort.CONTROLLER);
        var flowAdd = f.buildFlowAdd().setXid(2).setPriority(5).setMatch(match)
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().output(OFPort.of(1), 0))))).build();
        List<OFMessage> messages = new ArrayList<>(List.of(
                flowAdd,
                f.buildFlowDelete().setXid(3).setMatch(match).build(),
                f.buildFlowStatsRequest().setXid(4).setMatch(match).build(),
                f.buildFeaturesRequest().setXid(5).build(),
                f.buildPortDescStatsRequest().setXid(6).build(),
                f.buildRoleRequest().setXid(7).setRole(org.projectfloodlight.openflow.protocol.OFControllerRole.ROLE_MASTER)
                        .setGenerationId(org.projectfloodlight.openflow.types.U64.of(1)).build(),
                f.buildSetConfig().setXid(8).setMissSendLen(128).build(),
                packetOut.build()));
        if (Versions.hasProperties(f)) {
            var id = org.projectfloodlight.openflow.types.BundleId.of(3);
            messages.add(f.buildBundleCtrlMsg().setXid(10).setBundleId(id).setBundleCtrlType(org.projectfloodlight.openflow.protocol.OFBundleCtrlType.OPEN_REQUEST).build());
            // openflowj's 1.5 bundle-add is a byte short of the specification: 1.4's layout is 1.5's
            messages.add(OFFactories.getFactory(OFVersion.OF_14).buildBundleAddMsg().setXid(2).setBundleId(id).setData(flowAdd).build());
            messages.add(f.buildBundleCtrlMsg().setXid(11).setBundleId(id).setBundleCtrlType(org.projectfloodlight.openflow.protocol.OFBundleCtrlType.COMMIT_REQUEST).build());
        }
        List<byte[]> seeds = new ArrayList<>();
        for (OFMessage m : messages) {
            byte[] raw = io.netty.buffer.ByteBufUtil.getBytes(bytes(m));
            raw[0] = (byte) f.getVersion().getWireVersion();
            seeds.add(raw);
        }
        if (f.getVersion() == OFVersion.OF_15) {
            // a select group-mod, which openflowj cannot encode: one bucket (id 0) with an output action and a weight property
            ByteBuf g = Unpooled.buffer();
            g.writeByte(6).writeByte(15).writeShort(56).writeInt(12).writeShort(0).writeByte(1).writeByte(0).writeInt(1)
                    .writeShort(32).writeShort(0).writeInt(0xffffffff)
                    .writeShort(32).writeShort(16).writeInt(0)
                    .writeShort(0).writeShort(16).writeInt(1).writeShort(0).writeZero(6)
                    .writeShort(0).writeShort(8).writeShort(10).writeShort(0);
            seeds.add(io.netty.buffer.ByteBufUtil.getBytes(g));
        }
        return seeds;
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = OFVersion.class, names = {"OF_10", "OF_13", "OF_14", "OF_15"})
    void mutatedMessagesGetErrorsAndTheConnectionKeepsServing(OFVersion version) {
        f = OFFactories.getFactory(version);
        OfSwitch sw = bridge();
        EmbeddedChannel ch = connect(sw);
        Random random = new Random(7);
        List<byte[]> seeds = seeds();
        for (byte[] seed : seeds) {                                   // unmutated, every seed is accepted
            ch.writeInbound(Unpooled.wrappedBuffer(seed));
            for (ByteBuf out : drain(ch)) {
                assertTrue(out.getByte(1) != 1 || out.getShort(8) == 12, version + ": seed type " + seed[1] + " refused: " + io.netty.buffer.ByteBufUtil.hexDump(out));
                out.release();
            }
        }
        int errors = 0;
        for (int round = 0; round < 3000; round++) {
            byte[] raw = seeds.get(random.nextInt(seeds.size())).clone();
            int flips = 1 + random.nextInt(4);
            for (int k = 0; k < flips; k++) {
                int at = 8 + random.nextInt(Math.max(1, raw.length - 8));  // keep the header, so framing survives
                if (at < raw.length) raw[at] = (byte) random.nextInt(256);
            }
            if (random.nextInt(10) == 0) raw[1] = (byte) random.nextInt(40);  // sometimes a different type
            ch.writeInbound(Unpooled.wrappedBuffer(raw));
            ch.checkException();
            for (ByteBuf out : drain(ch)) {
                if (out.getByte(1) == 1) errors++;
                out.release();
            }
            ch.writeInbound(bytes(f.buildEchoRequest().setXid(99).setData(new byte[] {1, 2}).build()));
            List<ByteBuf> replies = drain(ch);
            assertTrue(ch.isActive(), "still connected after round " + round);
            assertTrue(replies.stream().anyMatch(r -> r.getByte(1) == 3 && r.getInt(4) == 99), "echo answered after round " + round);
            replies.forEach(ByteBuf::release);
        }
        assertTrue(errors > 100, "hostile messages were answered with errors (" + errors + ")");
    }

    @Test
    void aLengthShorterThanTheHeaderClosesTheConnection() {
        EmbeddedChannel ch = connect(bridge());
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {4, 2, 0, 6, 0, 0, 0, 1}));
        assertTrue(!ch.isActive(), "framing is lost: closed");
    }

    @Test
    void noCommonVersionGetsHelloFailedAndAClose() {
        EmbeddedChannel ch = new EmbeddedChannel();
        OfTransport.pipeline(ch, new OfConnection(bridge(), OfConnection.Kind.SERVICE, "test"), 0);
        ch.pipeline().fireChannelActive();
        drain(ch);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {3, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 1 << 3}));   // OpenFlow 1.2 only
        List<ByteBuf> out = drain(ch);
        assertEquals(1, out.size());
        assertEquals(3, out.get(0).getByte(0), "in the peer's version");
        assertEquals(1, out.get(0).getByte(1), "ERROR");
        assertEquals(0, out.get(0).getShort(8), "HELLO_FAILED");
        assertTrue(!ch.isActive());
    }
}
