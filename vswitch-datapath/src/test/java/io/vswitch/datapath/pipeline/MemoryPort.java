package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A port whose "wire" is memory, for tests of the pipeline and PMD without a kernel device: rx replays
 * a fixed set of frames round-robin (when {@link #generate} is on), tx counts and optionally records.
 * Neither direction allocates, so PMD allocation can be measured through it.
 */
public final class MemoryPort implements Port {
    public static final String TYPE = "memory";

    private final String name;
    private final Arena arena = Arena.ofShared();
    private MemorySegment frames = MemorySegment.NULL;
    private int[] frameOffsets = new int[0];
    private int[] frameLengths = new int[0];
    private int next;
    public volatile boolean generate;
    public volatile boolean record;
    /** Whether the port says it takes partial checksums (as a GUEST_CSUM guest); recorded per frame sent. */
    public volatile boolean takesPartial;
    private final List<Boolean> sentPartial = new ArrayList<>();
    public final AtomicLong txPackets = new AtomicLong();
    public final AtomicLong rxPackets = new AtomicLong();
    /** While set, every poll throws (a bug met on every poll); counted in {@link #failedPolls}, the PMD's faults in {@link #faults}. */
    public volatile boolean failing;
    public final AtomicLong failedPolls = new AtomicLong();
    public final AtomicLong faults = new AtomicLong();
    /** While set, every transmit throws; the faults the forwarder reports for it are counted in {@link #txFaults}. */
    public volatile boolean failingTx;
    public final AtomicLong txFaults = new AtomicLong();
    private final List<byte[]> sent = new ArrayList<>();

    MemoryPort(String name) {
        this.name = name;
    }

    /** What a device would report: a stable, locally administered MAC made from the name, and an MTU. */
    @Override
    public Map<String, String> status() {
        int h = name.hashCode();
        String mac = String.format("02:00:%02x:%02x:%02x:%02x", h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
        return Map.of("mac", mac, "mtu", "1500", "driver_name", TYPE);
    }

    /** The MAC {@link #status} reports for a port named {@code name}. */
    public static String macOf(String name) {
        return new MemoryPort(name).status().get("mac");
    }

    /** Sets the frames rx replays. Call before enabling {@link #generate}. */
    public void frames(List<byte[]> list) {
        int total = list.stream().mapToInt(f -> f.length).sum();
        MemorySegment seg = arena.allocate(Math.max(1, total));
        int[] offs = new int[list.size()];
        int[] lens = new int[list.size()];
        int p = 0;
        for (int i = 0; i < list.size(); i++) {
            MemorySegment.copy(list.get(i), 0, seg, JAVA_BYTE, p, list.get(i).length);
            offs[i] = p;
            lens[i] = list.get(i).length;
            p += lens[i];
        }
        frames = seg;
        frameOffsets = offs;
        frameLengths = lens;
    }

    /** Frames transmitted while {@link #record} was on. */
    public synchronized List<byte[]> takeSent() {
        List<byte[]> copy = new ArrayList<>(sent);
        sent.clear();
        sentPartial.clear();
        return copy;
    }

    /** Per frame {@link #takeSent} will return: whether it was marked partial. */
    public synchronized List<Boolean> partialFlags() {
        return new ArrayList<>(sentPartial);
    }

    @Override
    public boolean takesPartialChecksums() {
        return takesPartial;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public int rxqCount() {
        return 1;
    }

    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
        if (failing) {
            failedPolls.incrementAndGet();
            throw new IllegalStateException(name + " fails on purpose");
        }
        if (!generate || frameOffsets.length == 0) {
            batch.count = 0;
            return 0;
        }
        for (int i = 0; i < Batch.MAX; i++) {
            int f = next;
            next = f + 1 == frameOffsets.length ? 0 : f + 1;
            long off = batch.rxOffset(i);
            MemorySegment.copy(frames, frameOffsets[f], batch.memory(), off, frameLengths[f]);
            batch.offset[i] = off;
            batch.length[i] = frameLengths[f];
        }
        batch.count = Batch.MAX;
        rxPackets.setRelease(rxPackets.get() + Batch.MAX);
        return Batch.MAX;
    }

    @Override
    public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
        if (failingTx) throw new IllegalStateException(name + " fails to transmit on purpose");
        if (record) {
            synchronized (this) {
                for (int j = 0; j < count; j++) {
                    sent.add(memory.asSlice(offsets[j], lengths[j]).toArray(JAVA_BYTE));
                    sentPartial.add((io.txPartial & 1L << j) != 0);
                }
            }
        }
        txPackets.getAndAdd(count);
        return count;
    }

    @Override
    public void fault(int queue, RuntimeException cause) {
        (queue < 0 ? txFaults : faults).incrementAndGet();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Opens memory ports and remembers them by name for the test. */
    public static final class Provider implements PortProvider {
        public final Map<String, MemoryPort> ports = new java.util.concurrent.ConcurrentHashMap<>();
        private final Set<String> types;

        public Provider() {
            this(TYPE);
        }

        /** Memory ports that stand in for ports of {@code types} (e.g. "internal", for the tunnel tests). */
        public Provider(String... types) {
            this.types = Set.of(types);
        }

        @Override
        public Set<String> types() {
            return types;
        }

        @Override
        public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
            MemoryPort p = new MemoryPort(name);
            ports.put(name, p);
            return p;
        }
    }
}
