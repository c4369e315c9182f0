package io.vswitch.datapath.ipc;

import java.util.List;
import java.util.Map;

/**
 * What the dataplane is running: its bridges (with their configuration) and ports, each port's
 * status as its provider reports it (e.g. {@code mac}, {@code mtu}), by port name, and the
 * generation of each bridge's OpenFlow tables (0: none received).
 */
public record DatapathState(long epoch, Map<String, String> config, Map<String, Map<String, String>> bridges,
                            List<PortSpec> ports, Map<String, Map<String, String>> portStatus,
                            Map<String, Long> flowGenerations) {}
