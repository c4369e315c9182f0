package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.normal.VlanPolicy;
import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.qos.PortQos;
import io.vswitch.datapath.qos.Shaper;

import java.util.Map;

/**
 * A port as the PMDs see it in one {@link DatapathView}: immutable; a reconfiguration (e.g. a new
 * VLAN policy) publishes a new {@code DpPort} sharing the same I/O and counters.
 *
 * @param index  dense datapath port index (0..{@link DatapathView#MAX_PORTS}-1), used in flow keys
 *               and MAC tables; reused only after every PMD has stopped seeing the old port
 * @param ofport the OpenFlow port number shown to users (LOCAL = 65534 for the bridge's port)
 * @param qos    its policers or shaper, or null (the usual case: no QoS work per packet)
 */
public record DpPort(int index, int ofport, String name, String type, int bridgeIndex, Port io,
                     VlanPolicy vlan, PortCounters counters, Map<String, String> options, PortQos qos) {
    public static final int OFPP_LOCAL = 65534;

    public DpPort withVlan(VlanPolicy v) {
        return new DpPort(index, ofport, name, type, bridgeIndex, io, v, counters, options, qos);
    }

    public DpPort withOfport(int p) {
        return new DpPort(index, p, name, type, bridgeIndex, io, vlan, counters, options, qos);
    }

    public DpPort withQos(PortQos q) {
        return new DpPort(index, ofport, name, type, bridgeIndex, io, vlan, counters, options, q);
    }

    /**
     * Tells the port that its receive {@code queue} (-1: its transmit) kept failing with {@code cause}
     * ({@link Port#fault}); a port that fails to take the news is logged, never thrown past the PMD.
     */
    public void fault(int queue, Throwable cause) {
        try {
            io.fault(queue, cause instanceof RuntimeException r ? r : new IllegalStateException(cause));
        } catch (RuntimeException f) {
            System.getLogger(DpPort.class.getName()).log(System.Logger.Level.ERROR, name + " could not be reset", f);
        }
    }

    /** Its shaper, or null. */
    public Shaper shaper() {
        return qos == null ? null : qos.shaper;
    }
}
