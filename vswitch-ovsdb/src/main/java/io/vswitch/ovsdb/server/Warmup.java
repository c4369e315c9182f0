package io.vswitch.ovsdb.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.db.ChangeSet;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.db.Transaction;
import io.vswitch.ovsdb.schema.DatabaseSchema;

import java.io.IOException;

/**
 * Runs the transaction path once per round on a scratch in-memory database before a server serves
 * anyone: JSON parsing, the ten-operation executor with its commit checks, the log record and a
 * monitor's update, all serialised. The first big transaction a client sends (ovs-vsctl adding a
 * thousand ports in one call) then runs compiled code instead of the interpreter. It touches nothing
 * real and costs a few hundred milliseconds of start-up.
 */
final class Warmup {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Warmup() {
    }

    /**
     * {@code rounds} times: insert a bridge with {@code ports} ports, as ovs-vsctl writes them, then
     * delete it; then {@code ports} one-key transactions.
     */
    static void run(DatabaseSchema schema, int rounds, int ports) throws IOException, OvsdbException {
        {
            for (int round = 0; round < rounds; round++) {
                Database db = new Database(schema);
                commit(db, "[{\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]");
                Monitor m = new Monitor(JSON.getNodeFactory().textNode("warmup"), db, 2, monitorAll(schema));
                StringBuilder ops = new StringBuilder("[");
                StringBuilder refs = new StringBuilder();
                for (int i = 0; i < ports; i++) {
                    ops.append("{\"op\":\"insert\",\"table\":\"Interface\",\"uuid-name\":\"i").append(i)
                            .append("\",\"row\":{\"name\":\"p").append(i).append("\"}},")
                            .append("{\"op\":\"insert\",\"table\":\"Port\",\"uuid-name\":\"p").append(i)
                            .append("\",\"row\":{\"name\":\"p").append(i).append("\",\"interfaces\":[\"named-uuid\",\"i").append(i).append("\"]}},");
                    refs.append(i == 0 ? "" : ",").append("[\"named-uuid\",\"p").append(i).append("\"]");
                }
                ops.append("{\"op\":\"insert\",\"table\":\"Bridge\",\"uuid-name\":\"b\",\"row\":{\"name\":\"w\",\"ports\":[\"set\",[")
                        .append(refs).append("]]}},")
                        .append("{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":[")
                        .append("[\"bridges\",\"insert\",[\"set\",[[\"named-uuid\",\"b\"]]]],[\"next_cfg\",\"+=\",1]]},")
                        .append("{\"op\":\"select\",\"table\":\"Open_vSwitch\",\"where\":[],\"columns\":[\"next_cfg\"]}]");
                ChangeSet added = commit(db, ops.toString());
                JSON.writeValueAsBytes(m.updates(added));
                JSON.writeValueAsBytes(DatabaseFile.record(db, added));
                commit(db, "[{\"op\":\"update\",\"table\":\"Open_vSwitch\",\"where\":[],\"row\":{\"bridges\":[\"set\",[]]}}]");
                // And many small ones, the other common shape (status writes, a client's one-key changes).
                for (int i = 0; i < ports; i++) {
                    ChangeSet small = commit(db, "[{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],\"mutations\":["
                            + "[\"external_ids\",\"delete\",[\"set\",[\"w\"]]],[\"external_ids\",\"insert\",[\"map\",[[\"w\",\"" + i + "\"]]]]]}]");
                    JSON.writeValueAsBytes(DatabaseFile.record(db, small));
                }
            }
        }
    }

    private static ChangeSet commit(Database db, String ops) throws IOException {
        ArrayNode parsed = (ArrayNode) JSON.readTree(ops.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Transaction.Result r;
        try {
            r = new Transaction(db, lock -> false, 0).execute(parsed);
        } catch (Transaction.WouldBlock e) {
            throw new IllegalStateException(e);
        }
        JSON.writeValueAsBytes(r.results());
        if (r.changes() == null) throw new IllegalStateException("warm-up transaction failed: " + r.results());
        db.apply(r.changes());
        return r.changes();
    }

    private static JsonNode monitorAll(DatabaseSchema schema) {
        ObjectNode req = JSON.createObjectNode();
        for (String t : schema.tables().keySet()) req.putObject(t);
        return req;
    }
}
