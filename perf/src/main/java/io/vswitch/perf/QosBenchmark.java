package io.vswitch.perf;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.Forwarder;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.PortProviders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cost per packet of QoS on a PMD's path: a 32-packet batch of 64-byte UDP frames through NORMAL
 * from one port to another that discards (no kernel I/O), with the QoS of {@code qos} at rates far
 * above what passes (so the number is the cost of the QoS path, not of drops):
 * {@code none}; {@code ingress} policing (bytes and packets) on the input; {@code policer}
 * (egress-policer) and {@code trtcm} (trtcm-policer, a queue and the port) on the output;
 * {@code shaper} (linux-htb, two queues): every packet copied into its queue and released again.
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp "perf/target/classes:perf/target/lib/*" org.openjdk.jmh.Main QosBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class QosBenchmark {
    private static final int BATCH = Batch.MAX;
    private static final long SRC = 0x0200_0000_1000L;
    private static final long DST = 0x0200_0000_2000L;

    @Param({"none", "ingress", "policer", "trtcm", "shaper"})
    public String qos;

    private Arena arena;
    private CountersFile counters;
    private Datapath dp;
    private Forwarder forwarder;
    private Batch batch;
    private DpPort in;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        counters = CountersFile.anonymous();
        PortProviders providers = new PortProviders();
        providers.register(new NormalBenchmark.Sink("provider"));
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "10000"));
        dp.addBridge("br0", Map.of());
        Map<String, String> inQos = qos.equals("ingress")
                ? Map.of("ingress_policing_rate", "100000000", "ingress_policing_kpkts_rate", "1000000") : Map.of();
        Map<String, String> outQos = switch (qos) {
            case "policer" -> Map.of("type", "egress-policer", "other_config:cir", "100000000000", "other_config:cbs", "10000000");
            case "trtcm" -> Map.of("type", "trtcm-policer", "other_config:cir", "100000000000", "other_config:cbs", "10000000",
                    "queue:0:cir", "100000000000", "queue:0:cbs", "10000000");
            case "shaper" -> Map.of("type", "linux-htb", "other_config:max-rate", "1000000000000",
                    "queue:0:min-rate", "500000000000", "queue:1:min-rate", "500000000000");
            default -> Map.of();
        };
        dp.addPort(new PortSpec("br0", "in", "sink", 1, null, -1, "", Map.of(), inQos));
        dp.addPort(new PortSpec("br0", "out", "sink", 2, null, -1, "", Map.of(), outQos));
        DatapathView v = dp.view();
        in = v.bridge("br0").port("in");
        int now = dp.now();
        for (int i = 0; i < BATCH; i++) v.bridge("br0").macs().learn(0, DST + i, v.bridge("br0").port("out").index(), now);
        forwarder = new Forwarder(new PmdIo(0, arena), null);
        batch = new Batch(new PacketPool(arena, 4 * BATCH));
        for (int i = 0; i < BATCH; i++) {
            byte[] f = ParseBenchmark.udp4(18);
            for (int k = 0; k < 6; k++) {
                f[k] = (byte) ((DST + i) >>> (40 - 8 * k));
                f[6 + k] = (byte) ((SRC + i) >>> (40 - 8 * k));
            }
            long off = batch.rxOffset(i);
            MemorySegment.copy(f, 0, batch.memory(), ValueLayout.JAVA_BYTE, off, f.length);
            batch.offset[i] = off;
            batch.length[i] = f.length;
        }
        batch.count = BATCH;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dp.close();
        counters.close();
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void forward() {
        forwarder.process(batch, in, dp.view(), dp.now());
    }
}
