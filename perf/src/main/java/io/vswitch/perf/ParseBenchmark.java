package io.vswitch.perf;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Parser;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Cost per packet of {@link Parser#parse} over a PMD-style batch: 32 frames laid out in one
 * off-heap segment (2 KiB buffers, like mbufs), parsed into one key array. The mix is IPv4/UDP
 * 64 B, IPv4/TCP, 802.1Q-tagged IPv4/UDP and IPv6/TCP, interleaved so the branch predictor sees
 * a realistic mix rather than one protocol.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "perf/target/classes:perf/target/lib/*" \
 *     org.openjdk.jmh.Main ParseBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ParseBenchmark {
    private static final int BATCH = 32;
    private static final int BUF = 2048;

    private Arena arena;
    private MemorySegment frames;
    private final long[] offsets = new long[BATCH];
    private final int[] lengths = new int[BATCH];
    private final long[] keys = new long[BATCH * FlowKey.WORDS];

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        frames = arena.allocate((long) BATCH * BUF, 64);
        for (int i = 0; i < BATCH; i++) {
            byte[] f = switch (i % 4) {
                case 0 -> FrameBuilder.udp4(18);                   // 14 + 20 + 8 + 18 = 60 B + FCS = 64 B on the wire
                case 1 -> FrameBuilder.tcp4(100);
                case 2 -> FrameBuilder.vlan(FrameBuilder.udp4(100), 0x8100, 10);
                default -> FrameBuilder.tcp6(100);
            };
            offsets[i] = (long) i * BUF + 128;                 // headroom, as in an mbuf
            lengths[i] = f.length;
            MemorySegment.copy(f, 0, frames, ValueLayout.JAVA_BYTE, offsets[i], f.length);
            // Measure full parses only: every frame must get as far as its transport header.
            if (Parser.l4Offset(Parser.parse(frames, offsets[i], lengths[i], keys, 0)) == Parser.NONE) {
                throw new IllegalStateException("benchmark frame " + i + " does not parse to L4");
            }
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int parseBatch() {
        int acc = 0;
        for (int i = 0; i < BATCH; i++) {
            acc += Parser.parse(frames, offsets[i], lengths[i], keys, i * FlowKey.WORDS);
        }
        return acc;                                            // returned to JMH: nothing is dead code
    }

    /**
     * Minimal frame builder for the benchmark (the perf module cannot see the datapath's test
     * {@code Frames}). Checksums are left zero: the parser does not look at them.
     */
    static final class FrameBuilder {
        private FrameBuilder() {}

        private static final long MAC_DST = 0x5254_0000_0002L;
        private static final long MAC_SRC = 0x5254_0000_0001L;

        static byte[] udp4(int payload) {
            byte[] f = ipv4(17, 8 + payload);
            int l4 = 34;
            put16(f, l4, 1234);
            put16(f, l4 + 2, 80);
            put16(f, l4 + 4, 8 + payload);
            return f;
        }

        static byte[] tcp4(int payload) {
            byte[] f = ipv4(6, 20 + payload);
            int l4 = 34;
            put16(f, l4, 40000);
            put16(f, l4 + 2, 443);
            put16(f, l4 + 12, 5 << 12 | 0x018);               // PSH|ACK
            return f;
        }

        static byte[] tcp6(int payload) {
            byte[] f = ethernet(0x86dd, 40 + 20 + payload);
            f[14] = 0x60;
            put16(f, 18, 20 + payload);
            f[20] = 6;                                         // next header TCP
            f[21] = 64;
            f[22] = 0x20;                                      // 2001:db8::1 -> 2001:db8::2
            f[23] = 0x01;
            f[24] = 0x0d;
            f[25] = (byte) 0xb8;
            System.arraycopy(f, 22, f, 38, 4);
            f[37] = 1;
            f[53] = 2;
            put16(f, 54, 40000);
            put16(f, 56, 22);
            put16(f, 54 + 12, 5 << 12 | 0x010);               // ACK
            return f;
        }

        static byte[] vlan(byte[] frame, int tpid, int tci) {
            byte[] out = new byte[frame.length + 4];
            System.arraycopy(frame, 0, out, 0, 12);
            put16(out, 12, tpid);
            put16(out, 14, tci);
            System.arraycopy(frame, 12, out, 16, frame.length - 12);
            return out;
        }

        private static byte[] ipv4(int proto, int l4Length) {
            byte[] f = ethernet(0x0800, 20 + l4Length);
            f[14] = 0x45;
            put16(f, 16, 20 + l4Length);
            f[22] = 64;
            f[23] = (byte) proto;
            put16(f, 26, 0x0a00);                              // 10.0.0.1 -> 10.0.0.2
            put16(f, 28, 0x0001);
            put16(f, 30, 0x0a00);
            put16(f, 32, 0x0002);
            return f;
        }

        private static byte[] ethernet(int type, int payload) {
            byte[] f = new byte[14 + payload];
            put16(f, 0, (int) (MAC_DST >>> 32));
            put16(f, 2, (int) (MAC_DST >>> 16));
            put16(f, 4, (int) MAC_DST);
            put16(f, 6, (int) (MAC_SRC >>> 32));
            put16(f, 8, (int) (MAC_SRC >>> 16));
            put16(f, 10, (int) MAC_SRC);
            put16(f, 12, type);
            return f;
        }

        private static void put16(byte[] b, int at, int v) {
            b[at] = (byte) (v >>> 8);
            b[at + 1] = (byte) v;
        }
    }
}
