package io.vswitch.datapath.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Which cores a process's threads may use, as OVS-DPDK keeps its non-PMD threads on
 * {@code dpdk-lcore-mask}: PMD cores are for PMDs. Both of our processes use it, the dataplane for
 * its own non-PMD threads and vswitchd for all of its threads.
 */
public final class CpuPlacement {
    private CpuPlacement() {}

    /**
     * Parses an OVS pmd-cpu-mask (hex, optional 0x) against the CPUs this process may use; null or
     * empty means the highest allowed CPU (the dataplane's default PMD core).
     */
    public static long[] parseMask(String s, long[] allowed) {
        long[] mask = new long[16];
        if (s == null || s.isBlank()) {
            for (int cpu = 1023; cpu >= 0; cpu--) {
                if ((allowed[cpu >>> 6] & (1L << cpu)) != 0) {
                    mask[cpu >>> 6] |= 1L << cpu;
                    return mask;
                }
            }
            throw new IllegalStateException("sched_getaffinity reports no CPU for this process");
        }
        String hex = s.trim().toLowerCase();
        if (hex.startsWith("0x")) hex = hex.substring(2);
        if (hex.isEmpty() || !hex.matches("[0-9a-f]+") || hex.length() > 256) {
            throw new IllegalArgumentException("invalid pmd-cpu-mask '" + s + "': use a hex CPU mask such as 0x2");
        }
        for (int i = 0; i < hex.length(); i++) {
            int nibble = Character.digit(hex.charAt(hex.length() - 1 - i), 16);
            for (int b = 0; b < 4; b++) {
                if ((nibble & (1 << b)) == 0) continue;
                int cpu = i * 4 + b;
                if ((allowed[cpu >>> 6] & (1L << cpu)) == 0) {
                    throw new IllegalArgumentException("invalid pmd-cpu-mask '" + s + "': core " + cpu
                            + " does not exist or is not allowed for this process (allowed: " + list(allowed) + ")");
                }
                mask[cpu >>> 6] |= 1L << cpu;
            }
        }
        if (Arrays.stream(mask).allMatch(w -> w == 0)) {
            throw new IllegalArgumentException("invalid pmd-cpu-mask '" + s + "': it selects no core");
        }
        return mask;
    }

    /** A CPU set as a list ("0,2,3"). */
    public static String list(long[] set) {
        return IntStream.range(0, 1024).filter(c -> (set[c >>> 6] & (1L << c)) != 0)
                .mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** The allowed CPUs without {@code pmdCores}; all zero if the PMDs have every allowed core. */
    public static long[] without(long[] allowed, long[] pmdCores) {
        long[] others = new long[allowed.length];
        for (int w = 0; w < allowed.length; w++) others[w] = allowed[w] & ~(w < pmdCores.length ? pmdCores[w] : 0);
        return others;
    }

    /**
     * Pins every thread of this process to {@code cores}, except the threads in {@code except} and,
     * if {@code exceptCompilers}, the JIT's compiler threads; returns how many moved. Threads started
     * later inherit the mask of the thread that starts them.
     */
    public static int pinThreads(long[] cores, Set<Integer> except, boolean exceptCompilers) throws IOException {
        int moved = 0;
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                int tid = Integer.parseInt(t.getFileName().toString());
                if (except.contains(tid) || exceptCompilers && isCompilerThread(t)) continue;
                try {
                    Libc.pinThread(tid, cores);
                    moved++;
                } catch (RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return moved;
    }

    private static boolean isCompilerThread(Path task) {
        try {
            return Files.readString(task.resolve("comm")).contains("CompilerThre");
        } catch (IOException e) {
            return false;
        }
    }
}
