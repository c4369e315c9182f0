package io.vswitch.ovsdb.server;

import io.vswitch.ovsdb.db.DatabaseFile;
import io.vswitch.ovsdb.schema.DatabaseSchema;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A standalone OVSDB server, like {@code ovsdb-server --remote=REMOTE FILE}: serves the Open_vSwitch
 * database in FILE (created with our schema if missing). vswitchd embeds the same server; this entry
 * point exists for benchmarks and for running the database on its own.
 */
public final class OvsdbMain {
    private OvsdbMain() {}

    public static void main(String[] args) throws Exception {
        List<String> remotes = new ArrayList<>();
        Path file = null;
        for (String a : args) {
            if (a.startsWith("--remote=")) remotes.add(a.substring(9));
            else if (!a.startsWith("-")) file = Path.of(a);
        }
        if (file == null || remotes.isEmpty()) {
            System.err.println("usage: ovsdb --remote=punix:PATH|ptcp:PORT[:IP] [--remote=...] FILE");
            System.exit(1);
        }
        DatabaseFile db;
        try {
            db = DatabaseFile.open(file, DatabaseSchema.resource("/io/vswitch/ovsdb/vswitch.ovsschema"));
        } catch (IOException e) {
            System.err.println("ovsdb: " + e.getMessage());
            System.exit(1);
            return;
        }
        OvsdbServer.warmUp(db.database().schema());
        OvsdbServer server = new OvsdbServer(db.database(), db);
        OvsdbTransport transport = new OvsdbTransport(server);
        for (String r : remotes) transport.listen(r);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            transport.close();
            server.close();
            try {
                db.close();
            } catch (IOException ignored) {
                // exiting anyway
            }
        }));
        System.out.println("ovsdb: serving " + file + " on " + String.join(", ", remotes));
        new CountDownLatch(1).await();
    }
}
