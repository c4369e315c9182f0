package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.Datapath;
import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.ipc.DatapathServer;
import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.IpcChannel;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.pipeline.MemoryPort;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;
import io.vswitch.datapath.port.PortProviders;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A real {@link Datapath} served over the real IPC rings (anonymous shared memory) in this JVM, as
 * {@code IpcTest} runs it. Port types "tap" and "internal" are backed by {@link MemoryPort}s, so no
 * kernel device is ever created; names listed in {@link FakeDevices#missing} are refused the way
 * the TAP provider refuses a device it cannot open.
 */
final class InProcessDataplane implements AutoCloseable {
    /** PMDs back off up to this long when idle instead of busy-polling a core. */
    static final String PMD_SLEEP_MAX = "1000";

    /** "tap" and "internal" ports as memory ports (no kernel devices). */
    static final class FakeDevices implements PortProvider {
        final MemoryPort.Provider memory = new MemoryPort.Provider();
        final Set<String> missing = ConcurrentHashMap.newKeySet();

        @Override
        public Set<String> types() {
            return Set.of("tap", "internal");
        }

        @Override
        public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
            if (missing.contains(name)) {
                throw new IllegalStateException("could not open TAP device " + name + ": No such device");
            }
            return memory.open(name, MemoryPort.TYPE, options, counters, context);
        }
    }

    final IpcChannel channel = IpcChannel.anonymous(1, 42);
    final CountersFile counters = CountersFile.anonymous();
    final MemoryPort.Provider memory = new MemoryPort.Provider();
    final FakeDevices devices = new FakeDevices();
    final PortProviders providers = new PortProviders();
    final Datapath dp;
    final DatapathClient client;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread serverThread;

    InProcessDataplane() {
        providers.register(memory);
        providers.register(devices);     // replaces the ServiceLoader's TAP provider for tap/internal
        dp = new Datapath(counters.manager(), providers, 42);
        dp.packetInsTo(channel.events, channel.eventsBell);
        DatapathServer server = new DatapathServer(channel, dp);
        serverThread = Thread.ofPlatform().name("test-dp-server").daemon().start(() -> {
            while (running.get()) {
                if (server.poll() == 0) LockSupport.parkNanos(20_000);
            }
        });
        client = DatapathClient.open(channel);
    }

    DatapathState state() throws DatapathException {
        return client.dumpState();
    }

    /** The dataplane's ports as it reports them over IPC, by name. */
    Map<String, PortSpec> ports() throws DatapathException {
        Map<String, PortSpec> m = new TreeMap<>();
        for (PortSpec p : client.dumpState().ports()) m.put(p.name(), p);
        return m;
    }

    /** The port as the PMDs see it, or null. */
    DpPort dpPort(String name) {
        for (DpBridge b : dp.view().bridges) {
            if (b == null) continue;
            DpPort p = b.port(name);
            if (p != null) return p;
        }
        return null;
    }

    /** Each port's I/O object by name (identity tells whether a port was reopened). */
    Map<String, Port> ios() {
        Map<String, Port> m = new TreeMap<>();
        for (DpBridge b : dp.view().bridges) {
            if (b == null) continue;
            for (DpPort p : b.ports()) {
                if (!(p.io() instanceof MemoryPort)) throw new AssertionError("port " + p.name() + " is not a memory port: " + p.io());
                m.put(p.name(), p.io());
            }
        }
        return m;
    }

    /** Whether the dataplane has closed this port (its memory is released). */
    static boolean isClosed(Port io) {
        try {
            ((MemoryPort) io).frames(java.util.List.of(new byte[1]));
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    @Override
    public void close() throws InterruptedException {
        client.close();                  // waits for a request in flight (e.g. a reconciler thread's)
        running.set(false);
        serverThread.join();
        dp.close();
        counters.close();
        channel.close();
    }
}
