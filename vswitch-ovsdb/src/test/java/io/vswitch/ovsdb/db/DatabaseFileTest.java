package io.vswitch.ovsdb.db;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.DatabaseSchema;
import io.vswitch.ovsdb.server.OvsdbServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a restart replays is exactly what was committed: inserts, column changes (also back to defaults), deletes, compaction. */
class DatabaseFileTest {
    static final DatabaseSchema SCHEMA = DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Map<String, Map<UUID, Map<String, Datum>>> contents(Database db) {
        Map<String, Map<UUID, Map<String, Datum>>> out = new TreeMap<>();
        for (String t : SCHEMA.tables().keySet()) {
            Map<UUID, Map<String, Datum>> rows = new TreeMap<>();
            for (Row r : db.rows(t).values()) {
                Map<String, Datum> cols = new TreeMap<>(r.columns());
                SCHEMA.tables().get(t).columns().values().stream().filter(c -> c.ephemeral()).forEach(c -> cols.remove(c.name()));
                rows.put(r.uuid(), cols);
            }
            out.put(t, rows);
        }
        return out;
    }

    private static ArrayNode ops(String json) throws Exception {
        return (ArrayNode) JSON.readTree(json);
    }

    @Test
    void aRestartReplaysExactlyWhatWasCommitted() throws Exception {
        Path file = dir.resolve("conf.db");
        Map<String, Map<UUID, Map<String, Datum>>> before;
        Random random = new Random(3);
        try (DatabaseFile f = DatabaseFile.open(file, SCHEMA)) {
            OvsdbServer server = new OvsdbServer(f.database(), f);
            server.transact(ops("[{\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}]")).get();
            // Enough transactions to pass a compaction (every 1000 records) and keep going after it.
            for (int i = 0; i < 1300; i++) {
                int q = random.nextInt(20);
                JsonNode r = switch (random.nextInt(4)) {
                    case 0 -> server.transact(ops("[{\"op\":\"insert\",\"table\":\"Queue\",\"uuid-name\":\"q\",\"row\":{\"dscp\":" + q
                            + ",\"external_ids\":[\"map\",[[\"n\",\"" + q + "\"]]]}}]")).get();
                    case 1 -> server.transact(ops("[{\"op\":\"update\",\"table\":\"Queue\",\"where\":[[\"dscp\",\"==\"," + q + "]],"
                            + "\"row\":{\"dscp\":[\"set\",[]],\"other_config\":[\"map\",[[\"k\",\"" + i + "\"]]]}}]")).get();
                    case 2 -> server.transact(ops("[{\"op\":\"delete\",\"table\":\"Queue\",\"where\":[[\"external_ids\",\"includes\","
                            + "[\"map\",[[\"n\",\"" + q + "\"]]]]]}]")).get();
                    default -> server.transact(ops("[{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
                            + "\"mutations\":[[\"next_cfg\",\"+=\",1],[\"external_ids\",\"insert\",[\"map\",[[\"k" + i + "\",\"v\"]]]]]}]")).get();
                };
                assertTrue(!r.toString().contains("\"error\""), r.toString());
            }
            before = server.call(DatabaseFileTest::contents).get();
            server.close();
            assertTrue(f.records() < 1300, "the log was compacted (" + f.records() + " records)");
        }
        try (DatabaseFile f = DatabaseFile.open(file, SCHEMA)) {
            assertEquals(before, contents(f.database()));
        }
    }
}
