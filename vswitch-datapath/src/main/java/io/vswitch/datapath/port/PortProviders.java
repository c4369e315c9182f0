package io.vswitch.datapath.port;

import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The port types available in this dataplane, by OVS interface type name. */
public final class PortProviders {
    private final Map<String, PortProvider> byType = new TreeMap<>();
    private final Path runDir;

    /** Providers for a dataplane whose run dir is {@code run/} in the current directory. */
    public PortProviders() {
        this(Path.of("run").toAbsolutePath());
    }

    public PortProviders(Path runDir) {
        this.runDir = runDir;
        for (PortProvider p : ServiceLoader.load(PortProvider.class)) register(p);
    }

    public void register(PortProvider p) {
        for (String t : p.types()) byType.put(t, p);
    }

    /** Opens a port; {@code otherConfig} are the datapath-wide settings in force. */
    public Port open(String name, String type, Map<String, String> options, PortCounters counters, Map<String, String> otherConfig) {
        checkType(type);
        return byType.get(type).open(name, type, options, counters, new PortContext(runDir, otherConfig));
    }

    /** Throws a one-line error naming the supported types if {@code type} is not one of them. */
    public void checkType(String type) {
        if (!byType.containsKey(type)) {
            throw new IllegalArgumentException("unknown port type '" + type + "': supported types are "
                    + String.join(", ", byType.keySet()));
        }
    }

    public boolean supports(String type) {
        return byType.containsKey(type);
    }
}
