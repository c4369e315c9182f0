package io.vswitch.datapath.port;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.pmd.StripedCounters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A port statistic is a counter per PMD plus a shared one, under one label; readers sum them. */
class PortCountersTest {
    private static final int ADDS = 1_000_000;
    private final CountersFile file = CountersFile.anonymous();

    @AfterEach
    void tearDown() {
        StripedCounters.expectPmds(1);
        file.close();
    }

    @Test
    void pmdsAndOtherThreadsAddWithoutLossAndReadersSumALabel() throws InterruptedException {
        StripedCounters.expectPmds(2);
        PortCounters c = new PortCounters(file.manager(), "br0", "p1", 7);
        Thread[] threads = {adder(c, 0), adder(c, 1), adder(c, 5), adder(c, -1)};
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join();
        assertEquals(4L * ADDS, c.txPackets.get());
        assertEquals(4L * ADDS * 64, c.txBytes.get());

        Map<String, Long> byLabel = new HashMap<>();
        Map<String, Integer> counters = new HashMap<>();
        file.reader().forEach((value, id, label) -> {
            byLabel.merge(label, value, Long::sum);
            counters.merge(label, 1, Integer::sum);
        });
        assertEquals(3, counters.get("br0 p1 tx_packets"), "one per PMD and a shared one");
        assertEquals(4L * ADDS, byLabel.get("br0 p1 tx_packets"));
        c.close();
        assertEquals(0, countLabels(file, "br0 p1 "), "closing frees them all");
    }

    private static int countLabels(CountersFile f, String prefix) {
        int[] n = {0};
        f.reader().forEach((value, id, label) -> {
            if (label.startsWith(prefix)) n[0]++;
        });
        return n[0];
    }

    private static Thread adder(PortCounters c, int pmd) {
        return new Thread(() -> {
            for (int k = 0; k < ADDS; k++) {
                c.txPackets.add(pmd, 1);
                c.txBytes.add(pmd, 64);
            }
        });
    }
}
