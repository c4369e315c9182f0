package io.vswitch.datapath.port;

import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches idle TAP devices so that the PMDs need not: an idle TAP costs a PMD no system call.
 *
 * <p>Whether a TAP's fd holds a frame can only be asked with a system call, and a PMD that polled an
 * idle internal port on every iteration paid a {@code read(2)} returning EAGAIN each time: an eighth
 * of its time end to end on this machine, even when only every 16th iteration asked. So a
 * {@link TapPort} whose reads come back empty {@link TapPort#IDLE_POLLS} times in a row falls
 * asleep: its {@code rxBurst} returns 0 without a call, and this thread, blocked in {@code poll(2)}
 * on every sleeping TAP, wakes it when its device has a frame. A port that just fell asleep joins the
 * poll set through an eventfd. (OVS-DPDK gets the same from polling such ports in its main thread,
 * outside the PMDs.)
 *
 * <pre>
 *   PMD (rxBurst):   awake --IDLE_POLLS empty reads--> asleep, then signals the eventfd
 *   tap-watch:       poll(eventfd + every asleep TAP) --its fd readable--> awake
 * </pre>
 * A frame that arrives while a port falls asleep is not missed: poll(2) reports a readable fd however
 * long it has been readable. One thread per process, started with the first TAP.
 */
final class TapWatch {
    private static final System.Logger LOG = System.getLogger(TapWatch.class.getName());
    private static final TapWatch INSTANCE = new TapWatch();

    private final Set<TapPort> ports = ConcurrentHashMap.newKeySet();
    /** The eventfd's increment, in native memory for {@link Libc#writeFast}. */
    private static final MemorySegment ONE = Arena.global().allocate(8, 8);

    static {
        ONE.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    private volatile int wakeFd = -1;
    private boolean started;
    /** Poll sets built so far; a set built after a port's removal does not hold it. */
    private volatile long rebuilds;

    private TapWatch() {}

    /** Watches {@code port} from now on; false if it cannot be watched (the port then never sleeps). */
    static boolean add(TapPort port) {
        return INSTANCE.register(port);
    }

    /**
     * Stops watching {@code port}, and returns once the watch's poll(2) no longer holds its fd: a
     * poll holds a reference to every file it waits on, so a TAP closed while still in the poll set
     * would live on (its device name taken) until that poll returned.
     */
    static void remove(TapPort port) {
        INSTANCE.unregister(port);
    }

    private void unregister(TapPort port) {
        if (!ports.remove(port) || wakeFd < 0) return;
        long seen = rebuilds;
        try (Arena a = Arena.ofConfined()) {
            Libc.writeFast(Libc.newErrnoSlot(a), wakeFd, ONE.address(), 8);
        }
        for (int i = 0; i < 2000 && rebuilds == seen; i++) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
    }

    private synchronized boolean register(TapPort port) {
        if (!started) {
            started = true;
            try {
                wakeFd = Libc.eventfd();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "TAP ports will be read on every PMD iteration: " + e.getMessage());
                return false;
            }
            Thread t = new Thread(this::run, "tap-watch");
            t.setDaemon(true);
            t.start();
        }
        if (wakeFd < 0) return false;
        ports.add(port);
        return true;
    }

    /** Called by a PMD right after a port fell asleep: the watch adds it to its poll set. */
    static void signal(MemorySegment errnoSlot) {
        Libc.writeFast(errnoSlot, INSTANCE.wakeFd, ONE.address(), 8);   // fails only if the counter saturated: a wake-up is pending anyway
    }

    private void run() {
        int capacity = 16;
        Arena arena = Arena.ofAuto();
        MemorySegment fds = arena.allocate(8L * capacity, 8);
        MemorySegment errno = Libc.newErrnoSlot(arena);
        MemorySegment drain = arena.allocate(8, 8);
        TapPort[] watched = new TapPort[capacity];
        while (true) {
            try {
                rebuilds++;                            // only this thread writes it
                int n = 0;
                watched[n] = null;
                setPollFd(fds, n++, wakeFd);
                for (TapPort p : ports) {
                    if (!p.asleep()) continue;
                    if (n == capacity) {
                        capacity *= 2;
                        MemorySegment bigger = arena.allocate(8L * capacity, 8);
                        MemorySegment.copy(fds, 0, bigger, 0, fds.byteSize());
                        fds = bigger;
                        watched = java.util.Arrays.copyOf(watched, capacity);
                    }
                    watched[n] = p;
                    setPollFd(fds, n++, p.fd());
                }
                // The timeout only bounds how long a removed port's entry lingers.
                if (Libc.poll(errno, fds, n, 1000) == 0) continue;
                if (revents(fds, 0) != 0) Libc.readFast(errno, wakeFd, drain.address(), 8);
                for (int i = 1; i < n; i++) {
                    if (revents(fds, i) != 0) watched[i].wake();
                }
            } catch (RuntimeException | Error e) {
                // This thread must outlive anything (an OutOfMemoryError included): a sleeping TAP
                // is read again only when it wakes the port.
                LOG.log(System.Logger.Level.ERROR, "tap-watch: " + e + "; retrying in 100 ms", e);
                java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
            }
        }
    }

    private static void setPollFd(MemorySegment fds, int i, int fd) {
        fds.set(ValueLayout.JAVA_INT, 8L * i, fd);
        fds.set(ValueLayout.JAVA_SHORT, 8L * i + 4, Libc.POLLIN);
        fds.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
    }

    private static short revents(MemorySegment fds, int i) {
        return fds.get(ValueLayout.JAVA_SHORT, 8L * i + 6);
    }
}
