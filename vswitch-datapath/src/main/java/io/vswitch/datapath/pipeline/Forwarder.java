package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Parser;
import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.pmd.PmdIo;

import java.lang.foreign.MemorySegment;

/**
 * Runs one received batch through the pipeline and transmits the result: parse every packet into its
 * flow key, apply the bridge's NORMAL action (MAC learning and VLAN-aware forwarding, like OVS's
 * {@code xlate_normal}), stage each output per port, then send one burst per output port.
 *
 * <p>One forwarder per PMD; it allocates nothing after construction. Output staging holds packet
 * references (offsets), not copies: a frame flooded to ten ports with the same encapsulation is
 * written ten times from one buffer. Only a different VLAN encapsulation costs a copy.
 */
public final class Forwarder {
    private static final int NO_VARIANT = Integer.MIN_VALUE;

    private final PmdIo io;
    private final long[][] stagedOffset = new long[DatapathView.MAX_PORTS][];
    private final int[][] stagedLength = new int[DatapathView.MAX_PORTS][];
    private final int[] stagedCount = new int[DatapathView.MAX_PORTS];
    private final int[] dirty = new int[DatapathView.MAX_PORTS];
    private int dirtyCount;
    /** Per packet: length of its tagged / untagged copy in spare slot 0 / 1, or NO_VARIANT. */
    private final int[] taggedLen = new int[Batch.MAX];
    private final int[] untaggedLen = new int[Batch.MAX];

    private long txPackets;
    private long txBursts;

    public Forwarder(PmdIo io) {
        this.io = io;
        for (int p = 0; p < DatapathView.MAX_PORTS; p++) {
            stagedOffset[p] = new long[Batch.MAX];
            stagedLength[p] = new int[Batch.MAX];
        }
    }

    public PmdIo io() {
        return io;
    }

    /** Packets sent since construction (single writer: this PMD). */
    public long txPackets() {
        return txPackets;
    }

    public long txBursts() {
        return txBursts;
    }

    /**
     * Forwards {@code batch}, received on {@code in}, through {@code view}. {@code now} is the
     * dataplane clock in seconds (MAC aging).
     */
    public void process(Batch batch, DpPort in, DatapathView view, int now) {
        int n = batch.count;
        long bytes = 0;
        for (int i = 0; i < n; i++) bytes += batch.length[i];
        in.counters().rxPackets.getAndAdd(n);
        in.counters().rxBytes.getAndAdd(bytes);

        DpBridge bridge = view.bridges[in.bridgeIndex()];
        if (bridge == null) {
            in.counters().rxDropped.getAndAdd(n);
            return;
        }
        MemorySegment mem = batch.memory();
        long[] keys = batch.keys;
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            int base = i * FlowKey.WORDS;
            keys[base + FlowKey.W_IN_PORT] = in.index();
            for (int w = FlowKey.W_METADATA; w < FlowKey.W_ETH_DST; w++) keys[base + w] = 0;
            batch.layers[i] = Parser.parse(mem, batch.offset[i], batch.length[i], keys, base);
            taggedLen[i] = NO_VARIANT;
            untaggedLen[i] = NO_VARIANT;
            if (!normal(batch, i, in, bridge, view, now)) dropped++;
        }
        if (dropped > 0) in.counters().rxDropped.getAndAdd(dropped);
        flush(batch, view);
    }

    /** The NORMAL action for packet i; false if the packet was dropped on input. */
    private boolean normal(Batch batch, int i, DpPort in, DpBridge bridge, DatapathView view, int now) {
        if (batch.length[i] < 14) return false;
        long[] keys = batch.keys;
        int base = i * FlowKey.WORDS;
        int tci = FlowKey.outerTci(keys, base);
        int vlan = in.vlan().inputVlan(tci);
        if (vlan < 0) return false;                       // VLAN not carried by the input port
        long src = keys[base + FlowKey.W_ETH_SRC];
        long dst = keys[base + FlowKey.W_ETH_DST];
        if (isReserved(dst)) return false;                // STP, LACP, CDP, ...: never forwarded
        int dlType = FlowKey.dlType(keys, base);
        if ((dlType == FlowKey.ETH_TYPE_VLAN || dlType == FlowKey.ETH_TYPE_QINQ) && (tci & FlowKey.VLAN_PRESENT) == 0) {
            return false;                                 // a truncated VLAN header: dropped, as OVS does
        }
        MacTable macs = bridge.macs();
        if (!FlowKey.isMulticast(src)) macs.learn(vlan, src, in.index(), now);

        if (!FlowKey.isMulticast(dst)) {
            int out = macs.lookup(vlan, dst, now);
            if (out >= 0) {
                DpPort port = view.ports[out];
                if (port != null && port.bridgeIndex() == in.bridgeIndex() && port.vlan().carries(vlan)) {
                    if (port.index() != in.index()) output(batch, i, port, vlan, tci);
                    return true;                        // learned on the input port: drop, like OVS
                }
            }
        }
        for (DpPort port : bridge.ports()) {            // flood: unknown unicast, broadcast, multicast
            if (port.index() != in.index()) output(batch, i, port, vlan, tci);
        }
        return true;
    }

    /** Stages packet i (or a copy with the encapsulation {@code port} needs) for output on {@code port}. */
    private void output(Batch batch, int i, DpPort port, int vlan, int tci) {
        VlanPolicy policy = port.vlan();
        if (!policy.carries(vlan)) return;
        boolean wantTag = policy.outputTagged(vlan);
        boolean hasTag = (tci & FlowKey.VLAN_PRESENT) != 0;
        long offset = batch.offset[i];
        int length = batch.length[i];
        if (wantTag) {
            if (!hasTag || (tci & FlowKey.VLAN_VID_MASK) != vlan) {
                if (taggedLen[i] == NO_VARIANT) {
                    int newTci = (hasTag ? tci & 0xe000 : 0) | vlan;
                    taggedLen[i] = hasTag
                            ? VlanEdit.rewrite(batch.memory(), offset, length, taggedOffset(batch, i), newTci)
                            : VlanEdit.push(batch.memory(), offset, length, taggedOffset(batch, i), newTci);
                }
                offset = taggedOffset(batch, i);
                length = taggedLen[i];
            }
        } else if (hasTag && !(vlan == 0 && (tci & 0xe000) != 0 && policy.mode() != VlanPolicy.Mode.ACCESS)) {
            // Untagged output; but a priority tag (VID 0, PCP set) stays on trunks, as OVS keeps it.
            if (length < 18) return;
            if (untaggedLen[i] == NO_VARIANT) {
                untaggedLen[i] = VlanEdit.pop(batch.memory(), offset, length, batch.spareOffset(i, 1));
            }
            offset = batch.spareOffset(i, 1);
            length = untaggedLen[i];
        }
        int p = port.index();
        int c = stagedCount[p];
        if (c == 0) dirty[dirtyCount++] = p;
        stagedOffset[p][c] = offset;
        stagedLength[p][c] = length;
        stagedCount[p] = c + 1;
    }

    /** The tagged copy starts 4 bytes into the spare slot's headroom: a 2048-byte frame plus a tag still fits. */
    private static long taggedOffset(Batch batch, int i) {
        return batch.spareOffset(i, 0) - VlanEdit.TAG;
    }

    /** OVS's eth_addr_is_reserved: IEEE 802.1D/Q link-local groups and vendor control protocols. */
    private static boolean isReserved(long dst) {
        long oui = dst >>> 24;
        if (oui == 0x0180c2) return (dst & 0xffffff) <= 0x0f;           // 01:80:c2:00:00:00-0f: STP, pause, LACP, LLDP...
        if (oui == 0x00e02b) {                                          // Extreme EDP, EAPS
            long low = dst & 0xffffff;
            return low == 0 || low == 4 || low == 6;
        }
        if (oui == 0x01000c) {                                          // Cisco
            long low = dst & 0xffffff;
            return low == 0 || low == 0xcccccc || low == 0xcccccd || low == 0xcdcdcd || (low >= 0xccccc0 && low <= 0xccccc7);
        }
        return false;
    }

    /** Forgets staged outputs of a batch whose processing failed (the PMD drops that batch). */
    public void abort() {
        for (int d = 0; d < dirtyCount; d++) stagedCount[dirty[d]] = 0;
        dirtyCount = 0;
    }

    private void flush(Batch batch, DatapathView view) {
        for (int d = 0; d < dirtyCount; d++) {
            int p = dirty[d];
            int count = stagedCount[p];
            stagedCount[p] = 0;
            DpPort port = view.ports[p];
            if (port == null) continue;
            int sent = port.io().txBurst(io, batch.memory(), batch.baseAddress(), stagedOffset[p], stagedLength[p], count);
            long bytes = 0;
            int[] lengths = stagedLength[p];
            for (int j = 0; j < sent; j++) bytes += lengths[j];   // sent packets are a prefix (Port contract)
            port.counters().txPackets.getAndAdd(sent);
            port.counters().txBytes.getAndAdd(bytes);
            txPackets += sent;
            txBursts++;
        }
        dirtyCount = 0;
    }
}
