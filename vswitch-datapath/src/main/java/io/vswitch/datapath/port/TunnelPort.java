package io.vswitch.datapath.port;

import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.tunnel.TunnelSpec;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * A {@code vxlan} or {@code gre} vport. It has no device and no queues: the PMD encapsulates what is
 * output to it and sends the result through the underlay bridge, and gives it what it decapsulates
 * (see {@code Forwarder}), so its I/O methods are never on a packet's path.
 */
public final class TunnelPort implements Port {
    private final String name;
    public final TunnelSpec spec;
    private final PortCounters counters;

    public TunnelPort(String name, TunnelSpec spec, PortCounters counters) {
        this.name = name;
        this.spec = spec;
        this.counters = counters;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return spec.typeName();
    }

    @Override
    public int rxqCount() {
        return 0;
    }

    @Override
    public int rxBurst(int queue, Batch batch, PmdIo io) {
        return 0;
    }

    /** Only reached by a path that bypasses encapsulation (none should): counted, not sent. */
    @Override
    public int txBurst(PmdIo io, MemorySegment memory, long base, long[] offsets, int[] lengths, int count) {
        counters.txDropped.getAndAdd(count);
        return 0;
    }

    @Override
    public void close() {
    }

    /** Opens {@code vxlan} and {@code gre} ports: their options are checked here, so bad ones never reach a PMD. */
    public static final class Provider implements PortProvider {
        @Override
        public java.util.Set<String> types() {
            return java.util.Set.of("vxlan", "gre", "geneve");
        }

        @Override
        public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
            return new TunnelPort(name, TunnelSpec.parse(name, type, options), counters);
        }
    }
}
