package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.tunnel.Tunnels;

/**
 * Everything a PMD needs to forward, as one immutable snapshot. The dataplane's control thread builds
 * a new view for every change and publishes it with a release store; PMDs read it with an acquire
 * load once per iteration, so a PMD never sees a half-applied change and never waits for one.
 */
public final class DatapathView {
    public static final int MAX_PORTS = 1024;
    public static final int MAX_BRIDGES = 256;
    public static final DatapathView EMPTY = new DatapathView(new DpPort[MAX_PORTS], new DpBridge[MAX_BRIDGES], 0, Tunnels.NONE);

    /** Ports by datapath index; null where unused. */
    public final DpPort[] ports;
    /** Bridges by bridge index; null where unused. */
    public final DpBridge[] bridges;
    public final long version;
    /** The ports with a shaper: every PMD iteration releases what their queues may send (usually none). */
    public final DpPort[] shaped;
    /** Tunnel vports, endpoints, routes and neighbours. */
    public final Tunnels tunnels;

    public DatapathView(DpPort[] ports, DpBridge[] bridges, long version, Tunnels tunnels) {
        this.ports = ports;
        this.tunnels = tunnels;
        this.bridges = bridges;
        this.version = version;
        this.shaped = java.util.Arrays.stream(ports).filter(p -> p != null && p.shaper() != null).toArray(DpPort[]::new);
    }

    public DpBridge bridge(String name) {
        for (DpBridge b : bridges) if (b != null && b.name().equals(name)) return b;
        return null;
    }
}
