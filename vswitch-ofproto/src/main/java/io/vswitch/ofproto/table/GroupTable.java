package io.vswitch.ofproto.table;

import io.vswitch.ofproto.openflow.OfError;
import org.projectfloodlight.openflow.protocol.OFBucket;
import org.projectfloodlight.openflow.protocol.OFGroupMod;
import org.projectfloodlight.openflow.protocol.OFGroupModFailedCode;
import org.projectfloodlight.openflow.protocol.OFGroupType;
import org.projectfloodlight.openflow.protocol.action.OFAction;
import org.projectfloodlight.openflow.protocol.action.OFActionOutput;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A bridge's OpenFlow groups, the authoritative copy (OVS: {@code ofproto}'s group table): group-mods
 * with the specification's checks and error codes, and the counters the dataplane reports. Confined
 * to the OpenFlow event loop, like {@link FlowTables}.
 */
public final class GroupTable {
    /** OFPG_MAX: the highest group number a group may have. */
    public static final long MAX_GROUP = 0xffffff00L;

    /**
     * One group. {@code bucketPackets}/{@code bucketBytes} are its buckets' counters; all counters
     * are those of the dataplane as last reported.
     */
    public record Group(long id, OFGroupType type, List<OFBucket> buckets, long createdNanos,
                       long packets, long bytes, long[] bucketPackets, long[] bucketBytes) {
        Group withCounts(long p, long b, long[] bp, long[] bb) {
            return new Group(id, type, buckets, createdNanos, p, b, bp, bb);
        }
    }

    private final Map<Long, Group> groups = new TreeMap<>();

    /** The groups at one moment. */
    public record Snapshot(Map<Long, Group> groups) {}

    public Snapshot snapshot() {
        return new Snapshot(new TreeMap<>(groups));
    }

    /** Puts back what {@link #snapshot} saw (an OpenFlow 1.4 bundle that failed). */
    public void restore(Snapshot s) {
        groups.clear();
        groups.putAll(s.groups());
    }

    public boolean exists(long id) {
        return groups.containsKey(id);
    }

    public Group get(long id) {
        return groups.get(id);
    }

    /** Groups by ascending number. */
    public Collection<Group> all() {
        return groups.values();
    }

    /**
     * Applies a group-mod, or throws the error it deserves and changes nothing. Returns the numbers
     * of the groups deleted (their flows go with them).
     */
    public List<Long> apply(OFGroupMod gm, long nowNanos) throws OfError {
        long id = gm.getGroup().getGroupNumber() & 0xffffffffL;
        switch (gm.getCommand()) {
            case ADD, MODIFY -> {
                if (id > MAX_GROUP) throw OfError.groupModFailed(OFGroupModFailedCode.INVALID_GROUP, "group " + gm.getGroup() + " is not a group number (at most 0xffffff00)");
                boolean add = gm.getCommand() == org.projectfloodlight.openflow.protocol.OFGroupModCommand.ADD;
                Group old = groups.get(id);
                if (add && old != null) throw OfError.groupModFailed(OFGroupModFailedCode.GROUP_EXISTS, "group " + id + " exists");
                if (!add && old == null) throw OfError.groupModFailed(OFGroupModFailedCode.UNKNOWN_GROUP, "group " + id + " does not exist");
                check(gm.getGroupType(), gm.getBuckets());
                int n = gm.getBuckets().size();
                groups.put(id, new Group(id, gm.getGroupType(), List.copyOf(gm.getBuckets()), add ? nowNanos : old.createdNanos(),
                        0, 0, new long[n], new long[n]));
                return List.of();
            }
            case DELETE -> {
                if (gm.getGroup().equals(OFGroup.ALL)) {
                    List<Long> gone = new ArrayList<>(groups.keySet());
                    groups.clear();
                    return gone;
                }
                // As in OVS, a group other groups go to may be deleted: their buckets then drop there.
                return groups.remove(id) == null ? List.of() : List.of(id);   // deleting a missing group is no error
            }
            default -> throw OfError.groupModFailed(OFGroupModFailedCode.BAD_COMMAND, "unknown group-mod command");
        }
    }

    /** What a group's type allows its buckets to be. */
    private static void check(OFGroupType type, List<OFBucket> buckets) throws OfError {
        if (type == OFGroupType.INDIRECT && buckets.size() != 1) {
            throw OfError.groupModFailed(OFGroupModFailedCode.INVALID_GROUP, "an indirect group has exactly one bucket, not " + buckets.size());
        }
        for (OFBucket b : buckets) {
            if (type != OFGroupType.SELECT && b.getWeight() != 0) {
                throw OfError.groupModFailed(OFGroupModFailedCode.WEIGHT_UNSUPPORTED, "only select groups have bucket weights");
            }
            if (!b.getWatchGroup().equals(OFGroup.ANY)) {
                throw OfError.groupModFailed(OFGroupModFailedCode.WATCH_UNSUPPORTED, "buckets can watch ports, not groups");
            }
            if (type == OFGroupType.FF && b.getWatchPort().equals(OFPort.ANY)) {
                throw OfError.groupModFailed(OFGroupModFailedCode.BAD_WATCH, "a fast-failover bucket needs a watch_port");
            }
            for (OFAction a : b.getActions()) {
                if (a instanceof OFActionOutput o && o.getPort().equals(OFPort.TABLE)) {
                    throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, "output:TABLE is for packet-outs");
                }
            }
            try {
                FlowCheck.actions(b.getActions(), null, g -> true);          // chained groups: checkChains
            } catch (OfError e) {
                throw OfError.groupModFailed(OFGroupModFailedCode.BAD_BUCKET, e.getMessage());
            }
        }
    }

    /** Sets the counts of the group {@code published} was, if no group-mod has replaced it since. */
    public void setCounts(Group published, long packets, long bytes, long[] bucketPackets, long[] bucketBytes) {
        Group g = groups.get(published.id());
        if (g != null && g.buckets() == published.buckets()) groups.put(g.id(), g.withCounts(packets, bytes, bucketPackets, bucketBytes));
    }
}
