package io.vswitch.datapath.packet;

import io.vswitch.datapath.flow.FlowKey;

import java.lang.foreign.MemorySegment;

/**
 * Up to {@link #MAX} packets moving through one PMD iteration, stored struct-of-arrays: packet i is
 * {@code offset[i]}/{@code length[i]} in the pool's memory, its parsed flow key is
 * {@code keys[i*FlowKey.WORDS ..]}, its layer offsets are {@code layers[i]}.
 *
 * <p>A batch owns {@link #MAX} receive slots and two spare slots per packet for copies with a
 * different encapsulation (a frame flooded from an access port leaves trunks tagged and other access
 * ports untagged; a priority-tagged frame may need both). Both are taken from the PMD's pool once and reused forever: steady-state forwarding
 * allocates nothing, on or off heap.
 *
 * <p>A port that receives in place (AF_XDP: frames stay in the socket's UMEM) points the batch at its
 * own memory for one burst with {@link #useMemory}; that memory has the pool's slot layout and its own
 * spare slots. The PMD calls {@link #reset} before every receive, which points it back at the pool.
 */
public final class Batch {
    public static final int MAX = 32;
    /**
     * Packets the pipeline makes from a packet of the batch and runs through a bridge while that
     * packet's own pass is still under way (a tunnel's encapsulated or decapsulated frame,
     * recirculated, nested up to this deep) have indexes {@code MAX ..}: their own offset, length,
     * layers and key, so the packet they came from keeps its own; they share its spare slots.
     */
    public static final int NESTED = 4;

    private final PacketPool pool;
    private final int[] rxSlot = new int[MAX];
    /** Data offsets of the pool's spare slots, two per packet. */
    private final long[] poolSpare = new long[2 * MAX];
    /** The memory this burst's packets are in, and its spare slots. */
    private MemorySegment memory;
    private long baseAddress;
    private long[] spare;

    /** Number of packets in the batch. */
    public int count;
    /**
     * Bit i: packet i's TCP/UDP checksum is partial (a guest left it to the switch, see
     * {@code L4Checksum}); the pipeline completes it unless every output takes it so. Whatever
     * drops or reorders a batch's packets moves these bits with them (see {@code IngressPolicer}).
     */
    public long partial;
    /** Offset of each packet's first byte in {@link #memory()}. */
    public final long[] offset = new long[MAX + NESTED];
    /** Length of each packet. */
    public final int[] length = new int[MAX + NESTED];
    /** Parser result per packet (see {@code Parser.l3Offset/l4Offset}). */
    public final int[] layers = new int[MAX + NESTED];
    /** Flow keys, {@link FlowKey#WORDS} longs per packet. */
    public final long[] keys = new long[(MAX + NESTED) * FlowKey.WORDS];
    /** For a nested packet {@code MAX + d}: the batch packet it was made from (whose spare slots it uses). */
    private final int[] nestedFrom = new int[NESTED];

    public Batch(PacketPool pool) {
        if (pool.available() < 3 * MAX) throw new IllegalArgumentException("pool too small for a batch");
        this.pool = pool;
        for (int i = 0; i < MAX; i++) {
            rxSlot[i] = pool.alloc();
            poolSpare[2 * i] = PacketPool.dataOffset(pool.alloc());
            poolSpare[2 * i + 1] = PacketPool.dataOffset(pool.alloc());
        }
        reset();
    }

    /** Empties the batch and points it at the pool (the PMD calls this before every receive). */
    public void reset() {
        count = 0;
        partial = 0;
        memory = pool.memory();
        baseAddress = pool.baseAddress();
        spare = poolSpare;
    }

    /**
     * For a port that receives in place: this burst's packets are in {@code memory}, which has the
     * pool's slot layout (slot i at {@code i * SLOT_SIZE}); {@code spareOffsets} are the data offsets of
     * {@code 2 * MAX} slots in it that the pipeline may overwrite while it handles the burst.
     */
    public void useMemory(MemorySegment memory, long[] spareOffsets) {
        this.memory = memory;
        this.baseAddress = memory.address();
        this.spare = spareOffsets;
    }

    public MemorySegment memory() {
        return memory;
    }

    public long baseAddress() {
        return baseAddress;
    }

    /** Where a copying port receives packet i: the data area of its receive slot in the pool. */
    public long rxOffset(int i) {
        return PacketPool.dataOffset(rxSlot[i]);
    }

    /** Start of the data area of packet i's spare slot {@code k} (0 or 1); a nested packet's are those of the packet it came from. */
    public long spareOffset(int i, int k) {
        return spare[2 * (i < MAX ? i : nestedFrom[i - MAX]) + k];
    }

    /** Makes index {@code MAX + depth} a packet made from packet {@code from} (itself maybe nested); returns that index. */
    public int nest(int depth, int from) {
        nestedFrom[depth] = from < MAX ? from : nestedFrom[from - MAX];
        return MAX + depth;
    }

    /** Room available in front of packet i inside its slot. */
    public int headroom(int i) {
        return (int) (offset[i] % PacketPool.SLOT_SIZE);
    }

    public PacketPool pool() {
        return pool;
    }
}
