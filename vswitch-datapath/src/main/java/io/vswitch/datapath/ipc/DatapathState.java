package io.vswitch.datapath.ipc;

import java.util.List;
import java.util.Map;

/** What the dataplane is running: its bridges (with their configuration) and ports. */
public record DatapathState(long epoch, Map<String, String> config, Map<String, Map<String, String>> bridges, List<PortSpec> ports) {}
