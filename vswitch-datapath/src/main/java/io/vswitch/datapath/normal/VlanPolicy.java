package io.vswitch.datapath.normal;

import io.vswitch.datapath.flow.FlowKey;

import java.util.BitSet;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a port carries VLANs, with OVS's {@code Port} column semantics ({@code tag}, {@code trunks},
 * {@code vlan_mode}):
 * <ul>
 *   <li>{@code access}: untagged (or priority-tagged) frames belong to {@code tag}; tagged frames are
 *       dropped; output is untagged.</li>
 *   <li>{@code trunk}: a frame's VLAN is its tag, or 0 if untagged; it must be in {@code trunks}
 *       (empty = all VLANs); output is tagged except VLAN 0.</li>
 *   <li>{@code native-tagged}: like trunk, but untagged frames belong to {@code tag}; output always
 *       tagged. Like OVS, a native port never carries VLAN 0 (unless its tag is 0).</li>
 *   <li>{@code native-untagged}: like native-tagged, but {@code tag} is output untagged.</li>
 * </ul>
 * Without {@code vlan_mode}, a port with a tag is an access port, otherwise a trunk.
 */
public final class VlanPolicy {
    public enum Mode {
        ACCESS, TRUNK, NATIVE_TAGGED, NATIVE_UNTAGGED;

        public String ovsName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Mode parse(String s) {
            for (Mode m : values()) if (m.ovsName().equals(s)) return m;
            throw new IllegalArgumentException("invalid vlan_mode '" + s
                    + "': use access, trunk, native-tagged or native-untagged");
        }
    }

    public static final VlanPolicy TRUNK_ALL = new VlanPolicy(null, -1, new BitSet());

    private final Mode mode;
    private final int tag;
    private final BitSet trunks;       // as configured (empty = all), for display
    private final long[] carried;      // 4096-bit membership, precomputed for the fast path

    /**
     * @param mode   explicit vlan_mode or null for OVS's default
     * @param tag    0..4095 or -1 for none
     * @param trunks configured trunks; empty means all VLANs
     */
    public VlanPolicy(Mode mode, int tag, BitSet trunks) {
        if (tag > 4095) throw new IllegalArgumentException("invalid tag " + tag + ": use 0 to 4095");
        if (trunks.length() > 4096) throw new IllegalArgumentException("invalid trunks: VLANs are 0 to 4095");
        Mode effective = mode != null ? mode : (tag >= 0 ? Mode.ACCESS : Mode.TRUNK);
        if (effective != Mode.TRUNK && tag < 0) {
            throw new IllegalArgumentException("vlan_mode " + effective.ovsName() + " needs a tag");
        }
        this.mode = effective;
        this.tag = tag;
        this.trunks = (BitSet) trunks.clone();
        BitSet c = new BitSet(4096);
        if (effective == Mode.ACCESS) {
            c.set(tag);
        } else {
            if (trunks.isEmpty()) c.set(0, 4096); else c.or(trunks);
            if (effective != Mode.TRUNK) {
                c.set(tag);
                if (tag != 0) c.clear(0);   // as OVS: a native port trunks its native VLAN, never VLAN 0
            }
        }
        long[] words = c.toLongArray();
        this.carried = java.util.Arrays.copyOf(words, 64);
    }

    public Mode mode() {
        return mode;
    }

    public int tag() {
        return tag;
    }

    public BitSet trunks() {
        return (BitSet) trunks.clone();
    }

    public boolean carries(int vlan) {
        return (carried[vlan >>> 6] & (1L << vlan)) != 0;
    }

    /**
     * The VLAN a frame received on this port belongs to, or -1 if the port must drop it.
     *
     * @param outerTci the frame's outer TCI with {@link FlowKey#VLAN_PRESENT}, or 0 if untagged
     */
    public int inputVlan(int outerTci) {
        int vid = (outerTci & FlowKey.VLAN_PRESENT) != 0 ? outerTci & FlowKey.VLAN_VID_MASK : 0;
        int vlan;
        if (mode == Mode.ACCESS) {
            if (vid != 0) return -1;
            vlan = tag;
        } else if (mode == Mode.TRUNK) {
            vlan = vid;
        } else {
            vlan = vid == 0 ? tag : vid;
        }
        return carries(vlan) ? vlan : -1;
    }

    /** Whether a frame of {@code vlan} leaves this port tagged (only meaningful if carried). */
    public boolean outputTagged(int vlan) {
        return switch (mode) {
            case ACCESS -> false;
            case TRUNK -> vlan != 0;
            case NATIVE_TAGGED -> true;
            case NATIVE_UNTAGGED -> vlan != tag;
        };
    }

    /** Parses OVS's trunks syntax: "10,20,30-40" or "[10, 20]". */
    public static BitSet parseTrunks(String s) {
        BitSet b = new BitSet();
        String body = s.trim();
        if (body.startsWith("[") && body.endsWith("]")) body = body.substring(1, body.length() - 1);
        for (String part : body.split("[,\\s]+")) {
            if (part.isEmpty()) continue;
            try {
                int dash = part.indexOf('-');
                int lo = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                int hi = dash < 0 ? lo : Integer.parseInt(part.substring(dash + 1));
                if (lo < 0 || hi > 4095 || lo > hi) throw new NumberFormatException();
                b.set(lo, hi + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid trunks '" + s + "': use VLAN ids 0-4095, e.g. 10,20,30-40");
            }
        }
        return b;
    }

    public static String formatTrunks(BitSet b) {
        return b.stream().mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VlanPolicy v && v.mode == mode && v.tag == tag && v.trunks.equals(trunks);
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + tag;
    }
}
