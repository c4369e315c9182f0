package io.vswitch.datapath.port;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a {@link PortProvider} may need besides the port's own options.
 *
 * @param runDir      the dataplane's run dir (where server-mode sockets live by default)
 * @param otherConfig the datapath-wide settings (Open_vSwitch other_config), e.g. {@code vhost-sock-dir}
 */
public record PortContext(Path runDir, Map<String, String> otherConfig) {
    public PortContext {
        otherConfig = Map.copyOf(otherConfig);
    }
}
