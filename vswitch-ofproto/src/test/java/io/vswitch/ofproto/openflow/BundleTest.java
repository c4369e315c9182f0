package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFBundleCtrlMsg;
import org.projectfloodlight.openflow.protocol.OFBundleCtrlType;
import org.projectfloodlight.openflow.protocol.OFBundleFailedCode;
import org.projectfloodlight.openflow.protocol.OFBundleFlags;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.projectfloodlight.openflow.protocol.OFControllerRoleReason;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.OFFlowRemoved;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFRoleStatus;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.errormsg.OFBundleFailedErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFFlowModFailedErrorMsg;
import org.projectfloodlight.openflow.protocol.errormsg.OFBadActionErrorMsg;
import org.projectfloodlight.openflow.types.BundleId;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U64;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenFlow 1.4 bundles (all of a bundle or nothing) and role-status, on one switch over embedded channels. */
class BundleTest {
    private final OFFactory f = OFFactories.getFactory(OFVersion.OF_14);
    private final OfSwitch sw = new OfSwitch(new BridgeView("br0", 1, List.of(), true, List.of()));
    private final Set<OFBundleFlags> atomic = EnumSet.of(OFBundleFlags.ATOMIC, OFBundleFlags.ORDERED);

    private EmbeddedChannel connect(OfConnection.Kind kind) {
        peers.add(new OfPeer(sw, kind, f));
        return peers.getLast().channel;
    }

    private final List<OfPeer> peers = new ArrayList<>();

    private static ByteBuf bytes(OFMessage m) {
        return OfPeer.bytes(m);
    }

    private List<OFMessage> received(EmbeddedChannel ch) {
        for (OfPeer p : peers) if (p.channel == ch) return p.received();
        throw new AssertionError("not a peer's channel");
    }

    private List<OFMessage> control(EmbeddedChannel ch, int id, OFBundleCtrlType type) {
        ch.writeInbound(bytes(f.buildBundleCtrlMsg().setXid(50).setBundleId(BundleId.of(id)).setBundleCtrlType(type)
                .setFlags(atomic).build()));
        return received(ch);
    }

    private List<OFMessage> add(EmbeddedChannel ch, int id, long xid, OFMessage m) {
        ch.writeInbound(bytes(f.buildBundleAddMsg().setXid(xid).setBundleId(BundleId.of(id)).setFlags(atomic).setData(m).build()));
        return received(ch);
    }

    private OFMessage flow(long xid, int priority, OFPort out) {
        return f.buildFlowAdd().setXid(xid).setPriority(priority).setFlags(Set.of(OFFlowModFlags.SEND_FLOW_REM))
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().output(out, 0))))).build();
    }

    private int flows() {
        return sw.tables().count(0);
    }

    private static OFBundleFailedCode bundleError(OFMessage m) {
        return assertInstanceOf(OFBundleFailedErrorMsg.class, m).getCode();
    }

    @Test
    void aCommittedBundleAppliesEverythingAndAFailedOneNothing() {
        EmbeddedChannel ch = connect(OfConnection.Kind.PRIMARY);
        assertEquals(OFBundleCtrlType.OPEN_REPLY, ((OFBundleCtrlMsg) control(ch, 1, OFBundleCtrlType.OPEN_REQUEST).get(0)).getBundleCtrlType());
        assertEquals(List.of(), add(ch, 1, 10, flow(10, 1, OFPort.of(1))));
        assertEquals(List.of(), add(ch, 1, 11, flow(11, 2, OFPort.of(2))));
        assertEquals(0, flows(), "nothing applies before the commit");
        assertEquals(OFBundleCtrlType.COMMIT_REPLY, ((OFBundleCtrlMsg) control(ch, 1, OFBundleCtrlType.COMMIT_REQUEST).get(0)).getBundleCtrlType());
        assertEquals(2, flows());

        // A bundle that deletes both flows, adds one, and then fails: nothing changes, nobody hears of the deletes.
        add(ch, 2, 20, f.buildFlowDelete().setXid(20).setTableId(TableId.ALL).build());
        add(ch, 2, 21, flow(21, 3, OFPort.of(3)));
        add(ch, 2, 22, f.buildFlowAdd().setXid(22).setPriority(4).setInstructions(List.of(
                f.instructions().applyActions(List.of(f.actions().group(OFGroup.of(99)))))).build());   // no such group
        List<OFMessage> replies = control(ch, 2, OFBundleCtrlType.COMMIT_REQUEST);
        assertEquals(2, replies.size(), replies.toString());
        assertEquals(22, replies.get(0).getXid(), "the failing message's own error comes first, with its xid");
        assertTrue(replies.get(0) instanceof OFBadActionErrorMsg || replies.get(0) instanceof OFFlowModFailedErrorMsg, replies.toString());
        assertEquals(OFBundleFailedCode.MSG_FAILED, bundleError(replies.get(1)));
        assertEquals(2, flows(), "the deletes and the add were undone");
        assertEquals(OFBundleFailedCode.BAD_ID, bundleError(control(ch, 2, OFBundleCtrlType.COMMIT_REQUEST).get(0)), "a failed bundle is gone");

        // The same deletes alone: committed, and then FLOW_REMOVED for both.
        add(ch, 3, 30, f.buildFlowDelete().setXid(30).setTableId(TableId.ALL).build());
        replies = control(ch, 3, OFBundleCtrlType.COMMIT_REQUEST);
        assertEquals(0, flows());
        assertEquals(2, replies.stream().filter(m -> m instanceof OFFlowRemoved).count(), replies.toString());
        assertInstanceOf(OFBundleCtrlMsg.class, replies.getLast());
    }

    @Test
    void bundleMisuseGetsTheSpecifiedErrors() {
        EmbeddedChannel ch = connect(OfConnection.Kind.PRIMARY);
        control(ch, 1, OFBundleCtrlType.OPEN_REQUEST);
        assertEquals(OFBundleFailedCode.BUNDLE_EXIST, bundleError(control(ch, 1, OFBundleCtrlType.OPEN_REQUEST).get(0)));
        ByteBuf badXid = bytes(f.buildBundleAddMsg().setXid(10).setBundleId(BundleId.of(1)).setFlags(atomic).setData(flow(10, 1, OFPort.of(1))).build());
        badXid.setInt(16 + 4, 11);                             // the inner message's xid (openflowj would write the outer one)
        ch.writeInbound(badXid);
        assertEquals(OFBundleFailedCode.MSG_BAD_XID, bundleError(received(ch).get(0)));
        assertEquals(OFBundleFailedCode.MSG_UNSUP, bundleError(add(ch, 1, 12, f.buildEchoRequest().setXid(12).setData(new byte[0]).build()).get(0)));
        control(ch, 1, OFBundleCtrlType.CLOSE_REQUEST);
        assertEquals(OFBundleFailedCode.BUNDLE_CLOSED, bundleError(add(ch, 1, 13, flow(13, 1, OFPort.of(1))).get(0)));
        assertEquals(OFBundleCtrlType.DISCARD_REPLY, ((OFBundleCtrlMsg) control(ch, 1, OFBundleCtrlType.DISCARD_REQUEST).get(0)).getBundleCtrlType());
        assertEquals(OFBundleFailedCode.BAD_ID, bundleError(control(ch, 1, OFBundleCtrlType.COMMIT_REQUEST).get(0)));
        assertEquals(0, flows());
    }

    @Test
    void aMasterReplacedByAnotherHearsOfItInOpenFlow14() {
        EmbeddedChannel first = connect(OfConnection.Kind.PRIMARY), second = connect(OfConnection.Kind.PRIMARY);
        first.writeInbound(bytes(f.buildRoleRequest().setXid(5).setRole(OFControllerRole.ROLE_MASTER).setGenerationId(U64.of(1)).build()));
        received(first);
        second.writeInbound(bytes(f.buildRoleRequest().setXid(6).setRole(OFControllerRole.ROLE_MASTER).setGenerationId(U64.of(2)).build()));
        received(second);
        List<OFMessage> told = received(first);
        assertEquals(1, told.size(), told.toString());
        OFRoleStatus status = assertInstanceOf(OFRoleStatus.class, told.get(0));
        assertEquals(OFControllerRole.ROLE_SLAVE, status.getRole());
        assertEquals(OFControllerRoleReason.MASTER_REQUEST, status.getReason());
        assertEquals(U64.of(2), status.getGenerationId());
    }
}
