package io.vswitch.datapath.cache;

import io.vswitch.datapath.flow.FlowKey;

import java.util.Arrays;

/**
 * What one pass through a bridge's OpenFlow tables did to a packet, recorded while the forwarder
 * runs the tables for it (OVS: {@code xlate_actions} filling an odp action list and un-wildcarding
 * a {@code struct flow_wildcards}). Two parts:
 * <ul>
 *   <li>the <em>mask</em>: every flow-key bit the pass looked at (the masks of all subtables its
 *   lookups probed, the input port, the TTL a {@code dec_ttl} tested). Any packet equal to this one
 *   under the mask takes the same path through the tables;</li>
 *   <li>the <em>program</em>: the primitive steps in order, as opcode/argument pairs: edits and
 *   meters with their {@link OfRule} opcodes, outputs resolved to datapath port indexes
 *   ({@link #PORT}), NORMAL, FLOOD, ALL and IN_PORT as they are (they depend on state outside the
 *   tables, so they run again on every packet), and each table's verdict ({@link #RULE} with the
 *   table and rule number, {@link #MISS}) so a replay still counts the OpenFlow statistics.</li>
 * </ul>
 * A pass that sent a packet-in, ran a group, or stopped early (a meter's drop band, an expired TTL,
 * no room for a copy) is <em>not cacheable</em>: its outcome depended on something a replay would
 * not re-check. The forwarder then runs the tables for every such packet, as without a cache.
 *
 * <p>Reused from packet to packet (one per PMD); recording allocates nothing.
 */
public final class Translation {
    /** Datapath-only opcodes (OfRule's are positive). */
    public static final int RULE = -1, MISS = -2, PORT = -3;
    /** Steps beyond this make a pass uncacheable (a table chain longer than any sane pipeline). */
    static final int MAX_STEPS = 64;

    public final long[] mask = new long[FlowKey.WORDS];
    /** The packet's key before the pass changed it (what a megaflow matches). */
    final long[] key = new long[FlowKey.WORDS];
    final long[] program = new long[2 * MAX_STEPS];
    int length;
    private boolean active, cacheable;

    /** Starts recording the pass of the packet whose key is at {@code keys[base..]}. */
    public void start(long[] keys, int base) {
        System.arraycopy(keys, base, key, 0, FlowKey.WORDS);
        Arrays.fill(mask, 0);
        mask[FlowKey.W_IN_PORT] = -1L;                   // a megaflow always names its input port (and recirculation id)
        length = 0;
        active = true;
        cacheable = true;
    }

    /** Stops recording; whether the pass can be replayed. */
    public boolean finish() {
        active = false;
        return cacheable;
    }

    /** Ends a recording that will not be finished (the batch failed). */
    public void forget() {
        active = false;
    }

    /** Whether a pass is being recorded. */
    public boolean active() {
        return active;
    }

    public void step(int op, long arg) {
        if (!active) return;
        if (length == program.length) {
            cacheable = false;
            return;
        }
        program[length++] = op;
        program[length++] = arg;
    }

    /** Table {@code table} matched the rule numbered {@code ruleId} (for its counters on replay). */
    public void rule(int table, int ruleId) {
        step(RULE, (long) table << 32 | ruleId);
    }

    /** The pass looked at these bits of word {@code w}. */
    public void unwildcard(int w, long bits) {
        if (active) mask[w] |= bits;
    }

    /** The pass did something a replay cannot repeat faithfully. */
    public void refuse() {
        if (active) cacheable = false;
    }
}
