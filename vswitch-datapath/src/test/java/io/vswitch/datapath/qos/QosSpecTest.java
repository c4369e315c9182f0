package io.vswitch.datapath.qos;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QosSpecTest {
    @Test
    void emptyIsNone() {
        QosSpec s = QosSpec.parse(Map.of());
        assertFalse(s.hasIngress());
        assertFalse(s.hasEgress());
        assertEquals(QosSpec.NONE, s);
    }

    @Test
    void ingressBurstDefaultsAsOvs() {
        QosSpec s = QosSpec.parse(Map.of("ingress_policing_rate", "10000"));
        assertTrue(s.hasIngress());
        assertEquals(10000, s.ingressRate());
        assertEquals(QosSpec.DEFAULT_INGRESS_BURST, s.ingressBurst());
        QosSpec k = QosSpec.parse(Map.of("ingress_policing_kpkts_rate", "5"));
        assertEquals(QosSpec.DEFAULT_INGRESS_KPKTS_BURST, k.ingressKpktsBurst());
    }

    @Test
    void htbDefaultsAndQueues() {
        QosSpec s = QosSpec.parse(Map.of("type", "linux-htb", "other_config:max-rate", "10000000",
                "queue:1:min-rate", "2000000", "queue:1:priority", "2", "queue:2:max-rate", "4000000", "queue:2:dscp", "46"));
        assertEquals(10_000_000, s.maxRate());
        QosSpec.QueueSpec q1 = s.queues().get(1L), q2 = s.queues().get(2L);
        assertEquals(2_000_000, q1.minRate());
        assertEquals(10_000_000, q1.maxRate(), "max-rate defaults to the port's");
        assertEquals(2, q1.priority());
        assertEquals(QosSpec.MIN_HTB_RATE, q2.minRate(), "min-rate has OVS's floor of 1500 bytes/s");
        assertEquals(46, q2.dscp());
        assertEquals(-1, q1.dscp());
        assertEquals("10000000", s.details().get("max-rate"));
        assertEquals("46", s.details(q2).get("dscp"));
        QosSpec bare = QosSpec.parse(Map.of("type", "linux-htb"));
        assertEquals(QosSpec.DEFAULT_MAX_RATE, bare.maxRate());
        assertEquals(java.util.Set.of(0L), bare.queues().keySet(), "without queues, one default queue");
        assertEquals(QosSpec.DEFAULT_MAX_RATE, bare.queues().get(0L).maxRate());
        assertTrue(s.queues().containsKey(0L), "queue 0 is always there: the default");
    }

    @Test
    void trtcmAlwaysHasQueueZero() {
        QosSpec s = QosSpec.parse(Map.of("type", "trtcm-policer", "other_config:cir", "1000", "other_config:cbs", "2048",
                "other_config:eir", "500", "other_config:ebs", "1024", "queue:5:cir", "100", "queue:5:cbs", "2048"));
        assertTrue(s.queues().containsKey(0L));
        assertEquals(s.meter(), s.queues().get(0L).meter());
        assertEquals(new QosSpec.Meter(100, 2048, 0, 0), s.queues().get(5L).meter());
        QosSpec z = QosSpec.parse(Map.of("type", "trtcm-policer", "other_config:cir", "1000", "other_config:cbs", "2048", "queue:0:dscp", "10"));
        assertEquals(z.meter(), z.queues().get(0L).meter(), "a queue 0 without rates has the port's");
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "trtcm-policer", "other_config:cir", "1000",
                "other_config:ebs", "2048")), "cir without cbs");
    }

    @Test
    void travelsInAPortSpec() {
        Map<String, String> flat = Map.of("type", "linux-htb", "queue:1:min-rate", "1000000", "ingress_policing_rate", "5");
        io.vswitch.datapath.ipc.PortSpec p = new io.vswitch.datapath.ipc.PortSpec("br0", "p", "tap", 1, null, -1, "", Map.of("k", "v"), flat);
        assertEquals(p, io.vswitch.datapath.ipc.PortSpec.fromMap(p.toMap()));
        assertEquals(QosSpec.parse(flat), QosSpec.parse(io.vswitch.datapath.ipc.PortSpec.fromMap(p.toMap()).qos()));
    }

    @Test
    void refusalsSayWhatIsWrong() {
        assertEquals("QoS type \"linux-hfsc\" is not supported (use egress-policer, trtcm-policer, linux-htb)",
                assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-hfsc"))).getMessage());
        assertEquals("Queue 1 other_config min-rate=\"-5\" is not a non-negative integer",
                assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-htb", "queue:1:min-rate", "-5"))).getMessage());
        assertEquals("QoS other_config max-rate=\"fast\" is not a non-negative integer",
                assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-htb", "other_config:max-rate", "fast"))).getMessage());
        assertEquals("QoS other_config: cir must be set above 0 (bytes per second)",
                assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "egress-policer"))).getMessage());
        assertEquals("Queue 1 other_config: max-rate 2000000 is below min-rate 3000000",
                assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-htb",
                        "queue:1:min-rate", "3000000", "queue:1:max-rate", "2000000"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("queue:1:min-rate", "1")));
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-htb", "queue:x:min-rate", "1")));
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("type", "linux-htb", "queue:1:dscp", "64")));
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(Map.of("ingress_policing_rate", "-1")));
        java.util.Map<String, String> many = new java.util.HashMap<>(Map.of("type", "linux-htb"));
        for (int i = 0; i <= QosSpec.MAX_QUEUES; i++) many.put("queue:" + i + ":priority", "1");
        assertThrows(IllegalArgumentException.class, () -> QosSpec.parse(many));
        assertNull(QosSpec.parse(Map.of("type", "")).type());
    }
}
