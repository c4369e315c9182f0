package io.vswitch.datapath.ipc;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file in the run dir mapped into memory and shared between processes (or a plain off-heap
 * region when both ends run in one JVM, as in tests). Regions of it are wrapped as Agrona buffers.
 */
public final class SharedFile implements AutoCloseable {
    private final MemorySegment segment;
    private final Arena owner;

    /** Creates (replacing any previous file atomically) and maps a zeroed file of {@code size} bytes. */
    public static SharedFile create(Path path, long size) throws IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
        }
        SharedFile f = map(tmp);
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return f;
    }

    /** Maps an existing file read-write. */
    public static SharedFile map(Path path) throws IOException {
        SharedFile f;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Arena arena = Arena.ofShared();
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), arena);
            f = new SharedFile(seg, arena);
        }
        return f;
    }

    /** An anonymous off-heap region, for both ends in one process. */
    public static SharedFile anonymous(long size) {
        Arena arena = Arena.ofShared();
        return new SharedFile(arena.allocate(size, 4096), arena);
    }

    private SharedFile(MemorySegment segment, Arena owner) {
        this.segment = segment;
        this.owner = owner;
    }

    public long size() {
        return segment.byteSize();
    }

    public UnsafeBuffer buffer(long offset, int length) {
        return new UnsafeBuffer(segment.address() + offset, length);
    }

    @Override
    public void close() {
        owner.close();
    }
}
