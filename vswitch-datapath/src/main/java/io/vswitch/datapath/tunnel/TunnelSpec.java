package io.vswitch.datapath.tunnel;

import java.util.Map;
import java.util.Set;

/**
 * A tunnel port's configuration from its {@code Interface.options}, with OVS's option names and
 * defaults (vswitchd.conf.db(5), "Tunnel Options"). A field that may come from the flow instead
 * ({@code remote_ip=flow}, {@code key=flow}) has its {@code *Flow} flag set; then the packet's
 * {@code tun_dst}/{@code tun_src}/{@code tun_id} decide, per packet.
 *
 * @param type       {@link #VXLAN}, {@link #GRE} or {@link #GENEVE}
 * @param remoteIp   IPv4 address of the far endpoint (host order), unless {@code remoteFlow}
 * @param localIp    IPv4 source address, 0 for the route's source, unless {@code localFlow}
 * @param inKey      the key a received packet must carry (VNI / GRE key), unless {@code inKeyFlow}
 * @param outKey     the key sent, unless {@code outKeyFlow}
 * @param keyed      GRE only: whether packets carry a key at all (OVS sends no GRE key field unless a key is configured)
 * @param dstPort    the UDP destination port of VXLAN (4789) or Geneve (6081)
 * @param tos        outer IPv4 TOS, or {@link #INHERIT} to copy the inner IP packet's
 * @param ttl        outer IPv4 TTL, or {@link #INHERIT}
 * @param csum       outer UDP checksum (VXLAN, Geneve) / GRE checksum
 * @param df         DF bit on the outer IPv4 header ({@code df_default})
 */
public record TunnelSpec(int type, int remoteIp, boolean remoteFlow, int localIp, boolean localFlow,
                         long inKey, boolean inKeyFlow, long outKey, boolean outKeyFlow, boolean keyed,
                         int dstPort, int tos, int ttl, boolean csum, boolean df) {
    public static final int VXLAN = 1;
    public static final int GRE = 2;
    public static final int GENEVE = 3;
    public static final int INHERIT = -1;
    public static final int VXLAN_PORT = 4789;
    public static final int GENEVE_PORT = 6081;
    public static final int DEFAULT_TTL = 64;

    private static final Set<String> KNOWN = Set.of("remote_ip", "local_ip", "key", "in_key", "out_key", "dst_port", "tos", "ttl",
            "csum", "df_default");

    public static boolean isTunnel(String type) {
        return type.equals("vxlan") || type.equals("gre") || type.equals("geneve");
    }

    /** Parses a port's options; throws {@link IllegalArgumentException} naming the bad option and what to write. */
    public static TunnelSpec parse(String name, String type, Map<String, String> o) {
        int t = switch (type) {
            case "vxlan" -> VXLAN;
            case "gre" -> GRE;
            case "geneve" -> GENEVE;
            default -> throw new IllegalArgumentException(name + ": " + type + " is not a tunnel type");
        };
        for (String k : o.keySet()) {
            if (!KNOWN.contains(k)) {
                throw new IllegalArgumentException(name + ": " + type + " tunnel option '" + k + "' is not supported (supported: "
                        + String.join(", ", new java.util.TreeSet<>(KNOWN)) + ")");
            }
        }
        String remote = o.get("remote_ip");
        if (remote == null || remote.isBlank()) {
            throw new IllegalArgumentException(name + ": " + type + " type requires valid 'remote_ip' argument (an IPv4 address or 'flow')");
        }
        boolean remoteFlow = remote.equals("flow");
        int remoteIp = remoteFlow ? 0 : ipv4(name, "remote_ip", remote);
        if (!remoteFlow && (remoteIp >>> 28) == 0xe) throw new IllegalArgumentException(name + ": multicast remote_ip=" + remote + " not allowed");
        if (!remoteFlow && (remoteIp == 0 || remoteIp == -1)) throw new IllegalArgumentException(name + ": bad " + type + " 'remote_ip' " + remote);
        String local = o.get("local_ip");
        boolean localFlow = "flow".equals(local);
        if (localFlow && !remoteFlow) throw new IllegalArgumentException(name + ": " + type + " type requires 'remote_ip=flow' with 'local_ip=flow'");
        int localIp = local == null || localFlow ? 0 : ipv4(name, "local_ip", local);
        String key = o.get("key");
        String in = o.getOrDefault("in_key", key), out = o.getOrDefault("out_key", key);
        long maxKey = t == GRE ? 0xffffffffL : 0xffffffL;
        boolean inFlow = "flow".equals(in), outFlow = "flow".equals(out);
        long inKey = in == null || inFlow ? 0 : key(name, "in_key", in, maxKey);
        long outKey = out == null || outFlow ? 0 : key(name, "out_key", out, maxKey);
        boolean keyed = t != GRE || in != null || out != null;
        int dstPort = t == GENEVE ? GENEVE_PORT : VXLAN_PORT;
        if (o.containsKey("dst_port")) {
            if (t == GRE) throw new IllegalArgumentException(name + ": dst_port applies to vxlan and geneve tunnels, not " + type);
            dstPort = (int) number(name, "dst_port", o.get("dst_port"), 1, 65535);
        }
        String tosText = o.get("tos"), ttlText = o.get("ttl");
        int tos = tosText == null ? 0 : tosText.equals("inherit") ? INHERIT : (int) number(name, "tos", tosText, 0, 0xfc) & 0xfc;
        int ttl = ttlText == null ? DEFAULT_TTL : ttlText.equals("inherit") ? INHERIT : (int) number(name, "ttl", ttlText, 1, 255);
        boolean csum = bool(name, "csum", o.get("csum"), false);
        boolean df = bool(name, "df_default", o.get("df_default"), true);
        return new TunnelSpec(t, remoteIp, remoteFlow, localIp, localFlow, inKey, inFlow, outKey, outFlow, keyed, dstPort, tos, ttl, csum, df);
    }

    public String typeName() {
        return type == VXLAN ? "vxlan" : type == GENEVE ? "geneve" : "gre";
    }

    /** Parses dotted-quad IPv4 into a host-order int. */
    public static int ipv4(String name, String option, String s) {
        String[] parts = s.trim().split("\\.", -1);
        if (parts.length == 4) {
            int v = 0;
            boolean ok = true;
            for (String p : parts) {
                if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) ok = false;
                else v = v << 8 | Integer.parseInt(p);
            }
            if (ok) return v;
        }
        String hint = s.contains(":") ? " (IPv6 tunnel endpoints are not supported: use IPv4)" : "";
        throw new IllegalArgumentException(name + ": " + option + " '" + s + "' is not an IPv4 address" + hint);
    }

    public static String ipv4(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }

    private static long key(String name, String option, String s, long max) {
        long v;
        try {
            v = s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": " + option + " '" + s + "' is not a number or 'flow'");
        }
        if (Long.compareUnsigned(v, max) > 0) {
            throw new IllegalArgumentException(name + ": " + option + " " + s + " does not fit the header (at most 0x" + Long.toHexString(max) + ")");
        }
        return v;
    }

    private static long number(String name, String option, String s, long min, long max) {
        try {
            long v = Long.parseLong(s.trim());
            if (v >= min && v <= max) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + ": " + option + " '" + s + "' must be a number from " + min + " to " + max);
    }

    private static boolean bool(String name, String option, String s, boolean dflt) {
        if (s == null) return dflt;
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw new IllegalArgumentException(name + ": " + option + " '" + s + "' must be true or false");
    }
}
