package io.vswitch.datapath.tunnel;

/**
 * Which vport a decapsulated packet arrives on (OVS: {@code lib/tnl-ports.c} and
 * {@code ofproto/tunnel.c}'s {@code tnl_find}), in a time that does not grow with the number of
 * vports: a hypervisor in a mesh has a port-based tunnel to every other one, hundreds of vports.
 *
 * <p>A vport accepts a packet by up to three fields, each either configured (fixed) or wild: the
 * key ({@code key}/{@code in_key}, or {@code flow}), the remote address ({@code remote_ip}, or
 * {@code flow}) and the local address ({@code local_ip}, or none / {@code flow}). That makes eight
 * <em>classes</em> of vports. Each vport is put in one open-addressing table under its class and its
 * fixed fields (the wild ones as 0), and a packet is looked up class by class, most specific first
 * (key, then remote, then local: OVS's order), in the classes that have vports; the first hit wins.
 * Among vports of one class and the same fields, the lowest port index wins. A lookup allocates
 * nothing and probes about one slot per class present, usually one or two classes.
 */
final class TunnelPortMap {
    private static final int KEY_FIXED = 4, REMOTE_FIXED = 2, LOCAL_FIXED = 1;

    /** The classes that have vports, most specific first. */
    private final int[] classes;
    /** Open addressing, power-of-two size, at most half full; {@code ports[i] < 0} is an empty slot. */
    private final long[] hi, lo;
    private final int[] ports;
    private final int mask;

    TunnelPortMap(TunnelSpec[] spec, int[] vports) {
        int size = Integer.highestOneBit(Math.max(4, vports.length * 2) - 1) << 1;
        hi = new long[size];
        lo = new long[size];
        ports = new int[size];
        java.util.Arrays.fill(ports, -1);
        mask = size - 1;
        boolean[] present = new boolean[8];
        for (int p : vports) {                            // in index order: the lowest index keeps a slot
            TunnelSpec s = spec[p];
            if (!s.inKeyFlow() && (s.inKey() >>> 32) != 0) continue;   // wider than any key on the wire
            int c = classOf(s);
            int dstPort = s.type() == TunnelSpec.GRE ? 0 : s.dstPort();
            long h = hi(c, s.type(), dstPort, s.inKey()), l = lo(c, s.remoteIp(), s.localIp());
            int i = slot(h, l);
            while (ports[i] >= 0 && (hi[i] != h || lo[i] != l)) i = (i + 1) & mask;
            if (ports[i] >= 0) continue;
            hi[i] = h;
            lo[i] = l;
            ports[i] = p;
            present[c] = true;
        }
        int n = 0;
        int[] cs = new int[8];
        for (int c = 7; c >= 0; c--) if (present[c]) cs[n++] = c;
        classes = java.util.Arrays.copyOf(cs, n);
    }

    private static int classOf(TunnelSpec s) {
        boolean localFixed = !s.localFlow() && s.localIp() != 0;
        return (s.inKeyFlow() ? 0 : KEY_FIXED) | (s.remoteFlow() ? 0 : REMOTE_FIXED) | (localFixed ? LOCAL_FIXED : 0);
    }

    /** Class, type, UDP port and key (the fixed ones; 0 where the class is wild). */
    private static long hi(int c, int type, int dstPort, long key) {
        return (long) c << 56 | (long) type << 48 | (long) dstPort << 32 | ((c & KEY_FIXED) != 0 ? key & 0xffffffffL : 0);
    }

    /** Remote and local address (the fixed ones; 0 where the class is wild). */
    private static long lo(int c, int remote, int local) {
        return ((c & REMOTE_FIXED) != 0 ? (long) remote << 32 : 0) | ((c & LOCAL_FIXED) != 0 ? local & 0xffffffffL : 0);
    }

    private int slot(long h, long l) {
        long x = h * 0x9E3779B97F4A7C15L ^ l * 0xC2B2AE3D27D4EB4FL;
        x ^= x >>> 29;
        x *= 0xBF58476D1CE4E5B9L;
        return (int) (x ^ x >>> 32) & mask;
    }

    /** See {@link Tunnels#receivingPort}. */
    int find(int type, int dstPort, long key, int src, int dst) {
        if (type == TunnelSpec.GRE) dstPort = 0;
        boolean noKey = (key >>> 32) != 0;                // not a key at all (VXLAN without its I flag: -1)
        for (int c : classes) {
            if (noKey && (c & KEY_FIXED) != 0) continue;
            long h = hi(c, type, dstPort, key), l = lo(c, src, dst);
            for (int i = slot(h, l); ports[i] >= 0; i = (i + 1) & mask) {
                if (hi[i] == h && lo[i] == l) return ports[i];
            }
        }
        return -1;
    }
}
