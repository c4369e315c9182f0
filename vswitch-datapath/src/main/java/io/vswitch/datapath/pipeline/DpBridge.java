package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.normal.MacTable;

import java.util.Map;

/**
 * A bridge in one {@link DatapathView}: its ports (immutable array), its MAC table (shared,
 * mutable, lock-free, carried over from view to view) and its OpenFlow tables ({@code flows}; null
 * until vswitchd sends some, and then packets go through NORMAL as a bridge's default flow does).
 */
public record DpBridge(int index, String name, MacTable macs, DpPort[] ports, Map<String, String> config, OfPipeline flows) {
    public DpBridge withPorts(DpPort[] p) {
        return new DpBridge(index, name, macs, p, config, flows);
    }

    public DpBridge withFlows(OfPipeline f) {
        return new DpBridge(index, name, macs, ports, config, f);
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
