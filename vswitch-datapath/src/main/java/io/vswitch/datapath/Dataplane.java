package io.vswitch.datapath;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.ipc.DatapathServer;
import io.vswitch.datapath.ipc.IpcChannel;
import io.vswitch.datapath.port.PortProviders;
import io.vswitch.datapath.unixctl.UnixctlServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The dataplane process, {@code vswitch-dp}: PMD threads plus one control thread that executes
 * commands from {@code vswitchd} (IPC rings), does housekeeping (MAC aging, heartbeat), and a
 * unixctl socket ({@code vswitch-dp.ctl}) for statistics.
 *
 * <p>It keeps forwarding with its current configuration when the control process is gone; a new
 * control process attaches to the same channel and resynchronises.
 */
public final class Dataplane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Dataplane.class.getName());
    public static final String VERSION = "vswitch-dp 0.1.0";

    private final Path runDir;
    private final CountersFile counters;
    private final IpcChannel channel;
    private final Datapath datapath;
    private final DatapathServer server;
    private final UnixctlServer unixctl;
    private volatile boolean running = true;
    private Thread controlThread;

    /** Creates the run-dir files (channel, counters, unixctl socket); in-process use passes its own channel. */
    public Dataplane(Path runDir, IpcChannel channel, CountersFile counters) {
        this.runDir = runDir;
        this.counters = counters;
        this.channel = channel;
        this.datapath = new Datapath(counters.manager(), new PortProviders(runDir), channel.epoch());
        datapath.isolatePmdCores(true);
        datapath.packetInsTo(channel.events, channel.eventsBell);
        this.server = new DatapathServer(channel, datapath);
        this.unixctl = new UnixctlServer(runDir.resolve("vswitch-dp.ctl"), VERSION);
        new DataplaneCommands(datapath).registerAll(unixctl);
        unixctl.register("exit", "", 0, 0, a -> {
            Thread.ofPlatform().start(() -> System.exit(0));
            return "";
        });
    }

    public Datapath datapath() {
        return datapath;
    }

    public void start() throws IOException {
        datapath.configure(java.util.Map.of());
        unixctl.start();
        controlThread = Thread.ofPlatform().name("dp-control").start(this::controlLoop);
    }

    /** Serves commands as they come (asleep on the commands' doorbell in between) and keeps house once a second. */
    private void controlLoop() {
        long nextHousekeeping = System.nanoTime();
        while (running) {
            int work = 0;
            try {
                work = server.poll();
                long now = System.nanoTime();
                if (now - nextHousekeeping >= 0) {
                    datapath.housekeeping();
                    nextHousekeeping = now + 1_000_000_000L;
                }
                if (work == 0) server.awaitCommands(Math.max(nextHousekeeping - System.nanoTime(), 1), () -> !running);
            } catch (Throwable e) {                       // this thread must not die: it is the only one serving IPC
                LOG.log(System.Logger.Level.ERROR, "dp-control", e);
                LockSupport.parkNanos(1_000_000);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        server.wake();
        if (controlThread != null) {
            try {
                controlThread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        unixctl.close();
        datapath.close();
    }

    public static void main(String[] args) throws Exception {
        Path runDir = RunDir.resolve(args);
        long pid = ProcessHandle.current().pid();
        Path pidFile = runDir.resolve("vswitch-dp.pid");
        long epoch = ThreadLocalRandom.current().nextLong();
        IpcChannel channel = IpcChannel.create(runDir, pid, epoch);
        CountersFile counters = CountersFile.create(runDir);
        Dataplane dp = new Dataplane(runDir, channel, counters);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.log(System.Logger.Level.INFO, "vswitch-dp exiting");
            dp.close();
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException ignored) {
                // best effort
            }
        }));
        dp.start();
        Files.writeString(pidFile, pid + "\n");
        LOG.log(System.Logger.Level.INFO, VERSION + " ready (pid " + pid + ", run dir " + runDir + ")");
    }
}
