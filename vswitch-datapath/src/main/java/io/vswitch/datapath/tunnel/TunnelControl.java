package io.vswitch.datapath.tunnel;

import io.vswitch.datapath.pipeline.DatapathView;
import io.vswitch.datapath.pipeline.DpBridge;
import io.vswitch.datapath.pipeline.DpPort;
import io.vswitch.datapath.port.TunnelPort;
import io.vswitch.datapath.sys.IfAddrs;
import io.vswitch.datapath.sys.NetDevice;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The control-thread side of native tunnelling: what the kernel says of the switch's internal
 * ports (addresses, routes, Ethernet address, MTU; re-read every second), the user's routes
 * ({@code ovs/route/add}), the shared neighbour cache, and the {@link Tunnels} part of every new
 * datapath view built from them. Also the text of the {@code ovs/route/*} and {@code tnl/neigh/*}
 * commands, in OVS's formats. Used under the datapath's lock.
 */
public final class TunnelControl {
    /** What the kernel said, for internal ports, at the last {@link #refresh}. */
    private record Kernel(List<IfAddrs.Address> addresses, List<IfAddrs.KernelRoute> routes, Map<String, Long> macs, Map<String, Integer> mtus) {
        static final Kernel NONE = new Kernel(List.of(), List.of(), Map.of(), Map.of());
    }

    private record UserRoute(int prefix, int plen, String device, int gateway, int src) {}

    /** Where the kernel's view of the internal ports comes from: the kernel, or fixed values in a test. */
    public interface Underlay {
        List<IfAddrs.Address> addresses();

        List<IfAddrs.KernelRoute> routes();

        /** The device's Ethernet address, or -1. */
        long mac(String device);

        /** The device's MTU, or -1. */
        int mtu(String device);

        Underlay KERNEL = new Underlay() {
            public List<IfAddrs.Address> addresses() {
                return IfAddrs.ipv4();
            }

            public List<IfAddrs.KernelRoute> routes() {
                return IfAddrs.routes();
            }

            public long mac(String device) {
                return NetDevice.macAddress(device);
            }

            public int mtu(String device) {
                return NetDevice.mtu(device);
            }
        };
    }

    private Underlay underlay = Underlay.KERNEL;
    private final NeighbourCache neighbours = new NeighbourCache();
    private final List<UserRoute> userRoutes = new ArrayList<>();
    private Kernel kernel = Kernel.NONE;
    /** Counts changes of the user's settings (routes, source port range). */
    private int revision;
    /**
     * The last view part built, and from what: a view published for other reasons (flow tables, a
     * bridge setting) reuses it instead of allocating a new one each time.
     */
    private DpPort[] builtFrom;
    private Kernel builtWith;
    private int builtAt = -1;
    private Tunnels built;
    private int sourcePortMin = Vxlan.SRC_PORT_MIN, sourcePortMax = Vxlan.SRC_PORT_MAX;

    public NeighbourCache neighbours() {
        return neighbours;
    }

    public void useUnderlay(Underlay u) {
        underlay = u;
        kernel = Kernel.NONE;
        revision++;
    }

    /** Re-reads the kernel's view of the internal ports; true if it changed (then publish a new view). */
    public boolean refresh(DpPort[] ports) {
        List<String> internal = internalPorts(ports).stream().map(DpPort::name).toList();
        if (internal.isEmpty()) {
            boolean changed = kernel != Kernel.NONE;
            kernel = Kernel.NONE;
            return changed;
        }
        List<IfAddrs.Address> addrs = underlay.addresses().stream().filter(a -> internal.contains(a.device())).toList();
        List<IfAddrs.KernelRoute> routes = underlay.routes().stream().filter(r -> internal.contains(r.device())).toList();
        Map<String, Long> macs = new HashMap<>();
        Map<String, Integer> mtus = new HashMap<>();
        for (String d : internal) {
            macs.put(d, underlay.mac(d));
            mtus.put(d, underlay.mtu(d));
        }
        Kernel next = new Kernel(addrs, routes, macs, mtus);
        if (next.equals(kernel)) return false;
        kernel = next;
        return true;
    }

    private static List<DpPort> internalPorts(DpPort[] ports) {
        List<DpPort> out = new ArrayList<>();
        for (DpPort p : ports) if (p != null && p.type().equals("internal")) out.add(p);
        return out;
    }

    /** The tunnel part of a view with these ports. */
    public Tunnels build(DpPort[] ports) {
        if (ports == builtFrom && kernel == builtWith && revision == builtAt) return built;
        built = buildNew(ports);
        builtFrom = ports;
        builtWith = kernel;
        builtAt = revision;
        return built;
    }

    private Tunnels buildNew(DpPort[] ports) {
        TunnelSpec[] specs = new TunnelSpec[DatapathView.MAX_PORTS];
        boolean any = false;
        for (DpPort p : ports) {
            if (p != null && p.io() instanceof TunnelPort t) {
                specs[p.index()] = t.spec;
                any = true;
            }
        }
        if (!any) return new Tunnels(specs, new int[0], new int[0], new long[0], new int[0], RouteTable.EMPTY, neighbours, sourcePortMin, sourcePortMax);
        Map<String, DpPort> byName = new HashMap<>();
        for (DpPort p : internalPorts(ports)) byName.put(p.name(), p);
        List<IfAddrs.Address> addrs = kernel.addresses().stream().filter(a -> byName.containsKey(a.device())).toList();
        int n = addrs.size();
        int[] ip = new int[n], port = new int[n], mtu = new int[n];
        long[] mac = new long[n];
        for (int i = 0; i < n; i++) {
            IfAddrs.Address a = addrs.get(i);
            ip[i] = a.ip();
            port[i] = byName.get(a.device()).index();
            mac[i] = kernel.macs().getOrDefault(a.device(), -1L);
            mtu[i] = kernel.mtus().getOrDefault(a.device(), 1500);
        }
        return new Tunnels(specs, ip, port, mac, mtu, new RouteTable(routes(byName)), neighbours, sourcePortMin, sourcePortMax);
    }

    /** Cached routes (the internal ports' addresses and the kernel's routes through them) and user routes. */
    private List<RouteTable.Route> routes(Map<String, DpPort> byName) {
        List<RouteTable.Route> out = new ArrayList<>();
        for (IfAddrs.Address a : kernel.addresses()) {
            DpPort p = byName.get(a.device());
            if (p != null) out.add(new RouteTable.Route(a.ip(), 32, 0, a.ip(), p.index(), a.device(), false, true));
        }
        boolean kernelRoutes = false;
        for (IfAddrs.KernelRoute r : kernel.routes()) {
            DpPort p = byName.get(r.device());
            if (p == null) continue;
            int src = source(r.device(), r.gateway() != 0 ? r.gateway() : r.prefix());
            if (src == 0) continue;
            out.add(new RouteTable.Route(r.prefix(), r.plen(), r.gateway(), src, p.index(), r.device(), false, false));
            kernelRoutes = true;
        }
        if (!kernelRoutes) {                                   // no /proc/net/route: at least the connected subnets
            for (IfAddrs.Address a : kernel.addresses()) {
                DpPort p = byName.get(a.device());
                if (p != null && a.plen() < 32) out.add(new RouteTable.Route(a.ip(), a.plen(), 0, a.ip(), p.index(), a.device(), false, false));
            }
        }
        for (UserRoute u : userRoutes) {
            DpPort p = byName.get(u.device());
            if (p != null) out.add(new RouteTable.Route(u.prefix(), u.plen(), u.gateway(), u.src(), p.index(), u.device(), true, false));
        }
        return out;
    }

    /** The address of {@code device} on the subnet of {@code ip}, else its first address, else 0. */
    private int source(String device, int ip) {
        int first = 0;
        for (IfAddrs.Address a : kernel.addresses()) {
            if (!a.device().equals(device)) continue;
            if (first == 0) first = a.ip();
            if (((a.ip() ^ ip) & RouteTable.mask(a.plen())) == 0) return a.ip();
        }
        return first;
    }

    private int sourceOnSubnet(String device, int ip) {
        for (IfAddrs.Address a : kernel.addresses()) {
            if (a.device().equals(device) && ((a.ip() ^ ip) & RouteTable.mask(a.plen())) == 0) return a.ip();
        }
        return 0;
    }

    // ---- ovs/route/* and tnl/neigh/* (OVS's syntax, replies and formats) ----

    public String routeShow(RouteTable table) {
        StringBuilder sb = new StringBuilder("Route Table:\n");
        List<RouteTable.Route> list = new ArrayList<>(table.routes());
        list.sort(Comparator.comparing((RouteTable.Route r) -> !r.local()).thenComparing(RouteTable.Route::user)
                .thenComparingInt(r -> -r.plen()));
        for (RouteTable.Route r : list) sb.append(r.format()).append('\n');
        return sb.toString();
    }

    /** {@code ovs/route/add IP/PLEN DEV [GW] [src=IP]}; returns OVS's reply or throws with its error text. */
    public String routeAdd(List<String> args, DpPort[] ports) {
        if (args.size() < 2 || args.size() > 4) throw new IllegalArgumentException("usage: ovs/route/add ip/plen output_bridge [gw] [src=src_ip]");
        int[] prefix = prefix(args.get(0));
        String dev = args.get(1);
        int gw = 0, src = 0;
        for (String a : args.subList(2, args.size())) {
            try {
                if (a.startsWith("src=")) src = TunnelSpec.ipv4("route", "src", a.substring(4));
                else if (a.startsWith("pkt_mark=")) throw new IllegalArgumentException("pkt_mark routes are not supported");
                else gw = TunnelSpec.ipv4("route", "gw", a);
            } catch (IllegalArgumentException e) {
                if (e.getMessage().contains("pkt_mark")) throw e;
                throw new IllegalArgumentException("Invalid pkt_mark, IP gateway or src_ip");
            }
        }
        boolean internal = internalPorts(ports).stream().anyMatch(p -> p.name().equals(dev));
        int onLink = sourceOnSubnet(dev, gw != 0 ? gw : prefix[0]);
        if (!internal || onLink == 0 || (src != 0 && sourceOnSubnet(dev, src) != src)) {
            throw new IllegalArgumentException("Error while inserting route."
                    + (internal ? " (" + dev + " has no address on that subnet)" : " (" + dev + " is not an internal port of a bridge)"));
        }
        int s = src != 0 ? src : onLink;
        userRoutes.removeIf(u -> u.prefix() == (prefix[0] & RouteTable.mask(prefix[1])) && u.plen() == prefix[1]);
        userRoutes.add(new UserRoute(prefix[0] & RouteTable.mask(prefix[1]), prefix[1], dev, gw, s));
        revision++;
        return "OK\n";
    }

    public String routeDel(List<String> args) {
        if (args.size() != 1) throw new IllegalArgumentException("usage: ovs/route/del ip/plen");
        int[] p;
        try {
            p = prefix(args.get(0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid parameters");
        }
        boolean removed = userRoutes.removeIf(u -> u.prefix() == (p[0] & RouteTable.mask(p[1])) && u.plen() == p[1]);
        if (!removed) throw new IllegalArgumentException("Not found");
        revision++;
        return "OK\n";
    }

    public String routeLookup(List<String> args, RouteTable table) {
        if (args.size() != 1) throw new IllegalArgumentException("usage: ovs/route/lookup ip_addr");
        int[] p = prefix(args.get(0));
        if (p[1] != 32) throw new IllegalArgumentException("Invalid 'ip/plen' parameter");
        int r = table.lookup(p[0]);
        if (r < 0) throw new IllegalArgumentException("Not found");
        RouteTable.Route route = table.route(r);
        return "src " + TunnelSpec.ipv4(route.src()) + "\ngateway " + (route.gateway() == 0 ? "::" : TunnelSpec.ipv4(route.gateway()))
                + "\ndev " + route.device() + "\n";
    }

    private static int[] prefix(String s) {
        try {
            int slash = s.indexOf('/');
            int ip = TunnelSpec.ipv4("route", "ip", slash < 0 ? s : s.substring(0, slash));
            int plen = slash < 0 ? 32 : Integer.parseInt(s.substring(slash + 1));
            if (plen < 0 || plen > 32) throw new NumberFormatException();
            return new int[] {ip, plen};
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Invalid 'ip/plen' parameter");
        }
    }

    public String neighShow(DatapathView view, int now) {
        StringBuilder sb = new StringBuilder(String.format("%-46s%-20s%s%n", "IP", "MAC", "Bridge"));
        sb.append("=".repeat(74)).append('\n');
        List<NeighbourCache.Entry> entries = new ArrayList<>(neighbours.entries(now));
        entries.sort(Comparator.comparingLong(e -> e.ip() & 0xffffffffL));
        for (NeighbourCache.Entry e : entries) {
            DpPort p = view.ports[e.port()];
            String bridge = p == null ? "?" : p.name();
            sb.append(String.format("%-46s%s   %s%n", TunnelSpec.ipv4(e.ip()), mac(e.mac()), bridge));
        }
        return sb.toString();
    }

    /** {@code tnl/neigh/set BRIDGE IP MAC}. */
    public String neighSet(List<String> args, DatapathView view, int now) {
        if (args.size() != 3) throw new IllegalArgumentException("usage: tnl/neigh/set BRIDGE IP MAC");
        DpBridge b = view.bridge(args.get(0));
        DpPort p = b == null ? null : b.port(args.get(0));
        if (p == null) throw new IllegalArgumentException("no bridge named " + args.get(0));
        int ip;
        try {
            ip = TunnelSpec.ipv4("neigh", "ip", args.get(1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad IP address");
        }
        String m = args.get(2);
        if (!m.matches("\\p{XDigit}{1,2}(:\\p{XDigit}{1,2}){5}")) throw new IllegalArgumentException("bad MAC address");
        long mac = 0;
        for (String part : m.split(":")) mac = mac << 8 | Integer.parseInt(part, 16);
        neighbours.learn(p.index(), ip, mac, now);
        return "OK\n";
    }

    /** {@code tnl/egress_port_range [MIN MAX]}: shows or sets VXLAN's outer UDP source port range. */
    public String egressPortRange(List<String> args) {
        if (args.isEmpty()) return "Tunnel UDP source port range: " + sourcePortMin + "-" + sourcePortMax + "\n";
        if (args.size() != 2) throw new IllegalArgumentException("usage: tnl/egress_port_range [min max]");
        int min, max;
        try {
            min = Integer.parseInt(args.get(0));
            max = Integer.parseInt(args.get(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid port range: use two numbers from 1 to 65535");
        }
        if (min < 1 || max > 65535 || min > max) throw new IllegalArgumentException("Invalid port range: use two numbers from 1 to 65535, the first not above the second");
        sourcePortMin = min;
        sourcePortMax = max;
        revision++;
        return "OK\n";
    }

    public static String mac(long mac) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", mac >>> 40 & 0xff, mac >>> 32 & 0xff, mac >>> 24 & 0xff,
                mac >>> 16 & 0xff, mac >>> 8 & 0xff, mac & 0xff);
    }

    /** {@code Interface.status} keys of a vport: the device its packets leave by, as OVS reports them. */
    public static void putStatus(DpPort vport, Tunnels tunnels, DatapathView view, Map<String, String> status) {
        TunnelSpec s = tunnels.spec[vport.index()];
        if (s == null || s.remoteFlow()) return;
        int r = tunnels.routes.lookup(s.remoteIp());
        if (r < 0) return;
        DpPort out = view.ports[tunnels.routes.port(r)];
        if (out == null) return;
        status.put("tunnel_egress_iface", out.name());
        boolean[] f = NetDevice.upAndRunning(out.name());
        status.put("tunnel_egress_iface_carrier", f != null && f[0] && f[1] ? "up" : "down");
    }

    /** Forgets what a deleted port had (its neighbours). */
    public void portDeleted(DpPort p) {
        if (p.type().equals("internal")) neighbours.flush(p.index());
    }
}
