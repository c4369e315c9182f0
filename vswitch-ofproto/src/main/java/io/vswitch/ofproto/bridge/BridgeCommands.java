package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.sys.NetDevice;
import io.vswitch.datapath.unixctl.UnixctlException;
import io.vswitch.datapath.unixctl.UnixctlServer;

import java.io.IOException;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The configuration commands of {@code appctl} (until the OVSDB issue brings {@code vsctl}), with
 * ovs-vsctl's names and messages: {@code add-br}, {@code del-br}, {@code add-port}, {@code set-port},
 * {@code del-port}, {@code list-br}, {@code list-ports}, {@code set-config}, {@code set-br},
 * {@code show}.
 *
 * <p>Each change is applied to a copy of the configuration, pushed to the dataplane through the
 * {@link Reconciler}, and saved only if the dataplane accepted it; otherwise the dataplane is
 * reconciled back to the saved configuration, so a refused command leaves nothing half-configured.
 */
public final class BridgeCommands {
    /** Supplies the current dataplane connection or explains why there is none. */
    @FunctionalInterface
    public interface DatapathSupplier {
        DatapathClient get() throws DatapathException;
    }

    private static final Set<String> BRIDGE_KEYS = Set.of("mac-aging-time", "mac-table-size");
    private static final Set<String> SWITCH_KEYS = Set.of("pmd-cpu-mask", "pmd-sleep-max");
    private static final int OFPP_LOCAL = 65534;

    private final ConfigStore store;
    private final Reconciler reconciler;
    private final DatapathSupplier datapath;
    private SwitchConfig config;

    public BridgeCommands(ConfigStore store, SwitchConfig config, Reconciler reconciler, DatapathSupplier datapath) {
        this.store = store;
        this.config = config;
        this.reconciler = reconciler;
        this.datapath = datapath;
    }

    public synchronized SwitchConfig config() {
        return ConfigStore.copy(config);
    }

    public void registerAll(UnixctlServer s) {
        s.register("add-br", "BRIDGE [mac-aging-time=SECS] [mac-table-size=N]", 1, 3, a -> addBridge(a.get(0), a.subList(1, a.size())));
        s.register("set-br", "BRIDGE KEY=VALUE...", 2, 8, a -> setBridge(a.get(0), a.subList(1, a.size())));
        s.register("del-br", "BRIDGE", 1, 1, a -> deleteBridge(a.get(0)));
        s.register("add-port", "BRIDGE PORT [type=tap|internal] [tag=VLAN] [trunks=VLANS] [vlan_mode=MODE] [ofport_request=N] [options:KEY=VALUE]", 2, 12,
                a -> addPort(a.get(0), a.get(1), a.subList(2, a.size())));
        s.register("set-port", "PORT [tag=VLAN] [trunks=VLANS] [vlan_mode=MODE]", 2, 8, a -> setPort(a.get(0), a.subList(1, a.size())));
        s.register("del-port", "[BRIDGE] PORT", 1, 2, a -> deletePort(a.size() == 2 ? a.get(0) : null, a.get(a.size() - 1)));
        s.register("list-br", "", 0, 0, a -> listBridges());
        s.register("list-ports", "BRIDGE", 1, 1, a -> listPorts(a.get(0)));
        s.register("set-config", "KEY=VALUE... (pmd-cpu-mask, pmd-sleep-max)", 1, 8, this::setConfig);
        s.register("show", "", 0, 0, a -> show());
    }

    // ---- bridges ----

    synchronized String addBridge(String name, List<String> settings) throws UnixctlException {
        if (config.bridges.containsKey(name)) {
            throw new UnixctlException("cannot create a bridge named " + name + " because a bridge named " + name + " already exists");
        }
        if (config.bridgeOfPort(name) != null) {
            throw new UnixctlException("cannot create a bridge named " + name + " because a port named " + name
                    + " already exists on bridge " + config.bridgeOfPort(name));
        }
        checkName(name, "bridge");
        SwitchConfig next = ConfigStore.copy(config);
        SwitchConfig.BridgeConfig b = new SwitchConfig.BridgeConfig();
        b.otherConfig.putAll(keyValues(settings, BRIDGE_KEYS));
        SwitchConfig.PortConfig local = new SwitchConfig.PortConfig();
        local.type = "internal";
        local.ofport = OFPP_LOCAL;
        b.ports.put(name, local);
        next.bridges.put(name, b);
        apply(next, name);
        return "";
    }

    synchronized String setBridge(String name, List<String> settings) throws UnixctlException {
        if (!config.bridges.containsKey(name)) throw new UnixctlException("no bridge named " + name);
        SwitchConfig next = ConfigStore.copy(config);
        keyValues(settings, BRIDGE_KEYS).forEach((k, v) -> {
            if (v.isEmpty()) next.bridges.get(name).otherConfig.remove(k); else next.bridges.get(name).otherConfig.put(k, v);
        });
        apply(next, null);
        return "";
    }

    synchronized String deleteBridge(String name) throws UnixctlException {
        if (!config.bridges.containsKey(name)) throw new UnixctlException("no bridge named " + name);
        SwitchConfig next = ConfigStore.copy(config);
        next.bridges.remove(name);
        apply(next, null);
        return "";
    }

    // ---- ports ----

    synchronized String addPort(String bridge, String port, List<String> settings) throws UnixctlException {
        SwitchConfig.BridgeConfig b = config.bridges.get(bridge);
        if (b == null) throw new UnixctlException("no bridge named " + bridge);
        String owner = config.bridgeOfPort(port);
        if (owner != null) {
            throw new UnixctlException("cannot create a port named " + port + " because a port named " + port
                    + " already exists on bridge " + owner);
        }
        if (config.bridges.containsKey(port)) {
            throw new UnixctlException("cannot create a port named " + port + " because a bridge named " + port + " already exists");
        }
        checkName(port, "port");
        SwitchConfig.PortConfig p = new SwitchConfig.PortConfig();
        int ofportRequest = 0;
        for (String s : settings) {
            String[] kv = splitSetting(s);
            switch (kv[0]) {
                case "type" -> p.type = kv[1];
                case "ofport_request" -> ofportRequest = parseInt(kv[0], kv[1], 1, 65279);
                default -> {
                    if (kv[0].startsWith("options:")) p.options.put(kv[0].substring(8), kv[1]);
                    else setVlanColumn(p, kv[0], kv[1]);
                }
            }
        }
        validateVlan(p);
        p.ofport = ofportRequest > 0 ? ofportRequest : freeOfport(b);
        for (Map.Entry<String, SwitchConfig.PortConfig> e : b.ports.entrySet()) {
            if (e.getValue().ofport == p.ofport) throw new UnixctlException("ofport_request " + p.ofport + " is already used by port " + e.getKey());
        }
        SwitchConfig next = ConfigStore.copy(config);
        next.bridges.get(bridge).ports.put(port, p);
        apply(next, port);
        return "";
    }

    synchronized String setPort(String port, List<String> settings) throws UnixctlException {
        String bridge = config.bridgeOfPort(port);
        if (bridge == null) throw new UnixctlException("no port named " + port);
        SwitchConfig next = ConfigStore.copy(config);
        SwitchConfig.PortConfig p = next.bridges.get(bridge).ports.get(port);
        for (String s : settings) {
            String[] kv = splitSetting(s);
            setVlanColumn(p, kv[0], kv[1]);
        }
        validateVlan(p);
        apply(next, port);
        return "";
    }

    synchronized String deletePort(String bridge, String port) throws UnixctlException {
        String owner = config.bridgeOfPort(port);
        if (owner == null) throw new UnixctlException("no port named " + port);
        if (bridge != null && !bridge.equals(owner)) {
            throw new UnixctlException("bridge " + bridge + " does not have a port " + port + " (although its parent bridge " + owner + " does)");
        }
        if (port.equals(owner)) {
            throw new UnixctlException("cannot delete port " + port + " because it is the local port for bridge " + owner + " (deleting this port requires deleting the entire bridge)");
        }
        SwitchConfig next = ConfigStore.copy(config);
        next.bridges.get(owner).ports.remove(port);
        apply(next, null);
        return "";
    }

    // ---- datapath-wide settings ----

    synchronized String setConfig(List<String> settings) throws UnixctlException {
        SwitchConfig next = ConfigStore.copy(config);
        keyValues(settings, SWITCH_KEYS).forEach((k, v) -> {
            if (v.isEmpty()) next.otherConfig.remove(k); else next.otherConfig.put(k, v);
        });
        apply(next, Reconciler.OTHER_CONFIG);
        return "";
    }

    // ---- queries ----

    synchronized String listBridges() {
        StringBuilder sb = new StringBuilder();
        config.bridges.keySet().forEach(b -> sb.append(b).append('\n'));
        return sb.toString();
    }

    synchronized String listPorts(String bridge) throws UnixctlException {
        SwitchConfig.BridgeConfig b = config.bridges.get(bridge);
        if (b == null) throw new UnixctlException("no bridge named " + bridge);
        StringBuilder sb = new StringBuilder();
        b.ports.keySet().stream().filter(p -> !p.equals(bridge)).forEach(p -> sb.append(p).append('\n'));
        return sb.toString();
    }

    /** Like {@code ovs-vsctl show}, without row UUIDs (they come with the OVSDB issue). */
    synchronized String show() {
        Map<String, String> errors = reconciler.portErrors();
        StringBuilder sb = new StringBuilder();
        if (!config.otherConfig.isEmpty()) sb.append("other_config: ").append(config.otherConfig).append('\n');
        String cfgError = errors.get(Reconciler.OTHER_CONFIG);
        if (cfgError != null) sb.append("error: \"").append(cfgError).append("\"\n");
        config.bridges.forEach((bn, b) -> {
            sb.append("    Bridge ").append(bn).append('\n');
            sb.append("        datapath_type: netdev\n");
            if (!b.otherConfig.isEmpty()) sb.append("        other_config: ").append(b.otherConfig).append('\n');
            b.ports.forEach((pn, p) -> {
                sb.append("        Port ").append(pn).append('\n');
                if (p.tag >= 0) sb.append("            tag: ").append(p.tag).append('\n');
                if (p.trunks != null && !p.trunks.isEmpty()) sb.append("            trunks: [").append(p.trunks.replace(",", ", ")).append("]\n");
                if (p.vlanMode != null) sb.append("            vlan_mode: ").append(p.vlanMode).append('\n');
                sb.append("            Interface ").append(pn).append('\n');
                if (!p.type.isEmpty()) sb.append("                type: ").append(p.type).append('\n');
                if (!p.options.isEmpty()) sb.append("                options: ").append(p.options).append('\n');
                String err = errors.get(pn);
                if (err != null) sb.append("                error: \"").append(err).append("\"\n");
            });
        });
        return sb.toString();
    }

    // ---- helpers ----

    /**
     * Pushes {@code next} to the dataplane and saves it if accepted. If the dataplane refuses it or it
     * cannot be saved, the dataplane is reconciled back to the current configuration and the reason
     * reported: the dataplane always runs what the database holds.
     */
    private void apply(SwitchConfig next, String subject) throws UnixctlException {
        DatapathClient dp;
        try {
            dp = datapath.get();
        } catch (DatapathException e) {
            throw new UnixctlException(e.getMessage());
        }
        String failure;
        try {
            reconciler.reconcile(next, dp);
            failure = subject == null ? null : reconciler.portErrors().get(subject);
        } catch (DatapathException e) {
            failure = e.getMessage();
        }
        if (failure != null) {
            try {
                reconciler.reconcile(config, dp);
            } catch (DatapathException ignored) {
                // the dataplane keeps what it had; the next reconcile retries
            }
            throw new UnixctlException(failure);
        }
        try {
            store.save(next);
        } catch (IOException e) {
            try {
                reconciler.reconcile(config, dp);   // not durable, so not applied: keep dataplane = database
            } catch (DatapathException ignored) {
                // the next reconcile retries
            }
            throw new UnixctlException("could not save the database " + store.file() + ": " + e.getMessage()
                    + "; nothing was changed (check free space and permissions of the run dir)");
        }
        config = next;
    }

    private static void checkName(String name, String what) throws UnixctlException {
        try {
            NetDevice.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new UnixctlException("invalid " + what + " name '" + name + "': use 1-15 printable characters without '/', ':' or spaces");
        }
    }

    private static int freeOfport(SwitchConfig.BridgeConfig b) {
        BitSet used = new BitSet();
        for (SwitchConfig.PortConfig p : b.ports.values()) if (p.ofport < OFPP_LOCAL) used.set(p.ofport);
        return used.nextClearBit(1);
    }

    private static String[] splitSetting(String s) throws UnixctlException {
        int eq = s.indexOf('=');
        if (eq <= 0) throw new UnixctlException("'" + s + "' is not KEY=VALUE");
        return new String[] {s.substring(0, eq), s.substring(eq + 1)};
    }

    private static Map<String, String> keyValues(List<String> settings, Set<String> allowed) throws UnixctlException {
        Map<String, String> m = new java.util.TreeMap<>();
        for (String s : settings) {
            String[] kv = splitSetting(s);
            String k = kv[0].startsWith("other_config:") ? kv[0].substring(13) : kv[0];
            if (!allowed.contains(k)) throw new UnixctlException("unknown key '" + kv[0] + "': use one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
            if (!kv[1].isEmpty() && !k.equals("pmd-cpu-mask")) parseInt(k, kv[1], 0, Integer.MAX_VALUE);
            m.put(k, kv[1]);
        }
        return m;
    }

    private static void setVlanColumn(SwitchConfig.PortConfig p, String key, String value) throws UnixctlException {
        switch (key) {
            case "tag" -> p.tag = value.isEmpty() ? -1 : parseInt("tag", value, 0, 4095);
            case "trunks" -> {
                try {
                    String normal = VlanPolicy.formatTrunks(VlanPolicy.parseTrunks(value));
                    p.trunks = normal.isEmpty() ? null : normal;
                } catch (IllegalArgumentException e) {
                    throw new UnixctlException(e.getMessage());
                }
            }
            case "vlan_mode" -> {
                try {
                    if (!value.isEmpty()) VlanPolicy.Mode.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new UnixctlException(e.getMessage());
                }
                p.vlanMode = value.isEmpty() ? null : value;
            }
            default -> throw new UnixctlException("unknown setting '" + key + "': use type, tag, trunks, vlan_mode, ofport_request or options:KEY");
        }
    }

    private static void validateVlan(SwitchConfig.PortConfig p) throws UnixctlException {
        try {
            new VlanPolicy(p.vlanMode == null ? null : VlanPolicy.Mode.parse(p.vlanMode), p.tag,
                    VlanPolicy.parseTrunks(p.trunks == null ? "" : p.trunks));
        } catch (IllegalArgumentException e) {
            throw new UnixctlException(e.getMessage());
        }
    }

    private static int parseInt(String what, String v, int min, int max) throws UnixctlException {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new UnixctlException("invalid " + what + " '" + v + "': use a number from " + min + " to " + max);
        }
    }
}
