package io.vswitch.datapath.qos;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded FIFO of frame copies that any number of PMDs may fill while one of them at a time
 * drains it: the packets a {@link Shaper} queue holds back. Off-heap slots of
 * {@link #SLOT_SIZE} bytes; no allocation, no lock.
 *
 * <p>Dmitry Vyukov's bounded queue, multi-producer single-consumer: every slot carries a sequence
 * number. A producer claims position {@code p} by a compare-and-set of the tail when slot
 * {@code p % capacity} says {@code p} (free for that lap), copies the frame in, and publishes it by
 * setting the sequence to {@code p + 1}. The consumer reads position {@code h} once the slot says
 * {@code h + 1} and frees it for the next lap with {@code h + capacity}. A full queue refuses at once
 * (tail drop): a producer never waits for the consumer.
 *
 * <p>A producer claims, writes and publishes in three steps, so that it can edit the copy (DSCP
 * marking) before the consumer sees it. The consumer may look at several packets ({@link #peek}) and free them later ({@link #release}),
 * so a burst can be transmitted straight from the slots.
 */
public final class PacketQueue {
    /** A frame of up to this many bytes fits a slot (the packet pool's data size). */
    public static final int SLOT_SIZE = 2048;
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle TAIL;

    static {
        try {
            TAIL = MethodHandles.lookup().findVarHandle(PacketQueue.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int capacity;
    private final int mask;
    private final long[] sequence;
    private final int[] lengths;
    private final MemorySegment memory;
    /** Where this queue's slots start in {@link #memory}. */
    private final long first;
    @SuppressWarnings("unused")    // through TAIL
    private volatile long tail;
    /** The next position to read (written by the consumer only; volatile for {@link #backlog}). */
    private volatile long head;
    /** Consumer only: how many positions after {@code head} were advanced over. */
    private int peeked;

    /** Bytes of memory a queue of {@code capacity} packets needs. */
    public static long bytes(int capacity) {
        return (long) capacity * SLOT_SIZE;
    }

    /**
     * @param capacity packets (a power of two)
     * @param memory   where the slots are: {@link #bytes} bytes from {@code first} (several queues may
     *                 share one segment, so that one transmit burst can take packets of all of them)
     */
    public PacketQueue(int capacity, MemorySegment memory, long first) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) throw new IllegalArgumentException("capacity must be a power of two");
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.sequence = new long[capacity];
        for (int i = 0; i < capacity; i++) sequence[i] = i;
        this.lengths = new int[capacity];
        this.memory = memory;
        this.first = first;
        memory.asSlice(first, bytes(capacity));          // checks the bounds once
        VarHandle.releaseFence();
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Claims the tail slot for a frame of {@code length} bytes; returns its position, or -1 if the
     * queue is full or the frame does not fit a slot. The caller writes the frame at
     * {@link #slotOffset} and then {@link #publish}es the position.
     */
    public long claim(int length) {
        if (length <= 0 || length > SLOT_SIZE) return -1;
        long p = (long) TAIL.getAcquire(this);
        while (true) {
            long dif = (long) SEQ.getAcquire(sequence, (int) (p & mask)) - p;
            if (dif == 0) {
                if (TAIL.weakCompareAndSet(this, p, p + 1)) {
                    lengths[(int) (p & mask)] = length;
                    return p;
                }
                p = (long) TAIL.getAcquire(this);
            } else if (dif < 0) {
                return -1;                               // full: the slot still holds last lap's packet
            } else {
                p = (long) TAIL.getAcquire(this);        // another producer took p
            }
        }
    }

    /** Where position {@code p}'s frame goes in the shared memory. */
    public long slotOffset(long p) {
        return first + (p & mask) * SLOT_SIZE;
    }

    /** Hands a claimed and written position to the consumer. */
    public void publish(long p) {
        SEQ.setRelease(sequence, (int) (p & mask), p + 1);
    }

    /** Packets claimed and not yet released: a snapshot any thread may take. */
    public int backlog() {
        long h = head;
        long n = (long) TAIL.getAcquire(this) - h;
        return (int) Math.max(0, Math.min(capacity, n));
    }

    /** Consumer: the offset in the shared memory of the first packet not yet advanced over, or -1 if none is published. */
    public long peek() {
        long p = head + peeked;
        if ((long) SEQ.getAcquire(sequence, (int) (p & mask)) != p + 1) return -1;
        return slotOffset(p);
    }

    /** Consumer: the length of the packet {@link #peek} returned. */
    public int peekLength() {
        return lengths[(int) ((head + peeked) & mask)];
    }

    /** Consumer: moves past the packet {@link #peek} returned; its slot stays untouched until {@link #release}. */
    public void advance() {
        peeked++;
    }

    /** Consumer: frees every slot advanced over since the last release. */
    public void release() {
        if (peeked == 0) return;
        long h = head;
        for (int k = 0; k < peeked; k++) {
            long p = h + k;
            SEQ.setRelease(sequence, (int) (p & mask), p + capacity);
        }
        head = h + peeked;
        peeked = 0;
    }
}
