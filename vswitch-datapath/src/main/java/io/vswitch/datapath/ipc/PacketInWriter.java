package io.vswitch.datapath.ipc;

import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A PMD's end of the events ring: writes one {@link PacketIn} record straight from packet memory into
 * the shared ring (claim, fill, commit), without allocating or blocking. A full ring refuses the
 * record; the caller counts the drop. The ring is many-to-one, so every PMD has its own writer. The
 * reader may sleep on the ring's {@link Doorbell}; a write rings it.
 */
public final class PacketInWriter {
    private final RingBuffer ring;
    private final Doorbell bell;
    /** The ring's memory, for copying frames in with one bulk copy. */
    private final MemorySegment ringMemory;

    public PacketInWriter(RingBuffer ring, Doorbell bell) {
        this.ring = ring;
        this.bell = bell;
        this.ringMemory = MemorySegment.ofAddress(ring.buffer().addressOffset()).reinterpret(ring.buffer().capacity());
    }

    /**
     * Writes a packet-in of the {@code length} bytes at {@code offset} in {@code packet}, cut to
     * {@code maxLen}; false if the ring has no room.
     */
    public boolean write(String bridge, int reason, int table, int inPort, long cookie, long metadata,
                         MemorySegment packet, long offset, int length, int maxLen) {
        int dataLen = Math.min(Math.min(length, maxLen), 0xffff);
        int nameLen = Math.min(bridge.length(), PacketIn.MAX_NAME);
        int at = ring.tryClaim(PacketIn.TYPE, PacketIn.OFF_DATA + dataLen);
        if (at <= 0) return false;
        try {
            fill(at, bridge, reason, table, inPort, cookie, metadata, packet, offset, length, dataLen, nameLen);
        } catch (RuntimeException e) {
            ring.abort(at);                               // a claim left open would block the reader for good
            throw e;
        }
        ring.commit(at);
        bell.ring();                                      // a system call only if the reader sleeps
        return true;
    }

    private void fill(int at, String bridge, int reason, int table, int inPort, long cookie, long metadata,
                      MemorySegment packet, long offset, int length, int dataLen, int nameLen) {
        var b = ring.buffer();
        b.putShort(at + PacketIn.OFF_VERSION, (short) PacketIn.VERSION);
        b.putByte(at + PacketIn.OFF_REASON, (byte) reason);
        b.putByte(at + PacketIn.OFF_TABLE, (byte) table);
        b.putInt(at + PacketIn.OFF_IN_PORT, inPort);
        b.putLong(at + PacketIn.OFF_COOKIE, cookie);
        b.putLong(at + PacketIn.OFF_METADATA, metadata);
        b.putInt(at + PacketIn.OFF_TOTAL, length);
        b.putShort(at + PacketIn.OFF_NAME_LEN, (short) nameLen);
        b.putShort(at + PacketIn.OFF_DATA_LEN, (short) dataLen);
        for (int c = 0; c < nameLen; c++) b.putByte(at + PacketIn.OFF_NAME + c, (byte) bridge.charAt(c));   // bridge names are ASCII
        MemorySegment.copy(packet, JAVA_BYTE, offset, ringMemory, JAVA_BYTE, at + PacketIn.OFF_DATA, dataLen);
    }
}
