package io.vswitch.datapath.tunnel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hashed vport lookup gives exactly what a scan over all vports by OVS's rule gives. */
class TunnelPortMapTest {
    private static final int[] TYPES = {TunnelSpec.VXLAN, TunnelSpec.GRE, TunnelSpec.GENEVE};

    /** OVS's rule, written as plainly as possible: the most specific accepting vport, the lowest index among equals. */
    private static int scan(TunnelSpec[] spec, int type, int dstPort, long key, int src, int dst) {
        int best = -1, bestScore = -1;
        for (int p = 0; p < spec.length; p++) {
            TunnelSpec s = spec[p];
            if (s == null || s.type() != type || (type != TunnelSpec.GRE && s.dstPort() != dstPort)) continue;
            if (!s.inKeyFlow() && s.inKey() != key) continue;
            if (!s.remoteFlow() && s.remoteIp() != src) continue;
            boolean localFixed = !s.localFlow() && s.localIp() != 0;
            if (localFixed && s.localIp() != dst) continue;
            int score = (s.inKeyFlow() ? 0 : 4) + (s.remoteFlow() ? 0 : 2) + (localFixed ? 1 : 0);
            if (score > bestScore) {
                best = p;
                bestScore = score;
            }
        }
        return best;
    }

    private static TunnelSpec spec(Random r) {
        int type = TYPES[r.nextInt(TYPES.length)];
        int dstPort = type == TunnelSpec.GRE ? 0 : r.nextInt(4) == 0 ? 4790 : type == TunnelSpec.VXLAN ? TunnelSpec.VXLAN_PORT : TunnelSpec.GENEVE_PORT;
        boolean remoteFlow = r.nextInt(4) == 0, localFlow = r.nextInt(4) == 0, keyFlow = r.nextInt(4) == 0;
        int local = r.nextInt(3) == 0 ? 0 : 0x0a000001 + r.nextInt(2);
        long key = switch (r.nextInt(20)) {
            case 0 -> 1L << 33;                                            // wider than any key on the wire
            case 1 -> 0xffffffffL;
            default -> r.nextInt(4);
        };
        return new TunnelSpec(type, 0xac100000 + r.nextInt(6), remoteFlow, local, localFlow, key, keyFlow, key, keyFlow, true,
                dstPort, 0, TunnelSpec.INHERIT, false, false);
    }

    @Test
    void everyPacketFindsTheVportTheScanFinds() {
        Random r = new Random(7);
        int found = 0, lookups = 0;
        for (int round = 0; round < 300; round++) {
            TunnelSpec[] spec = new TunnelSpec[64];
            int n = 1 + r.nextInt(round < 150 ? 6 : 60);                  // few vports, often clashing; then many
            for (int i = 0; i < n; i++) spec[r.nextInt(spec.length)] = spec(r);
            int[] vports = java.util.stream.IntStream.range(0, spec.length).filter(p -> spec[p] != null).toArray();
            TunnelPortMap map = new TunnelPortMap(spec, vports);
            for (int k = 0; k < 200; k++) {
                int type = TYPES[r.nextInt(TYPES.length)];
                int dstPort = r.nextInt(4) == 0 ? 4790 : r.nextBoolean() ? TunnelSpec.VXLAN_PORT : TunnelSpec.GENEVE_PORT;
                long key = switch (r.nextInt(12)) {
                    case 0 -> -1;                                          // VXLAN without its I flag
                    case 1 -> 0xffffffffL;                                 // the widest GRE key
                    default -> r.nextInt(5);
                };
                int src = 0xac100000 + r.nextInt(7), dst = 0x0a000001 + r.nextInt(3);
                int expected = scan(spec, type, dstPort, key, src, dst);
                assertEquals(expected, map.find(type, dstPort, key, src, dst),
                        "type " + type + " port " + dstPort + " key " + key + " src " + Integer.toHexString(src) + " dst " + Integer.toHexString(dst));
                lookups++;
                if (expected >= 0) found++;
            }
        }
        assertEquals(true, found > lookups / 10 && found < lookups, found + " of " + lookups + " lookups found a vport: both outcomes tested");
    }
}
