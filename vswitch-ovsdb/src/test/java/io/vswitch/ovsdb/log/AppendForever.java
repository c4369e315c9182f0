package io.vswitch.ovsdb.log;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Child process of {@link DurableLogTest}'s kill -9 test: opens the log given as the first argument, continues
 * the numbering where the replayed records end, and appends numbered records forever, printing each number on
 * stdout only after {@link DurableLog#append} returned (so every printed number is acknowledged). Every
 * {@value #COMPACT_EVERY} records it compacts the log into a snapshot record, so kills also hit compactions.
 *
 * <p>Records are ASCII: {@code "r <n> <padding>"}, the padding being 0 to 64 KiB of one letter, or
 * {@code "s <n>"}, a snapshot standing for records 0..n.
 */
public final class AppendForever {
    static final int COMPACT_EVERY = 100;

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        Random rnd = new Random(Long.parseLong(args[1]));
        long[] last = {-1};
        DurableLog log = DurableLog.open(file, r -> last[0] = number(r));
        FileOutputStream out = new FileOutputStream(FileDescriptor.out); // unbuffered: one write per line
        for (long n = last[0] + 1; ; n++) {
            int padding = rnd.nextInt(20) == 0 ? rnd.nextInt(64 * 1024) : rnd.nextInt(300);
            log.append(record(n, padding));
            out.write((n + "\n").getBytes(StandardCharsets.US_ASCII));
            if (n % COMPACT_EVERY == COMPACT_EVERY - 1) {
                log.compact(snapshot(n));
            }
        }
    }

    static byte[] record(long n, int padding) {
        byte[] prefix = ("r " + n + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] r = Arrays.copyOf(prefix, prefix.length + padding);
        Arrays.fill(r, prefix.length, r.length, (byte) ('a' + n % 26));
        return r;
    }

    static byte[] snapshot(long n) {
        return ("s " + n).getBytes(StandardCharsets.US_ASCII);
    }

    /** The number of a record or snapshot, checking that the record is well formed. */
    static long number(byte[] record) {
        String s = new String(record, StandardCharsets.US_ASCII);
        String[] f = s.split(" ", 3);
        long n = Long.parseLong(f[1]);
        boolean ok = switch (f[0]) {
            case "s" -> f.length == 2;
            case "r" -> f.length == 3 && Arrays.equals(record, record(n, f[2].length()));
            default -> false;
        };
        if (!ok) {
            throw new IllegalStateException("malformed record: " + s.substring(0, Math.min(s.length(), 40)));
        }
        return n;
    }

    /**
     * Checks that replayed records describe 0..N without gaps or reordering (an optional snapshot first, then
     * consecutive numbers) and returns N, or -1 for an empty log.
     */
    static long lastNumber(List<byte[]> replayed) {
        long last = -1;
        for (int i = 0; i < replayed.size(); i++) {
            byte[] r = replayed.get(i);
            long n = number(r);
            if (r[0] == 's') {
                if (i != 0) {
                    throw new IllegalStateException("snapshot " + n + " is record " + i + ", not the first");
                }
            } else if (n != last + 1) {
                throw new IllegalStateException("record " + i + " is number " + n + ", expected " + (last + 1));
            }
            last = n;
        }
        return last;
    }
}
