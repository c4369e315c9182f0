package io.vswitch.datapath.flow;

import static io.vswitch.datapath.flow.FlowKey.WORDS;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The parser is on the per-packet path: once compiled it must not allocate. Measured with the
 * thread's allocation counter around a million parses of a mix of every frame kind, including
 * truncated ones so that the early-exit paths are covered too.
 */
class ParserAllocationTest {
    private static final int PARSES = 1_000_000;
    private static final long ALLOWED_BYTES = 1024;        // the measurement itself may allocate a little

    @Test
    void parsingDoesNotAllocate() {
        List<byte[]> frames = new ArrayList<>();
        for (byte[] f : ParserFuzzTest.corpus()) {
            frames.add(f);
            frames.add(java.util.Arrays.copyOf(f, f.length / 2));
        }
        int n = frames.size();
        long[] offsets = new long[n];
        int[] lengths = new int[n];
        long[] key = new long[n * WORDS];
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(n * 2048L);
            for (int i = 0; i < n; i++) {
                byte[] f = frames.get(i);
                offsets[i] = i * 2048L + 3;
                lengths[i] = f.length;
                MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_BYTE, offsets[i], f.length);
            }

            long sink = run(seg, offsets, lengths, key, 300_000);   // warm-up: let C2 compile parse()
            threads.getThreadAllocatedBytes(tid);                    // and the counter's own path
            long before = threads.getThreadAllocatedBytes(tid);
            sink += run(seg, offsets, lengths, key, PARSES);
            long after = threads.getThreadAllocatedBytes(tid);

            long allocated = after - before;
            System.out.printf("ParserAllocationTest: %,d parses allocated %d bytes (sink %d)%n", PARSES, allocated, sink);
            assertTrue(allocated <= ALLOWED_BYTES, PARSES + " parses allocated " + allocated + " bytes");
        }
    }

    private static long run(MemorySegment seg, long[] offsets, int[] lengths, long[] key, int parses) {
        long sink = 0;
        int n = offsets.length;
        for (int i = 0, j = 0; i < parses; i++) {
            sink += Parser.parse(seg, offsets[j], lengths[j], key, j * WORDS);
            if (++j == n) {
                j = 0;
            }
        }
        return sink;
    }
}
