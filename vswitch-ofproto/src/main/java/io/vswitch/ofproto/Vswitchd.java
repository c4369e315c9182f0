package io.vswitch.ofproto;

import io.vswitch.datapath.RunDir;
import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.unixctl.UnixctlClient;
import io.vswitch.datapath.unixctl.UnixctlException;
import io.vswitch.datapath.unixctl.UnixctlServer;
import io.vswitch.ofproto.bridge.ManagerRemotes;
import io.vswitch.ofproto.bridge.BridgeReconciler;
import io.vswitch.ofproto.bridge.OvsdbConfig;
import io.vswitch.ofproto.bridge.Reconciler;
import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.server.OvsdbServer;
import io.vswitch.ovsdb.server.OvsdbTransport;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The control process, {@code vswitchd}: serves the Open_vSwitch database (OVSDB, on
 * {@code db.sock}, durable in {@code conf.db}), reconciles the dataplane to it over the IPC channel,
 * speaks OpenFlow for every bridge ({@code <bridge>.mgmt} and its Controller targets), and serves
 * {@code appctl} on {@code vswitchd.ctl}.
 *
 * <p>It holds no forwarding state of its own: killing it leaves the dataplane forwarding; a new
 * instance reads the database, asks the dataplane what it runs and sends only the difference. It also
 * notices a restarted dataplane (new channel epoch) and re-programs it.
 */
public final class Vswitchd implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Vswitchd.class.getName());
    public static final String VERSION = "vswitchd 0.1.0";
    /** Dataplane commands that vswitchd answers by asking vswitch-dp (so one default target serves all). */
    private static final List<String> DATAPLANE_COMMANDS = List.of(
            "fdb/show", "fdb/flush", "dpif-netdev/pmd-stats-show", "dpif-netdev/pmd-stats-clear", "dpif-netdev/pmd-perf-show",
            "dpif-netdev/pmd-rxq-show", "dpif/show", "dpctl/show", "dpctl/dump-flows", "dpctl/del-flows", "qos/show", "qos/show-types",
            "ovs/route/show", "ovs/route/add", "ovs/route/del", "ovs/route/lookup",
            "tnl/neigh/show", "tnl/neigh/flush", "tnl/neigh/set", "tnl/arp/show", "tnl/arp/flush", "tnl/arp/set",
            "tnl/egress_port_range");

    public static final String DB_FILE = "conf.db";
    public static final String DB_SOCKET = "db.sock";

    private final Path runDir;
    private final DatabaseFile database;
    private final OvsdbServer ovsdb;
    private final OvsdbTransport transport;
    private final ManagerRemotes managers;
    private final Reconciler reconciler = new Reconciler();
    private final UnixctlServer unixctl;
    private final BridgeReconciler bridges;
    private final PmdCoreAvoidance pmdCoreAvoidance = new PmdCoreAvoidance();
    private final io.vswitch.ofproto.bridge.StatisticsWriter statistics;
    private final io.vswitch.ofproto.bridge.OpenFlowBridges openflow;
    private final io.vswitch.ofproto.bridge.FlowSync flowSync;
    private final io.vswitch.ofproto.bridge.PacketInPump packetIns;
    private volatile DatapathClient datapath;
    private volatile boolean running = true;
    private Thread monitor;

    /** @param remotes extra OVSDB remotes (punix:PATH, ptcp:PORT[:IP]) besides {@code <rundir>/db.sock} */
    public Vswitchd(Path runDir, java.util.List<String> remotes) throws IOException {
        this.runDir = runDir;
        this.database = openDatabase(runDir.resolve(DB_FILE));
        OvsdbServer.warmUp(database.database().schema());     // before serving: the first big transaction runs compiled
        this.ovsdb = new OvsdbServer(database.database(), database);
        ensureRootRow();
        this.transport = new OvsdbTransport(ovsdb);
        java.util.Set<String> fixed = new java.util.LinkedHashSet<>();
        fixed.add("punix:" + runDir.resolve(DB_SOCKET));
        fixed.addAll(remotes);
        for (String r : fixed) transport.listen(r);
        this.managers = new ManagerRemotes(ovsdb, transport, fixed);   // Manager table remotes (set-manager)
        this.unixctl = new UnixctlServer(runDir.resolve("vswitchd.ctl"), VERSION);
        for (String c : DATAPLANE_COMMANDS) {
            unixctl.register(c, "(answered by vswitch-dp)", 0, 8, args -> forwardToDataplane(c, args));
        }
        unixctl.register("exit", "", 0, 0, a -> {
            Thread.ofPlatform().start(() -> System.exit(0));
            return "";
        });
        this.bridges = new BridgeReconciler(ovsdb, reconciler, this::datapath);
        this.statistics = new io.vswitch.ofproto.bridge.StatisticsWriter(ovsdb, runDir);
        this.flowSync = new io.vswitch.ofproto.bridge.FlowSync(this::datapath, runDir);
        bridges.onDataplaneState(state -> {
            flowSync.check(state);
            pmdCoreAvoidance.follow(state);
        });
        this.openflow = new io.vswitch.ofproto.bridge.OpenFlowBridges(ovsdb, runDir, flowSync);
        this.packetIns = new io.vswitch.ofproto.bridge.PacketInPump(this::datapath, openflow::packetIns);
        unixctl.register("ofproto/trace", "BRIDGE FLOW", 2, 2, a -> {
            try {
                return openflow.trace(a.get(0), a.get(1));
            } catch (java.util.concurrent.ExecutionException e) {
                throw new io.vswitch.datapath.unixctl.UnixctlException(e.getCause().getMessage());
            } catch (Exception e) {
                throw new io.vswitch.datapath.unixctl.UnixctlException(e.getMessage());
            }
        });
        bridges.beforeCurCfg(() -> openflow.awaitApplied(2000));
    }

    /** Opens the database file; a file from before OVSDB (a JSON snapshot) is moved aside, not lost. */
    private static DatabaseFile openDatabase(Path file) throws IOException {
        if (Files.exists(file) && Files.size(file) > 0 && Files.readAllBytes(file)[0] == '{') {
            Path aside = file.resolveSibling(DB_FILE + ".pre-ovsdb.json");
            Files.move(file, aside, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            LOG.log(System.Logger.Level.WARNING, file + " was a pre-OVSDB configuration snapshot; moved to " + aside
                    + " and starting with an empty database (re-create bridges with vsctl/appctl)");
        }
        return DatabaseFile.open(file, DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema"));
    }

    /** The Open_vSwitch table's single row exists from the first start (ovs-ctl's "ovs-vsctl init"). */
    private void ensureRootRow() throws IOException {
        var f = JsonNodeFactory.instance;
        try {
            boolean missing = ovsdb.call(db -> OvsdbConfig.root(db) == null).get();
            var row = f.objectNode().put("ovs_version", VERSION).put("db_version", database.database().schema().version());
            var ops = f.arrayNode();
            if (missing) {
                ops.add(f.objectNode().put("op", "insert").put("table", "Open_vSwitch").set("row", row));
            } else {
                ops.add(f.objectNode().put("op", "update").put("table", "Open_vSwitch").<com.fasterxml.jackson.databind.node.ObjectNode>set("where", f.arrayNode())
                        .set("row", row));
            }
            var result = ovsdb.transact(ops).get();
            for (var r : result) if (r.has("error")) throw new IOException("cannot initialise the database: " + r);
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IOException("cannot initialise the database: " + e, e);
        }
    }

    private DatapathClient datapath() throws DatapathException {
        DatapathClient c = datapath;
        if (c == null) throw new DatapathException("not connected to the dataplane (is vswitch-dp running? see bin/vswitch status)");
        return c;
    }

    private String forwardToDataplane(String command, List<String> args) throws UnixctlException {
        try {
            return UnixctlClient.call(runDir.resolve("vswitch-dp.ctl"), command, args);
        } catch (IOException e) {
            throw new UnixctlException("cannot reach vswitch-dp at " + runDir.resolve("vswitch-dp.ctl") + ": " + e.getMessage());
        }
    }

    /** Attaches to the dataplane (waiting up to {@code timeout}), reconciles, and starts serving. */
    public void start(Duration timeout) throws IOException, DatapathException {
        attach(timeout);
        unixctl.start();
        monitor = Thread.ofPlatform().name("dp-monitor").start(this::monitorLoop);   // keeps the process alive
    }

    private void attach(Duration timeout) throws IOException, DatapathException {
        DatapathClient c = DatapathClient.connect(runDir, timeout);
        int changes;
        try {
            c.hello(VERSION);
            changes = reconciler.reconcile(ovsdb.call(OvsdbConfig::read).get().config(), c);
        } catch (DatapathException | RuntimeException e) {
            c.close();
            throw e;
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            c.close();
            throw new IOException("reading the database: " + e, e);
        }
        datapath = c;
        bridges.poke();                                   // write ofport / error / cur_cfg
        LOG.log(System.Logger.Level.INFO, "attached to vswitch-dp (pid " + c.pid() + "), " + changes + " change(s) to resynchronise");
    }

    /** Re-attaches when the dataplane restarts (its channel file carries a new epoch). */
    private void monitorLoop() {
        while (running) {
            LockSupport.parkNanos(500_000_000L);
            DatapathClient c = datapath;
            try {
                long fileEpoch = currentEpoch();
                if (c != null && fileEpoch == c.epoch()) continue;
                if (fileEpoch == 0) continue;              // dataplane gone and not back yet
                LOG.log(System.Logger.Level.INFO, "vswitch-dp restarted; re-programming it");
                datapath = null;
                if (c != null) c.close();
                attach(Duration.ofSeconds(5));
            } catch (IOException | DatapathException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "re-attaching to vswitch-dp: " + e.getMessage());
            }
        }
    }

    private long currentEpoch() {
        return io.vswitch.datapath.ipc.IpcChannel.readEpoch(runDir);
    }

    @Override
    public void close() {
        running = false;
        managers.close();
        packetIns.close();
        openflow.close();
        flowSync.close();
        statistics.close();
        bridges.close();
        unixctl.close();
        transport.close();
        ovsdb.close();
        try {
            database.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the database: " + e.getMessage());
        }
        DatapathClient c = datapath;
        if (c != null) c.close();
    }

    private static long runningPid(Path pidFile) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            return pid != ProcessHandle.current().pid() && io.vswitch.datapath.sys.Processes.isAlive(pid) ? pid : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    public static void main(String[] args) throws Exception {
        Path runDir = RunDir.resolve(args);
        Path pidFile = runDir.resolve("vswitchd.pid");
        long other = runningPid(pidFile);
        if (other > 0) {
            // Two control processes would both consume the dataplane's reply ring.
            System.err.println("vswitchd: already running with pid " + other + " in " + runDir + " (bin/vswitch stop first)");
            System.exit(1);
        }
        Vswitchd d;
        try {
            java.util.List<String> remotes = new java.util.ArrayList<>();
            for (String a : args) if (a.startsWith("--remote=")) remotes.add(a.substring(9));
            d = new Vswitchd(runDir, remotes);
            d.pmdCoreAvoidance.enable();
            d.start(Duration.ofSeconds(30));
        } catch (IOException | DatapathException | IllegalArgumentException e) {
            // e.g. a bad --remote, an unreadable database, no dataplane: one line, exit 1
            System.err.println("vswitchd: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            d.close();
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException ignored) {
                // best effort
            }
        }));
        Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
        LOG.log(System.Logger.Level.INFO, VERSION + " ready (pid " + ProcessHandle.current().pid() + ", database " + runDir.resolve(DB_FILE) + ")");
    }
}
