package io.vswitch.datapath.cache;

import io.vswitch.datapath.flow.FlowKey;

/**
 * A PMD's exact-match cache (OVS: the EMC of {@code lib/dpif-netdev.c}) in front of its
 * {@link MegaflowCache}: a direct-mapped table from a hash of the packet's key to the megaflow
 * entry the last packet with that hash hit. A hit costs one hash and one masked compare, however
 * many masks the megaflow cache holds; the compare is the megaflow's own (its mask and key), so
 * a slot that points at an entry since removed or reused simply misses.
 *
 * <p>The hash covers the words that tell flows apart in practice (input port, tunnel id,
 * addresses, ports); flows differing only elsewhere share a slot and take turns in it, which
 * costs hits, never correctness.
 */
public final class ExactMatchCache {
    public static final int SLOTS = 8192;
    private final int[] entry = new int[SLOTS];
    private final int[] hashes = new int[SLOTS];

    /** The megaflow entry cached for hash {@code h}, or -1. */
    public int lookup(int h) {
        int slot = h & (SLOTS - 1);
        return hashes[slot] == h ? entry[slot] - 1 : -1;
    }

    public void insert(int h, int e) {
        int slot = h & (SLOTS - 1);
        hashes[slot] = h;
        entry[slot] = e + 1;
    }

    public void clear() {
        java.util.Arrays.fill(entry, 0);
        java.util.Arrays.fill(hashes, 0);
    }

    /**
     * The hash of the key at {@code k[base..]}: each word times its own odd constant, the products
     * combined and then mixed ({@link FlowKey#avalanche}). The products do not wait for each other
     * (a chain of dependent multiplies would, on a recirculated packet's single lookup).
     */
    public static int hash(long[] k, int base) {
        long h = k[base + FlowKey.W_IN_PORT] * 0x9E3779B97F4A7C15L
                ^ k[base + FlowKey.W_TUN_ID] * 0xBF58476D1CE4E5B9L
                ^ k[base + FlowKey.W_ETH_DST] * 0x94D049BB133111EBL
                ^ k[base + FlowKey.W_ETH_SRC] * 0xD6E8FEB86659FD93L
                ^ (k[base + FlowKey.W_VLAN] ^ k[base + FlowKey.W_L3]) * 0xFF51AFD7ED558CCDL
                ^ k[base + FlowKey.W_IPV4] * 0xC4CEB9FE1A85EC53L
                ^ (k[base + FlowKey.W_IPV6_DST_LO] ^ k[base + FlowKey.W_IPV6_SRC_LO]) * 0x2545F4914F6CDD1DL
                ^ k[base + FlowKey.W_TP] * 0x9FB21C651E98DF25L;
        return FlowKey.avalanche(h);
    }
}
