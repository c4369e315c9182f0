package io.vswitch.ovsdb.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class DurableLogTest {
    private static final int FILE_HEADER = LogFormat.FILE_HEADER_SIZE;
    private static final int RECORD_HEADER = LogFormat.RECORD_HEADER_SIZE;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- basics

    @Test
    void newLogIsJustTheFileHeader() throws IOException {
        Path f = dir.resolve("conf.db");
        try (DurableLog log = DurableLog.open(f, r -> fail("nothing to replay"))) {
            assertEquals(FILE_HEADER, log.size());
            assertEquals(0, log.records());
        }
        byte[] bytes = Files.readAllBytes(f);
        assertArrayEquals(LogFormat.MAGIC, Arrays.copyOf(bytes, 8));
        assertArrayEquals(new byte[] {0, 0, 0, 1}, Arrays.copyOfRange(bytes, 8, 12));
        assertEquals(FILE_HEADER, bytes.length);
        assertTrue(replayAll(f).isEmpty());
        assertFalse(Files.exists(dir.resolve("conf.db.tmp")));
    }

    @Test
    void roundTripOfManyRecordsInOrder() throws IOException {
        Path f = dir.resolve("conf.db");
        Random rnd = new Random(1);
        List<byte[]> written = new ArrayList<>();
        int[] fixed = {0, 1, 100 * 1024, 0, 11, 12, 13, 4096, 1};
        for (byte[] r : payloads(rnd, fixed)) {
            written.add(r);
        }
        for (int i = 0; i < 300; i++) {
            written.add(payload(rnd, rnd.nextInt(2000)));
        }
        // Written over three sessions: appends after a reopen continue the same file.
        int third = written.size() / 3;
        long expectedSize = FILE_HEADER;
        for (int session = 0; session < 3; session++) {
            List<byte[]> replayed = new ArrayList<>();
            try (DurableLog log = DurableLog.open(f, replayed::add)) {
                assertRecords(written.subList(0, session * third), replayed);
                int end = session == 2 ? written.size() : (session + 1) * third;
                for (byte[] r : written.subList(session * third, end)) {
                    log.append(r);
                    expectedSize += RECORD_HEADER + r.length;
                    assertEquals(expectedSize, log.size());
                }
                assertEquals(end, log.records());
                assertTrue(Files.size(f) >= log.size(), "the file holds the log, and maybe preallocated zeros");
            }
            assertEquals(expectedSize, Files.size(f), "closing cuts the preallocated zeros off");
        }
        assertRecords(written, replayAll(f));
    }

    /** What a crash leaves while the log is open: preallocated zeros, maybe with a torn record in them. */
    @Test
    void preallocatedZerosEndTheLogCleanlyAndATornRecordInThemIsCut() throws IOException {
        Random rnd = new Random(11);
        Path f = dir.resolve("prealloc.db");
        List<byte[]> records = payloads(rnd, 10, 300, 5000);
        long end;
        try (DurableLog log = DurableLog.open(f, r -> { })) {
            for (byte[] r : records) log.append(r);
            end = log.size();
            assertTrue(Files.size(f) > DurableLog.PREALLOCATE && Files.size(f) > end, "zeros are written ahead of the records");
            // A copy of the open file is what a crash (kill -9 or power loss after the sync) leaves.
            Files.copy(f, dir.resolve("crashed.db"));
        }
        Path crashed = dir.resolve("crashed.db");
        byte[] image = Files.readAllBytes(crashed);
        try (DurableLog log = DurableLog.open(crashed, r -> { })) {
            assertEquals(end, log.size(), "zeros after the last record are a clean end");
            assertEquals(records.size(), log.records());
            assertEquals(image.length, Files.size(crashed), "nothing was repaired");
            log.append(payload(rnd, 40));
        }
        assertEquals(records.size() + 1, replayAll(crashed).size());
        // A record torn half-way into the zeros: its start is there, the rest is still zero.
        byte[] torn = image.clone();
        byte[] next = Files.readAllBytes(crashed);
        System.arraycopy(next, (int) end, torn, (int) end, RECORD_HEADER + 20);
        Files.write(crashed, torn);
        try (DurableLog log = DurableLog.open(crashed, r -> { })) {
            assertEquals(end, log.size());
            assertEquals(end, Files.size(crashed), "the torn record and the zeros after it are cut off");
        }
        assertRecords(records, replayAll(crashed));
    }

    @Test
    void secondOpenOfTheSameLogIsRefused() throws IOException {
        Path f = dir.resolve("conf.db");
        try (DurableLog log = DurableLog.open(f, r -> { })) {
            IOException e = assertThrows(IOException.class, () -> DurableLog.open(f, r -> { }));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            log.append(new byte[] {1});
        }
        assertEquals(1, replayAll(f).size()); // the lock was released by close()
    }

    @Test
    void useAfterCloseIsAnErrorAndCloseIsIdempotent() throws IOException {
        DurableLog log = DurableLog.open(dir.resolve("conf.db"), r -> { });
        log.close();
        log.close();
        assertThrows(IllegalStateException.class, () -> log.append(new byte[1]));
        assertThrows(IllegalStateException.class, () -> log.compact(new byte[1]));
    }

    @Test
    void jsonOverloads() throws IOException {
        Path f = dir.resolve("conf.db");
        ObjectMapper m = new ObjectMapper();
        try (DurableLog log = DurableLog.openJson(f, r -> fail())) {
            log.append(m.readTree("{\"a\":1}"));
            log.compact(m.readTree("{\"snapshot\":[1,2]}"));
            log.append(m.readTree("[\"b\"]"));
        }
        List<JsonNode> replayed = new ArrayList<>();
        try (DurableLog log = DurableLog.openJson(f, replayed::add)) {
            assertEquals(List.of(m.readTree("{\"snapshot\":[1,2]}"), m.readTree("[\"b\"]")), replayed);
            log.append("not json {".getBytes(StandardCharsets.UTF_8));
        }
        long offset = Files.size(f) - RECORD_HEADER - "not json {".length();
        IOException e = assertThrows(IOException.class, () -> DurableLog.openJson(f, r -> { }));
        assertTrue(e.getMessage().contains("byte offset " + offset), e.getMessage());
    }

    // ---------------------------------------------------------------- torn tails

    @Test
    void tornTailAtEveryByteOfTheLastRecordIsTruncated() throws IOException {
        Random rnd = new Random(2);
        for (int lastSize : new int[] {0, 1, 700}) {
            Path f = dir.resolve("torn-" + lastSize + ".db");
            List<byte[]> earlier = payloads(rnd, 0, 5, 300, 1);
            long prevEnd;
            long end;
            try (DurableLog log = DurableLog.open(f, r -> { })) {
                for (byte[] r : earlier) {
                    log.append(r);
                }
                prevEnd = log.size();
                log.append(payload(rnd, lastSize));
                end = log.size();
            }
            byte[] full = Files.readAllBytes(f);
            assertEquals(end, full.length);
            byte[] extra = payload(rnd, 33);
            for (long len = prevEnd; len < end; len++) {
                Files.write(f, Arrays.copyOf(full, (int) len));
                List<byte[]> replayed = new ArrayList<>();
                try (DurableLog log = DurableLog.open(f, replayed::add)) {
                    assertRecords(earlier, replayed, "file cut to " + len + " bytes");
                    assertEquals(prevEnd, log.size());
                    assertOnlyZerosAfter(f, prevEnd);   // repaired by truncation, or the cut ended in zeros
                    assertEquals(earlier.size(), log.records());
                    log.append(extra);
                }
                assertRecords(concat(earlier, extra), replayAll(f), "append after repair of " + len);
            }
        }
    }

    @Test
    void zeroFilledAndGarbageTailsAreDiscarded() throws IOException {
        Random rnd = new Random(3);
        List<byte[]> records = payloads(rnd, 10, 0, 2000, 7);
        Path f = dir.resolve("conf.db");
        writeLog(f, records);
        byte[] good = Files.readAllBytes(f);
        for (int tail : new int[] {1, 11, 12, 13, 100, 4096, 70_000}) {
            for (int kind = 0; kind < 4; kind++) {
                byte[] junk = new byte[tail];
                if (kind > 0) {
                    new Random(tail * 31L + kind).nextBytes(junk);
                }
                Files.write(f, concat(good, junk));
                assertRecords(records, replayAll(f), tail + " bytes of " + (kind == 0 ? "zeros" : "garbage"));
                assertArrayEquals(good, Files.readAllBytes(f));
            }
        }
        // The file was extended for the last record, but none of its bytes reached the disk.
        byte[] zeroedLast = good.clone();
        Arrays.fill(zeroedLast, good.length - RECORD_HEADER - 7, good.length, (byte) 0);
        Files.write(f, zeroedLast);
        assertRecords(records.subList(0, records.size() - 1), replayAll(f));
        assertEquals(good.length - RECORD_HEADER - 7, Files.size(f));
    }

    @Test
    void damagedFinalRecordCannotBeToldFromATornOneAndIsDropped() throws IOException {
        Path f = dir.resolve("conf.db");
        List<byte[]> records = payloads(new Random(4), 10, 20, 30);
        writeLog(f, records);
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 5] ^= 0x10;
        Files.write(f, bytes);
        assertRecords(records.subList(0, 2), replayAll(f));
    }

    // ---------------------------------------------------------------- corruption in the middle

    @Test
    void flippedByteInAMiddleRecordFailsOpenWithTheOffset() throws IOException {
        Path f = dir.resolve("conf.db");
        List<byte[]> records = payloads(new Random(5), 40, 200, 50);
        writeLog(f, records);
        byte[] good = Files.readAllBytes(f);
        long start = FILE_HEADER + RECORD_HEADER + 40;
        long end = start + RECORD_HEADER + 200;
        for (long at = start; at < end; at++) { // length, both CRCs and every payload byte
            for (int flip : new int[] {0x01, 0x80}) {
                byte[] bad = good.clone();
                bad[(int) at] ^= (byte) flip;
                Files.write(f, bad);
                List<byte[]> replayed = new ArrayList<>();
                CorruptLogException e = assertThrows(CorruptLogException.class, () -> DurableLog.open(f, replayed::add),
                        "flipped byte at " + at);
                assertEquals(start, e.offset(), e.getMessage());
                assertTrue(e.getMessage().contains("byte offset " + start), e.getMessage());
                assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
                assertTrue(e.getMessage().contains("byte offset " + end), "names where intact data resumes: " + e.getMessage());
                assertRecords(records.subList(0, 1), replayed);
                assertArrayEquals(bad, Files.readAllBytes(f), "the file is left untouched");
            }
        }
    }

    @Test
    void damagedFirstRecordOfAManyRecordLogFailsOpen() throws IOException {
        Path f = dir.resolve("conf.db");
        Random rnd = new Random(6);
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            records.add(payload(rnd, 500));
        }
        writeLog(f, records);
        byte[] bad = Files.readAllBytes(f);
        bad[FILE_HEADER + 2] ^= 0x40; // the first record's length
        Files.write(f, bad);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> DurableLog.open(f, r -> { }));
        assertEquals(FILE_HEADER, e.offset());
    }

    @Test
    void badFileHeadersAreReportedNotRepaired() throws IOException {
        Path f = dir.resolve("conf.db");
        writeLog(f, payloads(new Random(7), 10));
        byte[] good = Files.readAllBytes(f);

        Files.write(f, new byte[0]);
        assertOpenFails(f, IOException.class, "not a vswitch database log");
        Files.write(f, Arrays.copyOf(good, 10));
        assertOpenFails(f, IOException.class, "not a vswitch database log");
        Files.write(f, "{\"format\": \"vswitch-config-1\"}".getBytes(StandardCharsets.US_ASCII));
        assertOpenFails(f, IOException.class, "not a vswitch database log (starts with \"{\"format\")");

        byte[] badCrc = good.clone();
        badCrc[13] ^= 1;
        Files.write(f, badCrc);
        CorruptLogException e = assertOpenFails(f, CorruptLogException.class, "damaged file header");
        assertEquals(0, e.offset());

        byte[] v2 = good.clone();
        v2[11] = 2;
        int crc = LogFormat.crc(v2, 0, 12);
        v2[12] = (byte) (crc >>> 24);
        v2[13] = (byte) (crc >>> 16);
        v2[14] = (byte) (crc >>> 8);
        v2[15] = (byte) crc;
        Files.write(f, v2);
        assertOpenFails(f, IOException.class, "unsupported log format version 2");
    }

    // ---------------------------------------------------------------- compaction

    @Test
    void compactionReplaysTheSnapshotThenTheLaterAppends() throws IOException {
        Path f = dir.resolve("conf.db");
        Random rnd = new Random(8);
        byte[] snapshot = payload(rnd, 5000);
        List<byte[]> after = payloads(rnd, 0, 10, 20);
        try (DurableLog log = DurableLog.open(f, r -> { })) {
            for (int i = 0; i < 100; i++) {
                log.append(payload(rnd, 100));
            }
            log.compact(snapshot);
            assertEquals(1, log.records());
            assertEquals(FILE_HEADER + RECORD_HEADER + 5000, log.size());
            assertEquals(log.size(), Files.size(f));
            for (byte[] r : after) {
                log.append(r);
            }
            assertEquals(4, log.records());
        }
        assertRecords(concat(List.of(snapshot), after), replayAll(f));
        try (DurableLog log = DurableLog.open(f, r -> { })) {
            assertEquals(4, log.records());
            log.compact(new byte[0]); // a second compaction, of an empty snapshot, after a reopen
            log.append(new byte[] {42});
        }
        assertRecords(List.of(new byte[0], new byte[] {42}), replayAll(f));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(".conf.db.~lock~", "conf.db"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void strayTempFileFromACrashedCompactionIsIgnoredAndRemoved() throws IOException {
        Path f = dir.resolve("conf.db");
        Path tmp = dir.resolve("conf.db.tmp");
        List<byte[]> records = payloads(new Random(9), 10, 20, 30);
        writeLog(f, records);

        Files.write(tmp, Arrays.copyOf(LogFormat.MAGIC, 5)); // crashed while writing the new file
        assertRecords(records, replayAll(f));
        assertFalse(Files.exists(tmp));

        // Crashed after the new file was complete but before the rename: compact() never returned, the old log counts.
        writeLog(tmp, List.of("snapshot".getBytes(StandardCharsets.US_ASCII)));
        Files.delete(dir.resolve(".conf.db.tmp.~lock~"));
        assertRecords(records, replayAll(f));
        assertFalse(Files.exists(tmp));

        // A missing log next to a leftover temp file (crash while creating the log) is created afresh.
        Path g = dir.resolve("new.db");
        Files.write(dir.resolve("new.db.tmp"), new byte[] {1, 2, 3});
        assertTrue(replayAll(g).isEmpty());
        assertFalse(Files.exists(dir.resolve("new.db.tmp")));
    }

    // ---------------------------------------------------------------- kill -9

    /**
     * A real process appends numbered records (and compacts every 100) and is killed with SIGKILL at random
     * times; after each kill every number it acknowledged must be replayed in order, and the next process
     * continues the same file.
     */
    @Test
    void acknowledgedRecordsSurviveKillMinus9() throws Exception {
        Path f = dir.resolve("crash.db");
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        long durable = -1; // the last number the log holds
        long acknowledged = 0;
        int repairs = 0;
        for (int i = 0; i < 20; i++) {
            Path stderr = dir.resolve("child-" + i + ".err");
            Process p = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                    "-cp", System.getProperty("java.class.path"), AppendForever.class.getName(), f.toString(),
                    Long.toString(seed + i))
                    .redirectError(stderr.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            AckReader acks = new AckReader(p.getInputStream());
            acks.start();
            if (i % 5 == 4) {
                Thread.sleep(rnd.nextInt(400)); // sometimes during start-up or the first appends
            } else {
                if (!acks.first.await(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    fail("child " + i + " acknowledged nothing in 20 s: " + Files.readString(stderr));
                }
                if (i == 0) {
                    IOException e = assertThrows(IOException.class, () -> DurableLog.open(f, r -> { }));
                    assertTrue(e.getMessage().contains("in use by another process"), e.getMessage());
                }
                Thread.sleep(50 + rnd.nextInt(250));
            }
            assertTrue(p.isAlive(), "child " + i + " exited by itself: " + Files.readString(stderr));
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue(), "killed by SIGKILL");
            acks.join();

            long sizeBefore = Files.size(f);
            List<byte[]> replayed = new ArrayList<>();
            try (DurableLog log = DurableLog.open(f, replayed::add)) {
                assertEquals(replayed.size(), log.records());
                if (log.size() != sizeBefore) {
                    repairs++;
                }
            }
            long last = AppendForever.lastNumber(replayed);
            String context = "child " + i + " (seed " + seed + ")";
            assertTrue(last >= durable, context + ": log went back from " + durable + " to " + last);
            List<Long> acked = acks.numbers;
            for (int k = 0; k < acked.size(); k++) {
                assertEquals(durable + 1 + k, acked.get(k), context + ": continues where the log ended");
            }
            if (!acked.isEmpty()) {
                assertTrue(acked.getLast() <= last, context + ": acknowledged " + acked.getLast()
                        + " but the log ends at " + last);
            }
            acknowledged += acked.size();
            durable = last;
        }
        System.out.println("kill -9 test: " + acknowledged + " acknowledged records, log ends at " + durable
                + ", " + repairs + " recoveries truncated a tail, seed " + seed);
        assertTrue(acknowledged >= 100, "the children got some work done: " + acknowledged);
    }

    /** Collects the newline-terminated numbers a child prints; a line cut off by the kill does not count. */
    private static final class AckReader extends Thread {
        final List<Long> numbers = new ArrayList<>();
        final CountDownLatch first = new CountDownLatch(1);
        private final InputStream in;

        AckReader(InputStream in) {
            super("ack-reader");
            this.in = in;
            setDaemon(true);
        }

        @Override
        public void run() {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            synchronized (numbers) {
                                numbers.add(Long.parseLong(line.toString(StandardCharsets.US_ASCII)));
                            }
                            first.countDown();
                            line.reset();
                        } else {
                            line.write(buf[i]);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<byte[]> replayAll(Path f) throws IOException {
        List<byte[]> out = new ArrayList<>();
        try (DurableLog log = DurableLog.open(f, out::add)) {
            assertEquals(out.size(), log.records());
            assertOnlyZerosAfter(f, log.size());
        }
        return out;
    }

    /** The file is the log up to {@code size}, then at most zeros (preallocated, or a zero-filled tail kept as such). */
    private static void assertOnlyZerosAfter(Path f, long size) throws IOException {
        byte[] all = Files.readAllBytes(f);
        assertTrue(all.length >= size, "file shorter than the log");
        for (int i = (int) size; i < all.length; i++) assertEquals(0, all[i], "non-zero byte after the log at " + i);
    }

    private static void writeLog(Path f, List<byte[]> records) throws IOException {
        try (DurableLog log = DurableLog.open(f, r -> { })) {
            for (byte[] r : records) {
                log.append(r);
            }
        }
    }

    private static <T extends IOException> T assertOpenFails(Path f, Class<T> type, String message) throws IOException {
        byte[] before = Files.readAllBytes(f);
        T e = assertThrows(type, () -> DurableLog.open(f, r -> { }));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f), "the file is left untouched");
        return e;
    }

    private static byte[] payload(Random rnd, int size) {
        byte[] b = new byte[size];
        rnd.nextBytes(b);
        return b;
    }

    private static List<byte[]> payloads(Random rnd, int... sizes) {
        List<byte[]> out = new ArrayList<>();
        for (int s : sizes) {
            out.add(payload(rnd, s));
        }
        return out;
    }

    private static List<byte[]> concat(List<byte[]> a, byte[] b) {
        List<byte[]> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }

    private static List<byte[]> concat(List<byte[]> a, List<byte[]> b) {
        List<byte[]> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertRecords(List<byte[]> expected, List<byte[]> actual) {
        assertRecords(expected, actual, "");
    }

    private static void assertRecords(List<byte[]> expected, List<byte[]> actual, String context) {
        assertEquals(expected.size(), actual.size(), context + ": number of records");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), context + ": record " + i);
        }
    }
}
