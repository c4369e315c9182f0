package io.vswitch.ovsdb.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/** The warm-up's transactions are valid ones: a schema or executor change that breaks them shows here, not as a log line. */
class WarmupTest {
    @Test
    void warmUpTransactionsCommit() {
        assertDoesNotThrow(() -> Warmup.run(RealOvsVsctlTest.SCHEMA, 2, 50));
    }
}
