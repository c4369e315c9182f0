package io.vswitch.datapath.ipc;

import org.agrona.ExpandableArrayBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The control process's end of the IPC channel: synchronous commands to the dataplane. This is the
 * one path by which configuration reaches the dataplane (appctl now, the OVSDB reconciler later).
 *
 * <p>Correlation ids carry a random per-client prefix, so replies left in the ring for a previous
 * (killed) control process are recognised and skipped.
 */
public final class DatapathClient implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final long HEARTBEAT_STALE_MS = 3_000;

    private final IpcChannel channel;
    private final long session = ThreadLocalRandom.current().nextLong() & 0xffff_ffff_0000_0000L;
    private final ExpandableArrayBuffer out = new ExpandableArrayBuffer(4096);
    /** For {@link #packetOut}, which does not wait for {@link #request}'s lock. */
    private final ExpandableArrayBuffer postOut = new ExpandableArrayBuffer(4096);
    private final boolean ownsChannel;
    /** Held by the packet-in reader while it sleeps on the events' doorbell: the mapping must outlive the sleep. */
    private final Object eventsSleep = new Object();
    private volatile boolean closed;
    private int sequence;

    private DatapathClient(IpcChannel channel, boolean ownsChannel) {
        this.channel = channel;
        this.ownsChannel = ownsChannel;
    }

    /** A client on a channel the caller owns (in-process use); closing the client leaves it open. */
    public static DatapathClient open(IpcChannel channel) {
        return new DatapathClient(channel, false);
    }

    /** Maps the dataplane's channel in {@code runDir}, waiting up to {@code timeout} for it to appear. */
    public static DatapathClient connect(Path runDir, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path file = runDir.resolve(IpcChannel.FILE_NAME);
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the dataplane is not running: " + file + " does not exist (start it with bin/vswitch start)");
            }
            LockSupport.parkNanos(50_000_000);
        }
        return new DatapathClient(IpcChannel.open(runDir), true);
    }

    public long epoch() {
        return channel.epoch();
    }

    public long pid() {
        return channel.pid();
    }

    /** True while the dataplane updates its heartbeat. */
    public boolean alive() {
        return System.currentTimeMillis() - channel.lastHeartbeat() < HEARTBEAT_STALE_MS;
    }

    public void hello(String who) throws DatapathException {
        request(Message.HELLO, Map.of("client", who, "pid", Long.toString(ProcessHandle.current().pid())));
    }

    public void configure(Map<String, String> otherConfig) throws DatapathException {
        request(Message.CONFIGURE, otherConfig);
    }

    public void addBridge(String name, Map<String, String> otherConfig) throws DatapathException {
        Map<String, String> b = new LinkedHashMap<>(otherConfig);
        b.put("name", name);
        request(Message.ADD_BRIDGE, b);
    }

    public void deleteBridge(String name) throws DatapathException {
        request(Message.DEL_BRIDGE, Map.of("name", name));
    }

    public void addPort(PortSpec spec) throws DatapathException {
        request(Message.ADD_PORT, spec.toMap());
    }

    public void deletePort(String bridge, String name) throws DatapathException {
        request(Message.DEL_PORT, Map.of("bridge", bridge, "name", name));
    }

    /**
     * Replaces a bridge's OpenFlow tables with {@code rules} (one rule per line, the format of
     * {@code pipeline.OfRule}), sent in parts that fit the ring; the dataplane switches to them when
     * the last part arrives. {@code generation} comes back in {@link #dumpState}.
     */
    public void setFlows(String bridge, long generation, List<String> rules) throws DatapathException {
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        for (String r : rules) {
            if (part.length() + r.length() + 1 > FLOW_PART_CHARS && !part.isEmpty()) {
                parts.add(part.toString());
                part.setLength(0);
            }
            part.append(r).append('\n');
        }
        parts.add(part.toString());
        for (int i = 0; i < parts.size(); i++) {
            request(Message.SET_FLOWS, Map.of("bridge", bridge, "generation", Long.toString(generation),
                    "part", Integer.toString(i), "parts", Integer.toString(parts.size()), "rules", parts.get(i)));
        }
    }

    /**
     * Hands a controller's packet-out to the dataplane without waiting for an answer (a packet-in
     * answered by a packet-out must not wait behind a table transfer); false if the command ring is
     * full. {@code actions} are in the rule action format ({@code OfRule.parseActions}).
     */
    public boolean packetOut(String bridge, int inOfport, String actions, byte[] packet) {
        return post(Message.PACKET_OUT, Map.of("bridge", bridge, "in_port", Integer.toUnsignedString(inOfport), "actions", actions,
                "packet", java.util.HexFormat.of().formatHex(packet)));
    }

    /** Sets a port's device administratively up or down (a port-mod), without waiting; false if the command ring is full. */
    public boolean setPortAdminUp(String bridge, String port, boolean up) {
        return post(Message.SET_PORT_ADMIN, Map.of("bridge", bridge, "name", port, "up", Boolean.toString(up)));
    }

    /** Writes a command with correlation 0, which the dataplane executes without answering. */
    private boolean post(int type, Map<String, String> body) {
        synchronized (postOut) {
            if (closed) return false;
            int len = new Message(type, 0, body).encode(postOut);
            if (!channel.commands.write(type, postOut, 0, len)) return false;
            channel.commandsBell.ring();
            return true;
        }
    }

    /**
     * Reads up to {@code limit} packet-ins from the events ring (one reader thread only); records it
     * cannot decode are skipped. Returns how many records were read.
     */
    public int pollPacketIns(java.util.function.Consumer<PacketIn> handler, int limit) {
        synchronized (postOut) {
            if (closed) return 0;
            return channel.events.read((type, buf, off, len) -> {
                if (type != PacketIn.TYPE) return;
                PacketIn p;
                try {
                    p = PacketIn.decode(buf, off, len);
                } catch (IllegalArgumentException e) {
                    return;
                }
                handler.accept(p);
            }, limit);
        }
    }

    /**
     * Sleeps (the packet-in reader, when it found nothing for a while) until the dataplane writes a
     * packet-in, this client is closed, or {@code timeoutNanos} pass.
     */
    public void awaitPacketIns(long timeoutNanos) {
        synchronized (eventsSleep) {
            if (closed) return;
            // Not empty though nothing was read: a record claimed and never committed (a PMD killed
            // in the middle, and no ring will come for it). Nap as before the doorbell, not spin.
            if (channel.events.size() > 0) LockSupport.parkNanos(Math.min(timeoutNanos, 1_000_000));
            else channel.eventsBell.sleep(timeoutNanos, () -> closed || channel.events.size() > 0);
        }
    }

    /** Characters of rules per SET_FLOWS message: well inside the ring's largest message (1/8 of 1 MiB). */
    private static final int FLOW_PART_CHARS = 60_000;

    public DatapathState dumpState() throws DatapathException {
        List<Message> parts = request(Message.DUMP_STATE, Map.of());
        Map<String, String> config = new LinkedHashMap<>();
        Map<String, Map<String, String>> bridges = new LinkedHashMap<>();
        List<PortSpec> ports = new ArrayList<>();
        Map<String, Map<String, String>> status = new LinkedHashMap<>();
        Map<String, Long> generations = new LinkedHashMap<>();
        Map<String, List<long[]>> counters = new LinkedHashMap<>();   // pairs (index, value), a part per message
        Map<String, Integer> lengths = new LinkedHashMap<>();
        long epoch = 0;
        for (Message m : parts) {
            Map<String, String> b = new LinkedHashMap<>(m.body());
            String kind = b.remove("kind");
            switch (kind == null ? "" : kind) {
                case "config" -> {
                    epoch = Long.parseLong(b.remove("epoch"));
                    config.putAll(b);
                }
                case "bridge" -> {
                    String name = b.remove("name");
                    String gen = b.remove(DatapathServer.FLOW_GENERATION);
                    generations.put(name, gen == null ? 0 : Long.parseLong(gen));
                    bridges.put(name, b);
                }
                case "flow-counters" -> {
                    String name = b.get("name");
                    lengths.put(name, Integer.parseInt(b.get("length")));
                    String values = b.get("values");
                    String[] items = values.isEmpty() ? new String[0] : values.split(",");
                    long[] part = new long[2 * items.length];
                    for (int k = 0; k < items.length; k++) {
                        int colon = items[k].indexOf(':');
                        try {
                            part[2 * k] = Long.parseLong(items[k].substring(0, Math.max(0, colon)));
                            part[2 * k + 1] = Long.parseLong(items[k].substring(colon + 1));
                        } catch (NumberFormatException e) {
                            throw new DatapathException("malformed flow counter '" + items[k] + "' from the dataplane (expected INDEX:VALUE)");
                        }
                    }
                    counters.computeIfAbsent(name, n -> new ArrayList<>()).add(part);
                }
                case "port" -> {
                    PortSpec p = PortSpec.fromMap(b);
                    ports.add(p);
                    Map<String, String> st = new LinkedHashMap<>();
                    b.forEach((k, v) -> {
                        if (k.startsWith(DatapathServer.STATUS)) st.put(k.substring(DatapathServer.STATUS.length()), v);
                    });
                    status.put(p.name(), st);
                }
                default -> { }
            }
        }
        Map<String, FlowCounters> flowCounters = new LinkedHashMap<>();
        lengths.forEach((name, length) -> {
            List<long[]> received = counters.getOrDefault(name, List.of());
            long[] pairs = new long[received.stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (long[] a : received) {
                System.arraycopy(a, 0, pairs, at, a.length);
                at += a.length;
            }
            flowCounters.put(name, new FlowCounters(length, pairs));
        });
        return new DatapathState(epoch, config, bridges, ports, status, generations, flowCounters);
    }

    /**
     * Sends a command and waits for its REPLY; returns the STATE messages that came before it.
     * Throws {@link DatapathException} with the dataplane's error text, or if it does not answer.
     */
    public synchronized List<Message> request(int type, Map<String, String> body) throws DatapathException {
        if (closed) throw new DatapathException("the connection to the dataplane was closed (it restarted?); try again");
        long correlation = session | (++sequence & 0xffff_ffffL);
        int len = new Message(type, correlation, body).encode(out);
        long deadline = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
        while (!channel.commands.write(type, out, 0, len)) {
            if (System.nanoTime() > deadline) throw new DatapathException("the dataplane's command ring stays full; is vswitch-dp stuck?");
            LockSupport.parkNanos(1_000_000);
        }
        channel.commandsBell.ring();
        List<Message> parts = new ArrayList<>();
        Message[] reply = new Message[1];
        long stalledSince = 0;
        while (reply[0] == null) {
            int n = channel.replies.read((t, buf, off, l) -> {
                Message m;
                try {
                    m = Message.decode(t, buf, off, l);
                } catch (IllegalArgumentException e) {
                    return;                                  // not ours to understand: skip
                }
                if (m.correlation() != correlation) return;  // stale reply for an earlier client
                if (t == Message.REPLY) reply[0] = m; else parts.add(m);
            });
            if (n == 0) {
                // A reader killed mid-read can leave the ring's head on a zeroed record; only this
                // process reads the ring, so after a second without progress it is safe to skip it.
                if (channel.replies.producerPosition() > channel.replies.consumerPosition()) {
                    long now = System.nanoTime();
                    if (stalledSince == 0) stalledSince = now;
                    else if (now - stalledSince > 1_000_000_000L && channel.replies.unblock()) stalledSince = 0;
                } else {
                    stalledSince = 0;
                }
                if (System.nanoTime() > deadline) {
                    throw new DatapathException("the dataplane did not answer " + Message.typeName(type) + " within "
                            + DEFAULT_TIMEOUT.toSeconds() + " s" + (alive() ? "" : " (it is not running)"));
                }
                LockSupport.parkNanos(200_000);
            }
        }
        if ("error".equals(reply[0].body().get("status"))) throw new DatapathException(reply[0].body().get("error"));
        return parts;
    }

    @Override
    /** Waits for a request in flight to finish: the mapping must outlive every access to it. */
    public synchronized void close() {
        synchronized (postOut) {
            if (closed) return;
            closed = true;
        }
        channel.eventsBell.ring();                        // a packet-in reader asleep wakes and sees closed
        synchronized (eventsSleep) {
            if (ownsChannel) channel.close();
        }
    }
}
