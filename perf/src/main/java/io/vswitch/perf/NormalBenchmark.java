package io.vswitch.perf;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.Forwarder;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Cost per packet of NORMAL switching, in two parts:
 * <ul>
 *   <li>{@code macLookup}: {@link MacTable#lookup} hits in a table holding {@code macs} addresses;</li>
 *   <li>{@code normalAccessToAccess} / {@code normalAccessToTrunk}: the whole per-packet pipeline of a
 *       PMD for a 32-packet batch of 64-byte UDP frames ({@link Forwarder#process}: parse, learn the
 *       source, look up the destination, VLAN policy, stage, one tx burst) into a port that discards
 *       (so the number is the switch's own cost, without kernel I/O). To a trunk, each packet is
 *       copied with an 802.1Q tag pushed.</li>
 * </ul>
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp "perf/target/classes:perf/target/lib/*" org.openjdk.jmh.Main NormalBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NormalBenchmark {
    private static final int BATCH = Batch.MAX;
    private static final long SRC = 0x0200_0000_1000L;
    private static final long DST = 0x0200_0000_2000L;

    @Param({"1000", "8192"})
    public int macs;

    /**
     * {@code none}: the bridge has no OpenFlow tables and packets go straight to NORMAL (the old
     * path); {@code normal}: the bridge's tables hold OVS's default {@code priority=0 actions=NORMAL}
     * flow, what every bridge runs now, i.e. one table lookup more per packet.
     */
    @Param({"none", "normal"})
    public String flows;

    private Arena arena;
    private MacTable table;
    private long[] probes;
    private CountersFile counters;
    private Datapath dp;
    private Forwarder forwarder;
    private Batch toAccess;
    private Batch toTrunk;
    private DpPort in;

    /** A port that takes packets and drops them: the pipeline's cost without I/O. */
    static final class Sink implements Port, PortProvider {
        private final String name;

        Sink(String name) {
            this.name = name;
        }

        @Override public String name() { return name; }
        @Override public String type() { return "sink"; }
        @Override public int rxqCount() { return 0; }
        @Override public int rxBurst(int queue, Batch batch, PmdIo io) { return 0; }
        @Override public int txBurst(PmdIo io, MemorySegment m, long base, long[] o, int[] l, int count) { return count; }
        @Override public void close() { }
        @Override public Set<String> types() { return Set.of("sink"); }
        @Override public Port open(String n, String type, Map<String, String> options, PortCounters c, PortContext x) { return new Sink(n); }
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        table = new MacTable(macs, 300);
        probes = new long[BATCH];
        for (int i = 0; i < macs; i++) table.learn(10, DST + i, 1, 0);
        for (int i = 0; i < BATCH; i++) probes[i] = DST + (i * 7919L) % macs;

        counters = CountersFile.anonymous();
        PortProviders providers = new PortProviders();
        providers.register(new Sink("provider"));
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "10000"));   // the PMD has no queues to poll: keep it asleep
        dp.addBridge("br0", Map.of("mac-table-size", Integer.toString(Math.max(macs, 8192))));
        dp.addPort(new PortSpec("br0", "in", "sink", 1, null, 10, "", Map.of()));
        dp.addPort(new PortSpec("br0", "access", "sink", 2, null, 10, "", Map.of()));
        dp.addPort(new PortSpec("br0", "trunk", "sink", 3, null, -1, "", Map.of()));
        if (flows.equals("normal")) dp.setFlows("br0", io.vswitch.datapath.pipeline.OfPipeline.parse("0 0 - - - ; ; normal", 1));
        DatapathView v = dp.view();
        in = v.bridge("br0").port("in");
        MacTable br = v.bridge("br0").macs();
        int now = dp.now();
        for (int i = 0; i < macs; i++) {
            br.learn(10, DST + i, v.bridge("br0").port(i % 2 == 0 ? "access" : "trunk").index(), now);
        }
        forwarder = new Forwarder(new PmdIo(0, arena), null);
        toAccess = batch(0);
        toTrunk = batch(1);
    }

    /** 32 UDP frames from distinct sources to destinations learned on the access (even) or trunk (odd) port. */
    private Batch batch(int parity) {
        Batch b = new Batch(new PacketPool(arena, 4 * BATCH));
        for (int i = 0; i < BATCH; i++) {
            long dst = DST + ((2L * i + parity) % macs);
            byte[] f = ParseBenchmark.udp4(18);
            for (int k = 0; k < 6; k++) {
                f[k] = (byte) (dst >>> (40 - 8 * k));
                f[6 + k] = (byte) ((SRC + i) >>> (40 - 8 * k));
            }
            long off = b.rxOffset(i);
            MemorySegment.copy(f, 0, b.memory(), ValueLayout.JAVA_BYTE, off, f.length);
            b.offset[i] = off;
            b.length[i] = f.length;
        }
        b.count = BATCH;
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dp.close();
        counters.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int macLookup() {
        int acc = 0;
        for (int i = 0; i < BATCH; i++) acc += table.lookup(10, probes[i], 1);
        return acc;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void normalAccessToAccess() {
        forwarder.process(toAccess, in, dp.view(), dp.now());
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void normalAccessToTrunk() {
        forwarder.process(toTrunk, in, dp.view(), dp.now());
    }
}
