package io.vswitch.cli.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real {@code ovs-ofctl -O OpenFlow13} (Debian openvswitch-common) against our switch and, command
 * for command, against the real Open vSwitch 3.1 ({@code ovs-vswitchd}, userspace datapath, in a
 * network namespace of its own so both can have a bridge {@code brof} with ports {@code of1},
 * {@code of2}). Each step must give the same exit code, output and errors from both, after
 * normalising what is random (durations, MAC addresses, datapath ids).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class OvsOfctlIT {
    private SwitchUnderTest sw;
    private NetNs ovsNs;
    private Path ovsDir;

    @BeforeAll
    void setUp() throws Exception {
        Sh.requireRoot();
        sw = new SwitchUnderTest();
        sw.vswitch("start").ok();
        sw.vsctl("add-br", "brof").ok();
        sw.vsctl("add-port", "brof", "of1", "--", "set", "Interface", "of1", "type=internal", "ofport_request=1").ok();
        sw.vsctl("add-port", "brof", "of2", "--", "set", "Interface", "of2", "type=internal", "ofport_request=2").ok();

        ovsNs = NetNs.create("vsw-ofctl-ovs");
        ovsDir = Files.createTempDirectory("ovs-ofctl-it-");
        Path db = ovsDir.resolve("conf.db");
        Sh.run("ovsdb-tool", "create", db.toString(), "/usr/share/openvswitch/vswitch.ovsschema").ok();
        ovs("ovsdb-server", "--remote=punix:" + ovsDir.resolve("db.sock"), "--pidfile=" + ovsDir.resolve("ovsdb-server.pid"),
                "--detach", "--no-chdir", "--log-file=" + ovsDir.resolve("ovsdb-server.log"), db.toString()).ok();
        ovs("ovs-vsctl", "--no-wait", "init").ok();
        ovs("ovs-vswitchd", "unix:" + ovsDir.resolve("db.sock"), "--pidfile=" + ovsDir.resolve("ovs-vswitchd.pid"),
                "--detach", "--no-chdir", "--log-file=" + ovsDir.resolve("ovs-vswitchd.log")).ok();
        ovs("ovs-vsctl", "--timeout=30", "add-br", "brof", "--", "set", "bridge", "brof", "datapath_type=netdev",
                "--", "add-port", "brof", "of1", "--", "set", "Interface", "of1", "type=internal", "ofport_request=1",
                "--", "add-port", "brof", "of2", "--", "set", "Interface", "of2", "type=internal", "ofport_request=2").ok();
    }

    /** Runs a command in the OVS namespace with OVS's run dir pointing at the test's directory. */
    private Sh.Result ovs(String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", "vsw-ofctl-ovs", "env", "OVS_RUNDIR=" + ovsDir,
                "OVS_LOGDIR=" + ovsDir, "OVS_DBDIR=" + ovsDir));
        c.addAll(List.of(cmd));
        return Sh.run(Map.of(), Duration.ofSeconds(60), c.toArray(new String[0]));
    }

    @AfterAll
    void tearDown() throws IOException {
        if (ovsDir != null) {
            for (String p : List.of("ovs-vswitchd", "ovsdb-server")) {
                Path pid = ovsDir.resolve(p + ".pid");
                if (Files.exists(pid)) Sh.run("kill", Files.readString(pid).trim());
            }
        }
        if (ovsNs != null) ovsNs.close();
        if (sw != null) sw.close();
    }

    /** The OpenFlow version ovs-ofctl is asked to speak ({@code -O}) by the current test. */
    private String protocol = "OpenFlow13";

    /** ovs-ofctl COMMAND with the bridge's management socket as target, then ARGS; COMMAND may start with options ("--bundle add-flow"). */
    private Sh.Result ofctl(Path mgmt, String command, String... args) {
        List<String> c = new ArrayList<>(List.of("ovs-ofctl", "-O", protocol, "--rsort"));
        c.addAll(List.of(command.split(" ")));
        c.add("unix:" + mgmt);
        c.addAll(List.of(args));
        return Sh.run(Map.of(), Duration.ofSeconds(30), c.toArray(new String[0]));
    }

    private static String normalise(String s) {
        return s.replaceAll("duration[=:][0-9.]+s", "duration=?s")
                .replaceAll("idle_age=[0-9]+", "idle_age=?")             // OpenFlow 1.5 reports idle time
                .replaceAll("([0-9a-f]{2}:){5}[0-9a-f]{2}", "MAC")
                .replaceAll("dpid:[0-9a-f]{16}", "dpid:?")
                .replaceAll("xid=0x[0-9a-f]+", "xid=?")
                .replaceAll("unix:/[^ :]*", "unix:SOCKET")
                .replaceAll("(?m)^\\S+\\|\\d+\\|", "");           // log prefixes of ovs-ofctl warnings
    }

    private static String sortedLines(String s) {
        return s.lines().sorted().collect(java.util.stream.Collectors.joining("\n"));
    }

    private void same(String command, String... args) {
        Sh.Result ours = ofctl(sw.runDir.resolve("brof.mgmt"), command, args);
        Sh.Result theirs = ofctl(ovsDir.resolve("brof.mgmt"), command, args);
        String what = command + " " + String.join(" ", args);
        assertEquals(theirs.rc(), ours.rc(), what + ": exit code\nours: " + ours.out() + ours.err() + "\nOVS: " + theirs.out() + theirs.err());
        // Lines compared as sets: --rsort orders flows by priority, and within one priority each switch has its own order.
        assertEquals(sortedLines(normalise(theirs.out())), sortedLines(normalise(ours.out())), what + ": output");
        assertEquals(normalise(theirs.err()), normalise(ours.err()), what + ": errors");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
    void flowTableOperationsGiveWhatOpenVSwitchGives(String version) {
        protocol = version;
        same("dump-flows");
        same("add-flow", "priority=10,in_port=1,dl_vlan=100,actions=strip_vlan,output:2");
        same("add-flow", "table=1,priority=5,tcp,nw_dst=10.0.0.0/8,tp_dst=80,actions=set_field:00:11:22:33:44:55->eth_dst,goto_table:2");
        same("add-flow", "cookie=0x10,priority=7,ip,nw_src=192.168.1.0/24,actions=output:1");
        same("add-flow", "cookie=0x20,priority=7,arp,actions=NORMAL");
        same("add-flow", "cookie=0x30,priority=8,udp,tp_src=53,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2");
        same("add-flow", "table=2,priority=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop");
        same("add-flow", "priority=9,tcp,tp_dst=80,actions=set_field:10.0.0.9->ip_dst,set_field:8080->tcp_dst,dec_ttl,output:2");
        same("add-flow", "priority=9,udp,actions=set_field:46->ip_dscp,set_field:53->udp_src,output:2");
        same("add-flow", "priority=17,arp,actions=set_field:10.0.0.9->arp_spa,set_field:02:00:00:00:00:09->arp_sha,set_field:2->arp_op,output:2");
        same("add-flow", "priority=18,icmp,actions=set_field:0->icmp_type,set_field:3->icmp_code,set_field:1->ip_ecn,output:2");
        same("add-flow", "priority=19,udp6,actions=set_field:2001:db8::9->ipv6_dst,set_field:53->udp_dst,set_field:0x12345->ipv6_label,output:2");
        same("add-flow", "priority=20,icmp6,actions=set_field:129->icmpv6_type,output:2");
        same("add-flow", "priority=21,in_port=1,actions=set_field:0x42->tun_id,output:2");
        same("add-flow", "priority=22,ip,actions=set_field:10.0.0.1->arp_spa,output:2");             // not an ARP flow
        same("add-flow", "priority=23,sctp,actions=set_field:99->sctp_dst,output:2");
        same("add-flow", "priority=26,in_port=2,actions=set_queue:3,output:1");                    // a port without QoS: its one queue
        same("add-flow", "priority=27,in_port=1,actions=push_vlan:0x8100,set_field:4296->vlan_vid,push_vlan:0x88a8,"
                + "set_field:4196->vlan_vid,output:2,pop_vlan,pop_vlan,output:1");                        // QinQ: two tags known
        same("add-flow", "priority=28,in_port=1,dl_vlan=5,actions=pop_vlan,pop_vlan,output:2");     // only one is
        same("add-flow", "priority=24,icmp6,icmp_type=135,actions=set_field:2001:db8::5->nd_target,set_field:02:00:00:00:00:05->nd_sll,output:2");
        same("add-flow", "priority=25,icmp6,icmp_type=135,actions=set_field:02:00:00:00:00:05->nd_tll,output:2");   // a solicitation has no TLL
        same("add-flow", "priority=5,actions=group:1");                                // no such group
        same("add-flow", "priority=11,in_port=2,actions=clear_actions,write_actions(push_vlan:0x8100,set_field:4097->vlan_vid,output:1)");
        same("add-flow", "priority=12,in_port=2,actions=write_actions(output:1,output:2)");      // two outputs in a set
        same("add-flow", "check_overlap,priority=7,ip,actions=drop");                  // overlaps cookie=0x10
        same("add-flow", "check_overlap,priority=7,ipv6,actions=drop");                // does not
        same("add-flow", "priority=10,in_port=1,dl_vlan=100,actions=output:1");         // replaces the first
        same("dump-flows");
        same("dump-flows", "ip");
        same("dump-flows", "cookie=0x10/-1");
        same("dump-flows", "table=1");
        same("dump-aggregate");
        same("mod-flows", "cookie=0x20/-1,actions=drop");
        same("mod-flows", "--strict", "priority=7,ip,nw_src=192.168.1.0/24,actions=output:2");
        same("dump-flows");
        same("del-flows", "--strict", "priority=7,arp");
        same("del-flows", "out_port=2");
        same("dump-flows");
        same("del-flows", "table=2");
        same("dump-flows");
        same("del-flows");
        same("dump-flows");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
    void groupsGiveWhatOpenVSwitchGives(String version) {
        protocol = version;
        same("add-group", "group_id=1,type=all,bucket=output:1,bucket=output:2");
        same("add-group", "group_id=1,type=all,bucket=output:1");                                   // exists
        same("add-group", "group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2");
        same("add-group", "group_id=3,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2");
        same("add-group", "group_id=4,type=indirect,bucket=actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:2");
        same("add-group", "group_id=5,type=indirect,bucket=output:1,bucket=output:2");              // one bucket only
        same("add-group", "group_id=6,type=ff,bucket=output:1");                                    // no watch port
        same("dump-groups");
        same("add-flow", "priority=5,in_port=1,actions=group:1");
        same("add-flow", "priority=6,in_port=2,actions=group:2");
        same("dump-group-stats");
        String features = ofctl(sw.runDir.resolve("brof.mgmt"), "dump-group-features").ok().out();
        assertTrue(features.contains("Types:  0xf") && features.contains("Capabilities:  0x7")          // as OVS: weights, liveness, chaining
                && features.contains("fast failover group:") && features.contains("actions: output group set_field strip_vlan push_vlan dec_ttl"), features);
        same("add-group", "group_id=10,type=all,bucket=output:1");
        same("add-group", "group_id=11,type=indirect,bucket=group:10");                           // chaining
        same("add-group", "group_id=12,type=all,bucket=group:99");                                // to a group that does not exist
        same("mod-group", "group_id=10,type=all,bucket=group:11");                                // a loop
        same("dump-groups");
        same("del-groups", "group_id=10");                                                        // group 11 goes to it
        same("dump-groups");
        same("mod-group", "group_id=1,type=all,bucket=output:2");
        same("mod-group", "group_id=9,type=all,bucket=output:2");                                   // no such group
        same("dump-groups");
        same("del-groups", "group_id=1");
        same("dump-flows");                                                                         // its flow went with it
        same("del-groups");
        same("dump-groups");
        same("dump-flows");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
    void metersGiveWhatOpenVSwitchGives(String version) {
        protocol = version;
        same("add-meter", "meter=1,kbps,band=type=drop,rate=1000");
        same("add-meter", "meter=1,kbps,band=type=drop,rate=1000");                                 // exists
        same("add-meter", "meter=2,pktps,burst,stats,band=type=drop,rate=100,burst_size=20");
        same("add-meter", "meter=3,kbps,pktps,band=type=drop,rate=100");                            // both units
        same("dump-meters");
        same("add-flow", "priority=20,in_port=2,actions=meter:1,output:1");
        same("add-flow", "priority=21,in_port=1,actions=meter:9,output:2");                         // no such meter
        same("meter-stats");
        same("mod-meter", "meter=1,kbps,band=type=drop,rate=2000");
        same("mod-meter", "meter=7,kbps,band=type=drop,rate=2000");                                 // no such meter
        same("dump-meters");
        same("del-meters", "meter=1");
        same("dump-flows");                                                                         // its flow went with it
        same("del-meters");
        same("dump-meters");
        // OVS's userspace datapath has only drop bands; ours also remarks DSCP.
        Path mgmt = sw.runDir.resolve("brof.mgmt");
        ofctl(mgmt, "add-meter", "meter=5,kbps,band=type=dscp_remark,rate=500,prec_level=1").ok();
        String features = ofctl(mgmt, "meter-features").ok().out();
        assertTrue(features.contains("band_types: drop dscp_remark") && features.contains("capabilities: kbps pktps burst stats"), features);
        ofctl(mgmt, "del-meters").ok();
    }

    /** Last: a port-mod "up" lets an internal port send (IPv6 DAD), which the other tests' counters would see. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
    @org.junit.jupiter.api.Order(Integer.MAX_VALUE)
    void showAndPortDescriptionsGiveWhatOpenVSwitchGives(String version) {
        protocol = version;
        same("show");
        same("dump-ports-desc");
        same("dump-ports", "2");                                                                    // port 1 went up in an earlier run: its counters depend on timing
        same("queue-stats");                                                                        // no queues (yet): empty, as OVS's without QoS
        same("queue-stats", "9");
        if (protocol.equals("OpenFlow13")) same("queue-get-config", "1");                           // 1.4 made it a multipart (not yet)
        same("mod-port", "1", "down");
        same("dump-ports-desc");
        same("mod-port", "1", "up");
        same("mod-port", "2", "noforward");
        same("mod-port", "2", "no-packet-in");
        same("dump-ports-desc");
        same("mod-port", "2", "forward");
        same("mod-port", "2", "packet-in");
        same("mod-port", "9", "down");                                                              // no such port
        same("dump-ports-desc");
        same("mod-port", "1", "down");                                                              // as it was
    }

    /** Bundles (OpenFlow 1.4 and 1.5): all of a bundle's flow-mods and group-mods take effect, or none. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"OpenFlow14", "OpenFlow15"})
    void bundlesGiveWhatOpenVSwitchGives(String version) throws IOException {
        protocol = version;
        Path good = Files.writeString(Files.createTempFile("bundle-good", ".txt"),
                "priority=1,in_port=1,actions=output:2\npriority=2,in_port=2,actions=output:1\ntable=3,priority=7,ip,actions=drop\n");
        Path bad = Files.writeString(Files.createTempFile("bundle-bad", ".txt"),
                "priority=3,in_port=1,actions=drop\npriority=4,actions=group:99\n");
        try {
            same("--bundle add-flows", good.toString());
            same("--bundle add-flows", bad.toString());                          // the second flow fails: neither is added
            same("dump-flows");
            same("--bundle add-flow", "priority=5,actions=drop");
            same("--bundle del-flows", "table=3");
            same("dump-flows");
            same("--bundle add-group", "group_id=1,type=all,bucket=output:1");
            same("--bundle add-group", "group_id=1,type=all,bucket=output:2");   // exists
            same("dump-groups");
            same("--bundle del-groups");
            same("--bundle del-flows");
            same("dump-flows");
        } finally {
            Files.delete(good);
            Files.delete(bad);
        }
    }

    /**
     * OpenFlow 1.0, what plain {@code ovs-ofctl} speaks. OVS also accepts Nicira's extended match
     * (NXM), which ovs-ofctl tries first for dumps; we refuse it, so ovs-ofctl falls back to 1.0's
     * own flow statistics: the same flows, headed OFPST_FLOW instead of NXST_FLOW and without NXM's
     * idle_age, which the comparison leaves aside.
     */
    @Test
    void openFlow10GivesWhatOpenVSwitchGives() {
        protocol = "OpenFlow10";
        same10("add-flow", "priority=10,in_port=1,dl_vlan=100,actions=strip_vlan,output:2");
        same10("add-flow", "priority=30,tcp,in_port=1,tp_dst=80,actions=mod_dl_dst:00:11:22:33:44:55,output:2");
        same10("add-flow", "priority=20,in_port=2,dl_vlan=0xffff,actions=mod_vlan_vid:10,output:1");
        same10("add-flow", "cookie=0x5,priority=25,udp,nw_src=10.0.0.0/8,actions=mod_nw_dst:10.1.1.1,mod_tp_dst:53,mod_nw_tos:184,output:2");
        same10("add-flow", "cookie=0x6,priority=5,arp,actions=NORMAL");
        same10("add-flow", "priority=6,in_port=2,actions=enqueue:1:3");
        same10("dump-flows");
        same10("dump-flows", "udp");
        same10("dump-aggregate");
        same10("mod-flows", "arp,actions=drop");
        same10("mod-flows", "--strict", "priority=40,in_port=1,actions=output:2");         // 1.0: a modify that matches nothing adds
        same10("dump-flows");
        same10("del-flows", "--strict", "priority=40,in_port=1");
        same10("del-flows", "in_port=1");
        same10("dump-flows");
        same10("show");
        same10("dump-ports", "2");
        same10("del-flows");
        same10("dump-flows");
    }

    private void same10(String command, String... args) {
        Sh.Result ours = ofctl(sw.runDir.resolve("brof.mgmt"), command, args);
        Sh.Result theirs = ofctl(ovsDir.resolve("brof.mgmt"), command, args);
        String what = command + " " + String.join(" ", args);
        assertEquals(theirs.rc(), ours.rc(), what + ": exit code\nours: " + ours.out() + ours.err() + "\nOVS: " + theirs.out() + theirs.err());
        java.util.function.UnaryOperator<String> nxm = o -> normalise(o).replace("NXST_FLOW reply", "OFPST_FLOW reply")
                .replace("NXST_AGGREGATE reply", "OFPST_AGGREGATE reply").replaceAll(" idle_age=[^ ,]+,", "");
        assertEquals(sortedLines(nxm.apply(theirs.out())), sortedLines(nxm.apply(ours.out())), what + ": output");
        assertEquals(normalise(theirs.err()), normalise(ours.err()), what + ": errors");
    }

    @Test
    void aWrongVersionIsRefusedLikeOpenVSwitchRefusesIt() {
        Sh.Result r = Sh.run("ovs-ofctl", "-O", "OpenFlow12", "dump-flows", "unix:" + sw.runDir.resolve("brof.mgmt"));
        assertEquals(1, r.rc(), r.out() + r.err());
        assertTrue(r.err().contains("version negotiation failed"), r.err());
    }
}
