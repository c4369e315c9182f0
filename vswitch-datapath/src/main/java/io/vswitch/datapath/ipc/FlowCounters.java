package io.vswitch.datapath.ipc;

import java.util.Arrays;

/**
 * A bridge's flow counters as state dumps carry them: {@code length} counters (see
 * {@code OfPipeline.countersWithTables}), of which only the non-zero ones are listed, as pairs
 * ({@code pairs[2*k]} = index, {@code pairs[2*k+1]} = value). A table of a million flows, most of
 * them idle, costs a dump what its busy flows cost, not a million numbers every two seconds.
 */
public record FlowCounters(int length, long[] pairs) {
    public static final FlowCounters NONE = new FlowCounters(0, new long[0]);

    /** All {@code length} counters, zeros included. */
    public long[] dense() {
        long[] c = new long[length];
        for (int k = 0; k + 1 < pairs.length; k += 2) {
            if (pairs[k] >= 0 && pairs[k] < length) c[(int) pairs[k]] = pairs[k + 1];
        }
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowCounters f && f.length == length && Arrays.equals(f.pairs, pairs);
    }

    @Override
    public int hashCode() {
        return 31 * length + Arrays.hashCode(pairs);
    }

    @Override
    public String toString() {
        return "FlowCounters[" + length + " counters, " + pairs.length / 2 + " non-zero]";
    }
}
