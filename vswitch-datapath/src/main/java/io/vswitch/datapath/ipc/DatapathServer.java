package io.vswitch.datapath.ipc;

import io.vswitch.datapath.Datapath;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.MessageHandler;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dataplane end of the IPC channel: executes commands from the control process against the
 * {@link Datapath} and answers each with a REPLY of the same correlation id. Runs on the dataplane's
 * control thread, never on a PMD.
 */
public final class DatapathServer {
    private static final System.Logger LOG = System.getLogger(DatapathServer.class.getName());
    private static final long UNBLOCK_AFTER_MS = 1_000;

    private final IpcChannel channel;
    private final Datapath datapath;
    private final ExpandableArrayBuffer out = new ExpandableArrayBuffer(4096);
    private final MessageHandler handler = this::onMessage;
    private long stuckSince;
    /** pid of the attached control process (from HELLO), or 0 if unknown. */
    private long clientPid;

    public DatapathServer(IpcChannel channel, Datapath datapath) {
        this.channel = channel;
        this.datapath = datapath;
    }

    /** Handles pending commands; returns how many. */
    public int poll() {
        int n = channel.commands.read(handler, 16);
        long now = System.currentTimeMillis();
        channel.heartbeat();
        if (n == 0 && pending()) {
            // A writer died between claiming and committing a message (vswitchd killed mid-write).
            // Unblock only if the writer is dead: a live one merely paused (GC, SIGSTOP) will commit.
            if (stuckSince == 0) {
                stuckSince = now;
            } else if (now - stuckSince > UNBLOCK_AFTER_MS && !writerAlive() && channel.commands.unblock()) {
                LOG.log(System.Logger.Level.WARNING, "discarded a partly written command left by a dead control process");
                stuckSince = 0;
            }
        } else {
            stuckSince = 0;
        }
        return n;
    }

    /** Whether the commands ring holds anything not read yet (a message, or a dead writer's half of one). */
    public boolean pending() {
        return channel.commands.producerPosition() > channel.commands.consumerPosition();
    }

    /**
     * Sleeps until a command comes, {@code stop} turns true (set it, then {@link #wake}), or
     * {@code timeoutNanos} pass. A dead writer's half message never rings, so with one pending this
     * naps a millisecond and lets {@link #poll} unblock it in time. One thread at a time.
     */
    public void awaitCommands(long timeoutNanos, java.util.function.BooleanSupplier stop) {
        if (pending()) java.util.concurrent.locks.LockSupport.parkNanos(Math.min(timeoutNanos, 1_000_000));
        else channel.commandsBell.sleep(timeoutNanos, () -> stop.getAsBoolean() || pending());
    }

    /** Wakes the thread in {@link #awaitCommands}. */
    public void wake() {
        channel.commandsBell.ring();
    }

    private boolean writerAlive() {
        return io.vswitch.datapath.sys.Processes.isAlive(clientPid);
    }

    private void onMessage(int type, org.agrona.MutableDirectBuffer buffer, int offset, int length) {
        long correlation = correlationOf(buffer, offset, length);
        Message m;
        try {
            m = Message.decode(type, buffer, offset, length);
        } catch (IllegalArgumentException e) {
            reply(correlation, e.getMessage());
            return;
        }
        if (correlation == 0) {                         // fire and forget (packet-outs, port-mods): nobody waits
            try {
                handle(m);
            } catch (RuntimeException e) {
                if ((postErrors++ & 255) == 0) {
                    LOG.log(System.Logger.Level.WARNING, Message.typeName(type) + " refused (" + postErrors + " so far): " + e.getMessage());
                }
            }
            return;
        }
        try {
            handle(m);
            reply(correlation, null);
        } catch (IllegalArgumentException | IllegalStateException e) {
            LOG.log(System.Logger.Level.WARNING, Message.typeName(type) + " " + m.body() + ": " + e.getMessage());
            reply(correlation, e.getMessage());
        } catch (RuntimeException | OutOfMemoryError e) {
            // The change was not published (views are built first, published last): keep serving.
            LOG.log(System.Logger.Level.ERROR, Message.typeName(type) + " " + m.body() + " failed", e);
            reply(correlation, (e instanceof OutOfMemoryError ? "the dataplane ran out of memory: " : "internal error: ") + e.getMessage());
        }
    }

    private static long correlationOf(DirectBuffer buffer, int offset, int length) {
        return length >= 12 ? buffer.getLong(offset + 4) : 0;
    }

    private void handle(Message m) {
        Map<String, String> b = m.body();
        switch (m.type()) {
            case Message.HELLO -> {
                clientPid = Long.parseLong(b.getOrDefault("pid", "0"));
                LOG.log(System.Logger.Level.INFO, "control process attached: " + b);
            }
            case Message.CONFIGURE -> datapath.configure(b);
            case Message.ADD_BRIDGE -> {
                Map<String, String> cfg = new LinkedHashMap<>(b);
                String name = cfg.remove("name");
                datapath.addBridge(name, cfg);
            }
            case Message.DEL_BRIDGE -> datapath.deleteBridge(require(b, "name"));
            case Message.ADD_PORT -> datapath.addPort(PortSpec.fromMap(b));
            case Message.DEL_PORT -> datapath.deletePort(require(b, "bridge"), require(b, "name"));
            case Message.DUMP_STATE -> dumpState(m.correlation());
            case Message.SET_FLOWS -> setFlows(b);
            case Message.PACKET_OUT -> packetOut(b);
            case Message.SET_PORT_ADMIN -> datapath.setPortAdminUp(require(b, "bridge"), require(b, "name"), Boolean.parseBoolean(require(b, "up")));
            default -> throw new IllegalArgumentException("unknown command " + Message.typeName(m.type()));
        }
    }

    private static String require(Map<String, String> b, String key) {
        String v = b.get(key);
        if (v == null) throw new IllegalArgumentException("command lacks '" + key + "'");
        return v;
    }

    /** Refused commands that had no one to answer to. */
    private long postErrors;

    private void packetOut(Map<String, String> b) {
        datapath.packetOut(require(b, "bridge"), Integer.parseUnsignedInt(require(b, "in_port")),
                io.vswitch.datapath.pipeline.OfRule.parseActions(require(b, "actions")), java.util.HexFormat.of().parseHex(require(b, "packet")));
    }

    /** Parts of a bridge's tables received so far (control thread only). */
    private final Map<String, StringBuilder> flowParts = new java.util.HashMap<>();

    private void setFlows(Map<String, String> b) {
        String bridge = require(b, "bridge");
        int part = Integer.parseInt(require(b, "part"));
        int parts = Integer.parseInt(require(b, "parts"));
        if (part == 0) flowParts.put(bridge, new StringBuilder());
        StringBuilder sb = flowParts.get(bridge);
        if (sb == null) throw new IllegalArgumentException("SET_FLOWS part " + part + " for " + bridge + " without part 0");
        sb.append(require(b, "rules"));
        if (part < parts - 1) return;
        flowParts.remove(bridge);
        io.vswitch.datapath.pipeline.DpBridge current = datapath.view().bridge(bridge);
        datapath.setFlows(bridge, io.vswitch.datapath.pipeline.OfPipeline.parse(sb.toString(), Long.parseLong(require(b, "generation")),
                current == null ? null : current.flows()));
    }

    /** Rules per flow-counters message: two numbers of at most 20 digits each stay far below the ring's largest message. */
    private static final int COUNTERS_PER_MESSAGE = 2000;

    /** Key of a dumped bridge message that carries its flow generation (not part of its configuration). */
    static final String FLOW_GENERATION = "flow-generation";

    /** Prefix of a port's status keys in a dumped port message (beside its PortSpec keys). */
    static final String STATUS = "status:";

    private void dumpState(long correlation) {
        DatapathState s = datapath.state();
        Map<String, String> cfg = new LinkedHashMap<>(s.config());
        cfg.put("kind", "config");
        cfg.put("epoch", Long.toString(s.epoch()));
        send(Message.STATE, correlation, cfg);
        s.bridges().forEach((name, c) -> {
            Map<String, String> m = new LinkedHashMap<>(c);
            m.put("kind", "bridge");
            m.put("name", name);
            m.put(FLOW_GENERATION, Long.toString(s.flowGenerations().getOrDefault(name, 0L)));
            send(Message.STATE, correlation, m);
            FlowCounters counters = s.flowCounters().getOrDefault(name, FlowCounters.NONE);
            long[] pairs = counters.pairs();
            int from = 0;
            do {                                          // at least one message: it carries the length
                StringBuilder values = new StringBuilder();
                int to = Math.min(pairs.length, from + 2 * COUNTERS_PER_MESSAGE);
                for (int k = from; k < to; k += 2) values.append(k == from ? "" : ",").append(pairs[k]).append(':').append(pairs[k + 1]);
                send(Message.STATE, correlation, Map.of("kind", "flow-counters", "name", name, "length", Integer.toString(counters.length()),
                        "values", values.toString()));
                from = to;
            } while (from < pairs.length);
        });
        for (PortSpec p : s.ports()) {
            Map<String, String> m = new LinkedHashMap<>(p.toMap());
            s.portStatus().getOrDefault(p.name(), Map.of()).forEach((k, v) -> m.put(STATUS + k, v));
            m.put("kind", "port");
            send(Message.STATE, correlation, m);
        }
    }

    private void reply(long correlation, String error) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("status", error == null ? "ok" : "error");
        if (error != null) body.put("error", error);
        send(Message.REPLY, correlation, body);
    }

    private void send(int type, long correlation, Map<String, String> body) {
        int len = new Message(type, correlation, body).encode(out);
        if (!channel.replies.write(type, out, 0, len)) {
            LOG.log(System.Logger.Level.WARNING, "reply ring full (is vswitchd running?): dropped " + Message.typeName(type));
        }
    }
}
