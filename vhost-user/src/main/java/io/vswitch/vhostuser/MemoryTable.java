package io.vswitch.vhostuser;

import io.vswitch.datapath.sys.Libc;

import java.lang.foreign.MemorySegment;

/**
 * The guest's memory as the frontend described it in SET_MEM_TABLE: up to {@link #MAX_REGIONS}
 * regions, each a file descriptor mapped into this process.
 *
 * <pre>
 *   region i:  guest physical [gpa[i], gpa[i] + size[i])   (what descriptors point at)
 *              frontend virtual [uva[i], uva[i] + size[i])  (what SET_VRING_ADDR points at)
 *              here: segment[i], byteSize() == size[i]       (mmap of the fd from 0, sliced at mmap_offset)
 * </pre>
 *
 * A guest is untrusted: every address it hands over goes through {@link #region}, and all reads and
 * writes go through the region's bounds-checked segment, so nothing outside the regions is ever
 * touched. Buffers that continue from one region into the next are copied piecewise. Immutable once
 * built; a new table replaces it and the old one is unmapped only when no PMD can use it.
 */
public final class MemoryTable {
    /** VHOST_MEMORY_BASELINE_NREGIONS: the spec's limit without CONFIGURE_MEM_SLOTS. */
    public static final int MAX_REGIONS = 8;

    public static final MemoryTable EMPTY = new MemoryTable(new long[0], new long[0], new long[0], new MemorySegment[0], new MemorySegment[0]);

    private final long[] gpa;
    private final long[] size;
    private final long[] uva;
    private final MemorySegment[] segment;
    private final MemorySegment[] mappings;

    private MemoryTable(long[] gpa, long[] size, long[] uva, MemorySegment[] segment, MemorySegment[] mappings) {
        this.gpa = gpa;
        this.size = size;
        this.uva = uva;
        this.segment = segment;
        this.mappings = mappings;
    }

    /**
     * Maps the regions ({@code regions[4*i ..]} = guest address, size, frontend address, mmap offset)
     * from their fds; closes the fds, which the mappings no longer need. Throws
     * {@link IllegalArgumentException} for an invalid description, unmapping what it had mapped.
     */
    public static MemoryTable map(long[] regions, int[] fds) {
        int n = regions.length / 4;
        if (n < 1 || n > MAX_REGIONS) throw new IllegalArgumentException("SET_MEM_TABLE with " + n + " regions (1 to " + MAX_REGIONS + " allowed)");
        if (fds.length != n) throw new IllegalArgumentException("SET_MEM_TABLE with " + n + " regions but " + fds.length + " file descriptors");
        long[] gpa = new long[n];
        long[] size = new long[n];
        long[] uva = new long[n];
        MemorySegment[] segment = new MemorySegment[n];
        MemorySegment[] mappings = new MemorySegment[n];
        try {
            for (int i = 0; i < n; i++) {
                gpa[i] = regions[4 * i];
                size[i] = regions[4 * i + 1];
                uva[i] = regions[4 * i + 2];
                long offset = regions[4 * i + 3];
                if (size[i] <= 0 || offset < 0 || size[i] > (1L << 46) || offset > (1L << 46)
                        || gpa[i] + size[i] < gpa[i] || uva[i] + size[i] < uva[i]) {
                    throw new IllegalArgumentException("invalid memory region " + i + ": guest 0x" + Long.toHexString(gpa[i])
                            + " size 0x" + Long.toHexString(size[i]) + " offset 0x" + Long.toHexString(offset));
                }
                for (int j = 0; j < i; j++) {
                    if (gpa[i] < gpa[j] + size[j] && gpa[j] < gpa[i] + size[i]) {
                        throw new IllegalArgumentException("memory regions " + j + " and " + i + " overlap in guest physical memory");
                    }
                }
                // Touching a mapped page beyond the file's end raises SIGBUS: refuse regions longer than their file.
                long fileSize;
                try {
                    fileSize = io.vswitch.vhostuser.sys.UnixSocket.fileSize(fds[i]);
                    if (offset + size[i] > fileSize) {
                        throw new IllegalArgumentException("memory region " + i + " (offset 0x" + Long.toHexString(offset) + ", size 0x"
                                + Long.toHexString(size[i]) + ") runs past the end of its file (0x" + Long.toHexString(fileSize) + " bytes)");
                    }
                    mappings[i] = Libc.mmapSharedLazy(fds[i], offset + size[i], 0, "mmap guest memory region " + i);
                } catch (IllegalArgumentException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
                segment[i] = mappings[i].asSlice(offset, size[i]);
            }
        } catch (RuntimeException e) {
            for (MemorySegment m : mappings) if (m != null) Libc.munmap(m);
            throw e;
        } finally {
            for (int fd : fds) Libc.close(fd);
        }
        return new MemoryTable(gpa, size, uva, segment, mappings);
    }

    public long totalSize() {
        long t = 0;
        for (long s : size) t += s;
        return t;
    }

    /** The region holding guest physical address {@code addr}, or -1. */
    public int region(long addr) {
        for (int i = 0; i < gpa.length; i++) {
            if (Long.compareUnsigned(addr - gpa[i], size[i]) < 0) return i;
        }
        return -1;
    }

    /** The region holding all {@code length} bytes at guest physical {@code addr}, or -1 (none, or they cross regions). */
    public int region(long addr, long length) {
        for (int i = 0; i < gpa.length; i++) {
            long off = addr - gpa[i];
            if (Long.compareUnsigned(off, size[i]) < 0) return length >= 0 && off + length <= size[i] ? i : -1;
        }
        return -1;
    }

    /** Offset of guest physical {@code addr} in {@code segment(r)}. */
    public long offset(int r, long addr) {
        return addr - gpa[r];
    }

    public MemorySegment segment(int r) {
        return segment[r];
    }

    /**
     * The {@code length} bytes at guest physical {@code addr} as one segment, or null if they are not
     * all inside one region (rings and indirect tables must be contiguous here).
     */
    public MemorySegment slice(long addr, long length) {
        int r = region(addr);
        if (r < 0 || length < 0 || addr - gpa[r] + length > size[r]) return null;
        return segment[r].asSlice(addr - gpa[r], length);
    }

    /** Like {@link #slice} for a frontend virtual address (SET_VRING_ADDR). */
    public MemorySegment sliceUser(long addr, long length) {
        for (int i = 0; i < uva.length; i++) {
            long off = addr - uva[i];
            if (Long.compareUnsigned(off, size[i]) < 0) {
                return off + length > size[i] || length < 0 ? null : segment[i].asSlice(off, length);
            }
        }
        return null;
    }

    /** Frontend virtual address → guest physical address, or -1 (dirty logging of the used ring). */
    public long userToGuest(long addr) {
        for (int i = 0; i < uva.length; i++) {
            long off = addr - uva[i];
            if (Long.compareUnsigned(off, size[i]) < 0) return gpa[i] + off;
        }
        return -1;
    }

    /**
     * Copies {@code length} bytes from guest physical {@code addr} to {@code dst} at {@code dstOffset};
     * false (nothing meaningful copied) if any byte lies outside the regions.
     */
    public boolean read(long addr, int length, MemorySegment dst, long dstOffset) {
        while (length > 0) {
            int r = region(addr);
            if (r < 0) return false;
            long off = addr - gpa[r];
            int n = (int) Math.min(length, size[r] - off);
            MemorySegment.copy(segment[r], off, dst, dstOffset, n);
            addr += n;
            dstOffset += n;
            length -= n;
        }
        return true;
    }

    /** Copies {@code length} bytes from {@code src} to guest physical {@code addr}; false if outside the regions. */
    public boolean write(MemorySegment src, long srcOffset, long addr, int length) {
        while (length > 0) {
            int r = region(addr);
            if (r < 0) return false;
            long off = addr - gpa[r];
            int n = (int) Math.min(length, size[r] - off);
            MemorySegment.copy(src, srcOffset, segment[r], off, n);
            addr += n;
            srcOffset += n;
            length -= n;
        }
        return true;
    }

    /** Unmaps every region; only once no PMD can still use this table. */
    public void unmap() {
        for (MemorySegment m : mappings) Libc.munmap(m);
    }
}
