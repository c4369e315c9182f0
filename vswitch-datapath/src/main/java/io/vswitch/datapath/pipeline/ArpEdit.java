package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;
import io.vswitch.datapath.flow.Parser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * OpenFlow edits of an Ethernet/IPv4 ARP packet's fields (RFC 826: op at 6, SHA at 8, SPA at 14,
 * THA at 18, TPA at 24); ARP has no checksum. A packet that is not ARP is left alone, as OVS does.
 */
final class ArpEdit {
    private ArpEdit() {}

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    static void apply(MemorySegment m, long frame, int layers, int op, long arg, long[] keys, int base) {
        int l3 = Parser.l3Offset(layers);
        if (l3 == Parser.NONE || FlowKey.dlType(keys, base) != FlowKey.ETH_TYPE_ARP) return;
        long arp = frame + l3;
        switch (op) {
            case OfRule.SET_ARP_OP -> {
                m.set(U16, arp + 6, (short) arg);
                // the key keeps opcodes up to 255 in nw_proto, as the parser does
                long l3word = keys[base + FlowKey.W_L3] & ~(0xffL << 16);
                keys[base + FlowKey.W_L3] = arg <= 0xff ? l3word | (arg & 0xff) << 16 : l3word;
            }
            case OfRule.SET_ARP_SPA, OfRule.SET_ARP_TPA -> {
                boolean spa = op == OfRule.SET_ARP_SPA;
                m.set(U32, arp + (spa ? 14 : 24), (int) arg);
                int shift = spa ? 32 : 0;
                keys[base + FlowKey.W_IPV4] = keys[base + FlowKey.W_IPV4] & ~(0xffffffffL << shift) | (arg & 0xffffffffL) << shift;
            }
            case OfRule.SET_ARP_SHA, OfRule.SET_ARP_THA -> {
                boolean sha = op == OfRule.SET_ARP_SHA;
                long at = arp + (sha ? 8 : 18);
                m.set(U16, at, (short) (arg >>> 32));
                m.set(U32, at + 2, (int) arg);
                keys[base + (sha ? FlowKey.W_ARP_SHA : FlowKey.W_ARP_THA)] = arg & 0xffff_ffff_ffffL;
            }
            default -> { }
        }
    }
}
