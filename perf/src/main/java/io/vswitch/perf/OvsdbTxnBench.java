package io.vswitch.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Transactions per second against any OVSDB server (ours or ovsdb-server), from one Java client over
 * a unix socket. Each transaction rewrites one key of Open_vSwitch.external_ids (a real commit of a
 * constant-size change: the column does not grow with the run). Three modes: sequential (wait for each
 * reply), pipelined (up to WINDOW requests in flight), and sequential with a {@code commit} operation that
 * asks for durability ({@code "durable": true}), which makes ovsdb-server fsync before replying as ours
 * always does.
 *
 * <pre>java -cp "perf/target/classes:perf/target/lib/*" io.vswitch.perf.OvsdbTxnBench SOCKET COUNT</pre>
 */
public final class OvsdbTxnBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WINDOW = 64;

    private OvsdbTxnBench() {}

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Replies in = new Replies(ch);
            double seq = run(ch, in, count, 1, "s", false);
            double pipe = run(ch, in, count, WINDOW, "p", false);
            double durable = run(ch, in, count, 1, "d", true);
            System.out.printf("sequential %.0f txn/s, pipelined(%d) %.0f txn/s, sequential durable %.0f txn/s%n",
                    seq, WINDOW, pipe, durable);
        }
    }

    /** Opens the JSON reader lazily: Jackson reads ahead when a parser is created, so only after the first request. */
    private static final class Replies {
        private final SocketChannel ch;
        private MappingIterator<JsonNode> it;

        Replies(SocketChannel ch) {
            this.ch = ch;
        }

        JsonNode nextValue() throws java.io.IOException {
            if (it == null) it = JSON.readerFor(JsonNode.class).readValues(Channels.newInputStream(ch));
            return it.nextValue();
        }
    }

    private static double run(SocketChannel ch, Replies in, int count, int window, String tag, boolean durable)
            throws Exception {
        String commit = durable ? ",{\"op\":\"commit\",\"durable\":true}" : "";
        long t0 = System.nanoTime();
        int sent = 0;
        int received = 0;
        while (received < count) {
            while (sent < count && sent - received < window) {
                String req = "{\"id\":" + sent + ",\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"mutate\","
                        + "\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[[\"external_ids\",\"delete\",[\"set\",[\"bench\"]]],"
                        + "[\"external_ids\",\"insert\",[\"map\",[[\"bench\",\"" + tag + sent + "\"]]]]]}" + commit + "]}";
                ByteBuffer b = ByteBuffer.wrap(req.getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) ch.write(b);
                sent++;
            }
            JsonNode reply = in.nextValue();
            if (!reply.has("result") || reply.get("result").toString().contains("error")) {
                throw new IllegalStateException("transaction failed: " + reply);
            }
            received++;
        }
        return count / ((System.nanoTime() - t0) / 1e9);
    }
}
