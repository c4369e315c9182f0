package io.vswitch.datapath.ipc;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * A packet the dataplane sends to the bridge's controllers (an OpenFlow {@code output:CONTROLLER}), as
 * vswitchd reads it from the events ring. Binary, not a key/value {@link Message}: PMDs write these
 * ({@link PacketInWriter}) and must not allocate.
 *
 * <pre>
 *   0  u16 version     2  u8 reason   3  u8 table id
 *   4  i32 in_port (OpenFlow number)
 *   8  i64 cookie of the flow        16  i64 metadata
 *   24 i32 total length of the frame 28  u16 bridge name length  30 u16 data length
 *   32 bridge name (ASCII, up to 16 bytes)
 *   48 data (the frame as the pipeline had made it, cut to the action's max_len)
 * </pre>
 */
public record PacketIn(String bridge, int reason, int table, int inPort, long cookie, long metadata, int totalLength, byte[] data) {
    /** Message type id in the events ring. */
    public static final int TYPE = 103;
    public static final int VERSION = 1;
    /** OpenFlow 1.3 reasons. */
    public static final int REASON_NO_MATCH = 0, REASON_ACTION = 1, REASON_INVALID_TTL = 2;

    static final int OFF_VERSION = 0, OFF_REASON = 2, OFF_TABLE = 3, OFF_IN_PORT = 4, OFF_COOKIE = 8, OFF_METADATA = 16,
            OFF_TOTAL = 24, OFF_NAME_LEN = 28, OFF_DATA_LEN = 30, OFF_NAME = 32, OFF_DATA = 48;
    static final int MAX_NAME = OFF_DATA - OFF_NAME;

    /** Decodes one record; throws {@link IllegalArgumentException} if it is not one of this version. */
    public static PacketIn decode(DirectBuffer buf, int offset, int length) {
        if (length < OFF_DATA) throw new IllegalArgumentException("packet-in record too short (" + length + " bytes)");
        int version = buf.getShort(offset + OFF_VERSION) & 0xffff;
        if (version != VERSION) throw new IllegalArgumentException("packet-in record version " + version + " not supported");
        int nameLen = buf.getShort(offset + OFF_NAME_LEN) & 0xffff;
        int dataLen = buf.getShort(offset + OFF_DATA_LEN) & 0xffff;
        if (nameLen > MAX_NAME || OFF_DATA + dataLen > length) throw new IllegalArgumentException("packet-in record with bad lengths");
        byte[] name = new byte[nameLen];
        buf.getBytes(offset + OFF_NAME, name);
        byte[] data = new byte[dataLen];
        buf.getBytes(offset + OFF_DATA, data);
        return new PacketIn(new String(name, StandardCharsets.US_ASCII), buf.getByte(offset + OFF_REASON) & 0xff,
                buf.getByte(offset + OFF_TABLE) & 0xff, buf.getInt(offset + OFF_IN_PORT), buf.getLong(offset + OFF_COOKIE),
                buf.getLong(offset + OFF_METADATA), buf.getInt(offset + OFF_TOTAL), data);
    }
}
