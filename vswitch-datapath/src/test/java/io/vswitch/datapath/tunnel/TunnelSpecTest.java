package io.vswitch.datapath.tunnel;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tunnel options as OVS names and defaults them; what is wrong is refused with a message that says what to write. */
class TunnelSpecTest {
    private static String error(String type, Map<String, String> o) {
        return assertThrows(IllegalArgumentException.class, () -> TunnelSpec.parse("t0", type, o)).getMessage();
    }

    @Test
    void defaultsAreOvss() {
        TunnelSpec s = TunnelSpec.parse("vx0", "vxlan", Map.of("remote_ip", "192.0.2.7"));
        assertEquals(0xc0000207, s.remoteIp());
        assertEquals(4789, s.dstPort());
        assertEquals(64, s.ttl());
        assertEquals(0, s.tos());
        assertTrue(s.df());
        assertFalse(s.csum());
        assertEquals(0, s.outKey());
        assertTrue(s.keyed(), "a VXLAN header always has a VNI");
        assertFalse(TunnelSpec.parse("g0", "gre", Map.of("remote_ip", "192.0.2.7")).keyed(), "GRE without a key option sends no key");
        TunnelSpec g = TunnelSpec.parse("gnv0", "geneve", Map.of("remote_ip", "192.0.2.7"));
        assertEquals(6081, g.dstPort());
        assertTrue(g.keyed() && TunnelSpec.isTunnel("geneve"));
        assertEquals("geneve", g.typeName());
        assertEquals(7000, TunnelSpec.parse("gnv0", "geneve", Map.of("remote_ip", "192.0.2.7", "dst_port", "7000")).dstPort());
        assertTrue(error("geneve", Map.of("remote_ip", "10.0.0.1", "key", "0x1000000")).contains("does not fit the header"), "a 24-bit VNI");
    }

    @Test
    void keysAndFlowBasedFields() {
        TunnelSpec s = TunnelSpec.parse("g0", "gre", Map.of("remote_ip", "flow", "local_ip", "flow", "in_key", "0x10", "out_key", "flow",
                "tos", "inherit", "ttl", "inherit", "csum", "true", "df_default", "false"));
        assertTrue(s.remoteFlow() && s.localFlow() && s.outKeyFlow() && !s.inKeyFlow());
        assertEquals(16, s.inKey());
        assertTrue(s.keyed() && s.csum() && !s.df());
        assertEquals(TunnelSpec.INHERIT, s.tos());
        assertEquals(TunnelSpec.INHERIT, s.ttl());
    }

    @Test
    void badOptionsAreRefusedClearly() {
        assertEquals("t0: vxlan type requires valid 'remote_ip' argument (an IPv4 address or 'flow')", error("vxlan", Map.of()));
        assertEquals("t0: multicast remote_ip=239.1.1.1 not allowed", error("vxlan", Map.of("remote_ip", "239.1.1.1")));
        assertTrue(error("vxlan", Map.of("remote_ip", "2001:db8::1")).contains("IPv6 tunnel endpoints are not supported"));
        assertTrue(error("vxlan", Map.of("remote_ip", "10.0.0.1", "key", "0x1000000")).contains("does not fit the header"));
        assertTrue(error("vxlan", Map.of("remote_ip", "10.0.0.1", "exts", "gbp")).contains("'exts' is not supported"));
        assertTrue(error("gre", Map.of("remote_ip", "10.0.0.1", "dst_port", "4789")).contains("dst_port applies to vxlan"));
        assertTrue(error("vxlan", Map.of("remote_ip", "10.0.0.1", "local_ip", "flow")).contains("requires 'remote_ip=flow' with 'local_ip=flow'"));
        assertTrue(error("vxlan", Map.of("remote_ip", "10.0.0.1", "ttl", "0")).contains("ttl '0' must be a number from 1 to 255"));
        assertTrue(error("vxlan", Map.of("remote_ip", "10.0.0.1", "csum", "yes")).contains("csum 'yes' must be true or false"));
    }

    @Test
    void longestPrefixWinsAndUserRoutesBeatCachedOnes() {
        RouteTable t = new RouteTable(List.of(
                new RouteTable.Route(0x0a000000, 8, 0, 0x0a000001, 1, "br-a", false, false),
                new RouteTable.Route(0x0a010000, 16, 0x0a000001, 0x0a000002, 2, "br-b", false, false),
                new RouteTable.Route(0x0a010000, 16, 0x0a0000fe, 0x0a000003, 3, "br-c", true, false)));
        assertEquals(3, t.port(t.lookup(0x0a010203)), "the user's /16 before the cached one");
        assertEquals(1, t.port(t.lookup(0x0a020304)));
        assertEquals(-1, t.lookup(0x0b000001));
        assertEquals("User: 10.1.0.0/16 dev br-c GW 10.0.0.254 SRC 10.0.0.3", t.route(t.lookup(0x0a010203)).format());
    }

    @Test
    void neighboursAgeOutAndFlushPerPort() {
        NeighbourCache n = new NeighbourCache();
        assertTrue(n.learn(1, 0x0a000002, 0x0200_0000_0002L, 100));
        assertTrue(n.learn(2, 0x0a000002, 0x0200_0000_0003L, 100));
        assertEquals(0x0200_0000_0002L, n.lookup(1, 0x0a000002, 100 + NeighbourCache.IDLE_SECONDS - 1));
        assertEquals(-1, n.lookup(1, 0x0a000002, 100 + NeighbourCache.IDLE_SECONDS), "15 minutes idle: gone");
        n.flush(2);
        assertEquals(-1, n.lookup(2, 0x0a000002, 101));
        assertEquals(0x0200_0000_0002L, n.lookup(1, 0x0a000002, 101));
        for (int i = 0; i < 1000; i++) assertTrue(n.learn(1, 0x0b000000 + i, i + 1, 105));
        assertEquals(1001, n.entries(105).size());
        n.sweep(105 + NeighbourCache.IDLE_SECONDS);
        assertEquals(0, n.entries(105).size(), "swept");
    }
}
