#!/usr/bin/env bash
# perf/flowmod-bench.sh [FLOWS]: how fast flows get installed, and whether traffic on flows that do
# not change loses packets meanwhile. The real `ovs-ofctl -O OpenFlow13 add-flows` sends FLOWS flows
# (default 100000; one exact nw_dst each) and ends with a barrier, so it returns once the switch has
# them all; timed against our switch and against Open vSwitch (ovs-vswitchd, userspace datapath) in
# the same run, then `dump-aggregate` checks the count. During the burst, iperf3 sends UDP (20 Mbit/s,
# 200-byte datagrams, about 12 500 packets/s) between two namespaces through two priority-200 port
# flows that the burst does not touch; its receiver reports what was lost.
set -euo pipefail
FLOWS=${1:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../bin/vswitch-env.sh"
ensure_built
warn_other_switches
W=$(mktemp -d /tmp/flowmod-bench.XXXXXX)
cleanup() {
    VSWITCH_RUNDIR=$W/vsw "$VSWITCH_HOME/bin/vswitch" stop >/dev/null 2>&1 || true
    for p in "$W"/ovs/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    for n in vswb-ovs vswb-a vswb-b; do ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null || true; ip netns del $n 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

python3 - "$FLOWS" > "$W/flows.txt" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"priority=100,ip,nw_dst=10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255},actions=output:2")
PY

# Two namespaces whose devices A and B (already attached to the switch as ports 1 and 2) talk 192.0.2.1 <-> .2.
hosts() {  # DEV-A DEV-B
    for n in vswb-a vswb-b; do ip netns del $n 2>/dev/null || true; ip netns add $n; done
    ip link set "$1" netns vswb-a && ip -n vswb-a addr add 192.0.2.1/24 dev "$1" && ip -n vswb-a link set "$1" up
    ip link set "$2" netns vswb-b && ip -n vswb-b addr add 192.0.2.2/24 dev "$2" && ip -n vswb-b link set "$2" up
    # Full checksums on the wire: a veth peer's partial ones would not survive OVS's AF_PACKET ports.
    ip netns exec vswb-a ethtool -K "$1" tx off >/dev/null 2>&1 || true
    ip netns exec vswb-b ethtool -K "$2" tx off >/dev/null 2>&1 || true
}

install() {  # LABEL MGMT-SOCKET
    local t0 t1 count loss
    ovs-ofctl -O OpenFlow13 add-flow "unix:$2" "priority=200,in_port=1,actions=output:2"
    ovs-ofctl -O OpenFlow13 add-flow "unix:$2" "priority=200,in_port=2,actions=output:1"
    local reached=no
    for _ in $(seq 20); do ip netns exec vswb-a ping -c1 -W1 192.0.2.2 >/dev/null 2>&1 && { reached=yes; break; }; done
    [ $reached = yes ] || echo "flowmod-bench: $1: the two namespaces do not reach each other; the loss figure will be missing" >&2
    ip netns exec vswb-b iperf3 -s -1 -J > "$W/iperf-$1.json" 2>/dev/null &
    local server=$!
    sleep 0.5
    ip netns exec vswb-a iperf3 -c 192.0.2.2 -u -b 20M -l 200 -t 600 >/dev/null 2>&1 &
    local client=$!
    sleep 2                                               # traffic flows before the burst
    t0=$(date +%s.%N)
    ovs-ofctl -O OpenFlow13 add-flows "unix:$2" "$W/flows.txt"
    t1=$(date +%s.%N)
    sleep 1
    kill -INT $client 2>/dev/null || true
    wait $client 2>/dev/null || true
    for _ in $(seq 50); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
    kill $server 2>/dev/null || true
    wait $server 2>/dev/null || true
    count=$(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$2" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
    if [ -n "${FLOWMOD_BENCH_DEBUG:-}" ]; then
        ovs-ofctl -O OpenFlow13 dump-ports "unix:$2" >&2
        ip -n vswb-a -s link >&2; ip -n vswb-b -s link >&2
    fi
    loss=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['end']['sum_received']; print(f\"{s['lost_packets']} of {s['packets']} lost\")" "$W/iperf-$1.json" 2>/dev/null || echo "loss unknown")
    [ "$loss" != "loss unknown" ] || tail -c 600 "$W/iperf-$1.json" >&2
    printf '%-12s %8d flows in %6.2f s = %8.0f flows/s (flow_count after: %s); unrelated UDP: %s\n' "$1" "$FLOWS" \
        "$(echo "$t1 - $t0" | bc -l)" "$(echo "$FLOWS / ($t1 - $t0)" | bc -l)" "$count" "$loss"
}

export VSWITCH_RUNDIR=$W/vsw
"$VSWITCH_HOME/bin/vswitch" start >/dev/null
"$VSWITCH_HOME/bin/vsctl" add-br brf
for p in 1 2; do "$VSWITCH_HOME/bin/vsctl" add-port brf fmb$p -- set Interface fmb$p type=tap ofport_request=$p; done
for _ in $(seq 50); do ip link show fmb2 >/dev/null 2>&1 && break; sleep 0.1; done
hosts fmb1 fmb2
install "vswitch" "$W/vsw/brf.mgmt"
"$VSWITCH_HOME/bin/vswitch" stop >/dev/null
unset VSWITCH_RUNDIR

# OVS in a namespace of its own (its bridge's internal port must not meet ours); its ports are veth
# ends (netdev-linux "system" ports, what its userspace datapath offers for kernel peers).
mkdir -p "$W/ovs"
ip netns add vswb-ovs
O() { ip netns exec vswb-ovs env OVS_RUNDIR="$W/ovs" OVS_LOGDIR="$W/ovs" OVS_DBDIR="$W/ovs" "$@"; }
ovsdb-tool create "$W/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
O ovsdb-server --remote=punix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovsdb-server.pid" --detach --no-chdir --log-file="$W/ovs/ovsdb-server.log" "$W/ovs/conf.db"
O ovs-vsctl --no-wait init
O ovs-vswitchd unix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovs-vswitchd.pid" --detach --no-chdir --log-file="$W/ovs/ovs-vswitchd.log" 2>/dev/null
O ovs-vsctl --timeout=30 add-br brf -- set bridge brf datapath_type=netdev
for p in 1 2; do
    ip link add ovb$p type veth peer name ovh$p
    ip link set ovb$p netns vswb-ovs && ip -n vswb-ovs link set ovb$p up
    O ovs-vsctl --timeout=30 add-port brf ovb$p -- set Interface ovb$p ofport_request=$p
done
hosts ovh1 ovh2
install "OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}')" "$W/ovs/brf.mgmt"
