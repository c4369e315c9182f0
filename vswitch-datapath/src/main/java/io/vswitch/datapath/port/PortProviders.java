package io.vswitch.datapath.port;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The port types available in this dataplane, by OVS interface type name. */
public final class PortProviders {
    private final Map<String, PortProvider> byType = new TreeMap<>();

    public PortProviders() {
        for (PortProvider p : ServiceLoader.load(PortProvider.class)) register(p);
    }

    public void register(PortProvider p) {
        for (String t : p.types()) byType.put(t, p);
    }

    public Port open(String name, String type, Map<String, String> options, PortCounters counters) {
        checkType(type);
        return byType.get(type).open(name, type, options, counters);
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
