package io.vswitch.cli.ofctl;

import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFlowStatsEntry;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U64;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ofctl's flow syntax without a switch: what it parses prints back as ovs-ofctl would, and bad
 * input of any shape is an OfctlException with a reason (printed as "ofctl: ..."), never another
 * exception. OfctlIT compares both with the real ovs-ofctl.
 */
class FlowParserTest {
    private static final String FLOW = "table=1,priority=5,tcp,nw_dst=10.0.0.0/8,tp_dst=80,actions=set_field:00:11:22:33:44:55->eth_dst,"
            + "write_actions(output:2),goto_table:2";

    @Test
    void aFlowPrintsBackAsOvsOfctlWritesIt() throws OfctlException {
        FlowParser.Flow f = FlowParser.parse(FLOW, FlowParser.Mode.ADD);
        OFFlowStatsEntry e = OfClient.OF13.buildFlowStatsEntry().setTableId(TableId.of(f.table())).setPriority(f.priority())
                .setMatch(f.match()).setInstructions(f.instructions()).setCookie(U64.ZERO).setPacketCount(U64.ZERO).setByteCount(U64.ZERO)
                .setDurationSec(1).setDurationNsec(0).build();
        assertEquals(" cookie=0x0, duration=1s, table=1, n_packets=0, n_bytes=0, priority=5,tcp,nw_dst=10.0.0.0/8,tp_dst=80 "
                + "actions=set_field:00:11:22:33:44:55->eth_dst,write_actions(output:2),goto_table:2", FlowPrinter.flowStats(e, true));
    }

    @Test
    void badFlowsAreRefusedWithTheReason() {
        for (String bad : List.of("dl_src=zz:00", "nw_dst=10.0.0.300", "tp_dst=80,actions=drop", "priority=x,actions=drop",
                "in_port=1,actions=bogus", "actions=meter:x", "actions=goto_table:", "cookie=0x1/0x1,actions=drop", "vlan_tci=0x1000/0x0f00,actions=drop",
                "in_port=1")) {
            OfctlException e = assertThrows(OfctlException.class, () -> FlowParser.parse(bad, FlowParser.Mode.ADD), bad);
            assertTrue(!e.getMessage().isBlank(), bad);
        }
    }

    @Test
    void mutatedFlowsParseOrAreRefusedNeverThrowOtherwise() {
        Random random = new Random(Long.getLong("fuzz.seed", 5));
        String alphabet = "0123456789abcdefx:/=,._-()>tcpudipvlanoutgrmes ";
        int refused = 0;
        for (int round = 0; round < 20_000; round++) {
            StringBuilder s = new StringBuilder(FLOW);
            for (int k = 0, n = 1 + random.nextInt(4); k < n && !s.isEmpty(); k++) {
                int at = random.nextInt(s.length());
                switch (random.nextInt(3)) {
                    case 0 -> s.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 1 -> s.deleteCharAt(at);
                    default -> s.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                }
            }
            try {
                FlowParser.parse(s.toString(), FlowParser.Mode.ADD);
            } catch (OfctlException e) {
                refused++;
            }
        }
        assertTrue(refused > 1000, "most mutations are refused: " + refused);
    }
}
