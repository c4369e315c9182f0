package io.vswitch.vhostuser;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.L4Checksum;
import io.vswitch.datapath.packet.PacketPool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Moves virtio-net frames between a {@link Virtqueue} in guest memory and switch memory, copying
 * (virtio 1.x section 5.1.6). Every frame in guest memory starts with a virtio-net header: 12 bytes
 * when VERSION_1 or MRG_RXBUF is negotiated ({@code num_buffers} at byte 10), else 10. Offloads offered:
 * CSUM, a guest may leave a TCP/UDP checksum to us ({@code NEEDS_CSUM}, {@code csum_start},
 * {@code csum_offset}): where it is the frame's own TCP/UDP checksum the frame stays partial, marked
 * in {@link Batch#partial}, and the pipeline completes it only for outputs that need it whole
 * (anything else is completed as it enters); GUEST_CSUM, a frame marked so goes to the guest with
 * {@code NEEDS_CSUM} and its positions; HOST_TSO4/6, a guest may hand over TCP frames of up to
 * 64 KiB ({@code gso_type}, {@code gso_size}), which {@link TcpSegmenter} cuts into segments (whole
 * checksums) as they enter. Other header fields to the guest are zero but {@code num_buffers}. From a
 * guest that negotiated neither CSUM nor HOST_TSO4/6 the header is not read (it must be zero).
 *
 * <p>Frames from the guest are copied into the PMD's packet slots before anything looks at them, so
 * the guest cannot change a frame after the switch has classified it.
 */
final class VirtioNet {
    private VirtioNet() {}

    static final int MIN_FRAME = 14;

    /** Longest chain of guest rx buffers we fill for one frame (a 64 KiB frame in 4 KiB pages, plus header). */
    private static final long MAX_RX_CHAIN_BYTES = 1 << 17;

    /**
     * Whether {@link #receive} would take anything from {@code vq}. Polls of an idle queue stop here, so
     * they never run {@code receive}: the JIT compiles {@code receive} from a profile of real bursts.
     * When the idle polls ran it too (millions of them between a port's attach and its first frame),
     * its per-frame call sites looked cold, and whether the compiler inlined the memory-table lookup
     * and the used-ring write into it depended on how long the queue had been idle: one process
     * forwarded at 116 ns per packet, the next at 342 with the same code (docs/perf.md).
     */
    static boolean hasWork(Virtqueue vq) {
        TcpSegmenter tso = vq.tso;
        return vq.hasAvail() || tso != null && tso.pending();
    }

    /**
     * Takes up to {@link Batch#MAX} frames the guest transmitted on {@code vq} into {@code batch}
     * (from index 0); returns how many. Every head taken is returned to the guest, good or bad; bad
     * chains and frames are counted in {@code vq.rxErrors}.
     */
    static int receive(Virtqueue vq, int hdrLen, Batch batch) {
        TcpSegmenter tso = vq.tso;
        int k = 0;
        if (tso != null && tso.pending()) {
            k = tso.emit(batch, 0);                           // what is left of the last large frame first
            if (k == Batch.MAX) return k;
        }
        int n = vq.available(0, Batch.MAX - k);
        if (n <= 0) {
            if (n < 0 && vq.newBadAvail()) {
                vq.badChains++;
                vq.rxErrors++;
            }
            return k;
        }
        MemoryTable mem = vq.memory;
        MemorySegment dst = batch.memory();
        boolean headers = vq.hostOffloads;
        // Find the region of each single-buffer frame and touch its first bytes (and its header, when
        // it is read), so that those misses overlap too; the copy loop below uses the region found here.
        int touched = 0;
        for (int i = 0; i < n; i++) {
            int r = -1;
            long first = Integer.toUnsignedLong(vq.firstLen[i]);
            if (vq.firstFlags[i] == 0 && first > hdrLen && first <= hdrLen + PacketPool.DATA_SIZE) {
                long addr = vq.firstAddr[i];
                r = mem.region(addr, first);
                if (r >= 0) {
                    // The header and the frame's start are often on two lines (DPDK puts the header
                    // just before a 64-byte aligned frame).
                    MemorySegment g = mem.segment(r);
                    long off = mem.offset(r, addr);
                    touched += g.get(ValueLayout.JAVA_BYTE, off + hdrLen);
                    if (headers) touched += g.get(ValueLayout.JAVA_BYTE, off);
                }
            }
            vq.firstRegion[i] = r;
        }
        vq.touched = touched;
        for (int i = 0; i < n; i++) {
            long at = batch.rxOffset(k);
            int r = vq.firstRegion[i];
            int len;
            if (r >= 0) {
                // One descriptor with header and frame, in one region (Linux, DPDK): copy the frame, and
                // read each header field we use once (the guest may be changing them meanwhile).
                MemorySegment g = mem.segment(r);
                long off = mem.offset(r, vq.firstAddr[i]);
                int hdr = headers ? Short.toUnsignedInt(g.get(Virtqueue.U16, off)) : 0;   // flags | gso_type << 8
                if (hdr >>> 8 != 0) {
                    len = LARGE;
                } else {
                    len = vq.firstLen[i] - hdrLen;
                    int csumStart = 0;
                    int csumOffset = 0;
                    if ((hdr & Protocol.HDR_F_NEEDS_CSUM) != 0) {
                        csumStart = Short.toUnsignedInt(g.get(Virtqueue.U16, off + 6));
                        csumOffset = Short.toUnsignedInt(g.get(Virtqueue.U16, off + 8));
                    }
                    MemorySegment.copy(g, off + hdrLen, dst, at, len);
                    if ((hdr & Protocol.HDR_F_NEEDS_CSUM) != 0) len = checksum(vq, dst, at, len, csumStart, csumOffset, batch, k);
                }
            } else {
                len = receiveChain(vq, mem, i, hdrLen, dst, at);
                if (len > 0 && headers && (vq.header.get(ValueLayout.JAVA_BYTE, 0) & Protocol.HDR_F_NEEDS_CSUM) != 0) {
                    len = checksum(vq, dst, at, len, Short.toUnsignedInt(vq.header.get(Virtqueue.U16, 6)),
                            Short.toUnsignedInt(vq.header.get(Virtqueue.U16, 8)), batch, k);
                }
            }
            vq.putUsed(i, 0);
            if (len == LARGE) {
                k = cut(vq, mem, i, hdrLen, r >= 0, batch, k);
            } else if (len >= MIN_FRAME) {
                batch.offset[k] = at;
                batch.length[k] = len;
                k++;
            } else {
                if (len < 0) vq.badChains++;
                vq.rxErrors++;
            }
            if (k == Batch.MAX) {
                // Full: a frame cut into segments took more than its one place. What is left of its
                // segments, and the chains after it, go in the next burst (they are not consumed).
                n = i + 1;
                break;
            }
        }
        vq.publishUsed(n);
        return k;
    }

    /** What {@link #receiveChain} returns for a large frame, to be cut into segments. */
    private static final int LARGE = Integer.MIN_VALUE;

    /**
     * A checksum the guest left to us in the {@code len}-byte frame at {@code at}, which will be packet
     * {@code k}: if it is the frame's TCP/UDP checksum where {@link L4Checksum#position} finds it, the
     * frame stays partial, marked in the batch; any other (a header we do not parse, odd offsets) is
     * completed now. Returns the length, or -1 if the offsets lie outside the frame.
     */
    private static int checksum(Virtqueue vq, MemorySegment dst, long at, int len, int start, int offset, Batch batch, int k) {
        if (L4Checksum.position(dst, at, len) == (start << 16 | offset)) {
            batch.partial |= 1L << k;
            vq.partialChecksums++;
            return len;
        }
        return L4Checksum.complete(dst, at, len, start, offset) ? len : -1;
    }

    /**
     * Copies the frame of a descriptor chain into the slot at {@code at} (its header in
     * {@code vq.header}); returns its length, -1 if malformed, or {@link #LARGE} for a frame to cut
     * (then it is in the segmenter's buffer already).
     */
    private static int receiveChain(Virtqueue vq, MemoryTable mem, int chain, int hdrLen, MemorySegment dst, long at) {
        TcpSegmenter tso = vq.tso;
        int len;
        if (tso == null) {
            len = copyIn(vq, mem, vq.walk(chain, false, hdrLen + PacketPool.DATA_SIZE), hdrLen, dst, at);
        } else {
            // Large frames are possible: copy into the segmenter's buffer, and from there into the slot
            // when it is an ordinary frame (chains are the rare case).
            len = copyIn(vq, mem, vq.walk(chain, false, hdrLen + TcpSegmenter.MAX_FRAME), hdrLen, tso.frame, 0);
            if (len > 0 && vq.header.get(ValueLayout.JAVA_BYTE, 1) != 0) {
                tso.copied = len;
                return LARGE;
            }
            if (len > PacketPool.DATA_SIZE) return -1;
            if (len > 0) MemorySegment.copy(tso.frame, 0, dst, at, len);
        }
        if (len <= 0) return -1;
        if (vq.hostOffloads && vq.header.get(ValueLayout.JAVA_BYTE, 1) != 0) return -1;   // gso_type without HOST_TSO
        return len;
    }

    /**
     * Cuts the large frame of chain {@code chain} (HOST_TSO4/6) into segments from batch index
     * {@code k}; returns the next index. A frame found in one buffer is copied into the segmenter's
     * buffer first; its header is read again from there, never from guest memory twice.
     */
    private static int cut(Virtqueue vq, MemoryTable mem, int chain, int hdrLen, boolean oneBuffer, Batch batch, int k) {
        TcpSegmenter tso = vq.tso;
        int len = -1;
        if (tso != null) {
            len = oneBuffer ? copyIn(vq, mem, vq.walk(chain, false, hdrLen + TcpSegmenter.MAX_FRAME), hdrLen, tso.frame, 0) : tso.copied;
            int gso = vq.header.get(ValueLayout.JAVA_BYTE, 1) & 0xff;
            int mss = Short.toUnsignedInt(vq.header.get(Virtqueue.U16, 4));
            if (len > 0 && tso.stage(gso, mss, len)) return tso.emit(batch, k);
        }
        if (len < 0) vq.badChains++;
        vq.rxErrors++;
        return k;
    }

    /** Copies the chain collected in {@code vq} minus its header into {@code dst}; the frame length, or -1. */
    private static int copyIn(Virtqueue vq, MemoryTable mem, int pieces, int hdrLen, MemorySegment dst, long at) {
        if (pieces <= 0) return -1;
        int skip = hdrLen;
        int len = 0;
        for (int p = 0; p < pieces; p++) {
            long addr = vq.chainAddr[p];
            int n = vq.chainLen[p];
            if (skip > 0) {
                int s = Math.min(skip, n);
                if (!mem.read(addr, s, vq.header, hdrLen - skip)) return -1;   // keep the header: offload flags
                skip -= s;
                addr += s;
                n -= s;
            }
            if (n == 0) continue;
            if (!mem.read(addr, n, dst, at + len)) return -1;
            len += n;
        }
        return skip > 0 ? -1 : len;
    }

    /** Why {@link #transmit} stopped early. */
    static final int FULL = 1;
    static final int BAD = 2;

    /**
     * Copies frames {@code from..count-1} into the guest's receive buffers on {@code vq}; returns the
     * index after the last frame delivered. Bit j of {@code partial}: frame j's checksum is partial,
     * its header says so (NEEDS_CSUM, GUEST_CSUM negotiated). {@code vq.stopReason} says why it stopped early: {@link #FULL}
     * (no buffers: worth a retry) or {@link #BAD} (a malformed buffer chain, consumed).
     */
    static int transmit(Virtqueue vq, int hdrLen, boolean mergeable, MemorySegment src, long[] offsets, int[] lengths,
                        long partial, int from, int count) {
        vq.stopReason = 0;
        int ahead = vq.available(0, Math.min(count - from, Virtqueue.BURST));
        if (ahead < 0) {
            if (vq.newBadAvail()) vq.badChains++;
            vq.stopReason = BAD;
            return from;
        }
        // No loads from the buffers before the copies (receive has them): a line the guest's core
        // holds would come over shared, and the store would then take a second trip to own it;
        // stores alone ask for ownership once, and the store buffer overlaps those requests
        // (docs/perf.md, "Alternating variants in one process").
        MemoryTable mem = vq.memory;
        int taken = 0;
        int j = from;
        packets:
        for (; j < count; j++) {
            int len = lengths[j];
            long srcOff = offsets[j];
            int startTaken = taken;
            int written = 0;
            int buffers = 0;
            int hdrRegion = -1;
            long hdrOffset = 0;
            int csum = (partial & 1L << j) == 0 ? -1 : L4Checksum.position(src, srcOff, len);   // csum_start << 16 | csum_offset
            if (taken < ahead && vq.firstFlags[taken] == Virtqueue.F_WRITE
                    && Integer.toUnsignedLong(vq.firstLen[taken]) >= hdrLen + len) {
                // One buffer in one region, large enough for header and frame (the common case).
                long addr = vq.firstAddr[taken];
                int r = mem.region(addr, hdrLen + len);
                if (r >= 0) {
                    MemorySegment g = mem.segment(r);
                    long off = mem.offset(r, addr);
                    MemorySegment.copy(src, srcOff, g, off + hdrLen, len);
                    writeHeader(vq, g, off, hdrLen, csum, 1);
                    if (vq.log != null) vq.log.mark(addr, hdrLen + len);
                    vq.putUsed(taken++, hdrLen + len);
                    continue;
                }
            }
            while (written < len || buffers == 0) {
                if (taken == ahead && (ahead = vq.available(ahead, Virtqueue.BURST)) <= taken) {
                    taken = startTaken;                     // out of buffers: undo this frame, retry later
                    vq.stopReason = FULL;
                    break packets;
                }
                int chain = taken++;
                int pieces = buffers > 0 && !mergeable ? -1   // one buffer per frame, and it was too small
                        : vq.walk(chain, true, MAX_RX_CHAIN_BYTES);
                int skip = 0;
                if (buffers == 0 && pieces > 0 && Integer.toUnsignedLong(vq.chainLen[0]) >= hdrLen) {
                    // The header must sit in the first buffer, in one region.
                    hdrRegion = mem.region(vq.chainAddr[0]);
                    if (hdrRegion >= 0) hdrOffset = mem.offset(hdrRegion, vq.chainAddr[0]);
                    skip = hdrLen;
                }
                int w = buffers == 0 && (hdrRegion < 0 || hdrOffset + hdrLen > mem.segment(hdrRegion).byteSize()) ? -1
                        : fill(vq, mem, pieces, skip, src, srcOff + written, len - written);
                if (w < 0) {
                    // Drop the frame; every buffer it took goes back to the guest empty.
                    vq.badChains++;
                    for (int t = startTaken; t < taken; t++) vq.putUsed(t, 0);
                    vq.stopReason = BAD;
                    break packets;
                }
                vq.putUsed(chain, skip + w);
                written += w;
                buffers++;
            }
            writeHeader(vq, mem.segment(hdrRegion), hdrOffset, hdrLen, csum, buffers);
        }
        vq.publishUsed(taken);
        return j;
    }

    /**
     * The virtio-net header of a frame to the guest: zero, but {@code num_buffers} (12-byte header)
     * and, for a partial checksum ({@code csum} = csum_start << 16 | csum_offset, else -1),
     * NEEDS_CSUM with its positions. Little-endian: flags byte 0, csum_start bytes 6-7, csum_offset 8-9.
     */
    private static void writeHeader(Virtqueue vq, MemorySegment g, long off, int hdrLen, int csum, int buffers) {
        long first = 0;
        int offset = 0;
        if (csum >= 0) {
            first = Protocol.HDR_F_NEEDS_CSUM | (long) (csum >>> 16) << 48;
            offset = csum & 0xffff;
            vq.partialChecksums++;
        }
        g.set(Virtqueue.U64, off, first);
        if (hdrLen == 12) g.set(Virtqueue.U32, off + 8, offset | buffers << 16); else g.set(Virtqueue.U16, off + 8, (short) offset);
    }

    /** Writes up to {@code left} bytes into the chain's pieces after {@code skip} bytes; the count, or -1. */
    private static int fill(Virtqueue vq, MemoryTable mem, int pieces, int skip, MemorySegment src, long srcOff, int left) {
        if (pieces <= 0) return -1;
        int written = 0;
        for (int p = 0; p < pieces && written < left; p++) {
            long addr = vq.chainAddr[p];
            long room = Integer.toUnsignedLong(vq.chainLen[p]);
            if (p == 0) {
                addr += skip;
                room -= skip;
            }
            int n = (int) Math.min(room, left - written);
            if (n > 0 && !mem.write(src, srcOff + written, addr, n)) return -1;
            if (vq.log != null) vq.log.mark(vq.chainAddr[p], n + (p == 0 ? skip : 0));   // the header too
            written += n;
        }
        return written;
    }
}
