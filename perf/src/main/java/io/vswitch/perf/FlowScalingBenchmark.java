package io.vswitch.perf;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.Forwarder;
import io.vswitch.datapath.pipeline.OfPipeline;
import io.vswitch.datapath.pmd.PmdIo;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Cost per packet of the OpenFlow tables as they grow: a PMD's whole path for 32-packet batches of
 * 64-byte UDP frames between two ports that discard (no I/O), with {@code flows} rules installed.
 * Every batch carries other destinations, drawn at random from the installed flows, so a large table
 * is touched all over (cache misses included), not in the same 32 places.
 * <ul>
 *   <li>{@code exact}: {@code flows} rules {@code ip,nw_dst=10.x.y.z actions=output:2} in table 0;</li>
 *   <li>{@code multi}: a pipeline of three tables: {@code in_port=1} goes to table 1, which has
 *   {@code flows/2} rules on {@code ip,nw_dst} that write metadata (a number per flow) and go to
 *   table 2, which has {@code flows/2} rules on {@code ip,metadata} that output (three lookups per
 *   packet).</li>
 * </ul>
 * With {@code cache=on} (the default) a packet is answered by the exact-match cache or a megaflow
 * once its destination has been seen; the megaflow cache holds 200 000 flows (flow-limit), so with
 * 1 000 000 destinations most packets miss it and run the tables as well. {@code cache=off} is the
 * tables alone.
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp "perf/target/classes:perf/target/lib/*" org.openjdk.jmh.Main FlowScalingBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FlowScalingBenchmark {
    private static final int BATCH = Batch.MAX;
    /** Destinations drawn ahead of time (the draw is not what is measured). */
    private static final int DRAWS = 1 << 16;
    private static final ValueLayout.OfInt IPV4 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    @Param({"1", "100", "10000", "100000", "1000000"})
    public int flows;

    @Param({"exact", "multi"})
    public String pipeline;

    /** {@code on}: the PMD's caches in front of the tables (the default); {@code off}: flow-limit 0, every packet runs the tables. */
    @Param({"on", "off"})
    public String cache;

    private Arena arena;
    private CountersFile counters;
    private Datapath dp;
    private Forwarder forwarder;
    private Batch batch;
    private DpPort in;
    private final int[] dst = new int[DRAWS];
    private int next;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        counters = CountersFile.anonymous();
        NormalBenchmark.Sink sinks = new NormalBenchmark.Sink("provider");
        io.vswitch.datapath.port.PortProviders providers = new io.vswitch.datapath.port.PortProviders();
        providers.register(sinks);
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "10000"));      // the dataplane's own (idle) PMD sleeps: the benchmark thread is the PMD here
        dp.addBridge("br0", Map.of());
        dp.addPort(new PortSpec("br0", "p1", "sink", 1, null, -1, "", Map.of()));
        dp.addPort(new PortSpec("br0", "p2", "sink", 2, null, -1, "", Map.of()));
        StringBuilder text = new StringBuilder(flows * 48);
        int half = Math.max(1, flows / 2);
        if (pipeline.equals("exact")) {
            for (int f = 0; f < flows; f++) text.append("0 64 - - - ; c:ffff:800 d:ffffffff:").append(Integer.toHexString(ip(f))).append(" ; output:2\n");
        } else {
            text.append("0 64 1 1 - ; ; \n");
            for (int f = 0; f < half; f++) {
                text.append("1 64 - 2 ").append(Integer.toHexString(f)).append("/ffffffff ; c:ffff:800 d:ffffffff:")
                        .append(Integer.toHexString(ip(f))).append(" ; \n");
                text.append("2 64 - - - ; c:ffff:800 1:ffffffff:").append(Integer.toHexString(f)).append(" ; output:2\n");
            }
        }
        dp.setFlows("br0", OfPipeline.parse(text.toString(), 1));
        in = dp.view().bridge("br0").port("p1");
        SplittableRandom random = new SplittableRandom(42);
        for (int k = 0; k < DRAWS; k++) {
            dst[k] = ip(random.nextInt(pipeline.equals("exact") ? flows : half));
        }
        forwarder = new Forwarder(new PmdIo(0, arena), null);
        if (cache.equals("off")) forwarder.cacheSettings(0, Forwarder.DEFAULT_MAX_IDLE_MS);
        batch = new Batch(new PacketPool(arena, 4 * BATCH));
        for (int i = 0; i < BATCH; i++) {
            byte[] frame = ParseBenchmark.udp4(18);
            long off = batch.rxOffset(i);
            MemorySegment.copy(frame, 0, batch.memory(), ValueLayout.JAVA_BYTE, off, frame.length);
            batch.offset[i] = off;
            batch.length[i] = frame.length;
        }
        batch.count = BATCH;
        forward();
        long[] c = dp.view().bridge("br0").flows().countersWithTables();
        int last = pipeline.equals("exact") ? 0 : 2;             // the table whose rules output
        if (c[c.length - 2 * OfPipeline.TABLES + 2 * last + 1] != BATCH) throw new IllegalStateException("the benchmark's packets do not all match a flow");
    }

    /** The destination of flow {@code f}: 10.0.0.0 upwards. */
    private static int ip(int f) {
        return 0x0a00_0000 + f;
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
        MemorySegment m = batch.memory();
        for (int i = 0; i < BATCH; i++) {           // new destinations for this batch (IPv4 checksum left as is: nothing checks it)
            int k = next++ & (DRAWS - 1);
            long off = batch.offset[i];
            m.set(IPV4, off + 30, dst[k]);
        }
        forwarder.process(batch, in, dp.view(), dp.now());
    }
}
