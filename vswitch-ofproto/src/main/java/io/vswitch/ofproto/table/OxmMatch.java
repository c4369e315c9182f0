package io.vswitch.ofproto.table;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.projectfloodlight.openflow.protocol.match.Match;
import org.projectfloodlight.openflow.protocol.oxm.OFOxm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A flow's match as the flow table reasons about it: its OXM fields, each a value and an explicit
 * mask of the same width (all ones when the field is matched exactly), sorted by field, values
 * already masked. In this form the questions OpenFlow asks of a table are byte arithmetic:
 * <ul>
 *   <li>identity (strict modify/delete, adding a duplicate): equal field lists;</li>
 *   <li>{@link #covers}: every packet the other match accepts, this one accepts (loose modify/delete,
 *       flow-stats filters);</li>
 *   <li>{@link #overlaps}: some packet could match both (CHECK_OVERLAP).</li>
 * </ul>
 */
public final class OxmMatch {
    /** One field: {@code id} is the OXM class and field ({@code class << 7 | field}). */
    public record Field(int id, byte[] value, byte[] mask) {
        boolean exact() {
            for (byte b : mask) if (b != (byte) 0xff) return false;
            return true;
        }
    }

    public static final int OFPXMC_OPENFLOW_BASIC = 0x8000;

    private final Field[] fields;
    private final int hash;

    private OxmMatch(Field[] fields) {
        this.fields = fields;
        // A 64-bit multiply-and-mix over every byte: Arrays.hashCode's 31-polynomial of signed bytes
        // collides for neighbouring addresses (31 * b + c), which made large tables' hash buckets
        // long (100 000 nw_dst flows had 9 122 distinct hash values).
        long h = 1;
        for (Field f : fields) {
            h = (h + f.id) * 0x9E3779B97F4A7C15L;
            for (byte b : f.value) h = (h ^ (b & 0xff)) * 0x100000001B3L;
            if (f.mask != null) for (byte b : f.mask) h = (h ^ (b & 0xff) ^ 0x100) * 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        this.hash = (int) h;
    }

    /** The match of an OpenFlow 1.2+ message (OXM). */
    public static OxmMatch of(Match match) {
        List<Field> list = new ArrayList<>();
        if (match instanceof org.projectfloodlight.openflow.protocol.OFMatchV3 v3) {
            ByteBuf buf = Unpooled.buffer(64);
            for (OFOxm<?> oxm : v3.getOxmList()) {
                buf.clear();
                oxm.writeTo(buf);
                list.add(field(buf));
            }
        }
        list.sort(Comparator.comparingInt(Field::id));
        return new OxmMatch(list.toArray(new Field[0]));
    }

    /** A single OXM (a set_field's field) as a one-field match. */
    public static OxmMatch ofOxm(OFOxm<?> oxm) {
        ByteBuf buf = Unpooled.buffer(32);
        oxm.writeTo(buf);
        return new OxmMatch(new Field[] {field(buf)});
    }

    /** Decodes one serialised OXM TLV: 4-byte header (class, field, hasmask, length), value, mask. */
    private static Field field(ByteBuf b) {
        int header = b.getInt(0);
        int id = header >>> 9;
        boolean hasMask = (header & 0x100) != 0;
        int len = header & 0xff;
        int width = hasMask ? len / 2 : len;
        byte[] value = new byte[width];
        byte[] mask = new byte[width];
        b.getBytes(4, value);
        if (hasMask) b.getBytes(4 + width, mask); else Arrays.fill(mask, (byte) 0xff);
        for (int i = 0; i < width; i++) value[i] &= mask[i];
        return new Field(id, value, mask);
    }

    public static int basic(int field) {
        return OFPXMC_OPENFLOW_BASIC << 7 | field;
    }

    public Field[] fields() {
        return fields.clone();
    }

    /** The field with this id, or null. */
    public Field get(int id) {
        for (Field f : fields) if (f.id == id) return f;
        return null;
    }

    /** The exact value of a field matched without a mask, as an unsigned number; -1 if absent or masked. */
    public long exactValue(int id) {
        Field f = get(id);
        if (f == null || !f.exact() || f.value.length > 8) return -1;
        long v = 0;
        for (byte b : f.value) v = v << 8 | (b & 0xff);
        return v;
    }

    /** Every packet {@code narrower} matches, this matches too (this is the same or more general). */
    public boolean covers(OxmMatch narrower) {
        for (Field mine : fields) {
            Field theirs = narrower.get(mine.id);
            if (theirs == null || theirs.value.length != mine.value.length) return false;
            for (int i = 0; i < mine.value.length; i++) {
                if ((theirs.mask[i] & mine.mask[i]) != mine.mask[i]) return false;          // they care about every bit we do
                if ((theirs.value[i] & mine.mask[i]) != mine.value[i]) return false;        // and want the same there
            }
        }
        return true;
    }

    /** Some packet could match both (no field where both care about a bit and disagree on it). */
    public boolean overlaps(OxmMatch other) {
        for (Field mine : fields) {
            Field theirs = other.get(mine.id);
            if (theirs == null || theirs.value.length != mine.value.length) continue;
            for (int i = 0; i < mine.value.length; i++) {
                int both = mine.mask[i] & theirs.mask[i];
                if ((mine.value[i] & both) != (theirs.value[i] & both)) return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OxmMatch m) || m.hash != hash || m.fields.length != fields.length) return false;
        for (int i = 0; i < fields.length; i++) {
            Field a = fields[i], b = m.fields[i];
            if (a.id != b.id || !Arrays.equals(a.value, b.value) || !Arrays.equals(a.mask, b.mask)) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** An empty match (all wildcards). */
    public static OxmMatch any() {
        return new OxmMatch(new Field[0]);
    }
}
