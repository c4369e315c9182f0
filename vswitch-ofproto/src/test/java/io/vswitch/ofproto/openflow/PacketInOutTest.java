package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.vswitch.datapath.ipc.PacketIn;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFBadRequestCode;
import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFPacketIn;
import org.projectfloodlight.openflow.protocol.OFPacketInReason;
import org.projectfloodlight.openflow.protocol.OFType;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadRequestErrorMsg;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.OFBufferId;
import org.projectfloodlight.openflow.types.OFPort;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packet-outs as the switch checks and forwards them to the dataplane; packet-ins as connections receive them. */
class PacketInOutTest {
    private final OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    private final List<String> sentToDataplane = new ArrayList<>();
    private final byte[] frame = new byte[60];

    private final OfSwitch sw = new OfSwitch(new BridgeView("br0", 1, List.of(), true,
            List.of(new BridgeView.PortView(1, "p1", "00:00:00:00:00:01", true, true, java.util.Map.of()))),
            Runnable::run, new OfSwitch.DataplaneLink() {
                @Override
                public void tables(String bridge, long generation, List<String> rules) {
                }

                @Override
                public boolean packetOut(String bridge, int inPort, String actions, byte[] packet) {
                    sentToDataplane.add(bridge + " " + Integer.toUnsignedString(inPort) + " " + actions + " " + packet.length);
                    return true;
                }

                @Override
                public void portAdmin(String bridge, String port, boolean up) {
                }
            });

    private final List<OfPeer> peers = new ArrayList<>();

    private EmbeddedChannel connect(OfConnection.Kind kind) {
        peers.add(new OfPeer(sw, kind, f));
        return peers.getLast().channel;
    }

    private static ByteBuf bytes(OFMessage m) {
        return OfPeer.bytes(m);
    }

    private List<OFMessage> received(EmbeddedChannel ch) {
        for (OfPeer p : peers) if (p.channel == ch) return p.received();
        throw new AssertionError("not a peer's channel");
    }

    private List<OFMessage> packetOut(EmbeddedChannel ch, OFBufferId buffer, OFPort in, byte[] data, OFAction... actions) {
        ch.writeInbound(bytes(f.buildPacketOut().setXid(9).setBufferId(buffer).setInPort(in).setActions(List.of(actions)).setData(data).build()));
        return received(ch);
    }

    @Test
    void packetOutsAreCheckedAndHandedToTheDataplane() {
        EmbeddedChannel ch = connect(OfConnection.Kind.SERVICE);
        assertEquals(List.of(), packetOut(ch, OFBufferId.NO_BUFFER, OFPort.CONTROLLER, frame, f.actions().output(OFPort.of(1), 0)));
        assertEquals(List.of(), packetOut(ch, OFBufferId.NO_BUFFER, OFPort.of(1), frame, f.actions().output(OFPort.TABLE, 0),
                f.actions().output(OFPort.FLOOD, 0), f.actions().output(OFPort.CONTROLLER, 128)));
        assertEquals(List.of("br0 4294967293 output:1 60", "br0 1 table flood controller:80 60"), sentToDataplane);

        assertEquals(OFBadRequestCode.BUFFER_UNKNOWN, refusal(packetOut(ch, OFBufferId.of(7), OFPort.of(1), frame)));
        assertEquals(OFBadRequestCode.BAD_PORT, refusal(packetOut(ch, OFBufferId.NO_BUFFER, OFPort.FLOOD, frame)));
        assertEquals(OFBadRequestCode.BAD_PACKET, refusal(packetOut(ch, OFBufferId.NO_BUFFER, OFPort.of(1), new byte[0])));
        assertEquals(OFBadRequestCode.BAD_PACKET, refusal(packetOut(ch, OFBufferId.NO_BUFFER, OFPort.of(1), new byte[3000])));
        List<OFMessage> badAction = packetOut(ch, OFBufferId.NO_BUFFER, OFPort.of(1), frame, f.actions().output(OFPort.ANY, 0));
        assertEquals(OFType.ERROR, badAction.get(0).getType(), "output to ANY is refused: " + badAction);
        assertEquals(2, sentToDataplane.size(), "nothing refused reached the dataplane");
    }

    private static OFBadRequestCode refusal(List<OFMessage> replies) {
        assertEquals(1, replies.size(), replies.toString());
        assertTrue(replies.get(0) instanceof OFErrorMsg, replies.toString());
        return ((OFBadRequestErrorMsg) replies.get(0)).getCode();
    }

    @Test
    void packetInsGoToControllersAndToToolsThatAskedForThem() {
        EmbeddedChannel controller = connect(OfConnection.Kind.PRIMARY);
        EmbeddedChannel tool = connect(OfConnection.Kind.SERVICE);
        byte[] data = new byte[42];
        data[0] = (byte) 0xff;
        sw.packetIn(new PacketIn("br0", PacketIn.REASON_ACTION, 3, 1, 0xabcL, 0x55L, 60, data));
        sw.flushConnections();
        List<OFMessage> got = received(controller);
        assertEquals(1, got.size());
        OFPacketIn pin = (OFPacketIn) got.get(0);
        assertEquals(OFBufferId.NO_BUFFER, pin.getBufferId());
        assertEquals(60, pin.getTotalLen());
        assertEquals(OFPacketInReason.ACTION, pin.getReason());
        assertEquals(3, pin.getTableId().getValue());
        assertEquals(0xabcL, pin.getCookie().getValue());
        assertEquals(OFPort.of(1), pin.getMatch().get(MatchField.IN_PORT));
        assertEquals(0x55L, pin.getMatch().get(MatchField.METADATA).getValue().getValue());
        assertArrayEquals(data, pin.getData());
        assertEquals(List.of(), received(tool), "a service connection gets none until it sets a miss_send_len");

        tool.writeInbound(bytes(f.buildSetConfig().setXid(3).setMissSendLen(0xffff).build()));
        sw.packetIn(new PacketIn("br0", PacketIn.REASON_ACTION, 0, 65534, 0, 0, 42, data));
        sw.flushConnections();
        OFPacketIn toTool = (OFPacketIn) received(tool).get(0);
        assertEquals(OFPort.LOCAL, toTool.getMatch().get(MatchField.IN_PORT));
        assertEquals(null, toTool.getMatch().get(MatchField.METADATA), "metadata 0 is left out, as OVS does");
    }

    @Test
    void setAsyncChoosesWhichPacketInsAConnectionGets() {
        EmbeddedChannel controller = connect(OfConnection.Kind.PRIMARY);
        byte[] data = new byte[42];
        controller.writeInbound(bytes(f.buildAsyncSet().setXid(4).setPacketInMaskEqualMaster(1 << PacketIn.REASON_NO_MATCH)
                .setPacketInMaskSlave(0).setPortStatusMaskEqualMaster(7).setPortStatusMaskSlave(7)
                .setFlowRemovedMaskEqualMaster(15).setFlowRemovedMaskSlave(0).build()));
        sw.packetIn(new PacketIn("br0", PacketIn.REASON_ACTION, 0, 1, 0, 0, 42, data));
        sw.flushConnections();
        assertEquals(List.of(), received(controller), "ACTION packet-ins switched off");
        controller.writeInbound(bytes(f.buildAsyncGetRequest().setXid(5).build()));
        org.projectfloodlight.openflow.protocol.OFAsyncGetReply reply = (org.projectfloodlight.openflow.protocol.OFAsyncGetReply) received(controller).get(0);
        assertEquals(1, reply.getPacketInMaskEqualMaster());
        assertEquals(15, reply.getFlowRemovedMaskEqualMaster());
    }

    @Test
    void anExpiredTtlReachesOnlyControllersThatAskedAndIsCutToTheirMissSendLen() {
        EmbeddedChannel asked = connect(OfConnection.Kind.PRIMARY), quiet = connect(OfConnection.Kind.PRIMARY);
        asked.writeInbound(bytes(f.buildAsyncSet().setXid(4).setPacketInMaskEqualMaster(1 << PacketIn.REASON_INVALID_TTL)
                .setPacketInMaskSlave(0).setPortStatusMaskEqualMaster(7).setPortStatusMaskSlave(7)
                .setFlowRemovedMaskEqualMaster(15).setFlowRemovedMaskSlave(0).build()));
        sw.packetIn(new PacketIn("br0", PacketIn.REASON_INVALID_TTL, 0, 1, 0, 0, 300, new byte[300]));
        sw.flushConnections();
        assertEquals(List.of(), received(quiet), "OVS's default masks leave invalid_ttl out");
        OFPacketIn p = (OFPacketIn) received(asked).get(0);
        assertEquals(OFPacketInReason.INVALID_TTL, p.getReason());
        assertEquals(128, p.getData().length, "cut to the connection's miss_send_len (a controller's default: 128)");
        assertEquals(300, p.getTotalLen());
    }
}
