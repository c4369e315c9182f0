package io.vswitch.datapath.packet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap packet slots owned by one PMD (no synchronisation: only its PMD allocates and frees).
 *
 * <pre>
 *  slot i:  | headroom (256 B) | data (2048 B)                      |
 *           ^ base(i)          ^ base(i) + HEADROOM = default packet start
 * </pre>
 * The headroom lets tunnel encapsulation and VLAN push prepend headers without copying. Slots are
 * 64-byte aligned and addressed by index, so batches and caches carry ints, not objects.
 */
public final class PacketPool {
    public static final int HEADROOM = 256;
    public static final int DATA_SIZE = 2048;
    public static final int SLOT_SIZE = HEADROOM + DATA_SIZE;

    private final MemorySegment memory;
    private final long baseAddress;
    private final int[] free;
    private int freeCount;

    public PacketPool(Arena arena, int slots) {
        this.memory = arena.allocate((long) slots * SLOT_SIZE, 64);
        this.baseAddress = memory.address();
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) free[i] = slots - 1 - i;
        this.freeCount = slots;
    }

    /** The whole pool; packet bytes are addressed by offsets into it. */
    public MemorySegment memory() {
        return memory;
    }

    /** Native address of the pool's first byte (for raw I/O calls). */
    public long baseAddress() {
        return baseAddress;
    }

    /** Offset of the default packet start (after the headroom) of {@code slot}. */
    public static long dataOffset(int slot) {
        return (long) slot * SLOT_SIZE + HEADROOM;
    }

    /** Offset of the first byte of {@code slot} (start of its headroom). */
    public static long slotOffset(int slot) {
        return (long) slot * SLOT_SIZE;
    }

    /** Takes a free slot, or returns -1 when the pool is exhausted. */
    public int alloc() {
        return freeCount == 0 ? -1 : free[--freeCount];
    }

    public void release(int slot) {
        free[freeCount++] = slot;
    }

    public int available() {
        return freeCount;
    }

    public int capacity() {
        return free.length;
    }
}
