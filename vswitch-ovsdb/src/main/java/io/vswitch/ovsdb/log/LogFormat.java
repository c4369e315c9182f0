package io.vswitch.ovsdb.log;

/*
 * On-disk format of a DurableLog, version 1.  All integers are unsigned, big-endian (network order).
 *
 * A log file is a 16-byte file header followed by zero or more records, back to back, with nothing in
 * between and, after the last record, nothing or only zero bytes (space the writer preallocated):
 *
 *     +-------------+----------+----------+-----+----------+
 *     | file header | record 1 | record 2 | ... | record N |
 *     +-------------+----------+----------+-----+----------+
 *
 * File header (16 bytes), written once, when the file is created:
 *
 *     offset size  field
 *          0    8  magic: 0x89 'v' 's' 'w' 'l' 'o' 'g' 0x0a
 *          8    4  format version, 1
 *         12    4  CRC32C of bytes 0..11
 *
 *   - The magic says "this is a vswitch database log", so that we never append records to (and never
 *     "repair" by truncation) a file that is something else.  Its first byte has the high bit set and
 *     its last is a newline, like PNG's, so that a text file, a 7-bit copy or a newline-converting copy
 *     of a log is rejected rather than misread.
 *   - The version lets a later format be recognised instead of being parsed as garbage.  Later
 *     versions keep these 16 bytes as they are, so the version is only believed if the CRC matches.
 *   - The CRC catches a damaged header.  The header is never torn: a new file is written under a
 *     temporary name, forced to disk and only then renamed into place (the same path as compaction),
 *     so a file shorter than 16 bytes or with a bad header is reported, never repaired.
 *
 * Record (12-byte header + payload):
 *
 *     offset size  field
 *          0    4  payload length L, at most MAX_PAYLOAD
 *          4    4  CRC32C of the L payload bytes
 *          8    4  CRC32C of bytes 0..7 of this record (length and payload CRC)
 *         12    L  payload: opaque bytes (the OVSDB server stores one JSON text per record)
 *
 *   - The payload CRC catches a payload that was only partly written (kill -9 in the middle of a large
 *     write, power loss with only some of its pages on disk) and bit rot.
 *   - The header CRC protects the length, which decides where the next record starts.  Without it a
 *     flipped bit in the length of a record in the middle could point past the end of the file and make
 *     real corruption look like a torn final record, so every record after it would be silently
 *     dropped; or it could point into a payload and make us parse payload bytes as a header.  A length
 *     is only believed when its header CRC matches.
 *   - Zeros are never a valid record: a zero-filled header (what a crash can leave when the file size
 *     was extended but the data never reached the disk) has header CRC 0, while the correct value for
 *     length 0 and payload CRC 0 is 0x8c28b28a.  (CRC32C of an empty payload is 0, hence the
 *     separate header CRC also for this case.)
 *   - Each record is written with one (gathering) write call and forced to disk before append()
 *     returns, so only the last record can be incomplete after a crash.
 *
 * Preallocated space: the writer extends the file with zeros, a MiB at a time, and writes records over
 * them, so that the fdatasync after an append flushes data blocks only instead of also committing a new
 * file size to the file system's journal.  Closing the log cuts the zeros off again.
 *
 * Recovery rule (LogScanner): records are read in order up to the first one that is incomplete or
 * fails a check, at byte offset X.  If the bytes from X to the end of the file are all zero, that is
 * preallocated space and the log ends cleanly at X.  Else, if no intact record starts anywhere after X, the bytes from X on
 * are a torn tail: they are logged and truncated away.  If an intact record does start after X, the log
 * lost data in the middle, and opening fails with a CorruptLogException naming X.
 */

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** Constants and encoding of the log format described in this file's header comment. */
final class LogFormat {
    static final int VERSION = 1;
    static final byte[] MAGIC = {(byte) 0x89, 'v', 's', 'w', 'l', 'o', 'g', '\n'};
    static final int FILE_HEADER_SIZE = 16;
    static final int RECORD_HEADER_SIZE = 12;
    /** Largest payload: what fits in a Java array. */
    static final int MAX_PAYLOAD = Integer.MAX_VALUE - 16;

    private LogFormat() {
    }

    static ByteBuffer fileHeader() {
        ByteBuffer b = ByteBuffer.allocate(FILE_HEADER_SIZE);
        b.put(MAGIC).putInt(VERSION);
        b.putInt(crc(b.array(), 0, 12));
        return b.flip();
    }

    static boolean hasMagic(ByteBuffer fileHeader) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (fileHeader.get(i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    static boolean fileHeaderCrcMatches(ByteBuffer fileHeader) {
        return crc(fileHeader.array(), fileHeader.arrayOffset(), 12) == fileHeader.getInt(12);
    }

    static int version(ByteBuffer fileHeader) {
        return fileHeader.getInt(8);
    }

    /** The first 8 bytes of {@code b}, printable, for error messages. */
    static String magicString(ByteBuffer b) {
        StringBuilder s = new StringBuilder("\"");
        for (int i = 0; i < MAGIC.length; i++) {
            int c = b.get(i) & 0xff;
            s.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return s.append('"').toString();
    }

    static ByteBuffer recordHeader(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER_SIZE);
        b.putInt(payload.length).putInt(crc(payload, 0, payload.length));
        b.putInt(crc(b.array(), 0, 8));
        return b.flip();
    }

    /**
     * The payload length of the record header at {@code buf[at..at+12)}, or -1 if the header's checksum does
     * not match or the length is out of range.
     */
    static long payloadLength(ByteBuffer buf, int at) {
        int headerCrc = crc(buf.array(), buf.arrayOffset() + at, 8);
        if (headerCrc != buf.getInt(at + 8)) {
            return -1;
        }
        long length = Integer.toUnsignedLong(buf.getInt(at));
        return length <= MAX_PAYLOAD ? length : -1;
    }

    static int payloadCrc(ByteBuffer buf, int at) {
        return buf.getInt(at + 4);
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
