package io.vswitch.datapath.port;

import io.vswitch.datapath.sys.NetDevice;
import io.vswitch.datapath.sys.SysException;

import java.util.Map;
import java.util.Set;

/**
 * Opens {@code tap} ports (an existing TAP device, or a new one, brought up like OVS does) and
 * {@code internal} ports (the bridge's local TAP, left administratively down for the host to
 * configure, as OVS leaves its internal ports).
 */
public final class TapPortProvider implements PortProvider {
    @Override
    public Set<String> types() {
        return Set.of("tap", "internal");
    }

    @Override
    public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
        NetDevice.checkName(name);
        int fd;
        try {
            fd = NetDevice.openTap(name);
        } catch (SysException e) {
            throw new IllegalStateException("could not open TAP device " + name + ": " + e.getMessage()
                    + (e.errno() == 16 ? " (a non-TAP interface of that name exists, or another process holds it)" : "")
                    + (e.errno() == 1 ? " (run the dataplane as root or with CAP_NET_ADMIN)" : ""));
        }
        if (type.equals("tap")) {
            try {
                NetDevice.setUp(name, true);
            } catch (SysException e) {
                // The device may live in another namespace already; the user brings it up there.
            }
        }
        return new TapPort(name, type, fd, counters);
    }
}
