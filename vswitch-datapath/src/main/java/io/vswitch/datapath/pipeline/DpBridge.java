package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.normal.MacTable;
import io.vswitch.datapath.qos.TokenBucket;

import java.util.Map;

/**
 * A bridge in one {@link DatapathView}: its ports (immutable array), its MAC table (shared,
 * mutable, lock-free, carried over from view to view) and its OpenFlow tables ({@code flows}; null
 * until vswitchd sends some, and then packets go through NORMAL as a bridge's default flow does) and
 * the rate limit of its packet-ins (shared by all PMDs, carried over like the MAC table).
 */
public record DpBridge(int index, String name, MacTable macs, DpPort[] ports, Map<String, String> config, OfPipeline flows,
                       TokenBucket packetInLimit) {
    public DpBridge withPorts(DpPort[] p) {
        return new DpBridge(index, name, macs, p, config, flows, packetInLimit);
    }

    public DpBridge withFlows(OfPipeline f) {
        return new DpBridge(index, name, macs, ports, config, f, packetInLimit);
    }

    /** The port with OpenFlow number {@code ofport}, or null. */
    public DpPort portByOfport(int ofport) {
        for (DpPort p : ports) if (p.ofport() == ofport) return p;
        return null;
    }

    public DpPort port(String portName) {
        for (DpPort p : ports) if (p.name().equals(portName)) return p;
        return null;
    }
}
