package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.projectfloodlight.openflow.exceptions.OFParseError;
import org.projectfloodlight.openflow.protocol.OFBucket;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowMod;
import org.projectfloodlight.openflow.protocol.OFGroupMod;
import org.projectfloodlight.openflow.protocol.OFGroupModCommand;
import org.projectfloodlight.openflow.protocol.OFGroupModFailedCode;
import org.projectfloodlight.openflow.protocol.OFGroupType;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionMeter;
import org.projectfloodlight.openflow.protocol.instruction.OFInstruction;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionApplyActions;
import org.projectfloodlight.openflow.protocol.instruction.OFInstructionMeter;
import org.projectfloodlight.openflow.protocol.stat.Stat;
import org.projectfloodlight.openflow.protocol.stat.StatField;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;

import java.util.ArrayList;
import java.util.List;

/**
 * What OpenFlow 1.5 moved, translated at the connection so the switch keeps one model (1.3's):
 * statistics travel as OXS fields, a meter is an action rather than an instruction, and group
 * buckets carry an id and their weight and watch port as properties. openflowj cannot read bucket
 * ids other than its four special values, so group-mods and group descriptions are coded here.
 */
final class Of15 {
    private static final OFFactory OF13 = OFFactories.getFactory(OFVersion.OF_13);
    private static final org.projectfloodlight.openflow.protocol.OFMessageReader<OFAction> ACTIONS =
            OFFactories.getFactory(OFVersion.OF_15).actions().getReader();

    private Of15() {}

    static boolean is15(OFFactory f) {
        return f.getVersion() == OFVersion.OF_15;
    }

    /** The OXS statistics of a flow: duration, idle time, packet and byte counts. */
    static Stat flowStats(long ageNanos, long idleNanos, long packets, long bytes) {
        return new OxsStats(time(ageNanos), time(idleNanos), -1, packets, bytes);
    }

    static Stat aggregateStats(long flows, long packets, long bytes) {
        return new OxsStats(-1, -1, flows, packets, bytes);
    }

    /** OXS time: seconds in the high word, nanoseconds in the low. */
    private static long time(long nanos) {
        long n = Math.max(0, nanos);
        return (n / 1_000_000_000L) << 32 | (n % 1_000_000_000L);
    }

    /**
     * An ofp_stats (OpenFlow 1.5.1 section 7.2.4), written here because openflowj numbers the
     * OXS fields one too low from flow_count on (OVS then reads the packet count as a byte count).
     * Fields that are -1 are left out.
     */
    private record OxsStats(long duration, long idleTime, long flowCount, long packets, long bytes) implements Stat {
        private static final int DURATION = 0, IDLE_TIME = 1, FLOW_COUNT = 3, PACKET_COUNT = 4, BYTE_COUNT = 5;

        @Override
        public void writeTo(ByteBuf out) {
            int start = out.writerIndex();
            out.writeShort(0).writeShort(0);                     // reserved, length
            if (duration >= 0) oxs(out, DURATION, 8).writeLong(duration);
            if (idleTime >= 0) oxs(out, IDLE_TIME, 8).writeLong(idleTime);
            if (flowCount >= 0) oxs(out, FLOW_COUNT, 4).writeInt((int) flowCount);
            oxs(out, PACKET_COUNT, 8).writeLong(packets);
            oxs(out, BYTE_COUNT, 8).writeLong(bytes);
            int length = out.writerIndex() - start;
            out.setShort(start + 2, length).writeZero(-length & 7);   // the length leaves out the padding
        }

        private static ByteBuf oxs(ByteBuf out, int field, int length) {
            return out.writeShort(0x8002).writeByte(field << 1).writeByte(length);   // class OFPXSC_OPENFLOW_BASIC
        }

        @Override
        public OFVersion getVersion() {
            return OFVersion.OF_15;
        }

        @Override
        public <F extends org.projectfloodlight.openflow.types.OFValueType<F>> F get(StatField<F> field) {
            throw new UnsupportedOperationException("written only");
        }

        @Override
        public boolean supports(StatField<?> field) {
            return false;
        }

        @Override
        public Iterable<StatField<?>> getStatFields() {
            return List.of();
        }

        @Override
        public Stat.Builder createBuilder() {
            throw new UnsupportedOperationException("written only");
        }

        @Override
        public void putTo(com.google.common.hash.PrimitiveSink sink) {
            throw new UnsupportedOperationException("written only");
        }
    }

    /** A 1.5 flow-mod as the switch keeps it: a meter action leading the applied actions becomes the meter instruction. */
    static OFFlowMod flowModIn(OFFlowMod fm) throws OfError {
        List<OFInstruction> in = fm.getInstructions(), out = new ArrayList<>(in.size() + 1);
        boolean changed = false;
        for (OFInstruction i : in) {
            if (i instanceof OFInstructionApplyActions apply && apply.getActions().stream().anyMatch(a -> a instanceof OFActionMeter)) {
                List<OFAction> actions = apply.getActions();
                if (!(actions.get(0) instanceof OFActionMeter m) || actions.stream().skip(1).anyMatch(a -> a instanceof OFActionMeter)) {
                    throw OfError.badAction(org.projectfloodlight.openflow.protocol.OFBadActionCode.UNSUPPORTED_ORDER,
                            "a meter action must come first, and only once");
                }
                out.add(OF13.instructions().buildMeter().setMeterId(m.getMeterId()).build());
                out.add(apply.createBuilder().setActions(actions.subList(1, actions.size())).build());
                changed = true;
            } else {
                out.add(i);
            }
        }
        return changed ? fm.createBuilder().setInstructions(out).build() : fm;
    }

    /** A flow's instructions as 1.5 says them: the meter instruction becomes a meter action before the applied actions. */
    static List<OFInstruction> instructionsOut(OFFactory f, List<OFInstruction> instructions) {
        OFInstructionMeter meter = null;
        for (OFInstruction i : instructions) if (i instanceof OFInstructionMeter m) meter = m;
        if (meter == null) return instructions;
        List<OFInstruction> out = new ArrayList<>(instructions.size());
        OFAction action = f.actions().meter(meter.getMeterId());
        boolean placed = false;
        for (OFInstruction i : instructions) {
            if (i instanceof OFInstructionMeter) continue;
            if (i instanceof OFInstructionApplyActions apply) {
                List<OFAction> actions = new ArrayList<>(apply.getActions().size() + 1);
                actions.add(action);
                actions.addAll(apply.getActions());
                out.add(f.instructions().applyActions(actions));
                placed = true;
            } else {
                out.add(i);
            }
        }
        if (!placed) out.add(0, f.instructions().applyActions(List.of(action)));
        return out;
    }

    /**
     * A table-features entry (ofp_table_features, 64 bytes then properties): openflowj's 1.5 writer
     * leaves out the padding that brings each property to a multiple of 8 bytes, so it is put back.
     */
    static ByteBuf tableFeatures(org.projectfloodlight.openflow.protocol.OFTableFeatures entry) {
        ByteBuf raw = Unpooled.buffer(1536);
        entry.writeTo(raw);
        ByteBuf out = Unpooled.buffer(raw.readableBytes() + 128);
        out.writeBytes(raw, 0, 64);
        for (int at = 64; at + 4 <= raw.readableBytes(); ) {
            int len = raw.getUnsignedShort(at + 2);
            out.writeBytes(raw, at, len).writeZero(-len & 7);
            at += len;
        }
        out.setShort(0, out.readableBytes());
        return out;
    }

    // --- groups: the 1.5 encodings (OpenFlow 1.5.1 sections 7.3.4.2 and 7.2.5) ---------------------------

    private static final int BUCKET_PROP_WEIGHT = 0, BUCKET_PROP_WATCH_PORT = 1, BUCKET_PROP_WATCH_GROUP = 2;
    /** OFPG_BUCKET_ALL: the command bucket id of add, modify and delete. */
    private static final long BUCKET_ALL = 0xffffffffL;

    /**
     * Decodes a 1.5 GROUP_MOD into the switch's (1.3) form. Bucket ids are dropped: the switch numbers
     * buckets by position, which is what they are when a controller lists them in order (insert and
     * remove of single buckets, which need ids, are refused).
     */
    static OFGroupMod groupModIn(byte[] raw) throws OfError {
        ByteBuf b = Unpooled.wrappedBuffer(raw);
        try {
            long xid = b.getUnsignedInt(4);
            int command = b.getUnsignedShort(8);
            int type = b.getUnsignedByte(10);
            long group = b.getUnsignedInt(12);
            int bucketsLength = b.getUnsignedShort(16);
            long commandBucket = b.getUnsignedInt(20);
            if (command > 2) throw OfError.groupModFailed(OFGroupModFailedCode.BAD_COMMAND, "insert and remove of buckets are not supported");
            if (commandBucket != BUCKET_ALL) throw OfError.groupModFailed(OFGroupModFailedCode.BAD_COMMAND, "command_bucket_id must be ALL");
            if (type > 3) throw OfError.groupModFailed(OFGroupModFailedCode.BAD_TYPE, "group type " + type);
            if (24 + bucketsLength > raw.length) throw OfError.badRequest(org.projectfloodlight.openflow.protocol.OFBadRequestCode.BAD_LEN, "buckets overrun the message");
            List<OFBucket> buckets = new ArrayList<>();
            int at = 24, end = 24 + bucketsLength;
            while (at < end) {
                int len = b.getUnsignedShort(at), actionsLength = b.getUnsignedShort(at + 2);
                if (len < 8 || at + len > end || 8 + actionsLength > len) {
                    throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "bucket of length " + len + " with " + actionsLength + " bytes of actions");
                }
                List<OFAction> actions = new ArrayList<>();
                ByteBuf a = b.slice(at + 8, actionsLength);
                while (a.isReadable()) {
                    OFAction action = ACTIONS.readFrom(a);
                    if (action == null) throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "truncated action in a bucket");
                    actions.add(action);
                }
                int weight = 0;
                OFPort watchPort = OFPort.ANY;
                OFGroup watchGroup = OFGroup.ANY;
                for (int p = at + 8 + actionsLength; p + 4 <= at + len; ) {
                    int propType = b.getUnsignedShort(p), propLen = b.getUnsignedShort(p + 2);
                    if (propLen < 8 || p + propLen > at + len) throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "bucket property of length " + propLen);
                    switch (propType) {
                        case BUCKET_PROP_WEIGHT -> weight = b.getUnsignedShort(p + 4);
                        case BUCKET_PROP_WATCH_PORT -> watchPort = OFPort.ofInt(b.getInt(p + 4));
                        case BUCKET_PROP_WATCH_GROUP -> watchGroup = OFGroup.of(b.getInt(p + 4));
                        default -> throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "bucket property type " + propType);
                    }
                    p += (propLen + 7) & ~7;
                }
                buckets.add(OF13.buildBucket().setWeight(weight).setWatchPort(watchPort).setWatchGroup(watchGroup).setActions(actions).build());
                at += len;
            }
            OFGroupType groupType = OFGroupType.values()[type];
            OFGroup id = OFGroup.of((int) group);
            return switch (command) {
                case 0 -> OF13.buildGroupAdd().setXid(xid).setGroup(id).setGroupType(groupType).setBuckets(buckets).build();
                case 1 -> OF13.buildGroupModify().setXid(xid).setGroup(id).setGroupType(groupType).setBuckets(buckets).build();
                default -> OF13.buildGroupDelete().setXid(xid).setGroup(id).setGroupType(groupType).build();
            };
        } catch (OFParseError | IndexOutOfBoundsException | IllegalArgumentException e) {
            throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "undecodable bucket: " + e.getMessage());
        }
    }

    /** Whether a message is a 1.5 BUNDLE_ADD_MESSAGE: openflowj's 1.5 codec puts the message at byte 15, the specification at 16. */
    static boolean isBundleAdd(byte[] raw) {
        return raw.length >= 8 && raw[0] == 0x06 && raw[1] == 34;
    }

    /**
     * A 1.5 bundle-add, in the form the switch handles (openflowj's 1.4 message, which has the same
     * fields): bundle id at byte 8, flags at 14, the message from 16 (decoded by the caller).
     */
    static org.projectfloodlight.openflow.protocol.OFBundleAddMsg bundleAddIn(byte[] raw, org.projectfloodlight.openflow.protocol.OFMessage inner) {
        ByteBuf b = Unpooled.wrappedBuffer(raw);
        java.util.Set<org.projectfloodlight.openflow.protocol.OFBundleFlags> flags = java.util.EnumSet.noneOf(org.projectfloodlight.openflow.protocol.OFBundleFlags.class);
        int bits = b.getUnsignedShort(14);
        if ((bits & 1) != 0) flags.add(org.projectfloodlight.openflow.protocol.OFBundleFlags.ATOMIC);
        if ((bits & 2) != 0) flags.add(org.projectfloodlight.openflow.protocol.OFBundleFlags.ORDERED);
        return OFFactories.getFactory(OFVersion.OF_14).buildBundleAddMsg().setXid(b.getUnsignedInt(4))
                .setBundleId(org.projectfloodlight.openflow.types.BundleId.of(b.getInt(8))).setFlags(flags).setData(inner).build();
    }

    /** Whether a 1.5 message is one {@link #groupModIn} decodes (openflowj cannot). */
    static boolean isGroupMod(byte[] raw) {
        return raw.length >= 24 && raw[0] == 0x06 && raw[1] == 15;
    }

    /** One group description entry (ofp_group_desc, 1.5) with buckets numbered by position. */
    static void writeGroupDesc(ByteBuf out, OFGroupType type, long group, List<OFBucket> buckets, boolean select) {
        int start = out.writerIndex();
        out.writeShort(0).writeByte(type.ordinal()).writeByte(0).writeInt((int) group);
        int bucketsLengthAt = out.writerIndex();
        out.writeShort(0).writeZero(6);
        int bucketsStart = out.writerIndex();
        for (int id = 0; id < buckets.size(); id++) {
            OFBucket bucket = buckets.get(id);
            int bucketStart = out.writerIndex();
            out.writeShort(0).writeShort(0).writeInt(id);
            int actionsStart = out.writerIndex();
            for (OFAction a : bucket.getActions()) a.writeTo(out);
            int actionsLength = out.writerIndex() - actionsStart;
            if (select) out.writeShort(BUCKET_PROP_WEIGHT).writeShort(8).writeShort(bucket.getWeight()).writeZero(2);
            if (!bucket.getWatchPort().equals(OFPort.ANY)) out.writeShort(BUCKET_PROP_WATCH_PORT).writeShort(8).writeInt(bucket.getWatchPort().getPortNumber());
            if (!bucket.getWatchGroup().equals(OFGroup.ANY)) out.writeShort(BUCKET_PROP_WATCH_GROUP).writeShort(8).writeInt(bucket.getWatchGroup().getGroupNumber());
            out.setShort(bucketStart, out.writerIndex() - bucketStart).setShort(bucketStart + 2, actionsLength);
        }
        out.setShort(bucketsLengthAt, out.writerIndex() - bucketsStart);
        out.setShort(start, out.writerIndex() - start);
    }
}
