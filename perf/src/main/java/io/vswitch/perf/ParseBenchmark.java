package io.vswitch.perf;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Frames;
import io.vswitch.datapath.flow.Parser;
import static io.vswitch.datapath.flow.Frames.IP4_A;
import static io.vswitch.datapath.flow.Frames.IP4_B;
import static io.vswitch.datapath.flow.Frames.IP6_A_HI;
import static io.vswitch.datapath.flow.Frames.IP6_A_LO;
import static io.vswitch.datapath.flow.Frames.IP6_B_HI;
import static io.vswitch.datapath.flow.Frames.IP6_B_LO;
import static io.vswitch.datapath.flow.Frames.MAC_A;
import static io.vswitch.datapath.flow.Frames.MAC_B;

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
 * a realistic mix rather than one protocol. Frames come from the datapath tests' {@link Frames}.
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

    /** A 64-byte-on-the-wire IPv4/UDP frame (with {@code payload} 18), the benchmarks' usual packet. */
    static byte[] udp4(int payload) {
        return Frames.udp4(MAC_B, MAC_A, IP4_A, IP4_B, 1234, 80, payload);
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        frames = arena.allocate((long) BATCH * BUF, 64);
        for (int i = 0; i < BATCH; i++) {
            byte[] f = switch (i % 4) {
                case 0 -> udp4(18);                                // 14 + 20 + 8 + 18 = 60 B + FCS = 64 B on the wire
                case 1 -> Frames.tcp4(MAC_B, MAC_A, IP4_A, IP4_B, 40000, 443, Frames.TCP_PSH | Frames.TCP_ACK, 100);
                case 2 -> Frames.dot1q(udp4(100), 10);
                default -> Frames.tcp6(MAC_B, MAC_A, IP6_A_HI, IP6_A_LO, IP6_B_HI, IP6_B_LO, 40000, 22, Frames.TCP_ACK, 100);
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
}
