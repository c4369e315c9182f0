package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.pipeline.OfPipeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tables reach the dataplane, and are sent again when the dataplane shows another generation in
 * two state dumps in a row; one dump that crossed a transfer (it shows the generation before) does
 * not make FlowSync send the whole tables again.
 */
class FlowSyncTest {
    /** Generations far from 0: a real switch counts one per flow-mod (and boxed Longs above 127 are distinct objects). */
    private static final long G = 1_000_000;

    @Test
    void resendsOnlyWhenTwoDumpsInARowShowTheDataplaneBehind(@TempDir Path dir) throws Exception {
        try (InProcessDataplane dp = new InProcessDataplane(); FlowSync sync = new FlowSync(() -> dp.client, dir)) {
            dp.client.addBridge("br0", Map.of());
            sync.tables("br0", G + 5, List.of("0 0 - - - ; ; normal"));
            OfPipeline sent = awaitTables(dp, G + 5, null);

            sync.check(dumpShowing(G + 4));                             // a dump that crossed the transfer
            Thread.sleep(1500);
            assertSame(sent, dp.dp.view().bridge("br0").flows(), "one stale dump: nothing sent again");

            sync.check(dumpShowing(G + 5));                             // the next dump is current: the evidence is forgotten
            sync.check(dumpShowing(G + 4));
            Thread.sleep(1500);
            assertSame(sent, dp.dp.view().bridge("br0").flows(), "stale, current, stale: nothing sent again");

            sync.check(dumpShowing(G + 4));                             // twice in a row: the dataplane is behind
            OfPipeline again = awaitTables(dp, G + 5, sent);
            assertNotSame(sent, again);
        }
    }

    private static DatapathState dumpShowing(long generation) {
        return new DatapathState(0, Map.of(), Map.of(), List.of(), Map.of(), Map.of("br0", generation), Map.of());
    }

    /** Waits (5 s at most) until br0 runs tables of {@code generation} other than {@code not}. */
    private static OfPipeline awaitTables(InProcessDataplane dp, long generation, OfPipeline not) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            OfPipeline p = dp.dp.view().bridge("br0").flows();
            if (p != null && p.generation == generation && p != not) return p;
            Thread.sleep(50);
        }
        OfPipeline p = dp.dp.view().bridge("br0").flows();
        assertTrue(p != null && p != not, "tables (re)sent within 5 s: " + p);
        assertEquals(generation, p.generation);
        return p;
    }
}
