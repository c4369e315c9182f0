package io.vswitch.datapath.tunnel;

import io.vswitch.datapath.pipeline.DatapathView;

import java.util.Arrays;

/**
 * The tunnel part of a datapath view (OVS: {@code ofproto/tunnel.c}'s port map and
 * {@code lib/tnl-ports.c}), immutable like the rest of the view: which ports are tunnel vports
 * (their {@link TunnelSpec}), which internal ports terminate tunnels (the local endpoint
 * addresses, Ethernet address and MTU of each), the routing table, and the shared neighbour cache.
 *
 * <p>The PMD consults {@link #role} on every output: a {@link #VPORT} encapsulates, an
 * {@link #ENDPOINT} may decapsulate (a packet to one of its addresses on a tunnel's UDP port, or GRE)
 * or snoop an ARP reply. Without tunnel ports no port has a role, so plain bridges pay one array
 * load per output.
 */
public final class Tunnels {
    public static final byte VPORT = 1, ENDPOINT = 2;
    public static final Tunnels NONE = new Tunnels(new TunnelSpec[DatapathView.MAX_PORTS], new int[0], new int[0], new long[0],
            new int[0], RouteTable.EMPTY, new NeighbourCache(), Vxlan.SRC_PORT_MIN, Vxlan.SRC_PORT_MAX);

    /** By port index: 0, {@link #VPORT} or {@link #ENDPOINT}. */
    public final byte[] role = new byte[DatapathView.MAX_PORTS];
    /** By port index: the vport's configuration, or null. */
    public final TunnelSpec[] spec;
    /** Tunnel vports' indexes. */
    private final int[] vports;
    /** Matches a received packet to its vport. */
    private final TunnelPortMap portMap;
    /** Local endpoint addresses and, at the same position, the internal port that has each. */
    private final int[] endpointIp, endpointPort;
    /** By port index, for endpoints: Ethernet address and MTU of the internal port's device. */
    public final long[] mac = new long[DatapathView.MAX_PORTS];
    public final int[] mtu = new int[DatapathView.MAX_PORTS];
    /** UDP destination ports of the VXLAN and Geneve vports, and the type listening on each. */
    private final int[] udpPorts, udpTypes;
    public final boolean gre;
    public final RouteTable routes;
    public final NeighbourCache neighbours;
    /** The outer UDP source ports of VXLAN and Geneve: {@code [sourcePortMin, sourcePortMin + sourcePortSpan)}. */
    public final int sourcePortMin, sourcePortSpan;

    /**
     * @param endpointMac by endpoint entry: the Ethernet address of its port's device
     * @param endpointMtu by endpoint entry: its device's MTU
     */
    public Tunnels(TunnelSpec[] spec, int[] endpointIp, int[] endpointPort, long[] endpointMac, int[] endpointMtu,
                   RouteTable routes, NeighbourCache neighbours, int sourcePortMin, int sourcePortMax) {
        this.spec = spec;
        this.sourcePortMin = sourcePortMin;
        this.sourcePortSpan = sourcePortMax - sourcePortMin;
        this.routes = routes;
        this.neighbours = neighbours;
        int[] vp = new int[spec.length];
        int n = 0;
        boolean anyGre = false;
        java.util.Map<Integer, Integer> udp = new java.util.TreeMap<>();
        for (int p = 0; p < spec.length; p++) {
            if (spec[p] == null) continue;
            vp[n++] = p;
            role[p] = VPORT;
            if (spec[p].type() == TunnelSpec.GRE) anyGre = true; else udp.putIfAbsent(spec[p].dstPort(), spec[p].type());
        }
        this.vports = Arrays.copyOf(vp, n);
        this.portMap = new TunnelPortMap(spec, vports);
        this.gre = anyGre;
        this.udpPorts = udp.keySet().stream().mapToInt(Integer::intValue).toArray();
        this.udpTypes = udp.values().stream().mapToInt(Integer::intValue).toArray();
        boolean any = n > 0;
        this.endpointIp = any ? endpointIp : new int[0];
        this.endpointPort = any ? endpointPort : new int[0];
        for (int e = 0; e < this.endpointPort.length; e++) {
            int p = endpointPort[e];
            role[p] = ENDPOINT;
            mac[p] = endpointMac[e];
            mtu[p] = endpointMtu[e];
        }
    }

    public boolean hasVports() {
        return vports.length > 0;
    }

    /** Whether {@code ip} is an address of internal port {@code port}. */
    public boolean isLocal(int port, int ip) {
        for (int e = 0; e < endpointIp.length; e++) if (endpointIp[e] == ip && endpointPort[e] == port) return true;
        return false;
    }

    /** The tunnel type (VXLAN or Geneve) of the vports that listen on UDP port {@code dstPort}, or 0 (the first configured wins a port both use). */
    public int udpTunnel(int dstPort) {
        for (int i = 0; i < udpPorts.length; i++) if (udpPorts[i] == dstPort) return udpTypes[i];
        return 0;
    }

    /**
     * The vport a decapsulated packet arrives on, or -1 (OVS: {@code tnl_find}): among the vports
     * of its type (and UDP port) whose key, remote and local address accept the packet, the most
     * specific wins, in OVS's order: a configured key before {@code in_key=flow}, then a configured
     * remote before {@code remote_ip=flow}, then a configured local address before any.
     */
    public int receivingPort(int type, int dstPort, long key, int src, int dst) {
        return portMap.find(type, dstPort, key, src, dst);    // no key on the wire is key 0, as in OVS
    }

    public int[] vports() {
        return vports.clone();
    }
}
