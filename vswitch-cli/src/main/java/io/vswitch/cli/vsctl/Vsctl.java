package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.client.OvsdbClient;

import java.io.IOException;
import java.util.Map;

/**
 * vsctl: ovs-vsctl's syntax, output and exit codes, over our OVSDB JSON-RPC.
 *
 * <p>One invocation: parse the command line, read the whole database into a {@link Snapshot}, run
 * every command against it, commit the edits as one {@link Transaction}, print, then wait for
 * ovs-vswitchd to catch up (cur_cfg) unless --no-wait.
 *
 * <p>While a {@code wait-until} condition is false, nothing is sent: the invocation monitors the
 * tables it waits on, and after each change reads the database again and reruns every command
 * (ovs-vsctl's behaviour). The monitor starts before the re-read, so no change can slip between them.
 */
public final class Vsctl {
    public record Result(int rc, String out, String err) {}

    public static void main(String[] args) {
        Result r = run(args, System.getenv());
        System.out.print(r.out());
        System.out.flush();
        System.err.print(r.err());
        System.err.flush();
        System.exit(r.rc());
    }

    /** Runs one invocation; never exits the JVM. */
    public static Result run(String[] args, Map<String, String> env) {
        Vsctl v = new Vsctl(env);
        int rc;
        try {
            v.execute(args);
            rc = 0;
        } catch (VsctlException e) {
            if (e.getMessage() != null) v.err.append("vsctl: ").append(e.getMessage()).append('\n');
            rc = e.status;
            // br-exists' status 2 and the alarm's 142 keep what was printed; other failures print nothing.
            if (rc != 2 && rc != 142) v.out.setLength(0);
        } catch (OvsdbClient.TimeoutException e) {
            v.err.append("vsctl: terminating with signal 14 (Alarm clock)\n");
            v.out.setLength(0);
            rc = 142;
        } catch (IOException e) {
            v.err.append("vsctl: ").append(v.cl.db).append(": database connection failed (").append(e.getMessage()).append(")\n");
            v.out.setLength(0);
            rc = 1;
        }
        return new Result(rc, v.out.toString(), v.err.toString());
    }

    private final CommandLine cl;
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder err = new StringBuilder();

    private Vsctl(Map<String, String> env) {
        this.cl = new CommandLine(env);
    }

    private void execute(String[] argv) throws VsctlException, IOException, OvsdbClient.TimeoutException {
        cl.parse(argv);
        long deadline = cl.timeoutSecs > 0 ? System.nanoTime() + cl.timeoutSecs * 1_000_000_000L : Long.MAX_VALUE;
        try (OvsdbClient c = connect(deadline)) {
            Snapshot db;
            boolean monitoring = false;
            int errMark = err.length();
            while (true) {
                db = Snapshot.read(c);
                try {
                    Commands commands = new Commands(db, new Output(db, cl.format, cl.bare, cl.noHeadings), err);
                    for (Command cmd : cl.commands) commands.run(cmd);
                    db.checkSymbols();
                    break;
                } catch (QueryCommands.NotYet notYet) {
                    for (Command cmd : cl.commands) cmd.reset();
                    err.setLength(errMark);                 // warnings are printed once, by the run that counts
                    if (monitoring) {
                        awaitChange(c);
                    } else {
                        monitorWaitedTables(c, db);
                        monitoring = true;
                    }
                }
            }
            Transaction txn = new Transaction(c, db);
            long nextCfg = txn.commit(cl.commands, !cl.noWait);
            for (Command cmd : cl.commands) out.append(cmd.out());
            if (nextCfg >= 0) txn.waitForCfg(nextCfg);
        }
    }

    /** Monitors every column of the tables that wait-until commands name (validated by the first run). */
    private void monitorWaitedTables(OvsdbClient c, Snapshot db) throws IOException, OvsdbClient.TimeoutException, VsctlException {
        var requests = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        Records records = new Records(db);
        for (Command cmd : cl.commands) {
            if (cmd.name().equals("wait-until")) requests.putObject(records.tableName(cmd.args().get(0)));
        }
        c.call("monitor", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode()
                .add(Snapshot.DB).add("vsctl-wait-until").add(requests));
    }

    private static void awaitChange(OvsdbClient c) throws IOException, OvsdbClient.TimeoutException {
        while (!"update".equals(c.nextNotification().path("method").asText())) {
            // other notifications do not change the database
        }
    }

    /** Rewords socket errors as ovs-vsctl's strerror() text. */
    private OvsdbClient connect(long deadline) throws IOException {
        try {
            return new OvsdbClient(cl.db, deadline);
        } catch (IOException e) {
            String m = e.getMessage();
            if (m == null || m.contains("No such file") || e instanceof java.nio.file.NoSuchFileException) m = "No such file or directory";
            else if (m.contains("refused")) m = "Connection refused";
            throw new IOException(m);
        }
    }
}
