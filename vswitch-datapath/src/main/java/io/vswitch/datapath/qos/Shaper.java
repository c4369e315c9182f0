package io.vswitch.datapath.qos;

import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Egress shaping with Linux HTB's semantics, run by the PMDs on a port's transmit path (OVS's
 * {@code linux-htb}, which there needs the kernel; here it needs no thread of its own).
 *
 * <p>Packets for the port are copied into their queue's {@link PacketQueue} (queue chosen by the
 * packet's {@code set_queue}; an unknown queue means queue 0, the default). Whenever a PMD has sent
 * to the port, and in every PMD iteration while packets wait, one PMD at a time (whoever wins a
 * compare-and-set; the others go on) releases up to a burst of them. Each queue has two token
 * buckets, as an HTB class: {@code min-rate} (the guarantee) and {@code max-rate} (the ceiling); the
 * port has one, its {@code max-rate}. The next packet comes from:
 * <ol>
 *   <li>a queue under its min-rate (its head packet fits its min-rate, max-rate and the port's
 *       buckets), lowest {@code priority} number first; or else</li>
 *   <li>a queue that may borrow: under its max-rate, the port's bucket not empty; again by priority.</li>
 * </ol>
 * Queues of equal priority take turns (round robin by packet). A borrowing queue is charged in its
 * ceiling and the port's bucket only, so the port's spare rate is shared out; the port's bucket caps
 * everything. So the shaper is work-conserving: nothing waits while the port's rate allows a queue
 * to send.
 *
 * <p>tx_errors of a queue counts its tail drops and packets the port failed to send; any PMD adds to
 * it. tx_packets, tx_bytes and backlog are written by the servicing PMD only.
 *
 * <p>Memory is bounded: {@link #QUEUE_PACKETS} slots per queue, taken once when the QoS is set; a
 * packet for a full queue is dropped and counted (tail drop). No allocation per packet.
 */
public final class Shaper {
    /** Packets a queue holds (1 MiB of slots). */
    public static final int QUEUE_PACKETS = 512;
    /** Most packets one {@link #service} call releases. */
    static final int BURST = 32;

    /** One HTB leaf class. */
    public static final class Queue {
        public final long id;
        public final int priority;
        /** min-rate and max-rate buckets, in bits. */
        final TokenBucket guaranteed, ceiling;
        /** DSCP written into IP packets sent through this queue, or -1. */
        final int dscp;
        final PacketQueue packets;
        /** Written only by the PMD that services (under the shaper's flag), published to the counters. */
        long txPackets, txBytes;
        final AtomicCounter[] counters;

        Queue(long id, int priority, long minRate, long maxRate, long burst, int dscp, PacketQueue packets, AtomicCounter[] counters) {
            this.id = id;
            this.priority = priority;
            this.guaranteed = new TokenBucket(minRate, burst);
            this.ceiling = new TokenBucket(maxRate, burst);
            this.dscp = dscp;
            this.packets = packets;
            this.counters = counters;
        }
    }

    private final TokenBucket port;
    /** Queues in service order: by priority, then id. */
    private final Queue[] queues;
    /** Queue ids, sorted, and the queue of each (for lookups by id). */
    private final long[] ids;
    private final Queue[] byId;
    private final Queue fallback;
    /** Priority groups: queues[groupStart[g] .. groupStart[g+1]) share a priority; cursor[g] is whose turn it is. */
    private final int[] groupStart;
    private final int[] cursor;
    private final MemorySegment memory;
    private final AtomicInteger servicing = new AtomicInteger();
    /** Scratch of the servicing PMD. */
    private final long[] txOffset = new long[BURST];
    private final int[] txLength = new int[BURST];
    private final Queue[] txQueue = new Queue[BURST];
    /** Packets dropped on enqueue because the queue was full, per queue; added to by any PMD. */
    private final AtomicCounter drops;

    /**
     * @param config   the validated QoS ({@code linux-htb})
     * @param arena    where the queues' slots come from (closed by the owner after the shaper is retired)
     * @param counters per queue: tx_packets, tx_bytes, tx_errors, backlog; by queue id
     */
    public Shaper(QosSpec config, Arena arena, java.util.function.LongFunction<AtomicCounter[]> counters, AtomicCounter drops) {
        this.drops = drops;
        this.port = new TokenBucket(config.maxRate(), config.burst());
        int n = config.queues().size();
        this.memory = arena.allocate(PacketQueue.bytes(QUEUE_PACKETS) * n, 4096);
        Queue[] qs = new Queue[n];
        int k = 0;
        for (QosSpec.QueueSpec q : config.queues().values()) {
            qs[k] = new Queue(q.id(), q.priority(), q.minRate(), q.maxRate(), q.burst(), q.dscp(),
                    new PacketQueue(QUEUE_PACKETS, memory, k * PacketQueue.bytes(QUEUE_PACKETS)), counters.apply(q.id()));
            k++;
        }
        this.byId = qs.clone();
        Arrays.sort(byId, Comparator.comparingLong(q -> q.id));
        this.ids = Arrays.stream(byId).mapToLong(q -> q.id).toArray();
        this.queues = qs.clone();
        Arrays.sort(queues, Comparator.<Queue>comparingInt(q -> q.priority).thenComparingLong(q -> q.id));
        int groups = 0;
        int[] starts = new int[n + 1];
        for (int i = 0; i < n; i++) if (i == 0 || queues[i].priority != queues[i - 1].priority) starts[groups++] = i;
        starts[groups] = n;
        this.groupStart = Arrays.copyOf(starts, groups + 1);
        this.cursor = Arrays.copyOf(starts, groups);
        Queue zero = queue(0);
        this.fallback = zero != null ? zero : byId[0];
    }

    /** The queue with this id, or null. */
    private Queue queue(long id) {
        int at = Arrays.binarySearch(ids, id);
        return at >= 0 ? byId[at] : null;
    }

    public Queue[] queues() {
        return byId;
    }

    /**
     * Copies {@code count} packets ({@code lengths[j]} bytes at {@code offsets[j]} in {@code from},
     * for queue {@code queueIds[j]}) into their queues. Returns how many were dropped (queue full).
     * Any PMD may call this, at the same time as others.
     */
    public int enqueue(MemorySegment from, long[] offsets, int[] lengths, long[] queueIds, int count) {
        int dropped = 0;
        for (int j = 0; j < count; j++) {
            Queue q = queue(queueIds[j]);
            if (q == null) q = fallback;
            long p = q.packets.claim(lengths[j]);
            if (p < 0) {
                dropped++;
                q.counters[2].getAndAdd(1);                 // tail drop: the queue's tx_errors, as OVS counts a queue's drops
                continue;
            }
            long at = q.packets.slotOffset(p);
            MemorySegment.copy(from, offsets[j], memory, at, lengths[j]);
            if (q.dscp >= 0) Dscp.mark(memory, at, lengths[j], q.dscp);
            q.packets.publish(p);
        }
        if (dropped > 0) drops.getAndAdd(dropped);
        return dropped;
    }

    /**
     * Releases what the token buckets allow, up to one burst, on {@code port} through the calling
     * PMD's {@code io}; returns the packets sent. Returns 0 at once if another PMD is servicing. A
     * transmit that throws loses the burst (counted as the port's and the queues' drops) and the
     * exception is passed on once the queues are consistent.
     */
    public int service(Port port, PmdIo io, PortCounters portCounters, long now) {
        if (!servicing.compareAndSet(0, 1)) return 0;
        try {
            int n = 0;
            while (n < BURST) {
                Queue q = next(now, true);
                if (q == null) q = next(now, false);
                if (q == null) break;
                txOffset[n] = q.packets.peek();
                txLength[n] = q.packets.peekLength();
                txQueue[n] = q;
                q.packets.advance();
                n++;
            }
            if (n == 0) return 0;
            int sent = 0;
            RuntimeException failure = null;
            try {
                sent = port.txBurst(io, memory, memory.address(), txOffset, txLength, n);
            } catch (RuntimeException | InternalError e) {
                // A bug in the port: the burst is lost, counted below as drops (the port counted none), then reported.
                failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                portCounters.txDropped.getAndAdd(n);
            }
            long bytes = 0;
            for (int j = 0; j < n; j++) {
                Queue q = txQueue[j];
                if (j < sent) {
                    q.txPackets++;
                    q.txBytes += txLength[j];
                    bytes += txLength[j];
                } else {
                    q.counters[2].getAndAdd(1);          // the port counted it in its tx_dropped too
                }
                txQueue[j] = null;
            }
            for (Queue q : queues) {
                q.packets.release();
                q.counters[0].setRelease(q.txPackets);
                q.counters[1].setRelease(q.txBytes);
                q.counters[3].setRelease(q.packets.backlog());
            }
            portCounters.txPackets.getAndAdd(sent);
            portCounters.txBytes.getAndAdd(bytes);
            if (failure != null) throw failure;
            return sent;
        } finally {
            servicing.set(0);
        }
    }

    /**
     * The queue whose head packet goes next, having charged its buckets; null if none may send.
     * {@code guaranteed}: only queues under their min-rate; else queues that may borrow.
     */
    private Queue next(long now, boolean guaranteed) {
        for (int g = 0; g < cursor.length; g++) {
            int from = groupStart[g], to = groupStart[g + 1], start = cursor[g];
            for (int k = 0; k < to - from; k++) {
                int at = start + k < to ? start + k : start + k - (to - from);
                Queue q = queues[at];
                if (q.packets.peek() < 0) continue;
                long bits = 8L * q.packets.peekLength();
                if (!port.conforms(now, bits)) return null;          // the port's rate is spent: nobody sends
                if (!q.ceiling.conforms(now, bits)) continue;
                if (guaranteed) {
                    if (!q.guaranteed.tryTake(now, bits)) continue;
                }
                q.ceiling.tryTake(now, bits);
                port.tryTake(now, bits);
                cursor[g] = at + 1 < to ? at + 1 : from;
                return q;
            }
        }
        return null;
    }

    /** Packets waiting in all queues (a snapshot; any thread). */
    public int backlog() {
        int n = 0;
        for (Queue q : queues) n += q.packets.backlog();
        return n;
    }

    /** True if any queue holds packets (a snapshot; any thread). */
    public boolean backlogged() {
        for (Queue q : queues) if (q.packets.backlog() > 0) return true;
        return false;
    }
}
