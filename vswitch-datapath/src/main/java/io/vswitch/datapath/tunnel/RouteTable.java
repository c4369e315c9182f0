package io.vswitch.datapath.tunnel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The switch's own IPv4 routing table for tunnel endpoints (OVS: {@code lib/ovs-router.c}):
 * "Cached" routes copied from the kernel for the switch's {@code internal} ports (their addresses
 * and the kernel's routes through them) and "User" routes from {@code ovs/route/add}. Immutable:
 * the control thread builds a new table when anything changes and publishes it with the
 * datapath view; PMDs look up without locks or allocation.
 *
 * <p>Lookup is longest prefix first (a user route before a cached one of the same length), by a
 * linear scan of entries sorted that way: a host has a handful of routes through its bridges.
 */
public final class RouteTable {
    /** One route; {@code port} is the datapath index of the internal port it leaves by. */
    public record Route(int prefix, int plen, int gateway, int src, int port, String device, boolean user, boolean local) {
        public Route {
            prefix &= mask(plen);
        }

        public String format() {
            StringBuilder sb = new StringBuilder(user ? "User: " : "Cached: ").append(TunnelSpec.ipv4(prefix)).append('/').append(plen)
                    .append(" dev ").append(device);
            if (gateway != 0) sb.append(" GW ").append(TunnelSpec.ipv4(gateway));
            sb.append(" SRC ").append(TunnelSpec.ipv4(src));
            if (local) sb.append(" local");
            return sb.toString();
        }
    }

    public static final RouteTable EMPTY = new RouteTable(List.of());

    private final Route[] routes;
    private final int[] prefix, mask, gateway, src, port;

    public RouteTable(List<Route> list) {
        List<Route> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparingInt((Route r) -> -r.plen()).thenComparing(r -> !r.user()));
        routes = sorted.toArray(new Route[0]);
        int n = routes.length;
        prefix = new int[n];
        mask = new int[n];
        gateway = new int[n];
        src = new int[n];
        port = new int[n];
        for (int i = 0; i < n; i++) {
            prefix[i] = routes[i].prefix();
            mask[i] = mask(routes[i].plen());
            gateway[i] = routes[i].gateway();
            src[i] = routes[i].src();
            port[i] = routes[i].port();
        }
    }

    public static int mask(int plen) {
        return plen == 0 ? 0 : -1 << (32 - plen);
    }

    /** The route for {@code dst}, or -1. */
    public int lookup(int dst) {
        for (int i = 0; i < prefix.length; i++) if ((dst & mask[i]) == prefix[i]) return i;
        return -1;
    }

    public int gateway(int r) {
        return gateway[r];
    }

    public int src(int r) {
        return src[r];
    }

    public int port(int r) {
        return port[r];
    }

    public Route route(int r) {
        return routes[r];
    }

    public List<Route> routes() {
        return List.of(routes);
    }
}
