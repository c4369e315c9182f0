package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our {@code bin/ofctl} against the real {@code ovs-ofctl -O OpenFlow13}, on one switch with two
 * bridges: each command runs with ours on {@code bra} and with ovs-ofctl on {@code brb}, and must
 * give the same exit code, output and errors. Then ovs-ofctl dumps both bridges (our parser built
 * the same flows, groups and meters as ovs-ofctl's) and ours dumps {@code bra} (our printer says
 * them as ovs-ofctl does).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OfctlIT {
    private SwitchUnderTest sw;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        for (String br : List.of("bra", "brb")) {
            sw.vsctl("add-br", br).ok();
            for (int p = 1; p <= 2; p++) {
                sw.vsctl("add-port", br, br + p, "--", "set", "Interface", br + p, "type=internal", "ofport_request=" + p).ok();
            }
        }
    }

    @AfterAll
    void tearDown() {
        if (sw != null) sw.close();
    }

    private Sh.Result ovs(String bridge, String command, String... args) {
        List<String> c = new ArrayList<>(List.of("ovs-ofctl", "-O", "OpenFlow13", command, "unix:" + sw.runDir.resolve(bridge + ".mgmt")));
        c.addAll(List.of(args));
        return Sh.run(c.toArray(new String[0]));
    }

    private Sh.Result ours(String bridge, String command, String... args) {
        List<String> c = new ArrayList<>(List.of(command, bridge));
        c.addAll(List.of(args));
        return sw.ofctl(c.toArray(new String[0]));
    }

    private static String normalise(String s) {
        return s.replaceAll("duration[=:][0-9.]+s", "duration=?s").replaceAll("xid=0x[0-9a-f]+", "xid=?")
                .replaceAll("addr:([0-9a-f]{2}:){5}[0-9a-f]{2}", "addr:MAC").replaceAll("dpid:[0-9a-f]{16}", "dpid:?")   // two bridges, two of each
                .replaceAll("(?m)^\\S+\\|\\d+\\|.*\\n?", "")              // ovs-ofctl's log lines
                .replaceAll("(?m)^WARNING: .*\\n?", "")                   // JVM warnings on our side
                .replace("brb", "bra").replace("ovs-ofctl: ", "ofctl: ");
    }

    /** The command with ours on bra and ovs-ofctl on brb: same exit code, output, errors. */
    private void same(String command, String... args) {
        Sh.Result mine = ours("bra", command, args), theirs = ovs("brb", command, args);
        String what = command + " " + String.join(" ", args);
        assertEquals(theirs.rc(), mine.rc(), what + ": exit code\nours: " + mine.out() + mine.err() + "\novs-ofctl: " + theirs.out() + theirs.err());
        assertEquals(normalise(theirs.out()), normalise(mine.out()), what + ": output");
        assertEquals(normalise(theirs.err()).strip(), normalise(mine.err()).strip(), what + ": errors");
    }

    /** Both bridges hold the same, and ours prints bra as ovs-ofctl does. */
    private void sameState(String dump, String... args) {
        String a = normalise(ovs("bra", dump, args).ok().out()), b = normalise(ovs("brb", dump, args).ok().out());
        assertEquals(b, a, dump + ": our ofctl installed what ovs-ofctl installs");
        assertEquals(a, normalise(ours("bra", dump, args).ok().out()), dump + ": our ofctl prints what ovs-ofctl prints");
    }

    @Test
    void flowsAsOvsOfctlDoesThem() {
        for (String flow : List.of(
                "priority=10,in_port=1,dl_vlan=100,actions=strip_vlan,output:2",
                "table=1,priority=5,tcp,nw_dst=10.0.0.0/8,tp_dst=80,actions=set_field:00:11:22:33:44:55->eth_dst,goto_table:2",
                "cookie=0x10,priority=7,ip,nw_src=192.168.1.0/24,actions=output:1",
                "cookie=0x20,priority=7,arp,arp_tpa=10.0.0.1,actions=NORMAL",
                "cookie=0x30,priority=8,udp,tp_src=53,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2",
                "table=2,priority=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop",
                "priority=9,tcp,tp_dst=80,actions=set_field:10.0.0.9->ip_dst,set_field:8080->tcp_dst,dec_ttl,output:2",
                "priority=9,udp,nw_tos=184,actions=set_field:46->ip_dscp,set_field:53->udp_src,output:2",
                "priority=11,in_port=2,actions=clear_actions,write_actions(push_vlan:0x8100,set_field:4097->vlan_vid,output:1)",
                "priority=12,in_port=2,dl_src=02:00:00:00:00:01,actions=write_actions(output:1,output:2)",
                "priority=13,icmp,icmp_type=8,actions=CONTROLLER:128",
                "priority=14,ipv6,ipv6_src=2001:db8::/32,actions=output:1",
                "idle_timeout=30,hard_timeout=60,send_flow_rem,priority=15,in_port=1,actions=write_metadata:0x5/0xff,goto_table:3",
                "table=3,priority=1,metadata=0x5/0xff,actions=LOCAL",
                "priority=16,tcp6,tp_src=22,actions=in_port",
                "priority=17,in_port=1,actions=set_queue:2,output:2",
                "priority=5,actions=group:1",                                    // no such group: refused
                "priority=5,in_port=1,actions=output:1,bogus",                    // not an action
                "check_overlap,priority=7,ip,actions=drop")) {                   // overlaps cookie=0x10
            same("add-flow", flow);
        }
        sameState("dump-flows");
        sameState("dump-flows", "ip");
        sameState("dump-flows", "cookie=0x10/-1");
        sameState("dump-flows", "table=1");
        same("dump-aggregate");
        same("mod-flows", "cookie=0x20/-1,actions=drop");
        same("mod-flows", "--strict", "priority=7,ip,nw_src=192.168.1.0/24,actions=output:2");
        same("del-flows", "--strict", "priority=7,arp,arp_tpa=10.0.0.1");
        same("del-flows", "out_port=2");
        sameState("dump-flows");
        same("del-flows");
        sameState("dump-flows");
    }

    @Test
    void addFlowsFromAFileAndShowAndPorts() throws Exception {
        Path file = Files.createTempFile("flows", ".txt");
        try {
            Files.writeString(file, "# two flows\npriority=1,in_port=1,actions=output:2\n\npriority=2,in_port=2,actions=output:1\n");
            same("add-flows", file.toString());
            sameState("dump-flows");
            same("del-flows");
        } finally {
            Files.delete(file);
        }
        same("show");
        same("dump-ports-desc");
        same("dump-ports", "2");
        same("dump-tables");
        same("mod-port", "2", "noforward");
        sameState("dump-ports-desc");
        same("mod-port", "2", "forward");
        same("mod-port", "9", "down");                                        // no such port
    }

    @Test
    void groupsAndMetersAsOvsOfctlDoesThem() {
        same("add-group", "group_id=1,type=all,bucket=output:1,bucket=output:2");
        same("add-group", "group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2");
        same("add-group", "group_id=3,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2");
        same("add-group", "group_id=4,type=indirect,bucket=actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:2");
        same("add-group", "group_id=1,type=all,bucket=output:1");                  // exists
        sameState("dump-groups");
        same("add-meter", "meter=1,kbps,band=type=drop,rate=1000");
        same("add-meter", "meter=2,pktps,burst,stats,band=type=drop,rate=100,burst_size=20");
        same("add-flow", "priority=20,in_port=2,actions=meter:1,group:1");
        sameState("dump-meters");
        sameState("dump-flows");
        same("mod-group", "group_id=1,type=all,bucket=output:2");
        same("mod-meter", "meter=1,kbps,band=type=drop,rate=2000");
        sameState("dump-groups");
        sameState("dump-meters");
        same("del-groups", "group_id=1");
        same("del-meters");
        same("del-groups");
        sameState("dump-flows");
        sameState("dump-groups");
    }

    @Test
    void aMissingBridgeIsAClearError() {
        Sh.Result r = sw.ofctl("show", "nosuchbr");
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("nosuchbr is not a bridge or a socket"), r.err());
    }
}
