package io.vswitch.ofproto.openflow;

import io.vswitch.ofproto.table.FlowTables;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFTableFeatures;
import org.projectfloodlight.openflow.protocol.actionid.OFActionId;
import org.projectfloodlight.openflow.protocol.instructionid.OFInstructionId;
import org.projectfloodlight.openflow.protocol.OFTableFeatureProp;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U32;
import org.projectfloodlight.openflow.types.U64;
import org.projectfloodlight.openflow.types.U8;

import java.util.ArrayList;
import java.util.List;

/**
 * The TABLE_FEATURES description of every table (ovs-ofctl asks for it before it parses a flow, and
 * refuses to go on without a complete entry per table): the instructions and actions a flow may
 * use, the fields it may match (all maskable ones arbitrarily) and set.
 */
final class TableFeatures {
    /** OXM basic fields (numbers) a flow can match: in_port .. ipv6_nd_tll, and tunnel_id (RuleCompiler.SUPPORTED_FIELDS). */
    private static final int[] MATCH = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 38};
    /** Fields a mask applies to bit by bit. */
    private static final int[] MASKABLE = {2, 3, 4, 6, 11, 12, 22, 23, 24, 25, 26, 27, 28, 38};
    /** Fields set_field may write (RuleCompiler.SETTABLE_FIELDS): Ethernet, VLAN, IPv4 addresses and DSCP, TCP/UDP ports. */
    private static final int[] SETTABLE = {3, 4, 6, 7, 8, 11, 12, 13, 14, 15, 16};

    private TableFeatures() {}

    static List<OFTableFeatures> all(OFFactory f) {
        List<OFInstructionId> instructions = new ArrayList<>(List.of(f.instructionIds().gotoTable(), f.instructionIds().writeMetadata(),
                f.instructionIds().writeActions(), f.instructionIds().applyActions(), f.instructionIds().clearActions()));
        List<OFActionId> actions = new ArrayList<>(List.of(f.actionIds().output(), f.actionIds().group(), f.actionIds().pushVlan(),
                f.actionIds().popVlan(), f.actionIds().setField(), f.actionIds().decNwTtl(), f.actionIds().setQueue()));
        if (Of15.is15(f)) actions.add(f.actionIds().meter());          // 1.5 made the meter an action
        else instructions.add(f.instructionIds().meter());
        List<U32> match = oxmIds(MATCH, false);
        List<U32> wildcards = oxmIds(MATCH, false);
        List<U32> settable = oxmIds(SETTABLE, false);
        List<U32> matchWithMasks = new ArrayList<>(match);
        matchWithMasks.addAll(oxmIds(MASKABLE, true));
        List<OFTableFeatures> out = new ArrayList<>(FlowTables.TABLES);
        for (int t = 0; t < FlowTables.TABLES; t++) {
            List<U8> next = new ArrayList<>();
            for (int n = t + 1; n < FlowTables.TABLES; n++) next.add(U8.of((short) n));
            List<OFTableFeatureProp> props = List.of(
                    f.buildTableFeaturePropInstructions().setInstructionIds(instructions).build(),
                    f.buildTableFeaturePropInstructionsMiss().setInstructionIds(instructions).build(),
                    f.buildTableFeaturePropNextTables().setNextTableIds(next).build(),
                    f.buildTableFeaturePropNextTablesMiss().setNextTableIds(next).build(),
                    f.buildTableFeaturePropWriteActions().setActionIds(actions).build(),
                    f.buildTableFeaturePropWriteActionsMiss().setActionIds(actions).build(),
                    f.buildTableFeaturePropApplyActions().setActionIds(actions).build(),
                    f.buildTableFeaturePropApplyActionsMiss().setActionIds(actions).build(),
                    f.buildTableFeaturePropMatch().setOxmIds(matchWithMasks).build(),
                    f.buildTableFeaturePropWildcards().setOxmIds(wildcards).build(),
                    f.buildTableFeaturePropWriteSetfield().setOxmIds(settable).build(),
                    f.buildTableFeaturePropWriteSetfieldMiss().setOxmIds(settable).build(),
                    f.buildTableFeaturePropApplySetfield().setOxmIds(settable).build(),
                    f.buildTableFeaturePropApplySetfieldMiss().setOxmIds(settable).build());
            var b = f.buildTableFeatures().setTableId(TableId.of(t)).setName(t == 0 ? "classifier" : "table" + t)
                    .setMetadataMatch(U64.NO_MASK).setMetadataWrite(U64.NO_MASK).setMaxEntries(1_000_000).setProperties(props);
            if (Of15.is15(f)) {
                b.setCommand(org.projectfloodlight.openflow.protocol.OFTableFeaturesCommand.REPLACE).setFeatures(java.util.Set.of()).setCapabilities(java.util.Set.of());
            } else {
                b.setConfig(0);
            }
            out.add(b.build());
        }
        return out;
    }

    /** OXM headers (class OPENFLOW_BASIC) for the fields, with the has-mask bit and doubled length if {@code masked}. */
    private static List<U32> oxmIds(int[] fields, boolean masked) {
        List<U32> ids = new ArrayList<>();
        for (int field : fields) {
            int len = width(field) * (masked ? 2 : 1);
            ids.add(U32.of(0x8000L << 16 | (long) field << 9 | (masked ? 0x100 : 0) | len));
        }
        return ids;
    }

    /** Width in bytes of an OXM basic field's value. */
    static int width(int field) {
        return switch (field) {
            case 0, 1, 11, 12, 22, 23, 28, 34 -> 4;
            case 2, 38 -> 8;
            case 3, 4, 24, 25, 32, 33 -> 6;
            case 5, 6, 13, 14, 15, 16, 17, 18, 21, 39 -> 2;
            case 26, 27, 31 -> 16;
            case 37 -> 3;
            default -> 1;
        };
    }
}
