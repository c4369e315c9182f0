package io.vswitch.ofproto;

import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.sys.CpuPlacement;
import io.vswitch.datapath.sys.Libc;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * Keeps vswitchd's threads off the dataplane's PMD cores, as OVS-DPDK keeps ovs-vswitchd on
 * {@code dpdk-lcore-mask}: a control-plane thread scheduled on a PMD's core takes that core's time
 * from the packets (seen: vswitchd's threads on the PMD core during a benchmark). Follows the
 * dataplane's {@code pmd-cpu-mask} as its state dumps report it; only the vswitchd process turns
 * this on (embedded uses, such as tests, leave their threads alone).
 */
final class PmdCoreAvoidance {
    private static final System.Logger LOG = System.getLogger(PmdCoreAvoidance.class.getName());
    /** The CPUs the process may use, read once: a pinned thread's own mask no longer says what exists. */
    private final long[] processCpus = Libc.allowedCpus();
    private volatile boolean enabled;
    private String placedFor;

    void enable() {
        enabled = true;
    }

    /** On every state dump: re-pins the threads when the PMD cores changed. */
    synchronized void follow(DatapathState state) {
        if (!enabled) return;
        String mask = Objects.requireNonNullElse(state.config().get("pmd-cpu-mask"), "");
        if (mask.equals(placedFor)) return;
        placedFor = mask;
        try {
            long[] others = CpuPlacement.without(processCpus, CpuPlacement.parseMask(mask, processCpus));
            if (Arrays.stream(others).allMatch(w -> w == 0)) return;     // the PMDs have every core
            int moved = CpuPlacement.pinThreads(others, Set.of(), false);
            LOG.log(System.Logger.Level.INFO, moved + " vswitchd thread(s) kept off the PMD cores, on cores " + CpuPlacement.list(others));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not keep vswitchd off the PMD cores: " + e.getMessage());
        }
    }
}
