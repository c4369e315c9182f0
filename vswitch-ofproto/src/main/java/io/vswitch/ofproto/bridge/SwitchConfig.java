package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.PortSpec;

import java.util.Map;
import java.util.TreeMap;

/**
 * The dataplane's desired configuration as the {@link Reconciler} consumes it: Open_vSwitch
 * other_config, bridges and their ports, named as OVS's tables and columns. Derived from the
 * Open_vSwitch database by {@link OvsdbConfig}.
 */
public final class SwitchConfig {
    public Map<String, String> otherConfig = new TreeMap<>();
    public Map<String, BridgeConfig> bridges = new TreeMap<>();

    public static final class BridgeConfig {
        public Map<String, String> otherConfig = new TreeMap<>();
        public Map<String, PortConfig> ports = new TreeMap<>();
    }

    public static final class PortConfig {
        public String type = "tap";
        public int ofport;
        public String vlanMode;
        public int tag = -1;
        public String trunks;
        public Map<String, String> options = new TreeMap<>();
        /** Ingress policing and egress QoS, in QosSpec's flat form. */
        public Map<String, String> qos = new TreeMap<>();

        public PortSpec toSpec(String bridge, String name) {
            return new PortSpec(bridge, name, type, ofport, vlanMode, tag, trunks, options, qos);
        }
    }

    /** The bridge that has a port of this name, or null. */
    public String bridgeOfPort(String port) {
        for (Map.Entry<String, BridgeConfig> b : bridges.entrySet()) {
            if (b.getValue().ports.containsKey(port)) return b.getKey();
        }
        return null;
    }
}
