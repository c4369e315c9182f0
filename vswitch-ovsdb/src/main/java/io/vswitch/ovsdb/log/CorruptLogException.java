package io.vswitch.ovsdb.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A log is damaged somewhere other than at its tail (or in its file header), so committed transactions
 * may be missing. {@link DurableLog#open} refuses such a file and leaves it untouched; an operator has to
 * decide what to do (restore a backup, or cut the file at {@link #offset()} and accept the loss).
 */
public final class CorruptLogException extends IOException {
    private final transient Path file;
    private final long offset;

    CorruptLogException(Path file, long offset, String detail) {
        super(file + ": corrupt at byte offset " + offset + ": " + detail);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    /** Byte offset in the file of the first damaged record (0 for the file header). */
    public long offset() {
        return offset;
    }
}
