package io.vswitch.perf;

import io.vswitch.datapath.sys.Libc;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What one cache line costs to move between two CPUs: two threads pinned to CPU A and CPU B hand a
 * counter back and forth, each waiting for the other's value; prints the round trip in ns (two
 * line transfers). Every frame a switch copies between a guest on one core and its PMD on another
 * pays such transfers (descriptors, ring indexes, frame bytes), so this is the machine's floor
 * under the vhost-user numbers.
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "perf/target/classes:perf/target/lib/*" io.vswitch.perf.CoreToCoreLatency [A B [ROUNDS]]
 * </pre>
 */
public final class CoreToCoreLatency {
    private CoreToCoreLatency() {}

    private static final int REPETITIONS = 5;

    public static void main(String[] args) throws InterruptedException {
        int a = args.length > 1 ? Integer.parseInt(args[0]) : 0;
        int b = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
        if (a == b) throw new IllegalArgumentException("CPU A and CPU B must differ (both threads spin; on one CPU each waits for a time slice)");
        AtomicLongArray line = new AtomicLongArray(16);   // the counter sits in the middle, away from the header
        int at = 8;
        Thread echo = new Thread(() -> {
            pin(b);
            for (long v = 1; v < 2L * REPETITIONS * rounds; v += 2) {   // one reply per hand-off of every repetition
                while (line.getAcquire(at) != v) Thread.onSpinWait();
                line.setRelease(at, v + 1);
            }
        }, "echo-cpu" + b);
        echo.setDaemon(true);
        echo.start();
        pin(a);
        long v = 0;
        for (int rep = 0; rep < REPETITIONS; rep++) {  // the first repetitions warm up the JIT
            long t0 = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                line.setRelease(at, ++v);
                while (line.getAcquire(at) != v + 1) Thread.onSpinWait();
                v++;
            }
            System.out.printf("CPU %d <-> CPU %d: round trip %.1f ns%n", a, b, (System.nanoTime() - t0) / (double) rounds);
        }
    }

    private static void pin(int cpu) {
        long[] mask = new long[16];
        mask[cpu >>> 6] |= 1L << cpu;
        Libc.pinCurrentThread(mask);
    }
}
