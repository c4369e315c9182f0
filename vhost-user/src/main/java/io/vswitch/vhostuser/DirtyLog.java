package io.vswitch.vhostuser;

import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The dirty-page log of a live migration (SET_LOG_BASE with LOG_SHMFD, active while the frontend
 * sets VHOST_F_LOG_ALL): a bitmap shared with QEMU, one bit per 4 KiB page of guest physical memory.
 * Every page we write into the guest (frames into its receive buffers, used rings) gets its bit set,
 * so QEMU copies it to the destination again. QEMU reads and clears words concurrently, so bits are
 * set with an atomic OR on whole 64-bit words.
 */
final class DirtyLog {
    private static final int PAGE_SHIFT = 12;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment mapping;
    private final MemorySegment bitmap;

    private DirtyLog(MemorySegment mapping, MemorySegment bitmap) {
        this.mapping = mapping;
        this.bitmap = bitmap;
    }

    /** Maps {@code size} bytes of log at {@code offset} in {@code fd} (closed here). */
    static DirtyLog map(int fd, long size, long offset) {
        try {
            if (size <= 0 || offset < 0 || size > (1L << 40) || offset > (1L << 40) || (offset & 7) != 0) {
                throw new IllegalArgumentException("invalid log: size " + size + ", offset " + offset);
            }
            if (offset + size > io.vswitch.vhostuser.sys.UnixSocket.fileSize(fd)) {
                throw new IllegalArgumentException("log of " + size + " bytes at offset " + offset + " runs past the end of its file");
            }
            MemorySegment m = Libc.mmapSharedLazy(fd, offset + size, 0, "mmap dirty log");
            return new DirtyLog(m, m.asSlice(offset, size & ~7L));
        } catch (io.vswitch.datapath.sys.SysException e) {
            throw new IllegalArgumentException(e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }

    /** Marks the pages of guest physical {@code [addr, addr + length)} dirty (bits beyond the log are ignored). */
    void mark(long addr, long length) {
        if (length <= 0) return;
        long last = (addr + length - 1) >>> PAGE_SHIFT;
        for (long page = addr >>> PAGE_SHIFT; page <= last; page++) {
            long at = (page >>> 6) << 3;
            if (at + 8 > bitmap.byteSize() || at < 0) return;
            long ignored = (long) WORD.getAndBitwiseOr(bitmap, at, 1L << (page & 63));
        }
    }

    void unmap() {
        Libc.munmap(mapping);
    }
}
