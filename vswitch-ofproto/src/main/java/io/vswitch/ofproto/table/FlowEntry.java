package io.vswitch.ofproto.table;

import org.projectfloodlight.openflow.protocol.OFFlowModFlags;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionGroup;
import org.projectfloodlight.openflow.protocol.action.OFActionOutput;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionApplyActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionWriteActions;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.U64;

import java.util.List;
import java.util.Set;

/**
 * One flow in a table. Identity is (table, priority, match); the rest is what a modify may change.
 * {@code usedNanos} is when its counters last showed traffic (for the idle timeout).
 * Immutable: a modify replaces the entry, so a dump or a snapshot for the dataplane never sees half
 * an update.
 */
public record FlowEntry(int table, int priority, OxmMatch key, Match match, U64 cookie, List<OFInstruction> instructions,
                        int idleTimeout, int hardTimeout, Set<OFFlowModFlags> flags, long createdNanos,
                        long packets, long bytes, long usedNanos) {

    /** Whether an output action of this flow (applied or written) sends to {@code port}. */
    public boolean outputsTo(OFPort port) {
        for (OFAction a : actions()) if (a instanceof OFActionOutput o && o.getPort().equals(port)) return true;
        return false;
    }

    /** Whether a group action of this flow (applied or written) uses {@code group}. */
    public boolean usesGroup(OFGroup group) {
        for (OFAction a : actions()) if (a instanceof OFActionGroup g && g.getGroup().equals(group)) return true;
        return false;
    }

    /** Whether this flow's meter instruction names meter {@code id}. */
    public boolean usesMeter(long id) {
        for (OFInstruction i : instructions) {
            if (i instanceof org.projectfloodlight.openflow.protocol.instruction.OFInstructionMeter m && m.getMeterId() == id) return true;
        }
        return false;
    }

    private List<OFAction> actions() {
        return instructions.stream().flatMap(i -> i instanceof OFInstructionApplyActions a ? a.getActions().stream()
                : i instanceof OFInstructionWriteActions w ? w.getActions().stream() : java.util.stream.Stream.<OFAction>empty()).toList();
    }

    /** Why this flow has expired at {@code nowNanos}: idle (0), hard (1), or -1 if it has not. */
    public int expiry(long nowNanos) {
        if (hardTimeout > 0 && nowNanos - createdNanos >= hardTimeout * 1_000_000_000L) return 1;
        if (idleTimeout > 0 && nowNanos - usedNanos >= idleTimeout * 1_000_000_000L) return 0;
        return -1;
    }

    /** Whether the cookie matches {@code cookie} under {@code mask} (OpenFlow's cookie filter). */
    public boolean cookieMatches(U64 cookie, U64 mask) {
        return (this.cookie.getValue() & mask.getValue()) == (cookie.getValue() & mask.getValue());
    }

    public FlowEntry withCounts(long newPackets, long newBytes) {
        long used = newPackets != packets ? System.nanoTime() : usedNanos;       // traffic since the last count: in use
        return new FlowEntry(table, priority, key, match, cookie, instructions, idleTimeout, hardTimeout, flags, createdNanos, newPackets, newBytes, used);
    }

    public FlowEntry withInstructions(List<OFInstruction> newInstructions, boolean resetCounts) {
        return withInstructions(newInstructions, resetCounts, cookie);
    }

    /** A modify that also sets the cookie (OpenFlow 1.0's, which has no cookie mask to select by). */
    public FlowEntry withInstructions(List<OFInstruction> newInstructions, boolean resetCounts, U64 newCookie) {
        return new FlowEntry(table, priority, key, match, newCookie, newInstructions, idleTimeout, hardTimeout, flags, createdNanos,
                resetCounts ? 0 : packets, resetCounts ? 0 : bytes, usedNanos);
    }
}
