package io.vswitch.vhostuser;

import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Opens vhost-user ports with OVS's type names and options:
 * <ul>
 *   <li>{@code dpdkvhostuser}: we are the server; the socket is {@code <vhost-sock-dir>/<port name>},
 *       where {@code other_config:vhost-sock-dir} (relative to the run dir) defaults to the run dir.
 *       {@code other_config:vhost-sock-mode} (octal, e.g. 0660) sets its permissions and
 *       {@code other_config:vhost-sock-owner} ({@code user}, {@code user:group} or {@code :group}) its owner.</li>
 *   <li>{@code dpdkvhostuserclient}: the frontend (QEMU {@code server=on}, testpmd {@code server=1}) is
 *       the server at {@code options:vhost-server-path}; we connect and reconnect forever.</li>
 * </ul>
 * Both take {@code options:tx-retries-max} (0 to 32, default 8): how often a burst is retried while
 * the guest's receive ring is full before the rest is dropped.
 */
public final class VhostUserPortProvider implements PortProvider {
    public static final String SERVER = "dpdkvhostuser";
    public static final String CLIENT = "dpdkvhostuserclient";

    @Override
    public Set<String> types() {
        return Set.of(SERVER, CLIENT);
    }

    @Override
    public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
        boolean server = type.equals(SERVER);
        String path;
        if (server) {
            if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
                throw new IllegalArgumentException("invalid vhost-user port name '" + name + "': it names the socket file, so it may not contain '/'");
            }
            String dir = context.otherConfig().get("vhost-sock-dir");
            Path d = dir == null || dir.isEmpty() ? context.runDir() : context.runDir().resolve(dir);
            path = d.resolve(name).toString();
        } else {
            path = options.get("vhost-server-path");
            if (path == null || path.isEmpty()) {
                throw new IllegalArgumentException("port " + name + " of type " + CLIENT
                        + " needs options:vhost-server-path=PATH (the frontend's socket)");
            }
        }
        int retries = parseRange(options.getOrDefault("tx-retries-max", "8"), "tx-retries-max", 0, 32);
        int mode = parseMode(context.otherConfig().get("vhost-sock-mode"));
        String owner = context.otherConfig().get("vhost-sock-owner");
        VhostUserDevice device = new VhostUserDevice(name);
        VhostUserConnection connection;
        try {
            connection = new VhostUserConnection(name, path, server, mode, owner == null || owner.isEmpty() ? null : owner, device);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalStateException(name + ": cannot create the vhost-user socket " + path + ": " + e.getMessage());
        }
        connection.start();
        return new VhostUserPort(name, type, device, connection, counters, retries);
    }

    private static int parseRange(String s, String key, int min, int max) {
        try {
            int n = Integer.parseInt(s.trim());
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("invalid " + key + " '" + s + "': use " + min + " to " + max);
    }

    private static int parseMode(String s) {
        if (s == null || s.isEmpty()) return -1;
        try {
            int m = Integer.parseInt(s.trim(), 8);
            if (m >= 0 && m <= 0777) return m;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("invalid vhost-sock-mode '" + s + "': use octal permissions such as 0660");
    }
}
