package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.vswitch.datapath.ipc.PortSpec;

import java.util.Map;
import java.util.TreeMap;

/**
 * The switch's desired configuration: Open_vSwitch other_config, bridges and their ports, named as
 * OVS's tables and columns. Mutable, owned by {@link ConfigStore}; until the OVSDB issue lands this is
 * what the database file holds.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public final class SwitchConfig {
    public static final String FORMAT = "vswitch-conf-1";

    public String format = FORMAT;
    public Map<String, String> otherConfig = new TreeMap<>();
    public Map<String, BridgeConfig> bridges = new TreeMap<>();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public static final class BridgeConfig {
        public Map<String, String> otherConfig = new TreeMap<>();
        public Map<String, PortConfig> ports = new TreeMap<>();
    }

    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    public static final class PortConfig {
        public String type = "tap";
        public int ofport;
        public String vlanMode;
        public int tag = -1;
        public String trunks;
        public Map<String, String> options = new TreeMap<>();

        public PortSpec toSpec(String bridge, String name) {
            return new PortSpec(bridge, name, type, ofport, vlanMode, tag, trunks, options);
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
