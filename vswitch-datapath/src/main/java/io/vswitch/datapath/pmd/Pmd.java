package io.vswitch.datapath.pmd;

import io.vswitch.datapath.ipc.PacketInWriter;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.Forwarder;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.Membarrier;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A poll-mode driver thread (OVS: {@code pmd_thread_main}). Pinned to one core, it loops: for each
 * assigned rx queue, receive a burst of up to 32 packets and forward it; then report a quiescent
 * point and let the idle strategy decide whether to spin or back off.
 *
 * <p>Everything it touches per packet was allocated at construction: its packet pool, batch and
 * forwarder. Configuration reaches it only through volatile references (rx queue schedule, datapath
 * view, idle strategy), so the control thread never stops it; the control thread waits on
 * {@link #quiescentCount()} before it frees anything the PMD might still be using (an RCU grace
 * period, as OVS's {@code ovsrcu_quiesce}).
 */
public final class Pmd implements Runnable {
    private static final System.Logger LOG = System.getLogger(Pmd.class.getName());
    private static final Rxq[] NONE = new Rxq[0];
    /**
     * Polls of one queue that may throw in a row before the PMD gives up on it: the port is told
     * ({@link io.vswitch.datapath.port.Port#fault}) and the queue rests for {@link #FAULT_PAUSE_NANOS}.
     * An exception out of a poll is a bug; one that comes back on every poll (a ring state the code
     * cannot handle) would otherwise cost the PMD an exception per iteration and never clear.
     */
    public static final int FAILURES_TO_FAULT = 16;
    static final long FAULT_PAUSE_NANOS = 1_000_000_000L;

    public final int index;
    public final int core;
    private final AtomicReference<DatapathView> view;
    private final long clockOrigin;
    private final Arena arena = Arena.ofShared();
    private final Batch batch;
    private final Forwarder forwarder;
    private final PmdCounters counters;
    private final AtomicLong quiescent = new AtomicLong();
    private volatile Rxq[] rxqs = NONE;
    private volatile IdleStrategy idle;
    private volatile long sleepMaxMicros;
    private volatile boolean running = true;
    private volatile Thread thread;
    /** The thread's kernel id once it runs, else 0. */
    private volatile int tid;
    private long errors;
    /** Packet-outs waiting for this PMD (it transmits them on its own tx queues, as it does its traffic). */
    private final ManyToOneConcurrentArrayQueue<PacketOut> packetOuts = new ManyToOneConcurrentArrayQueue<>(1024);

    /** Work other threads hand to the PMD because only it may touch its forwarder (dumps of its caches). */
    private final ManyToOneConcurrentArrayQueue<Task> tasks = new ManyToOneConcurrentArrayQueue<>(16);

    /** Something to run on the PMD thread with its forwarder, the current view and clock. */
    public interface ForwarderTask {
        String run(Forwarder forwarder, DatapathView view, int now);
    }

    private record Task(ForwarderTask work, java.util.concurrent.CompletableFuture<String> done) {}

    /**
     * Runs {@code work} on the PMD thread between two batches; the future completes with its result
     * (exceptionally if it threw, or if the queue is full).
     */
    public java.util.concurrent.CompletableFuture<String> onPmd(ForwarderTask work) {
        var done = new java.util.concurrent.CompletableFuture<String>();
        if (!tasks.offer(new Task(work, done))) done.completeExceptionally(new IllegalStateException("pmd" + index + " is busy with other requests"));
        wake();
        return done;
    }

    /** A controller's packet: run {@code actions} on {@code frame} as if received on OpenFlow port {@code inOfport} of {@code bridge}. */
    public record PacketOut(String bridge, int inOfport, long[] actions, byte[] frame) {}

    /**
     * @param clockOrigin {@link System#nanoTime()} origin of the dataplane clock (MAC ages)
     * @param poolSlots   packet slots in this PMD's pool
     * @param packetIns   this PMD's writer of packet-ins, or null (then they are dropped and counted)
     */
    public Pmd(int index, int core, AtomicReference<DatapathView> view, PmdCounters counters, long clockOrigin, int poolSlots,
               PacketInWriter packetIns) {
        this.index = index;
        this.core = core;
        this.view = view;
        this.counters = counters;
        this.clockOrigin = clockOrigin;
        PacketPool pool = new PacketPool(arena, poolSlots);
        this.batch = new Batch(pool);
        this.forwarder = new Forwarder(new PmdIo(index, arena), packetIns);
        setSleepMax(0);
    }

    /** {@code pmd-sleep-max} in microseconds: 0 busy-polls; otherwise back off up to that long when idle. */
    public void setSleepMax(long micros) {
        this.sleepMaxMicros = micros;
        this.idle = micros <= 0 ? new BusySpinIdleStrategy()
                : new BackoffIdleStrategy(64, 16, 1_000, Math.max(1_000, micros * 1_000));
    }

    public long sleepMaxMicros() {
        return sleepMaxMicros;
    }

    public void start() {
        Thread t = new Thread(this, "pmd-c" + core);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Stops the thread and waits for it; the pool is released afterwards. */
    public void stop() throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            t.join(5_000);
            if (t.isAlive()) {
                // Never free memory a live thread may still touch: leak it and say so.
                LOG.log(System.Logger.Level.ERROR, "pmd" + index + " did not stop within 5 s; its packet memory is not freed");
                return;
            }
        }
        counters.close();
        arena.close();
    }

    /** Queues a packet-out for this PMD; false if its queue is full. */
    public boolean offer(PacketOut p) {
        if (!packetOuts.offer(p)) return false;
        wake();
        return true;
    }

    /** Ends an idle back-off early (a grace period or a stop is waiting for this PMD). */
    public void wake() {
        Thread t = thread;
        if (t != null) LockSupport.unpark(t);
    }

    public boolean isRunning() {
        Thread t = thread;
        return running && t != null && t.isAlive();
    }

    public Thread thread() {
        return thread;
    }

    public Rxq[] rxqs() {
        return rxqs;
    }

    /** Publishes a new set of rx queues; the PMD picks it up at its next iteration. */
    public void assign(Rxq[] queues) {
        this.rxqs = queues;
        wake();
    }

    /** Incremented at the end of every loop iteration: a PMD past it holds no older view. */
    public long quiescentCount() {
        return quiescent.getAcquire();
    }

    public PmdCounters counters() {
        return counters;
    }

    /** The PMD thread's kernel id, or 0 until it has started. */
    public int tid() {
        return tid;
    }

    @Override
    public void run() {
        tid = Libc.currentTid();
        if (core >= 0) {
            try {
                long[] mask = new long[16];
                mask[core >>> 6] |= 1L << core;
                Libc.pinCurrentThread(mask);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "pmd" + index + ": could not pin to core " + core + ": " + e.getMessage());
            }
        }
        LOG.log(System.Logger.Level.INFO, "pmd" + index + " started on core " + core);
        iterationStart = System.nanoTime();
        while (running) iteration();
        LOG.log(System.Logger.Level.INFO, "pmd" + index + " on core " + core + " stopped");
    }

    /** Loop iterations so far (the quiescent count, and {@code pmd-perf-show}'s iterations). */
    private long iterations;
    /** {@link System#nanoTime()} at the start of the current iteration: the end of the one before. */
    private long iterationStart;

    /**
     * One pass over the rx queues, then housekeeping and the idle strategy (Agrona's {@code doWork}).
     * A method of its own rather than the body of {@link #run}'s loop: a loop that never returns is
     * only ever compiled by on-stack replacement, entered at whichever inner loop got hot first (the
     * old loop had three such entries, recompiled after every deoptimisation); a method called once
     * per iteration is compiled whole, from its start.
     *
     * <p>One clock read per busy iteration: {@code nanoTime} reads the TSC through the vDSO in its
     * ordered form, which waits for every load before it, so each read also ended the overlap of the
     * cache misses around it (with a read per busy queue it was a tenth of the PMD's time end to end).
     * A queue's share of the iteration's busy time is therefore its share of the packets.
     */
    private void iteration() {
        long start = iterationStart;
        Rxq[] queues = rxqs;
        DatapathView v = view.getAcquire();
        int now = (int) ((start - clockOrigin) / 1_000_000_000L);
        int work = 0;
        for (Rxq q : queues) {
            DpPort port = v.ports[q.portIndex];
            if (port == null || q.pausedUntil != 0 && resting(q, start)) continue;
            int n = poll(q, port, v, now);
            if (n > 0) {
                q.packets.setRelease(q.packets.get() + n);
                q.burst = n;
                work += n;
                counters.add(PmdCounters.RX_BATCHES, 1);
            }
        }
        if (!packetOuts.isEmpty()) work += runPacketOuts(v, now);
        if (!tasks.isEmpty()) runTasks(v, now);
        if (forwarder.upkeep(v, now) > 0) {
            counters.set(PmdCounters.MEGAFLOWS, forwarder.megaflowCount());
            counters.set(PmdCounters.MEGAFLOWS_EVICTED, forwarder.evicted());
        }
        if (v.shaped.length > 0) work += serviceShapers(v);
        // Ordered before the next view load: by the control thread's membarrier (Datapath.quiesce) if the
        // kernel has it, so this is a plain store and not a locked one that drains the store buffer.
        if (Membarrier.AVAILABLE) quiescent.setRelease(++iterations);
        else quiescent.set(++iterations);
        if (work > 0) {
            long end = System.nanoTime();
            iterationStart = end;
            long busy = end - start;
            for (Rxq q : queues) {
                if (q.burst == 0) continue;
                q.busyNanos.setRelease(q.busyNanos.get() + busy * q.burst / work);
                q.burst = 0;
            }
            publishCounters(work, busy);
            idle.idle(work);
        } else {
            if (queues.length == 0) {
                // Nothing to poll: sleep instead of spinning (a PMD without ports costs no core, as in
                // OVS, where a datapath without polled ports has no PMD threads). offer() and
                // assign() wake it; grace periods still see an iteration per millisecond.
                LockSupport.parkNanos(1_000_000);
            } else {
                idle.idle(0);
            }
            counters.set(PmdCounters.ITERATIONS, iterations);
            long end = System.nanoTime();
            iterationStart = end;
            counters.add(PmdCounters.IDLE_NS, end - start);   // empty polls + back-off
        }
    }

    /** After a busy iteration: the forwarder's totals into the shared counters (pmd-perf-show reads them). */
    private void publishCounters(int packets, long busyNanos) {
        counters.add(PmdCounters.RX_PACKETS, packets);
        counters.add(PmdCounters.BUSY_NS, busyNanos);
        counters.set(PmdCounters.TX_PACKETS, forwarder.txPackets());
        counters.set(PmdCounters.TX_BATCHES, forwarder.txBursts());
        counters.set(PmdCounters.ITERATIONS, iterations);
        counters.set(PmdCounters.PACKET_INS, forwarder.packetInsSent());
        counters.set(PmdCounters.PACKET_INS_LIMITED, forwarder.packetInsLimited());
        counters.set(PmdCounters.PACKET_INS_LOST, forwarder.packetInsLost());
        counters.set(PmdCounters.PACKET_OUTS, forwarder.packetOuts());
        counters.set(PmdCounters.TABLE_MISSES, forwarder.tableMisses());
        counters.set(PmdCounters.TTL_DROPS, forwarder.ttlDrops());
        counters.set(PmdCounters.METER_DROPS, forwarder.meterDrops());
        counters.set(PmdCounters.GROUP_LOOP_DROPS, forwarder.groupLoopDrops());
        for (int t = 0; t < Forwarder.TUNNEL_STATS; t++) counters.set(PmdCounters.TUNNEL + t, forwarder.tunnelStat(t));
        counters.add(PmdCounters.BUSY_ITERATIONS, 1);
        counters.set(PmdCounters.NORMAL_PASSES, forwarder.normalPasses());
        counters.set(PmdCounters.OPENFLOW_PASSES, forwarder.openflowPasses());
        counters.set(PmdCounters.TABLE_LOOKUPS, forwarder.tableLookups());
        counters.set(PmdCounters.SUBTABLE_PROBES, forwarder.subtableProbes());
        counters.set(PmdCounters.EMC_HITS, forwarder.emcHits());
        counters.set(PmdCounters.EMC_RUN_HITS, forwarder.runPackets());
        counters.set(PmdCounters.MEGAFLOW_HITS, forwarder.megaflowHits());
        counters.set(PmdCounters.MEGAFLOW_PROBES, forwarder.megaflowProbes());
        counters.set(PmdCounters.UPCALLS, forwarder.upcalls());
        counters.set(PmdCounters.UPCALLS_UNINSTALLED, forwarder.uninstalled());
        counters.set(PmdCounters.MEGAFLOWS, forwarder.megaflowCount());
        counters.set(PmdCounters.MEGAFLOWS_EVICTED, forwarder.evicted());
    }

    private void runTasks(DatapathView v, int now) {
        Task t;
        while ((t = tasks.poll()) != null) {
            try {
                t.done().complete(t.work().run(forwarder, v, now));
            } catch (RuntimeException e) {
                t.done().completeExceptionally(e);
            }
        }
    }

    /** The megaflow cache limits (other_config:flow-limit, max-idle in ms); see {@link Forwarder#cacheSettings}. */
    public void cacheSettings(int flowLimit, int maxIdleMillis) {
        forwarder.cacheSettings(flowLimit, maxIdleMillis);
    }

    /** other_config:emc-insert-inv-prob; see {@link Forwarder#emcInsertion}. */
    public void emcInsertion(long invProb) {
        forwarder.emcInsertion(invProb);
    }

    /** Runs up to one batch worth of queued packet-outs; returns how many. */
    private int runPacketOuts(DatapathView v, int now) {
        int n = 0;
        PacketOut p;
        while (n < Batch.MAX && (p = packetOuts.poll()) != null) {
            n++;
            DpBridge bridge = v.bridge(p.bridge());
            if (bridge == null || p.frame().length > io.vswitch.datapath.packet.PacketPool.DATA_SIZE) continue;   // deleted meanwhile
            DpPort in = bridge.portByOfport(p.inOfport());
            try {
                batch.reset();
                long at = batch.rxOffset(0);
                java.lang.foreign.MemorySegment.copy(p.frame(), 0, batch.memory(), java.lang.foreign.ValueLayout.JAVA_BYTE, at, p.frame().length);
                batch.offset[0] = at;
                batch.length[0] = p.frame().length;
                batch.count = 1;
                forwarder.packetOut(batch, bridge, in, p.inOfport(), p.actions(), v, now);
            } catch (RuntimeException | InternalError e) {
                forwarder.abort();
                if ((errors++ & 1023) == 0) LOG.log(System.Logger.Level.ERROR, "pmd" + index + ": packet-out failed", e);
            }
        }
        return n;
    }

    private int serviceShapers(DatapathView v) {
        try {
            return forwarder.serviceShapers(v);
        } catch (RuntimeException | InternalError e) {
            if ((errors++ & 1023) == 0) LOG.log(System.Logger.Level.ERROR, "pmd" + index + ": shaper failed", e);
            return 0;
        }
    }

    private int poll(Rxq q, DpPort port, DatapathView v, int now) {
        try {
            batch.reset();
            int n = port.io().rxBurst(q.queue, batch, forwarder.io());
            if (n > 0) forwarder.process(batch, port, v, now);
            if (q.failures != 0) q.failures = 0;
            return n;
        } catch (RuntimeException | InternalError e) {
            // A bug, not traffic: drop the batch, keep the PMD alive, and say so (rate-limited).
            // InternalError is how the JVM reports a fault (SIGBUS) in mapped memory whose file shrank.
            forwarder.abort();
            if ((errors++ & 1023) == 0) {
                LOG.log(System.Logger.Level.ERROR, "pmd" + index + ": error on " + port.name() + " (" + errors + " so far)", e);
            }
            if (++q.failures == FAILURES_TO_FAULT) fault(q, port, e);
            return 0;
        }
    }

    /** Gives up on a queue whose polls keep throwing: tells the port, and rests the queue. */
    private void fault(Rxq q, DpPort port, Throwable e) {
        q.failures = 0;
        q.pausedUntil = System.nanoTime() + FAULT_PAUSE_NANOS;
        LOG.log(System.Logger.Level.ERROR, "pmd" + index + ": " + port.name() + " queue " + q.queue + " failed " + FAILURES_TO_FAULT
                + " polls in a row (" + e + "): resetting the port, and polling the queue again in 1 s");
        port.fault(q.queue, e);
    }

    /** Whether {@code q} still rests after a fault at {@code now} ({@code nanoTime}); ends the rest when it is over. */
    private static boolean resting(Rxq q, long now) {
        if (q.pausedUntil - now > 0) return true;
        q.pausedUntil = 0;
        return false;
    }
}
