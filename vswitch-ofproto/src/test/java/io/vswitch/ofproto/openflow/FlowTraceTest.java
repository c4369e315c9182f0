package io.vswitch.ofproto.openflow;

import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IPv4AddressWithMask;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.TransportPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowTraceTest {
    private final OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    private final OfSwitch sw = new OfSwitch(new BridgeView("br0", 1, List.of(), true, List.of()));

    private void add(int table, int priority, long cookie, Match match, OFInstruction... instructions) throws OfError {
        sw.tables().apply(f.buildFlowAdd().setTableId(TableId.of(table)).setPriority(priority).setCookie(U64.of(cookie))
                .setMatch(match).setInstructions(List.of(instructions)).build(), 0);
    }

    @Test
    void aPacketWalksTheTablesAndEndsWithItsActions() throws Exception {
        add(0, 100, 0x7, f.buildMatch().setExact(MatchField.IN_PORT, OFPort.of(1)).setExact(MatchField.ETH_TYPE, EthType.IPv4)
                        .setMasked(MatchField.IPV4_DST, IPv4AddressWithMask.of("10.0.0.0/8")).build(),
                f.instructions().applyActions(List.of(f.actions().setField(f.oxms().ipv4Dst(IPv4Address.of("192.0.2.9"))))),
                f.instructions().gotoTable(TableId.of(1)));
        add(1, 5, 0, f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).setExact(MatchField.IP_PROTO, IpProtocol.TCP)
                        .setExact(MatchField.TCP_DST, TransportPort.of(80)).build(),
                f.instructions().applyActions(List.of(f.actions().output(OFPort.of(2), 0))));
        String t = sw.trace("tcp,in_port=1,nw_dst=10.1.2.3,tp_dst=80");
        assertTrue(t.startsWith("Flow: tcp,in_port=1,dl_dst=00:00:00:00:00:00,dl_src=00:00:00:00:00:00,dl_vlan=none,"
                + "ip_dscp=0,ip_ecn=0,nw_src=0.0.0.0,nw_dst=10.1.2.3,tp_src=0,tp_dst=80\n"), t);
        assertTrue(t.contains(" 0. in_port=1,dl_type=0x800,nw_dst=10.0.0.0/8, priority 100, cookie 0x7\n"
                + "    set_field:192.0.2.9->nw_dst\n    goto_table:1\n"), t);
        assertTrue(t.contains(" 1. dl_type=0x800,nw_proto=6,tp_dst=80, priority 5\n    output:2\n"), t);
        assertTrue(t.contains("Final flow: tcp,in_port=1,dl_dst=00:00:00:00:00:00,dl_src=00:00:00:00:00:00,dl_vlan=none,"
                + "ip_dscp=0,ip_ecn=0,nw_src=0.0.0.0,nw_dst=192.0.2.9,tp_src=0,tp_dst=80\n"), t);
        assertTrue(t.endsWith("Datapath actions: 2\n"), t);

        String udp = sw.trace("udp,in_port=1,nw_dst=10.1.2.3,tp_dst=80");
        assertTrue(udp.contains(" 1. No match.\n    drop\n") && udp.endsWith("Datapath actions: drop\n"), udp);
        assertTrue(sw.trace("in_port=2").contains(" 0. No match.\n"));
        assertThrows(IllegalArgumentException.class, () -> sw.trace("in_port=1,bogus=3"));
        assertThrows(IllegalArgumentException.class, () -> sw.trace("in_port=1,tp_dst=80"), "tp_dst without a protocol");
    }

    @Test
    void theActionSetRunsAtTheEnd() throws Exception {
        add(0, 1, 0, f.buildMatch().build(), f.instructions().writeActions(List.of(f.actions().output(OFPort.of(3), 0),
                f.actions().pushVlan(EthType.VLAN_FRAME))));
        String t = sw.trace("in_port=1");
        assertTrue(t.contains("    write_actions(output:3,push_vlan:0x8100)\n    executing the action set:\n        push_vlan:0x8100\n        output:3\n"), t);
        assertTrue(t.contains("Final flow: in_port=1,dl_dst=00:00:00:00:00:00,dl_src=00:00:00:00:00:00,dl_type=0x0,dl_vlan=0,dl_vlan_pcp=0"), t);
        assertEquals("Datapath actions: 3", t.lines().reduce((a, b) -> b).orElse(""));
    }
}
