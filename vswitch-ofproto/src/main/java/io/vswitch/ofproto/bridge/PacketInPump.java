package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.ipc.PacketIn;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;

/**
 * Carries packet-ins from the dataplane's events ring to the OpenFlow side (OVS: the upcall handler
 * threads feeding {@code connmgr_send_async_msg}). One thread reads the ring and hands over what it
 * read as one list, so a burst costs the OpenFlow loop one task, not one per packet. When the ring is
 * empty it naps 0.2, 0.4 and 0.8 ms, then sleeps on the ring's doorbell, which the next packet-in
 * rings: a packet-in waits at most 0.8 ms, and a PMD makes the wake-up call at most once per 1.4 ms
 * without packet-ins. The sleep ends after a second anyway (an idle vswitchd wakes once a second,
 * not 200 times), or when the client is closed (the dataplane restarted: the next one is read then).
 */
public final class PacketInPump implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PacketInPump.class.getName());
    private static final int BATCH = 256;
    private static final long NAP_NANOS = 200_000, LAST_NAP_NANOS = 800_000, SLEEP_NANOS = 1_000_000_000;

    private final BridgeReconciler.DatapathSupplier datapath;
    private final Consumer<List<PacketIn>> sink;
    private final Thread thread;
    private volatile boolean running = true;

    public PacketInPump(BridgeReconciler.DatapathSupplier datapath, Consumer<List<PacketIn>> sink) {
        this.datapath = datapath;
        this.sink = sink;
        this.thread = Thread.ofPlatform().daemon().name("packet-in").start(this::loop);
    }

    private void loop() {
        long nap = NAP_NANOS;
        while (running) {
            try {
                DatapathClient dp;
                try {
                    dp = datapath.get();
                } catch (DatapathException e) {
                    LockSupport.parkNanos(100_000_000);   // not attached: look again soon
                    continue;
                }
                List<PacketIn> got = new ArrayList<>();
                dp.pollPacketIns(got::add, BATCH);
                if (got.isEmpty() && nap > LAST_NAP_NANOS) {
                    dp.awaitPacketIns(SLEEP_NANOS);
                } else if (got.isEmpty()) {
                    LockSupport.parkNanos(nap);
                    nap *= 2;
                } else {
                    sink.accept(got);
                    nap = NAP_NANOS;
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "reading packet-ins failed; going on", e);
                LockSupport.parkNanos(100_000_000);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
