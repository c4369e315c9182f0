package io.vswitch.ofproto.openflow;

import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionPushVlan;
import org.projectfloodlight.openflow.protocol.action.OFActionSetField;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv6Address;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.OFVlanVidMatch;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.TransportPort;
import org.projectfloodlight.openflow.types.VlanVid;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenFlow 1.0's actions and matches in the switch's 1.3 terms, and back. */
class Of10Test {
    private final OFFactory f10 = OFFactories.getFactory(OFVersion.OF_10), f13 = OFFactories.getFactory(OFVersion.OF_13);

    private Match vlan(OFVlanVidMatch vid) {
        return f13.buildMatch().setExact(MatchField.VLAN_VID, vid).build();
    }

    @Test
    void modVlanVidTagsAnUntaggedFlowAndRetagsATaggedOne() throws OfError {
        List<OFAction> set = List.of(f10.actions().setVlanVid(VlanVid.ofVlan(10)));
        List<OFAction> untagged = Of10.actionsIn(set, vlan(OFVlanVidMatch.UNTAGGED));
        assertEquals(2, untagged.size());
        assertInstanceOf(OFActionPushVlan.class, untagged.get(0));
        assertEquals(OFVlanVidMatch.ofVlan(10), ((OFActionSetField) untagged.get(1)).getField().getValue());
        List<OFAction> tagged = Of10.actionsIn(set, vlan(OFVlanVidMatch.ofVlan(20)));
        assertEquals(1, tagged.size(), "a tagged packet only gets a new VID");
        OfError unknown = assertThrows(OfError.class, () -> Of10.actionsIn(set, Of10.ANY));
        assertTrue(unknown.getMessage().contains("dl_vlan"), unknown.getMessage());
    }

    @Test
    void transportRewritesFollowTheMatchedProtocolAndEnqueueIsSetQueue() throws OfError {
        Match udp = f13.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).setExact(MatchField.IP_PROTO, IpProtocol.UDP).build();
        List<OFAction> out = Of10.actionsIn(List.of(f10.actions().setTpDst(TransportPort.of(53))), udp);
        assertEquals(MatchField.UDP_DST, ((OFActionSetField) out.get(0)).getField().getMatchField());
        assertThrows(OfError.class, () -> Of10.actionsIn(List.of(f10.actions().setTpDst(TransportPort.of(53))), Of10.ANY));
        assertEquals(List.of(f13.actions().setQueue(1), f13.actions().output(OFPort.of(1), 0xffff)),
                Of10.actionsIn(List.of(f10.actions().enqueue(OFPort.of(1), 1)), Of10.ANY), "enqueue is set_queue, then output");
    }

    @Test
    void goingBackOneZeroSaysWhatItCanAndLeavesOutTheRest() {
        var pushAndSet = f13.instructions().applyActions(List.of(f13.actions().pushVlan(EthType.VLAN_FRAME),
                f13.actions().setField(f13.oxms().vlanVid(OFVlanVidMatch.ofVlan(10))), f13.actions().output(OFPort.of(2), 0)));
        List<OFAction> said = Of10.actionsOut(f10, List.of(pushAndSet, f13.instructions().gotoTable(TableId.of(1))));
        assertEquals(List.of(f10.actions().setVlanVid(VlanVid.ofVlan(10)), f10.actions().output(OFPort.of(2), 0)), said);

        Match v6 = f13.buildMatch().setExact(MatchField.IN_PORT, OFPort.of(3)).setExact(MatchField.ETH_TYPE, EthType.IPv6)
                .setExact(MatchField.IPV6_SRC, IPv6Address.of("2001:db8::1")).build();
        Match back = Of10.matchOut(f10, v6);
        assertEquals(OFPort.of(3), back.get(MatchField.IN_PORT));
        assertEquals(EthType.IPv6, back.get(MatchField.ETH_TYPE));
        List<MatchField<?>> fields = new java.util.ArrayList<>();
        back.getMatchFields().forEach(fields::add);
        assertEquals(List.of(MatchField.IN_PORT, MatchField.ETH_TYPE), fields, "1.0 has no IPv6 address fields");
    }
}
