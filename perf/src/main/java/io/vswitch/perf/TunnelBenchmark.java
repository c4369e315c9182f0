package io.vswitch.perf;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.Forwarder;
import io.vswitch.datapath.pipeline.OfPipeline;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;
import io.vswitch.datapath.port.PortProviders;
import io.vswitch.datapath.sys.IfAddrs;
import io.vswitch.datapath.tunnel.TunnelControl;
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
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Cost per packet of native VXLAN tunnelling on a PMD's path, 32-packet batches of 64-byte inner
 * frames, ports that discard (no I/O): {@code plain} = the inner frame from port vm to port eth by
 * one flow (the baseline); {@code encap} = from vm by a flow to vxlan port vx0, encapsulated and
 * through the underlay bridge br-phy (NORMAL) to eth; {@code decap} = VXLAN frames from eth to
 * br-phy's address, decapsulated into br-int and by a flow to vm. {@code vports} = how many VXLAN
 * vports br-int has (vx0 and port-based ones to other remotes): what finding the receiving vport costs.
 * {@code overlay=normal}: br-int forwards by NORMAL instead of flows (the frames go to MAC_B, learned
 * where the flows would send them).
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -cp "perf/target/classes:perf/target/lib/*" org.openjdk.jmh.Main TunnelBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TunnelBenchmark {
    private static final int BATCH = Batch.MAX;
    private static final int LOCAL = 0xac1f0001, REMOTE = 0xac1f0002;
    private static final long BR_MAC = 0x0200_00ac_1f01L, PEER_MAC = 0x0200_00ac_1f02L;

    @Param({"plain", "encap", "decap"})
    public String path;

    /** br-int forwards by flows on in_port, or by NORMAL (MAC learning, as an OpenStack br-int's NORMAL flow). */
    @Param({"flows"})
    public String overlay;

    /** Tunnel vports on br-int: vx0 and port-based ones to other remotes, as a hypervisor in a mesh has. */
    @Param({"1"})
    public int vports;

    private Arena arena;
    private CountersFile counters;
    private Datapath dp;
    private Forwarder forwarder;
    private Batch batch;
    private DpPort in;

    /** Sink ports of any type (the underlay's "internal" port among them). */
    static final class Provider implements PortProvider {
        @Override public Set<String> types() { return Set.of("sink", "internal"); }
        @Override public Port open(String n, String type, Map<String, String> o, PortCounters c, PortContext x) { return new NormalBenchmark.Sink(n); }
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        counters = CountersFile.anonymous();
        PortProviders providers = new PortProviders();
        providers.register(new Provider());
        dp = new Datapath(counters.manager(), providers, 1);
        dp.configure(Map.of("pmd-sleep-max", "10000"));
        dp.useUnderlay(new TunnelControl.Underlay() {
            public List<IfAddrs.Address> addresses() { return List.of(new IfAddrs.Address("br-phy", LOCAL, 24)); }
            public List<IfAddrs.KernelRoute> routes() { return List.of(new IfAddrs.KernelRoute("br-phy", LOCAL & 0xffffff00, 24, 0)); }
            public long mac(String device) { return BR_MAC; }
            public int mtu(String device) { return 1500; }
        });
        dp.addBridge("br-int", Map.of());
        dp.addBridge("br-phy", Map.of());
        dp.addPort(new PortSpec("br-int", "vm", "sink", 1, null, -1, "", Map.of()));
        dp.addPort(new PortSpec("br-int", "vx0", "vxlan", 2, null, -1, "", Map.of("remote_ip", "172.31.0.2", "key", "42")));
        dp.addPort(new PortSpec("br-phy", "br-phy", "internal", DpPort.OFPP_LOCAL, null, -1, "", Map.of()));
        dp.addPort(new PortSpec("br-phy", "eth", "sink", 1, null, -1, "", Map.of()));
        dp.addPort(new PortSpec("br-int", "out", "sink", 3, null, -1, "", Map.of()));
        for (int i = 1; i < vports; i++) {
            dp.addPort(new PortSpec("br-int", "vx" + i, "vxlan", 100 + i, null, -1, "",
                    Map.of("remote_ip", "172.30." + (i >> 8) + "." + (i & 255), "key", "42")));
        }
        dp.setFlows("br-int", OfPipeline.parse(overlay.equals("normal") ? "0 0 - - - ; ; normal"
                : path.equals("plain") ? "0 a 1 - - ; ; output:3" : "0 a 1 - - ; ; output:2\n0 a 2 - - ; ; output:1", 1));
        dp.setFlows("br-phy", OfPipeline.parse("0 0 - - - ; ; normal", 1));   // what vswitchd gives a new bridge: its default flow
        dp.tunnelCommand("tnl/neigh/set", List.of("br-phy", "172.31.0.2", "02:00:00:ac:1f:02"));
        DatapathView v = dp.view();
        DpBridge phy = v.bridge("br-phy");
        int now = dp.now();
        phy.macs().learn(0, PEER_MAC, phy.port("eth").index(), now);
        phy.macs().learn(0, BR_MAC, phy.port("br-phy").index(), now);
        DpBridge overlayBridge = v.bridge("br-int");            // where NORMAL finds the frames' destination
        overlayBridge.macs().learn(0, io.vswitch.datapath.flow.Frames.MAC_B,
                overlayBridge.port(path.equals("plain") ? "out" : path.equals("encap") ? "vx0" : "vm").index(), now);
        in = path.equals("decap") ? phy.port("eth") : v.bridge("br-int").port("vm");
        forwarder = new Forwarder(new PmdIo(0, arena), null);
        batch = new Batch(new PacketPool(arena, 4 * BATCH));
        for (int i = 0; i < BATCH; i++) {
            byte[] f = ParseBenchmark.udp4(18);
            f[35] = (byte) i;                                     // 32 flows (UDP source ports)
            if (path.equals("decap")) f = vxlan(f);
            long off = batch.rxOffset(i);
            MemorySegment.copy(f, 0, batch.memory(), ValueLayout.JAVA_BYTE, off, f.length);
            batch.offset[i] = off;
            batch.length[i] = f.length;
        }
        batch.count = BATCH;
    }

    /** The frame in VXLAN (VNI 42) from 172.31.0.2 to br-phy's 172.31.0.1, with a correct IPv4 checksum. */
    private static byte[] vxlan(byte[] inner) {
        ByteBuffer b = ByteBuffer.allocate(50 + inner.length);
        b.putShort((short) (BR_MAC >>> 32)).putInt((int) BR_MAC).putShort((short) (PEER_MAC >>> 32)).putInt((int) PEER_MAC).putShort((short) 0x0800);
        b.putShort((short) 0x4500).putShort((short) (36 + inner.length)).putInt(0x4000).putShort((short) (64 << 8 | 17)).putShort((short) 0)
                .putInt(REMOTE).putInt(LOCAL);
        b.putShort((short) 40000).putShort((short) 4789).putShort((short) (16 + inner.length)).putShort((short) 0)
                .putInt(0x0800_0000).putInt(42 << 8).put(inner);
        byte[] f = b.array();
        long s = 0;
        for (int i = 14; i < 34; i += 2) s += (f[i] & 0xff) << 8 | f[i + 1] & 0xff;
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        f[24] = (byte) (~s >>> 8);
        f[25] = (byte) ~s;
        return f;
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
