package io.vswitch.ofproto.openflow;

import java.util.List;

/**
 * What OpenFlow shows of a bridge, read from the database after each reconciliation: its datapath
 * id, the OpenFlow versions it allows ({@code Bridge.protocols}), whether it is in secure fail mode,
 * and its ports as the dataplane opened them.
 */
public record BridgeView(String name, long datapathId, List<Integer> versions, boolean secure, List<PortView> ports) {
    /**
     * A port: its OpenFlow number, name, MAC, administrative and link state, its counters
     * ({@code Interface.statistics}) and the ids of its QoS queues (empty without QoS).
     */
    public record PortView(int ofport, String name, String mac, boolean adminUp, boolean linkUp, java.util.Map<String, Long> stats,
                           List<Long> queues) {
        public PortView(int ofport, String name, String mac, boolean adminUp, boolean linkUp, java.util.Map<String, Long> stats) {
            this(ofport, name, mac, adminUp, linkUp, stats, List.of());
        }

        long stat(String key) {
            return stats.getOrDefault(key, 0L);
        }
    }
}
