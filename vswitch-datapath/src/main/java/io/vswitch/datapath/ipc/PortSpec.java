package io.vswitch.datapath.ipc;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A port's desired configuration, as the control process sends it and the dataplane reports it back
 * when resynchronising. Names follow OVS's Port/Interface columns.
 *
 * @param vlanMode null for OVS's default (access if tagged, else trunk)
 * @param tag      -1 for none
 * @param trunks   OVS trunks syntax ("10,20"), empty for all VLANs
 * @param options  Interface options (type-specific)
 * @param qos      ingress policing and egress QoS in {@code QosSpec}'s flat form (empty: none)
 */
public record PortSpec(String bridge, String name, String type, int ofport, String vlanMode, int tag,
                       String trunks, Map<String, String> options, Map<String, String> qos) {
    public PortSpec {
        options = Map.copyOf(options);
        qos = Map.copyOf(qos);
        trunks = trunks == null ? "" : trunks;
    }

    /** A port without QoS. */
    public PortSpec(String bridge, String name, String type, int ofport, String vlanMode, int tag, String trunks, Map<String, String> options) {
        this(bridge, name, type, ofport, vlanMode, tag, trunks, options, Map.of());
    }

    public PortSpec withOfport(int p) {
        return new PortSpec(bridge, name, type, p, vlanMode, tag, trunks, options, qos);
    }

    public PortSpec withQos(Map<String, String> q) {
        return new PortSpec(bridge, name, type, ofport, vlanMode, tag, trunks, options, q);
    }

    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bridge", bridge);
        m.put("name", name);
        m.put("type", type);
        m.put("ofport", Integer.toString(ofport));
        if (vlanMode != null) m.put("vlan_mode", vlanMode);
        if (tag >= 0) m.put("tag", Integer.toString(tag));
        if (!trunks.isEmpty()) m.put("trunks", trunks);
        options.forEach((k, v) -> m.put("options:" + k, v));
        new TreeMap<>(qos).forEach((k, v) -> m.put("qos:" + k, v));
        return m;
    }

    public static PortSpec fromMap(Map<String, String> m) {
        Map<String, String> options = new TreeMap<>();
        Map<String, String> qos = new TreeMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith("options:")) options.put(k.substring(8), v);
            if (k.startsWith("qos:")) qos.put(k.substring(4), v);
        });
        return new PortSpec(m.get("bridge"), m.get("name"), m.getOrDefault("type", ""),
                Integer.parseInt(m.getOrDefault("ofport", "0")), m.get("vlan_mode"),
                Integer.parseInt(m.getOrDefault("tag", "-1")), m.getOrDefault("trunks", ""), options, qos);
    }
}
