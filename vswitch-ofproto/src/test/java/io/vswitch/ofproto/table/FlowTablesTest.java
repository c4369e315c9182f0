package io.vswitch.ofproto.table;

import io.vswitch.ofproto.openflow.OfError;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.IPv4Address;
import org.projectfloodlight.openflow.types.IPv4AddressWithMask;
import org.projectfloodlight.openflow.types.IpProtocol;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.TransportPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flow-mod semantics of OpenFlow 1.3 (section 6.4) on the authoritative tables. */
class FlowTablesTest {
    private final OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    private final FlowTables tables = new FlowTables(group -> group == 7, meter -> false);

    private Match ip(String dst) {
        return f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4)
                .setMasked(MatchField.IPV4_DST, IPv4AddressWithMask.of(dst)).build();
    }

    private List<org.projectfloodlight.openflow.protocol.instruction.OFInstruction> out(int port) {
        List<OFAction> a = List.of(f.actions().output(OFPort.of(port), 0));
        return List.of(f.instructions().applyActions(a));
    }

    private void add(int table, int priority, Match m, int port, long cookie, OFFlowModFlags... flags) throws OfError {
        tables.apply(f.buildFlowAdd().setTableId(TableId.of(table)).setPriority(priority).setMatch(m).setCookie(U64.of(cookie))
                .setInstructions(out(port)).setFlags(flags.length == 0 ? Set.of() : Set.of(flags)).build(), 0);
    }

    private List<FlowEntry> all() {
        return tables.select(FlowTables.ALL, OxmMatch.any(), OFPort.ANY, OFGroup.ANY, U64.ZERO, U64.ZERO);
    }

    @Test
    void addingTheSameMatchAndPriorityReplacesTheFlow() throws OfError {
        add(0, 10, ip("10.0.0.0/8"), 1, 0);
        add(0, 10, ip("10.0.0.0/8"), 2, 0);
        add(0, 11, ip("10.0.0.0/8"), 3, 0);
        assertEquals(2, all().size());
        assertTrue(all().get(1).outputsTo(OFPort.of(2)), "the second add replaced the first");
        assertEquals(11, all().get(0).priority(), "higher priority first");
    }

    @Test
    void looseDeleteTakesEveryFlowTheRequestCoversStrictOnlyTheIdenticalOne() throws OfError {
        add(0, 10, ip("10.1.0.0/16"), 1, 0);
        add(0, 20, ip("10.1.2.0/24"), 1, 0);
        add(0, 10, ip("192.168.0.0/16"), 1, 0);
        tables.apply(f.buildFlowDeleteStrict().setTableId(TableId.of(0)).setPriority(10).setMatch(ip("10.0.0.0/8")).build(), 0);
        assertEquals(3, all().size(), "strict: no flow has exactly 10.0.0.0/8");
        var r = tables.apply(f.buildFlowDelete().setTableId(TableId.ALL).setMatch(ip("10.0.0.0/8")).build(), 0);
        assertEquals(2, r.removed().size(), "loose: both flows inside 10/8");
        assertEquals(1, all().size());
    }

    @Test
    void deleteFiltersOnCookieMaskAndOutPort() throws OfError {
        add(0, 1, ip("10.0.0.1/32"), 1, 0x10);
        add(0, 1, ip("10.0.0.2/32"), 2, 0x11);
        add(0, 1, ip("10.0.0.3/32"), 2, 0x20);
        tables.apply(f.buildFlowDelete().setTableId(TableId.ALL).setCookie(U64.of(0x10)).setCookieMask(U64.of(0xf0)).setOutPort(OFPort.of(2)).build(), 0);
        assertEquals(2, all().size(), "only cookie 0x1? AND output to 2 is removed");
        assertFalse(all().stream().anyMatch(e -> e.cookie().getValue() == 0x11));
    }

    @Test
    void checkOverlapRefusesAnOverlappingFlowOfTheSamePriority() throws OfError {
        add(0, 5, ip("10.0.0.0/8"), 1, 0);
        OfError e = assertThrows(OfError.class, () -> add(0, 5, ip("10.1.0.0/16"), 1, 0, OFFlowModFlags.CHECK_OVERLAP));
        assertTrue(e.getMessage().contains("overlaps"));
        add(0, 5, ip("11.0.0.0/8"), 1, 0, OFFlowModFlags.CHECK_OVERLAP);
        add(0, 6, ip("10.1.0.0/16"), 1, 0, OFFlowModFlags.CHECK_OVERLAP);
        assertEquals(3, all().size());
    }

    @Test
    void modifyChangesInstructionsOfCoveredFlowsOnly() throws OfError {
        add(0, 10, ip("10.1.0.0/16"), 1, 0);
        add(0, 10, ip("20.1.0.0/16"), 1, 0);
        var r = tables.apply(f.buildFlowModify().setTableId(TableId.of(0)).setMatch(ip("10.0.0.0/8")).setInstructions(out(9)).build(), 0);
        assertEquals(1, r.changed());
        assertEquals(1, all().stream().filter(e -> e.outputsTo(OFPort.of(9))).count());
    }

    @Test
    void badFlowsGetTheSpecifiedErrorsAndChangeNothing() {
        Match tcpWithoutProto = f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).setExact(MatchField.TCP_DST, TransportPort.of(80)).build();
        assertThrows(OfError.class, () -> add(0, 1, tcpWithoutProto, 1, 0), "BAD_PREREQ");
        Match ok = f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).setExact(MatchField.IP_PROTO, IpProtocol.TCP)
                .setExact(MatchField.TCP_DST, TransportPort.of(80)).setExact(MatchField.IPV4_SRC, IPv4Address.of("1.2.3.4")).build();
        assertThrows(OfError.class, () -> tables.apply(f.buildFlowAdd().setTableId(TableId.of(3)).setMatch(ok)
                .setInstructions(List.of(f.instructions().gotoTable(TableId.of(2)))).build(), 0), "goto_table backwards");
        assertThrows(OfError.class, () -> tables.apply(f.buildFlowAdd().setTableId(TableId.of(254)).setMatch(ok).build(), 0), "no table 254");
        assertThrows(OfError.class, () -> tables.apply(f.buildFlowAdd().setMatch(ok)
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().group(OFGroup.of(3)))))).build(), 0), "no group 3");
        assertThrows(OfError.class, () -> tables.apply(f.buildFlowAdd().setMatch(ok)
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().pushVlan(EthType.of(0x0800)))))).build(), 0), "push_vlan 0x0800");
        assertThrows(OfError.class, () -> tables.apply(f.buildFlowAdd().setMatch(ok)
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().popVlan())))).build(), 0), "pop_vlan without a tag");
        assertEquals(0, all().size());
    }

    @Test
    void aFlowMayUseAGroupThatExists() throws OfError {
        tables.apply(f.buildFlowAdd().setMatch(ip("10.0.0.0/8"))
                .setInstructions(List.of(f.instructions().applyActions(List.of(f.actions().group(OFGroup.of(7)))))).build(), 0);
        assertTrue(all().get(0).usesGroup(OFGroup.of(7)));
    }

    @Test
    void flowsExpireByHardAndIdleTimeout() throws OfError {
        long t0 = System.nanoTime();
        tables.apply(f.buildFlowAdd().setMatch(ip("10.0.0.0/8")).setHardTimeout(1).setInstructions(out(1)).build(), t0);
        tables.apply(f.buildFlowAdd().setMatch(ip("11.0.0.0/8")).setIdleTimeout(2).setInstructions(out(1)).build(), t0);
        tables.apply(f.buildFlowAdd().setMatch(ip("12.0.0.0/8")).setInstructions(out(1)).build(), t0);
        assertTrue(tables.expire(t0 + 500_000_000L).isEmpty());
        var hard = tables.expire(t0 + 1_000_000_000L);
        assertEquals(1, hard.size());
        assertEquals(1, hard.get(0).reason(), "hard timeout");
        var idle = tables.expire(t0 + 2_000_000_000L);
        assertEquals(1, idle.size());
        assertEquals(0, idle.get(0).reason(), "idle timeout");
        assertEquals(1, all().size(), "the flow without timeouts stays");
        assertTrue(tables.expire(t0 + 1_000_000_000_000L).isEmpty());
    }
}
