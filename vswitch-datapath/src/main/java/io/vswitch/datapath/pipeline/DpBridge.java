package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.normal.MacTable;

import java.util.Map;

/**
 * A bridge in one {@link DatapathView}: its ports (immutable array) and its MAC table (shared,
 * mutable, lock-free, carried over from view to view).
 */
public record DpBridge(int index, String name, MacTable macs, DpPort[] ports, Map<String, String> config) {
    public DpBridge withPorts(DpPort[] p) {
        return new DpBridge(index, name, macs, p, config);
    }

    public DpBridge withConfig(Map<String, String> c) {
        return new DpBridge(index, name, macs, ports, c);
    }

    public DpPort port(String portName) {
        for (DpPort p : ports) if (p.name().equals(portName)) return p;
        return null;
    }
}
