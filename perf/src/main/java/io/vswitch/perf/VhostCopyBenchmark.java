package io.vswitch.perf;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.vhostuser.GuestFrontend;
import io.vswitch.vhostuser.VhostUserPortProvider;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The vhost-user copy path alone: a {@code dpdkvhostuser} port's {@code rxBurst} of 32 frames out of
 * a guest's transmit ring into the PMD's slots, then {@code txBurst} of the same 32 into the guest's
 * receive ring (ring reads, descriptor checks, both copies, used-ring updates), per frame. The guest
 * is the vhost-user tests' own frontend ({@code GuestFrontend}, over the port's real socket), which
 * refills both rings between invocations (not measured). Guest and switch run on one thread here,
 * so the frames are in this core's cache: this is the code's cost, not the cross-core cache misses
 * a real guest on another core adds (see docs/perf.md).
 * <pre>
 * taskset -c 1 java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp "perf/target/classes:perf/target/lib/*" org.openjdk.jmh.Main VhostCopyBenchmark -f 3 -wi 5 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class VhostCopyBenchmark {
    private static final int BATCH = Batch.MAX;

    /** Frame size in bytes (without the virtio-net header). */
    @Param({"64", "1518"})
    public int size;

    private Path dir;
    private Arena arena;
    private CountersFile countersFile;
    private PortCounters counters;
    private Port port;
    private GuestFrontend guest;
    private Batch batch;
    private PmdIo io;
    private byte[] frame;
    private final long[] offsets = new long[BATCH];
    private final int[] lengths = new int[BATCH];

    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = Files.createTempDirectory("vhost-bench");
        arena = Arena.ofShared();
        countersFile = CountersFile.anonymous();
        counters = new PortCounters(countersFile.manager(), "br0", "vhu0", 1);
        port = new VhostUserPortProvider().open("vhu0", VhostUserPortProvider.SERVER, Map.of(), counters, new PortContext(dir, Map.of()));
        batch = new Batch(new PacketPool(arena, 256));
        io = new PmdIo(0, arena);
        guest = new GuestFrontend();
        guest.connect(dir.resolve("vhu0").toString());
        guest.handshake();
        for (int i = 0; i < 500 && !"up".equals(port.status().get("link_state")); i++) Thread.sleep(10);
        if (!"up".equals(port.status().get("link_state"))) throw new IllegalStateException("link did not come up: " + port.status());
        for (int ring = 0; ring < 2; ring++) guest.setAvailFlags(ring, 1);   // VRING_AVAIL_F_NO_INTERRUPT: a polling guest (testpmd), no eventfd writes
        frame = ParseBenchmark.udp4(size - 42);
        Arrays.fill(lengths, size);
    }

    /** The guest's side: 32 frames to send, 32 buffers to receive into. */
    @Setup(Level.Invocation)
    public void refill() {
        for (int i = 0; i < BATCH; i++) guest.send(frame);
        guest.postRxBuffers(BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int rxThenTx() {
        batch.reset();
        int n = port.rxBurst(0, batch, io);
        for (int i = 0; i < n; i++) offsets[i] = batch.offset[i];
        int sent = port.txBurst(io, batch.memory(), batch.baseAddress(), offsets, lengths, n);
        if (n != BATCH || sent != BATCH) throw new IllegalStateException("moved " + n + " in, " + sent + " out");
        return sent;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        guest.close();
        port.close();
        counters.close();
        countersFile.close();
        arena.close();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
    }
}
