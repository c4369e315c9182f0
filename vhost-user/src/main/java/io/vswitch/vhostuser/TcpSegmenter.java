package io.vswitch.vhostuser;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.L4Checksum;
import io.vswitch.datapath.packet.PacketPool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Cuts a large TCP frame that a guest handed over with VIRTIO_NET_F_HOST_TSO4/6 (header
 * {@code gso_type} TCPV4 or TCPV6, {@code gso_size} = MSS) into frames of at most MSS payload bytes,
 * as a NIC's segmentation engine would. The switch's packet slots hold {@link PacketPool#DATA_SIZE}
 * bytes and no output port takes large frames, so every frame is cut as it enters the switch.
 *
 * <p>One per receive ring. The connection copies the whole frame out of guest memory into
 * {@link #frame} first (the guest cannot change it afterwards); {@link #stage} checks it, and
 * {@link #emit} writes segments into a batch's receive slots. Each segment is the frame's headers
 * followed by its slice of the payload, with these fields made its own:
 * <pre>
 *   IPv4: total length, identification + i, header checksum      IPv6: payload length
 *   TCP:  sequence number + payload offset; FIN and PSH on the last segment only, CWR on the first
 *         only; the checksum computed in full (pseudo header, header, payload)
 * </pre>
 * A burst holds {@link Batch#MAX} frames and a 64 KiB frame makes up to 45 segments: those left over
 * go out at the start of the ring's next burst ({@link #pending}).
 */
final class TcpSegmenter {
    /** Largest frame taken: a 64 KiB IP datagram behind an Ethernet header and two VLAN tags. */
    static final int MAX_FRAME = 65535 + 14 + 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;

    /** The frame being cut, copied out of guest memory, and how many bytes the copy put there. */
    final MemorySegment frame = Arena.ofAuto().allocate(MAX_FRAME, 64);
    int copied;

    private int length;
    private int headers;
    private int l3;
    private int l4;
    private boolean ipv4;
    private int mss;
    private long addressSum;
    /** Payload offset of the next segment, its number, and how many are still to come. */
    private int next;
    private int index;
    private int left;

    /** Large frames taken, and the segments cut from them (for the port's statistics). */
    long frames;
    long segments;

    /** Whether segments of the staged frame are still to be emitted. */
    boolean pending() {
        return left > 0;
    }

    /** Forgets the staged frame (the connection ended). */
    void clear() {
        left = 0;
    }

    /**
     * Makes the {@code length}-byte frame in {@link #frame} the one to cut into {@code gsoSize}-byte
     * payloads; false (nothing staged) if it is not a TCP frame of the family {@code gsoType} names
     * or its segments would not fit a packet slot.
     */
    boolean stage(int gsoType, int gsoSize, int length) {
        clear();
        MemorySegment f = frame;
        if (length < 14 || length > MAX_FRAME) return false;
        int at = 12;
        int type = Short.toUnsignedInt(f.get(U16, at));
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2 && at + 6 <= length; tags++) {
            at += 4;
            type = Short.toUnsignedInt(f.get(U16, at));
        }
        int l3 = at + 2;
        int end;
        int l4;
        boolean v4 = (gsoType & ~Protocol.GSO_ECN) == Protocol.GSO_TCPV4;
        if (v4) {
            if (type != 0x0800 || l3 + 20 > length) return false;
            int vihl = f.get(ValueLayout.JAVA_BYTE, l3) & 0xff;
            int ihl = (vihl & 15) * 4;
            int total = Short.toUnsignedInt(f.get(U16, l3 + 2));
            if (vihl >> 4 != 4 || ihl < 20 || f.get(ValueLayout.JAVA_BYTE, l3 + 9) != 6
                    || (f.get(U16, l3 + 6) & 0x3fff) != 0 || total < ihl || l3 + total > length) {
                return false;                                    // not IPv4/TCP, a fragment, or truncated
            }
            l4 = l3 + ihl;
            end = l3 + total;
        } else if ((gsoType & ~Protocol.GSO_ECN) == Protocol.GSO_TCPV6) {
            if (type != 0x86dd || l3 + 40 > length) return false;
            int payload = Short.toUnsignedInt(f.get(U16, l3 + 4));
            if ((f.get(ValueLayout.JAVA_BYTE, l3) & 0xf0) != 0x60 || f.get(ValueLayout.JAVA_BYTE, l3 + 6) != 6
                    || l3 + 40 + payload > length) {
                return false;                                    // not IPv6/TCP (extension headers too), or truncated
            }
            l4 = l3 + 40;
            end = l4 + payload;
        } else {
            return false;
        }
        if (l4 + 20 > end) return false;
        int tcpHeader = (f.get(ValueLayout.JAVA_BYTE, l4 + 12) >> 4 & 15) * 4;
        if (tcpHeader < 20 || l4 + tcpHeader > end || gsoSize <= 0 || l4 + tcpHeader + gsoSize > PacketPool.DATA_SIZE) return false;
        long sum = 0;
        for (int a = v4 ? l3 + 12 : l3 + 8, stop = v4 ? l3 + 20 : l3 + 40; a < stop; a += 2) sum += Short.toUnsignedInt(f.get(U16, a));
        this.addressSum = sum;
        this.l3 = l3;
        this.l4 = l4;
        this.ipv4 = v4;
        this.mss = gsoSize;
        this.headers = l4 + tcpHeader;
        this.length = end;
        this.next = 0;
        this.index = 0;
        this.left = Math.max(1, (end - headers + gsoSize - 1) / gsoSize);   // no payload: the headers alone
        frames++;
        return true;
    }

    /** Writes segments into {@code batch}'s receive slots from index {@code k} while both last; returns the next index. */
    int emit(Batch batch, int k) {
        MemorySegment dst = batch.memory();
        while (left > 0 && k < Batch.MAX) {
            int payload = Math.min(mss, length - headers - next);
            boolean last = left == 1;
            long at = batch.rxOffset(k);
            MemorySegment.copy(frame, 0, dst, at, headers);
            MemorySegment.copy(frame, headers + next, dst, at + headers, payload);
            int size = headers + payload;
            if (ipv4) {
                dst.set(U16, at + l3 + 2, (short) (size - l3));
                dst.set(U16, at + l3 + 4, (short) (frame.get(U16, l3 + 4) + index));
                dst.set(U16, at + l3 + 10, (short) 0);
                L4Checksum.complete(dst, at, l4, l3, 10);
            } else {
                dst.set(U16, at + l3 + 4, (short) (size - l4));
            }
            dst.set(U32, at + l4 + 4, frame.get(U32, l4 + 4) + next);
            int flags = frame.get(ValueLayout.JAVA_BYTE, l4 + 13) & 0xff;
            if (!last) flags &= ~(TCP_FIN | TCP_PSH);
            if (index > 0) flags &= ~TCP_CWR;
            dst.set(ValueLayout.JAVA_BYTE, at + l4 + 13, (byte) flags);
            long pseudo = addressSum + 6 + (size - l4);
            while ((pseudo >>> 16) != 0) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
            dst.set(U16, at + l4 + 16, (short) pseudo);
            L4Checksum.complete(dst, at, size, l4, 16);
            batch.offset[k] = at;
            batch.length[k] = size;
            k++;
            next += payload;
            index++;
            left--;
            segments++;
        }
        return k;
    }
}
