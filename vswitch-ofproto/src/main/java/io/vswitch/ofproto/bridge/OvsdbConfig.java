package io.vswitch.ofproto.bridge;

import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.db.Database;
import io.vswitch.ovsdb.db.Row;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Reads the dataplane's desired configuration out of the Open_vSwitch database (OVS:
 * {@code bridge_reconfigure}'s view of the rows): Open_vSwitch.other_config, its bridges, their
 * ports and each port's first interface. Also assigns OpenFlow port numbers like ovs-vswitchd:
 * {@code ofport_request} if set, else the number the interface already has, else the lowest free;
 * a bridge's own port is LOCAL (65534).
 */
public final class OvsdbConfig {
    public static final int OFPP_LOCAL = 65534;

    private OvsdbConfig() {}

    /** The desired configuration and the next_cfg it reflects. */
    public record Snapshot(SwitchConfig config, long nextCfg, Map<String, UUID> interfaceRows) {}

    public static Row root(Database db) {
        return db.rows("Open_vSwitch").values().stream().findFirst().orElse(null);
    }

    public static Snapshot read(Database db) {
        SwitchConfig c = new SwitchConfig();
        Map<String, UUID> interfaces = new LinkedHashMap<>();
        Row root = root(db);
        if (root == null) return new Snapshot(c, 0, interfaces);
        c.otherConfig.putAll(strings(root.get("other_config")));
        long nextCfg = root.get("next_cfg").size() == 1 ? (Long) root.get("next_cfg").key(0) : 0;
        for (Object bridgeUuid : root.get("bridges").keys()) {
            Row bridge = db.rows("Bridge").get((UUID) bridgeUuid);
            if (bridge == null) continue;
            String bridgeName = (String) bridge.get("name").key(0);
            SwitchConfig.BridgeConfig bc = new SwitchConfig.BridgeConfig();
            bc.otherConfig.putAll(strings(bridge.get("other_config")));
            packetInLimits(db, bridge, bc.otherConfig);
            Map<String, Row> ifaceOf = new TreeMap<>();
            for (Object portUuid : bridge.get("ports").keys()) {
                Row port = db.rows("Port").get((UUID) portUuid);
                if (port == null || port.get("interfaces").size() == 0) continue;
                Row iface = db.rows("Interface").get((UUID) port.get("interfaces").key(0));
                if (iface == null) continue;
                String name = (String) port.get("name").key(0);
                SwitchConfig.PortConfig pc = new SwitchConfig.PortConfig();
                String type = (String) iface.get("type").key(0);
                pc.type = type.isEmpty() || type.equals("system") ? "tap" : type;   // see docs/architecture.md
                pc.tag = port.get("tag").size() == 1 ? (int) (long) (Long) port.get("tag").key(0) : -1;
                if (port.get("trunks").size() > 0) {
                    StringBuilder t = new StringBuilder();
                    for (Object v : port.get("trunks").keys()) t.append(t.isEmpty() ? "" : ",").append(v);
                    pc.trunks = t.toString();
                }
                pc.vlanMode = port.get("vlan_mode").size() == 1 ? (String) port.get("vlan_mode").key(0) : null;
                pc.options.putAll(strings(iface.get("options")));
                qos(db, port, iface, pc.qos);
                bc.ports.put(name, pc);
                ifaceOf.put(name, iface);
                interfaces.put(name, iface.uuid());
            }
            assignOfports(bridgeName, bc, ifaceOf);
            c.bridges.put(bridgeName, bc);
        }
        return new Snapshot(c, nextCfg, interfaces);
    }

    /** The ids of a port's egress QoS queues (as the dataplane runs them: with queue 0 where it adds one), or none if its QoS is invalid. */
    static List<Long> queues(Database db, Row port, Row iface) {
        Map<String, String> flat = new TreeMap<>();
        qos(db, port, iface, flat);
        try {
            return List.copyOf(io.vswitch.datapath.qos.QosSpec.parse(flat).queues().keySet());
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    /**
     * A port's QoS in QosSpec's flat form: the interface's non-zero {@code ingress_policing_*}
     * columns, and the port's QoS row (type, other_config:K) with its queues (queue:ID:K, queue:ID:dscp).
     */
    private static void qos(Database db, Row port, Row iface, Map<String, String> out) {
        for (String col : new String[] {"ingress_policing_rate", "ingress_policing_burst", "ingress_policing_kpkts_rate", "ingress_policing_kpkts_burst"}) {
            Datum d = iface.get(col);
            if (d != null && d.size() == 1 && (Long) d.key(0) != 0) out.put(col, Long.toString((Long) d.key(0)));
        }
        Row qos = port.get("qos").size() == 1 ? db.rows("QoS").get((UUID) port.get("qos").key(0)) : null;
        if (qos == null) return;
        out.put("type", (String) qos.get("type").key(0));
        strings(qos.get("other_config")).forEach((k, v) -> out.put("other_config:" + k, v));
        for (Object[] kv : qos.get("queues").entries()) {
            Row q = db.rows("Queue").get((UUID) kv[1]);
            if (q == null) continue;
            String prefix = "queue:" + kv[0] + ":";
            strings(q.get("other_config")).forEach((k, v) -> out.put(prefix + k, v));
            if (q.get("dscp").size() == 1) out.put(prefix + "dscp", Long.toString((Long) q.get("dscp").key(0)));
        }
    }

    /**
     * The dataplane limits a bridge's packet-ins as a whole: the smallest {@code controller_rate_limit}
     * (and {@code controller_burst_limit}) of its Controller rows, passed on beside other_config.
     */
    private static void packetInLimits(Database db, Row bridge, Map<String, String> config) {
        long rate = -1, burst = -1;
        for (Object uuid : bridge.get("controller").keys()) {
            Row c = db.rows("Controller").get((UUID) uuid);
            if (c == null) continue;
            if (c.get("controller_rate_limit").size() == 1) {
                long r = (Long) c.get("controller_rate_limit").key(0);
                rate = rate < 0 ? r : Math.min(rate, r);
            }
            if (c.get("controller_burst_limit").size() == 1) {
                long b = (Long) c.get("controller_burst_limit").key(0);
                burst = burst < 0 ? b : Math.min(burst, b);
            }
        }
        if (rate >= 0) config.put("controller-rate-limit", Long.toString(rate));
        if (burst >= 0) config.put("controller-burst-limit", Long.toString(burst));
    }

    /**
     * Numbers an interface keeps have priority: first the interfaces that already have a valid number
     * (and do not request another), then requests for free numbers, then the lowest free number. So a
     * request never takes a number from another port (OVS, too, leaves such a request unfulfilled).
     */
    private static void assignOfports(String bridge, SwitchConfig.BridgeConfig bc, Map<String, Row> ifaces) {
        BitSet used = new BitSet();
        Map<String, Integer> chosen = new LinkedHashMap<>();
        for (Map.Entry<String, Row> e : ifaces.entrySet()) {
            if (e.getKey().equals(bridge)) {
                chosen.put(e.getKey(), OFPP_LOCAL);
                continue;
            }
            int have = number(e.getValue().get("ofport"));
            int request = number(e.getValue().get("ofport_request"));
            if (have > 0 && (request == 0 || request == have) && !used.get(have)) {
                used.set(have);
                chosen.put(e.getKey(), have);
            }
        }
        for (Map.Entry<String, Row> e : ifaces.entrySet()) {
            if (chosen.containsKey(e.getKey())) continue;
            int request = number(e.getValue().get("ofport_request"));
            if (request > 0 && !used.get(request)) {
                used.set(request);
                chosen.put(e.getKey(), request);
            }
        }
        for (String name : ifaces.keySet()) {
            if (chosen.containsKey(name)) continue;
            int n = used.nextClearBit(1);
            used.set(n);
            chosen.put(name, n);
        }
        chosen.forEach((name, n) -> bc.ports.get(name).ofport = n);
    }

    /** A valid port number (1..0xfeff) from an optional integer column, or 0. */
    private static int number(Datum d) {
        if (d.size() != 1) return 0;
        long n = (Long) d.key(0);
        return n >= 1 && n < 0xff00 ? (int) n : 0;
    }

    private static Map<String, String> strings(Datum d) {
        Map<String, String> m = new TreeMap<>();
        for (Object[] kv : d.entries()) m.put((String) kv[0], (String) kv[1]);
        return m;
    }

    static List<String> names(Database db, String table) {
        return db.rows(table).values().stream().map(r -> (String) r.get("name").key(0)).sorted().toList();
    }
}
