package io.vswitch.datapath.pmd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters that several PMDs add to without locked instructions: each PMD adds to a stripe of its
 * own (one writer, a plain load and a release store), and a reader sums the stripes. A locked add
 * per burst would drain the PMD's store buffer, i.e. wait for the cache lines just copied into a
 * guest's buffers to come over from the guest's core. Any other thread, and a PMD whose index has
 * no stripe (the PMDs were restarted with more threads after these counters were made), adds
 * atomically to the shared stripe.
 *
 * <pre>
 *   values: | shared stripe: size longs, padded | PMD 0's stripe | PMD 1's stripe | ...
 * </pre>
 * Stripes are padded to whole cache lines so two PMDs never write the same line.
 */
public final class StripedCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs per cache line. */
    private static final int LINE = 8;
    /** Stripes for counters made from now on: the datapath's PMD count (set when it starts its PMDs). */
    private static volatile int defaultStripes = 1;

    private final int size;
    private final int stride;
    private final int stripes;
    private final long[] values;

    public StripedCounters(int size) {
        this(size, defaultStripes);
    }

    public StripedCounters(int size, int stripes) {
        this.size = size;
        this.stripes = stripes;
        this.stride = (size + LINE - 1) / LINE * LINE + LINE;   // a line of padding after each stripe
        this.values = new long[stride * (stripes + 1)];
    }

    /** How many PMDs the datapath runs: counters made afterwards have a stripe for each. */
    public static void expectPmds(int pmds) {
        defaultStripes = Math.max(1, pmds);
    }

    /** The PMD count last given to {@link #expectPmds} (1 before that). */
    public static int expectedPmds() {
        return defaultStripes;
    }

    public int size() {
        return size;
    }

    /** Adds {@code delta} to counter {@code i} as PMD {@code pmd} (its only writer); any other thread passes -1. */
    public void add(int pmd, int i, long delta) {
        if (pmd >= 0 && pmd < stripes) {
            int at = (pmd + 1) * stride + i;
            LONGS.setRelease(values, at, values[at] + delta);
        } else {
            LONGS.getAndAdd(values, i, delta);
        }
    }

    /** Counter {@code i}: the sum of its stripes. */
    public long get(int i) {
        long sum = 0;
        for (int s = 0; s <= stripes; s++) sum += (long) LONGS.getAcquire(values, s * stride + i);
        return sum;
    }
}
