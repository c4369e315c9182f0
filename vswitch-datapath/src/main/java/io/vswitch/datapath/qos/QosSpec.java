package io.vswitch.datapath.qos;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A port's QoS settings, validated: ingress policing (Interface {@code ingress_policing_*}) and the
 * egress QoS of its Port row ({@code QoS} type and other_config, its {@code Queue}s). Built from the
 * flat key/value form the control process sends ({@link #parse}); every number is checked here, so
 * a refusal names the column and value and nothing half-applied reaches a PMD.
 *
 * <p>Units are OVS's: ingress policing in kbit/s and kbit ({@code _kpkts_} in thousands of
 * packets); {@code egress-policer} and {@code trtcm-policer} in bytes/s and bytes (as OVS-DPDK);
 * {@code linux-htb} in bit/s and bits (as OVS's tc). The fields below keep bits and bytes as given.
 *
 * @param source the flat form it was parsed from (what the dataplane reports back)
 */
public record QosSpec(long ingressRate, long ingressBurst, long ingressKpktsRate, long ingressKpktsBurst,
                      String type, long maxRate, long burst, Meter meter, SortedMap<Long, QueueSpec> queues,
                      Map<String, String> source) {
    public static final String EGRESS_POLICER = "egress-policer", TRTCM_POLICER = "trtcm-policer", LINUX_HTB = "linux-htb";
    public static final java.util.List<String> TYPES = java.util.List.of(EGRESS_POLICER, TRTCM_POLICER, LINUX_HTB);
    /** OVS's rate for a port whose link speed it cannot tell (NETDEV_DEFAULT_BPS), the default linux-htb max-rate. */
    public static final long DEFAULT_MAX_RATE = 10_000_000_000L;
    /** Ingress policing bursts when 0 is configured (OVS's documented defaults): 8000 kbit, 16 kpkts. */
    public static final long DEFAULT_INGRESS_BURST = 8000, DEFAULT_INGRESS_KPKTS_BURST = 16;
    /** A queue may not get less than 1500 bytes/s (OVS's linux-htb floor). */
    static final long MIN_HTB_RATE = 1500 * 8;
    /** Most queues per QoS: each takes {@link Shaper#QUEUE_PACKETS} 2 KiB slots. */
    public static final int MAX_QUEUES = 64;

    /** A policer's token buckets (RFC 4115 trTCM; srTCM/egress-policer uses only the committed one), in bytes. */
    public record Meter(long cir, long cbs, long eir, long ebs) {}

    /**
     * @param priority linux-htb: lower goes first
     * @param dscp     {@code Queue.dscp}, or -1
     * @param meter    trtcm-policer: the queue's buckets
     */
    public record QueueSpec(long id, int priority, long minRate, long maxRate, long burst, int dscp, Meter meter) {}

    public QosSpec {
        queues = Collections.unmodifiableSortedMap(new TreeMap<>(queues));
        source = Map.copyOf(source);
    }

    public static final QosSpec NONE = parse(Map.of());

    public boolean hasIngress() {
        return ingressRate > 0 || ingressKpktsRate > 0;
    }

    public boolean hasEgress() {
        return type != null;
    }

    /**
     * Parses the flat form: {@code ingress_policing_rate} (and _burst, _kpkts_rate, _kpkts_burst),
     * {@code type}, {@code other_config:KEY} of the QoS row, {@code queue:ID:dscp} and
     * {@code queue:ID:KEY} of its queues' other_config. Throws {@link IllegalArgumentException} with
     * what is wrong.
     */
    public static QosSpec parse(Map<String, String> flat) {
        long rate = number(flat, "ingress_policing_rate", 0, "Interface column");
        long burst = number(flat, "ingress_policing_burst", 0, "Interface column");
        long kpkts = number(flat, "ingress_policing_kpkts_rate", 0, "Interface column");
        long kpktsBurst = number(flat, "ingress_policing_kpkts_burst", 0, "Interface column");
        String type = flat.get("type");
        if (type != null && type.isEmpty()) type = null;
        if (type != null && !TYPES.contains(type)) {
            throw new IllegalArgumentException("QoS type \"" + type + "\" is not supported (use " + String.join(", ", TYPES) + ")");
        }
        Map<String, String> qosConfig = new TreeMap<>();
        SortedMap<Long, Map<String, String>> queueConfig = new TreeMap<>();
        for (Map.Entry<String, String> e : flat.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("other_config:")) qosConfig.put(k.substring(13), e.getValue());
            if (k.startsWith("queue:")) {
                int colon = k.indexOf(':', 6);
                if (colon < 0) throw new IllegalArgumentException("bad queue key " + k);
                long id;
                try {
                    id = Long.parseLong(k.substring(6, colon));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("bad queue id in " + k);
                }
                if (id < 0 || id > 0xffffffffL) throw new IllegalArgumentException("queue id " + id + " is out of range (0 to 4294967295)");
                queueConfig.computeIfAbsent(id, x -> new TreeMap<>()).put(k.substring(colon + 1), e.getValue());
            }
        }
        if (type == null && !queueConfig.isEmpty()) throw new IllegalArgumentException("queues need a QoS type");
        if (queueConfig.size() > MAX_QUEUES) throw new IllegalArgumentException("a QoS may have at most " + MAX_QUEUES + " queues, not " + queueConfig.size());
        long maxRate = 0, qosBurst = 0;
        Meter meter = null;
        SortedMap<Long, QueueSpec> queues = new TreeMap<>();
        if (LINUX_HTB.equals(type)) {
            maxRate = number(qosConfig, "max-rate", DEFAULT_MAX_RATE, "QoS other_config");
            if (maxRate == 0) maxRate = DEFAULT_MAX_RATE;
            qosBurst = defaultBurst(number(qosConfig, "burst", 0, "QoS other_config"), maxRate);
            for (Map.Entry<Long, Map<String, String>> q : queueConfig.entrySet()) {
                Map<String, String> c = q.getValue();
                String what = "Queue " + q.getKey() + " other_config";
                long min = Math.max(MIN_HTB_RATE, number(c, "min-rate", 0, what));
                long max = number(c, "max-rate", 0, what);
                max = max == 0 ? maxRate : max;
                if (max < min) throw new IllegalArgumentException(what + ": max-rate " + max + " is below min-rate " + min);
                long b = defaultBurst(number(c, "burst", 0, what), max);
                long prio = number(c, "priority", 0, what);
                if (prio > Integer.MAX_VALUE) throw new IllegalArgumentException(what + ": priority " + prio + " is too large");
                queues.put(q.getKey(), new QueueSpec(q.getKey(), (int) prio, min, max, b, dscp(c, q.getKey()), null));
            }
            // Queue 0 is the default (packets without set_queue, or for a queue the QoS lacks); without a Queue 0 row it may use the port's whole rate.
            queues.putIfAbsent(0L, new QueueSpec(0, 0, MIN_HTB_RATE, maxRate, qosBurst, -1, null));
        } else if (EGRESS_POLICER.equals(type)) {
            meter = meter(qosConfig, "QoS other_config", false);
            for (Map.Entry<Long, Map<String, String>> q : queueConfig.entrySet()) {
                queues.put(q.getKey(), new QueueSpec(q.getKey(), 0, 0, 0, 0, dscp(q.getValue(), q.getKey()), null));
            }
        } else if (TRTCM_POLICER.equals(type)) {
            meter = meter(qosConfig, "QoS other_config", true);
            for (Map.Entry<Long, Map<String, String>> q : queueConfig.entrySet()) {
                Map<String, String> c = q.getValue();
                // As OVS-DPDK: a queue 0 without rates of its own has the port's.
                boolean own = c.keySet().stream().anyMatch(k -> !k.equals("dscp"));
                queues.put(q.getKey(), new QueueSpec(q.getKey(), 0, 0, 0, 0, dscp(c, q.getKey()),
                        q.getKey() == 0 && !own ? meter : meter(c, "Queue " + q.getKey() + " other_config", true)));
            }
            // Packets for a queue the QoS lacks go to queue 0; without a Queue 0 row it has the port's buckets.
            queues.putIfAbsent(0L, new QueueSpec(0, 0, 0, 0, 0, -1, meter));
        }
        return new QosSpec(rate, rate == 0 ? 0 : burst == 0 ? DEFAULT_INGRESS_BURST : burst, kpkts,
                kpkts == 0 ? 0 : kpktsBurst == 0 ? DEFAULT_INGRESS_KPKTS_BURST : kpktsBurst, type, maxRate, qosBurst, meter, queues, flat);
    }

    /** The egress QoS's settings as {@code qos/show} prints them (OVS's netdev "details"), with defaults filled in. */
    public Map<String, String> details() {
        Map<String, String> d = new TreeMap<>();
        if (LINUX_HTB.equals(type)) {
            d.put("max-rate", Long.toString(maxRate));
            d.put("burst", Long.toString(burst));
        } else if (meter != null) {
            meterDetails(meter, d, TRTCM_POLICER.equals(type));
        }
        return d;
    }

    /** A queue's settings as {@code qos/show} prints them. */
    public Map<String, String> details(QueueSpec q) {
        Map<String, String> d = new TreeMap<>();
        if (LINUX_HTB.equals(type)) {
            d.put("min-rate", Long.toString(q.minRate()));
            d.put("max-rate", Long.toString(q.maxRate()));
            d.put("burst", Long.toString(q.burst()));
            d.put("priority", Integer.toString(q.priority()));
        } else if (q.meter() != null) {
            meterDetails(q.meter(), d, true);
        }
        if (q.dscp() >= 0) d.put("dscp", Integer.toString(q.dscp()));
        return d;
    }

    private static void meterDetails(Meter m, Map<String, String> d, boolean excess) {
        d.put("cir", Long.toString(m.cir()));
        d.put("cbs", Long.toString(m.cbs()));
        if (excess) {
            d.put("eir", Long.toString(m.eir()));
            d.put("ebs", Long.toString(m.ebs()));
        }
    }

    /**
     * A burst the PMDs can keep: at least 1 ms at the rate (the shaper runs every PMD iteration,
     * which is far more often) and two full-size frames.
     */
    private static long defaultBurst(long burst, long rate) {
        return burst > 0 ? burst : Math.max(rate / 1000, 2 * 1522 * 8);
    }

    private static Meter meter(Map<String, String> c, String what, boolean excess) {
        long cir = number(c, "cir", 0, what), cbs = number(c, "cbs", 0, what);
        long eir = excess ? number(c, "eir", 0, what) : 0, ebs = excess ? number(c, "ebs", 0, what) : 0;
        // OVS-DPDK refuses a rate without a bucket; all rates 0 it accepts and then drops everything: refused here.
        if (cir == 0 && eir == 0) throw new IllegalArgumentException(what + ": cir" + (excess ? " or eir" : "") + " must be set above 0 (bytes per second)");
        if (cir > 0 && cbs == 0) throw new IllegalArgumentException(what + ": cbs must be set above 0 (bytes) when cir is");
        if (eir > 0 && ebs == 0) throw new IllegalArgumentException(what + ": ebs must be set above 0 (bytes) when eir is");
        return new Meter(cir, cbs, eir, ebs);
    }

    private static int dscp(Map<String, String> c, long id) {
        String v = c.get("dscp");
        if (v == null) return -1;
        long d = number(c, "dscp", -1, "Queue " + id);
        if (d > 63) throw new IllegalArgumentException("Queue " + id + ": dscp " + d + " is out of range (0 to 63)");
        return (int) d;
    }

    private static long number(Map<String, String> m, String key, long dflt, String where) {
        String v = m.get(key);
        if (v == null || v.isEmpty()) return dflt;
        try {
            long n = Long.parseLong(v.trim());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(where + " " + key + "=\"" + v + "\" is not a non-negative integer");
    }
}
