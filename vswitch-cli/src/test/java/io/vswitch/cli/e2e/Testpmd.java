package io.vswitch.cli.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DPDK's {@code dpdk-testpmd} as a vhost-user frontend ({@code net_virtio_user}), driven through its
 * interactive prompt on a pipe. No hugepages needed: {@code --no-huge} gives it shareable memfd
 * memory. It runs its forwarding lcore on CPU 0, leaving CPU 1 to the switch's PMD. Its stdout is
 * unbuffered ({@code stdbuf -o0}): on a pipe, printf output would otherwise arrive after the next prompt.
 */
final class Testpmd implements AutoCloseable {
    private static final String PROMPT = "testpmd> ";
    private final ConsoleProcess console;

    /**
     * @param prefix unique per running instance (DPDK's runtime files)
     * @param vdevs  {@code net_virtio_user} device arguments, one per port
     * @param mode   forwarding mode (io, txonly, rxonly, mac)
     */
    Testpmd(String prefix, List<String> vdevs, String mode, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("stdbuf", "-o0", "dpdk-testpmd", "--lcores", "0@0,1@0", "--no-pci", "--no-huge",
                "-m", "256", "--file-prefix", prefix, "--log-level", "lib.eal:error"));
        for (int i = 0; i < vdevs.size(); i++) cmd.addAll(List.of("--vdev", "net_virtio_user" + i + "," + vdevs.get(i)));
        cmd.addAll(List.of("--", "-i", "--nb-cores=1", "--forward-mode=" + mode, "--total-num-mbufs=8192"));
        cmd.addAll(List.of(extra));
        console = new ConsoleProcess(prefix, cmd, "bin/install-test-deps installs it");
        console.await(PROMPT, 0, 60_000);
    }

    /** Runs one command and returns what it printed before the next prompt. */
    String command(String line) {
        int from = console.mark();
        console.type(line);
        int end = console.await(PROMPT, from, 30_000).start();
        return console.output(from, end);
    }

    /** {rx packets, tx packets} of {@code port} from {@code show port stats}. */
    long[] stats(int port) {
        String s = command("show port stats " + port);
        Matcher rx = Pattern.compile("RX-packets:\\s+(\\d+)").matcher(s);
        Matcher tx = Pattern.compile("TX-packets:\\s+(\\d+)").matcher(s);
        if (!rx.find() || !tx.find()) throw new AssertionError("no port stats in:\n" + s);
        return new long[] {Long.parseLong(rx.group(1)), Long.parseLong(tx.group(1))};
    }

    @Override
    public void close() {
        console.close("quit");
    }
}
