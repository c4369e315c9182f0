package io.vswitch.datapath.port;

import java.util.Map;
import java.util.Set;

/**
 * Creates ports of some types; found with {@link java.util.ServiceLoader}, so modules such as
 * {@code vhost-user} add port types without the datapath knowing them.
 */
public interface PortProvider {
    /** The OVS interface types this provider opens, e.g. "tap", "internal". */
    Set<String> types();

    /**
     * Opens port {@code name} of {@code type}; the port counts its own I/O errors in {@code counters}.
     * Throws {@link IllegalArgumentException} for bad options and a {@link RuntimeException} with a
     * one-line reason if the system refuses.
     */
    Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context);
}
