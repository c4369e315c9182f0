package io.vswitch.datapath.ipc;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One IPC message: a type (the ring buffer's message type id), a format version, a correlation id and
 * a body of string key/value pairs.
 *
 * <pre>
 *   u16 version | u16 reserved | i64 correlation | i32 count | count x (i32 len, utf8 key, i32 len, utf8 value)
 * </pre>
 * Key/value bodies keep the format forward compatible: a newer peer may add keys, an older one ignores
 * them; the version field is bumped only for incompatible changes and a peer refuses versions it does
 * not know. This is control-plane traffic only; nothing here runs per packet.
 */
public record Message(int type, long correlation, Map<String, String> body) {
    public static final int VERSION = 1;

    // vswitchd -> vswitch-dp
    public static final int HELLO = 1;
    public static final int CONFIGURE = 2;
    public static final int ADD_BRIDGE = 3;
    public static final int DEL_BRIDGE = 4;
    public static final int ADD_PORT = 5;
    public static final int DEL_PORT = 6;
    public static final int DUMP_STATE = 7;
    /** A part of a bridge's OpenFlow tables: bridge, generation, part, parts, rules (lines). */
    public static final int SET_FLOWS = 8;
    /**
     * A controller's packet-out: bridge, in_port (OpenFlow number), actions (rule action format),
     * packet (hex). Sent with correlation 0: the dataplane does not answer, a refusal is only logged.
     */
    public static final int PACKET_OUT = 9;
    /** A port-mod's admin state for a port's device: bridge, name, up ("true"/"false"). Sent with correlation 0, like PACKET_OUT. */
    public static final int SET_PORT_ADMIN = 10;

    // vswitch-dp -> vswitchd
    /** Final answer to a command: body "status" = "ok" | "error", "error" = text. */
    public static final int REPLY = 101;
    /** Part of a DUMP_STATE answer: "kind" = "config" | "bridge" | "port". */
    public static final int STATE = 102;

    public static String typeName(int type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case CONFIGURE -> "CONFIGURE";
            case ADD_BRIDGE -> "ADD_BRIDGE";
            case DEL_BRIDGE -> "DEL_BRIDGE";
            case ADD_PORT -> "ADD_PORT";
            case DEL_PORT -> "DEL_PORT";
            case DUMP_STATE -> "DUMP_STATE";
            case SET_FLOWS -> "SET_FLOWS";
            case PACKET_OUT -> "PACKET_OUT";
            case SET_PORT_ADMIN -> "SET_PORT_ADMIN";
            case REPLY -> "REPLY";
            case STATE -> "STATE";
            default -> "type " + type;
        };
    }

    /** Encodes into {@code buf} at 0; returns the length. */
    public int encode(MutableDirectBuffer buf) {
        int p = 0;
        buf.putShort(p, (short) VERSION);
        buf.putShort(p + 2, (short) 0);
        buf.putLong(p + 4, correlation);
        buf.putInt(p + 12, body.size());
        p += 16;
        for (Map.Entry<String, String> e : body.entrySet()) {
            p = putString(buf, p, e.getKey());
            p = putString(buf, p, e.getValue());
        }
        return p;
    }

    private static int putString(MutableDirectBuffer buf, int p, String s) {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        buf.putInt(p, b.length);
        buf.putBytes(p + 4, b);
        return p + 4 + b.length;
    }

    /** Decodes a message; throws {@link IllegalArgumentException} for a malformed or unknown-version body. */
    public static Message decode(int type, DirectBuffer buf, int offset, int length) {
        if (length < 16) throw new IllegalArgumentException("IPC message too short (" + length + " bytes)");
        int version = buf.getShort(offset) & 0xffff;
        if (version != VERSION) throw new IllegalArgumentException("IPC message version " + version + " not supported (expected " + VERSION + ")");
        long correlation = buf.getLong(offset + 4);
        int count = buf.getInt(offset + 12);
        int end = offset + length;
        int p = offset + 16;
        if (count < 0 || count > length) throw new IllegalArgumentException("IPC message with bad field count " + count);
        Map<String, String> body = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String k = getString(buf, p, end);
            p += 4 + buf.getInt(p);
            String v = getString(buf, p, end);
            p += 4 + buf.getInt(p);
            body.put(k, v);
        }
        return new Message(type, correlation, body);
    }

    private static String getString(DirectBuffer buf, int p, int end) {
        if (p + 4 > end) throw new IllegalArgumentException("IPC message truncated");
        int len = buf.getInt(p);
        if (len < 0 || p + 4 + len > end) throw new IllegalArgumentException("IPC message has a bad string length");
        byte[] b = new byte[len];
        buf.getBytes(p + 4, b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
