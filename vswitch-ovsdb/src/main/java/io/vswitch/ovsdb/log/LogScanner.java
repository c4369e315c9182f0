package io.vswitch.ovsdb.log;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.Consumer;

import static io.vswitch.ovsdb.log.LogFormat.FILE_HEADER_SIZE;
import static io.vswitch.ovsdb.log.LogFormat.RECORD_HEADER_SIZE;

/**
 * Reads a log file from the start, hands every intact record to a consumer and decides where the valid
 * part of the file ends, applying the recovery rule from {@link LogFormat}'s format comment. Reads only:
 * truncating a torn tail is up to the caller.
 */
final class LogScanner {
    /** How much of the file the search for an intact record after a bad one reads at a time. */
    private static final int SCAN_WINDOW = 64 * 1024;

    /**
     * The outcome of a scan.
     *
     * @param end     offset just past the last intact record: the valid length of the file
     * @param records number of intact records
     * @param torn    null if the file ends exactly at {@code end}, else why the bytes after it are a torn tail
     */
    record Result(long end, long records, String torn) {
    }

    private final Path file;
    private final FileChannel ch;
    private final long size;

    private LogScanner(Path file, FileChannel ch) throws IOException {
        this.file = file;
        this.ch = ch;
        this.size = ch.size();
    }

    /**
     * Validates the file header, replays the intact records in order and finds the valid end.
     *
     * @throws CorruptLogException if the header is damaged or a bad record is followed by an intact one;
     *                             records before it have been replayed by then
     * @throws IOException         also if the file is not a log, or {@code replay} throws
     *                             UncheckedIOException (reported with the record's offset)
     */
    static Result scan(Path file, FileChannel ch, Consumer<byte[]> replay) throws IOException {
        LogScanner s = new LogScanner(file, ch);
        s.checkFileHeader();
        return s.replayRecords(replay);
    }

    private void checkFileHeader() throws IOException {
        if (size < FILE_HEADER_SIZE) {
            throw new IOException(file + ": not a vswitch database log: " + size + " bytes, shorter than the "
                    + FILE_HEADER_SIZE + "-byte file header (logs are created complete, so this is not a torn write)");
        }
        ByteBuffer h = ByteBuffer.allocate(FILE_HEADER_SIZE);
        readFully(h, 0);
        if (!LogFormat.hasMagic(h)) {
            throw new IOException(file + ": not a vswitch database log (starts with " + LogFormat.magicString(h) + ")");
        }
        if (!LogFormat.fileHeaderCrcMatches(h)) {
            throw new CorruptLogException(file, 0, "damaged file header (checksum mismatch)");
        }
        if (LogFormat.version(h) != LogFormat.VERSION) {
            throw new IOException(file + ": unsupported log format version "
                    + Integer.toUnsignedString(LogFormat.version(h)) + " (this build reads version " + LogFormat.VERSION + ")");
        }
    }

    private Result replayRecords(Consumer<byte[]> replay) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER_SIZE);
        long offset = FILE_HEADER_SIZE;
        long records = 0;
        while (offset < size) {
            long available = size - offset - RECORD_HEADER_SIZE;
            if (available < 0) {
                if (zerosFrom(offset)) return new Result(offset, records, null);   // preallocated space: a clean end
                return new Result(offset, records, "partial record header (" + (size - offset) + " of "
                        + RECORD_HEADER_SIZE + " bytes)");
            }
            readFully(header.clear(), offset);
            long length = LogFormat.payloadLength(header, 0);
            String problem;
            long searchFrom;
            if (length < 0) {
                if (zerosFrom(offset)) return new Result(offset, records, null);   // preallocated space: a clean end
                // The length is not trustworthy: an intact record could start at any later byte.
                problem = "bad record header checksum";
                searchFrom = offset + 1;
            } else if (length > available) {
                // The header is intact, so the length is right and the payload was cut short.
                return new Result(offset, records, "record of " + length + " bytes, but only " + available
                        + " bytes follow its header");
            } else {
                byte[] payload = new byte[(int) length];
                readFully(ByteBuffer.wrap(payload), offset + RECORD_HEADER_SIZE);
                if (LogFormat.crc(payload, 0, payload.length) == LogFormat.payloadCrc(header, 0)) {
                    deliver(replay, payload, offset);
                    records++;
                    offset += RECORD_HEADER_SIZE + length;
                    continue;
                }
                problem = "payload checksum mismatch in record of " + length + " bytes";
                searchFrom = offset + RECORD_HEADER_SIZE + length;
            }
            long intact = findIntactRecord(searchFrom);
            if (intact >= 0) {
                throw new CorruptLogException(file, offset, problem + ", but an intact record follows at byte offset "
                        + intact + ", so this is damage in the middle of the log, not a torn final write;"
                        + " committed transactions after offset " + offset + " would be lost."
                        + " Refusing to open it: restore a backup, or truncate the file to " + offset
                        + " bytes to accept the loss");
            }
            return new Result(offset, records, problem + ", and no intact record after it");
        }
        return new Result(offset, records, null);
    }

    /** True if every byte from {@code from} to the end of the file is zero. */
    private boolean zerosFrom(long from) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(SCAN_WINDOW);
        for (long at = from; at < size; ) {
            int n = (int) Math.min(SCAN_WINDOW, size - at);
            readFully(window.clear().limit(n), at);
            for (int i = 0; i < n; i++) if (window.get(i) != 0) return false;
            at += n;
        }
        return true;
    }

    private void deliver(Consumer<byte[]> replay, byte[] payload, long offset) throws IOException {
        try {
            replay.accept(payload);
        } catch (UncheckedIOException e) {
            throw new IOException(file + ": the record at byte offset " + offset + " could not be replayed: "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The offset of the first intact record (header and payload checksums match) at or after {@code from}, or -1. */
    private long findIntactRecord(long from) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(SCAN_WINDOW);
        long base = from;
        while (size - base >= RECORD_HEADER_SIZE) {
            int n = (int) Math.min(SCAN_WINDOW, size - base);
            readFully(window.clear().limit(n), base);
            for (int i = 0; i + RECORD_HEADER_SIZE <= n; i++) {
                long length = LogFormat.payloadLength(window, i);
                long start = base + i;
                if (length >= 0 && length <= size - start - RECORD_HEADER_SIZE
                        && payloadIntact(start + RECORD_HEADER_SIZE, (int) length, LogFormat.payloadCrc(window, i))) {
                    return start;
                }
            }
            base += n - RECORD_HEADER_SIZE + 1; // the next window re-reads the last 11 bytes
        }
        return -1;
    }

    private boolean payloadIntact(long at, int length, int crc) throws IOException {
        byte[] payload = new byte[length];
        readFully(ByteBuffer.wrap(payload), at);
        return LogFormat.crc(payload, 0, length) == crc;
    }

    private void readFully(ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new EOFException(file + ": file shrank while being read (at byte offset " + pos + ")");
            }
            pos += n;
        }
    }
}
