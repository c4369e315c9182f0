package io.vswitch.datapath.ipc;

import java.util.List;
import java.util.Map;

/**
 * What the dataplane is running: its bridges (with their configuration) and ports, each port's
 * status as its provider reports it (e.g. {@code mac}, {@code mtu}), by port name, the
 * generation of each bridge's OpenFlow tables (0: none received) and their counters (see
 {@link FlowCounters}; rule i's packets at {@code [2*i]}, bytes at {@code [2*i+1]}, rules in the order
 they were sent).
 */
public record DatapathState(long epoch, Map<String, String> config, Map<String, Map<String, String>> bridges,
                            List<PortSpec> ports, Map<String, Map<String, String>> portStatus,
                            Map<String, Long> flowGenerations, Map<String, FlowCounters> flowCounters) {}
