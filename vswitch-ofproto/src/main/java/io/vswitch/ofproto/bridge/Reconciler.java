package io.vswitch.ofproto.bridge;

import io.vswitch.datapath.ipc.DatapathClient;
import io.vswitch.datapath.ipc.DatapathException;
import io.vswitch.datapath.ipc.DatapathState;
import io.vswitch.datapath.ipc.PortSpec;
import io.vswitch.datapath.qos.QosSpec;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Makes the dataplane run the desired {@link SwitchConfig} (OVS: {@code bridge_reconfigure}): reads
 * what the dataplane has, then deletes what is no longer wanted and adds or reconfigures what is
 * missing or different. Things already right are not touched, so reconciling a running dataplane
 * (e.g. after vswitchd restarts) disturbs no traffic.
 *
 * <p>A port the dataplane refuses (device missing, no permission) does not stop the rest; its error
 * is kept, as OVS keeps {@code Interface.error}.
 */
public final class Reconciler {
    private static final System.Logger LOG = System.getLogger(Reconciler.class.getName());

    /** Key of the datapath-wide settings' error in {@link #portErrors()}. */
    public static final String OTHER_CONFIG = "other_config";

    private final Map<String, String> portErrors = new HashMap<>();
    private final Map<String, String> qosErrors = new HashMap<>();

    /**
     * The dataplane's last refusal per configured port, and of the datapath-wide settings under
     * {@link #OTHER_CONFIG} (absent when none).
     */
    public synchronized Map<String, String> portErrors() {
        return new HashMap<>(portErrors);
    }

    /** Ports whose QoS settings were refused (they keep the QoS they had), with the reason. */
    public synchronized Map<String, String> qosErrors() {
        return new HashMap<>(qosErrors);
    }

    /** Reconciles everything; returns the number of changes sent to the dataplane. */
    public synchronized int reconcile(SwitchConfig desired, DatapathClient dp) throws DatapathException {
        DatapathState have = dp.dumpState();
        int changes = 0;
        Map<String, String> wantCfg = desired.otherConfig;
        Map<String, String> delta = new LinkedHashMap<>();
        for (String k : new String[] {"pmd-cpu-mask", "pmd-sleep-max", "flow-limit", "max-idle", "emc-insert-inv-prob", "vhost-sock-dir", "vhost-sock-mode", "vhost-sock-owner"}) {
            if (!Objects.equals(wantCfg.get(k), have.config().get(k))) delta.put(k, wantCfg.getOrDefault(k, ""));
        }
        if (delta.isEmpty()) {
            portErrors.remove(OTHER_CONFIG);
        } else {
            try {
                dp.configure(delta);
                portErrors.remove(OTHER_CONFIG);
                changes++;
            } catch (DatapathException ex) {
                // e.g. a saved pmd-cpu-mask naming a core this host no longer has: program the rest
                portErrors.put(OTHER_CONFIG, ex.getMessage());
                LOG.log(System.Logger.Level.WARNING, "other_config: " + ex.getMessage());
            }
        }
        Map<String, PortSpec> havePorts = new HashMap<>();
        for (PortSpec p : have.ports()) havePorts.put(p.name(), p);

        for (PortSpec p : have.ports()) {
            SwitchConfig.BridgeConfig b = desired.bridges.get(p.bridge());
            SwitchConfig.PortConfig want = b == null ? null : b.ports.get(p.name());
            if (want == null || !want.type.equals(p.type()) || !want.options.equals(p.options())) {   // options need a reopen
                dp.deletePort(p.bridge(), p.name());
                havePorts.remove(p.name());
                changes++;
            }
        }
        for (String name : have.bridges().keySet()) {
            if (!desired.bridges.containsKey(name)) {
                dp.deleteBridge(name);
                changes++;
            }
        }
        for (Map.Entry<String, SwitchConfig.BridgeConfig> e : desired.bridges.entrySet()) {
            Map<String, String> haveBridge = have.bridges().get(e.getKey());
            if (haveBridge == null || !haveBridge.equals(e.getValue().otherConfig)) {
                try {
                    dp.addBridge(e.getKey(), e.getValue().otherConfig);
                    changes++;
                } catch (DatapathException ex) {
                    // e.g. a bad mac-table-size written with ovs-vsctl: report it on the bridge's ports
                    LOG.log(System.Logger.Level.WARNING, "bridge " + e.getKey() + ": " + ex.getMessage());
                    if (haveBridge == null) {
                        for (String port : e.getValue().ports.keySet()) portErrors.put(port, "bridge " + e.getKey() + ": " + ex.getMessage());
                        continue;
                    }
                }
            }
            for (Map.Entry<String, SwitchConfig.PortConfig> pe : e.getValue().ports.entrySet()) {
                PortSpec want = pe.getValue().toSpec(e.getKey(), pe.getKey());
                try {
                    QosSpec.parse(want.qos());
                    if (io.vswitch.datapath.tunnel.TunnelSpec.isTunnel(want.type()) && !want.qos().isEmpty()) {
                        // its packets are encapsulated or decapsulated without passing its queues or policers
                        throw new IllegalArgumentException("QoS on a " + want.type() + " port is not supported: police or shape the underlay's port instead");
                    }
                    qosErrors.remove(pe.getKey());
                } catch (IllegalArgumentException ex) {
                    // Refused here, so the port keeps running with the QoS it has (none if new).
                    if (!ex.getMessage().equals(qosErrors.put(pe.getKey(), "QoS: " + ex.getMessage()))) {
                        LOG.log(System.Logger.Level.WARNING, "port " + pe.getKey() + ": QoS refused: " + ex.getMessage());
                    }
                    PortSpec current = havePorts.get(pe.getKey());
                    want = want.withQos(current == null ? Map.of() : current.qos());
                }
                if (inSync(want, havePorts.get(pe.getKey()))) {
                    portErrors.remove(pe.getKey());
                    continue;
                }
                try {
                    dp.addPort(want);
                    portErrors.remove(pe.getKey());
                    changes++;
                } catch (DatapathException ex) {
                    portErrors.put(pe.getKey(), ex.getMessage());
                    LOG.log(System.Logger.Level.WARNING, "port " + pe.getKey() + ": " + ex.getMessage());
                }
            }
        }
        portErrors.keySet().removeIf(port -> !port.equals(OTHER_CONFIG) && desired.bridgeOfPort(port) == null);
        qosErrors.keySet().removeIf(port -> desired.bridgeOfPort(port) == null);
        return changes;
    }

    /** Equal, except that a wanted ofport of 0 ("let the dataplane choose") matches any. */
    private static boolean inSync(PortSpec want, PortSpec have) {
        if (have == null) return false;
        PortSpec w = want.ofport() == 0 ? want.withOfport(have.ofport()) : want;
        return w.equals(have);
    }
}
