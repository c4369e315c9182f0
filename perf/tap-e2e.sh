#!/usr/bin/env bash
# perf/tap-e2e.sh [SECONDS]: forwarding between two network namespaces through vswitch TAP ports,
# and, as a reference on the same generator, through the Linux bridge over veth pairs.
# Measures: UDP 64-byte frames (iperf3 -u -l 18, unlimited rate) in packets/s received, and one TCP
# stream in Gbit/s; for vswitch also the PMD's processing ns per packet from pmd-stats-show.
# Needs root and iperf3. Creates and removes its own namespaces; uses a private run dir.
set -euo pipefail
SECS=${1:-10}
HOME_DIR=$(cd "$(dirname "$0")/.." && pwd)
export VSWITCH_RUNDIR=$(mktemp -d /tmp/vswitch-perf.XXXXXX)
A=vswperf-a B=vswperf-b

cleanup() {
    ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
    ip link del vswperf-br 2>/dev/null || true
    "$HOME_DIR/bin/vswitch" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

udp() {  # prints packets/s received over the run
    ip netns exec $B iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
    sleep 0.5
    ip netns exec $A iperf3 -c 10.8.0.2 -p 5301 -u -b 0 -l 18 -t "$SECS" -J > /tmp/vswperf-udp.json || true
    wait
    python3 -c 'import json,sys; e=json.load(open("/tmp/vswperf-udp.json"))["end"]["sum"]; print("%.0f %.2f" % ((e["packets"]-e["lost_packets"])/e["seconds"], e["lost_percent"]))'
}

tcp() {  # prints Gbit/s received
    ip netns exec $B iperf3 -s -1 -p 5302 >/dev/null 2>&1 &
    sleep 0.5
    ip netns exec $A iperf3 -c 10.8.0.2 -p 5302 -t "$SECS" -J > /tmp/vswperf-tcp.json || true
    wait
    python3 -c 'import json; print("%.2f" % (json.load(open("/tmp/vswperf-tcp.json"))["end"]["sum_received"]["bits_per_second"]/1e9))'
}

namespaces() {
    ip netns add $A; ip netns add $B
    ip link set "$1" netns $A; ip link set "$2" netns $B
    ip -n $A addr add 10.8.0.1/24 dev "$1"; ip -n $B addr add 10.8.0.2/24 dev "$2"
    ip -n $A link set "$1" up; ip -n $B link set "$2" up
    ip -n $A link set lo up; ip -n $B link set lo up
}

echo "== vswitch: TAP ports, one PMD on core $(( $(nproc) - 1 )) (busy polling)"
"$HOME_DIR/bin/vswitch" start >/dev/null
VSCTL="$HOME_DIR/bin/vsctl"
# Our dataplane's unixctl socket through OVS's C client (no JVM per command next to the measurement).
APPCTL="ovs-appctl -t $VSWITCH_RUNDIR/vswitch-dp.ctl"
$VSCTL add-br br0
$VSCTL add-port br0 vswperf0 -- set Interface vswperf0 type=tap
$VSCTL add-port br0 vswperf1 -- set Interface vswperf1 type=tap
namespaces vswperf0 vswperf1
ip netns exec $A ping -c 2 -i 0.2 10.8.0.2 >/dev/null
$APPCTL dpif-netdev/pmd-stats-clear >/dev/null
read -r vs_pps vs_loss < <(udp)
vs_ns=$($APPCTL dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing ns per packet: \([0-9.]*\).*/\1/p')
# How often the sending side's TAP fell idle (no frame for 16 polls) and was woken by tap-watch.
vs_sleeps=$($APPCTL dpctl/show -s | sed -n '/: vswperf0 /,/rx_wakeups/s/.*rx_wakeups:\([0-9]*\).*/\1/p')
vs_tcp=$(tcp)
$VSCTL del-port vswperf0; $VSCTL del-port vswperf1
"$HOME_DIR/bin/vswitch" stop >/dev/null
ip netns del $A; ip netns del $B

echo "== Linux bridge: veth pairs"
ip link add vswperf-br type bridge; ip link set vswperf-br up
ip link add vswperf0 type veth peer name vswperf0p; ip link add vswperf1 type veth peer name vswperf1p
ip link set vswperf0p master vswperf-br up; ip link set vswperf1p master vswperf-br up
namespaces vswperf0 vswperf1
read -r lb_pps lb_loss < <(udp)
lb_tcp=$(tcp)

printf '\n%-28s %14s %8s %12s %18s %14s\n' "switch" "UDP64 pkts/s" "loss %" "TCP Gbit/s" "PMD ns/packet" "rx wake-ups"
printf '%-28s %14s %8s %12s %18s %14s\n' "vswitch (TAP, 1 PMD)" "$vs_pps" "$vs_loss" "$vs_tcp" "$vs_ns" "$vs_sleeps"
printf '%-28s %14s %8s %12s %18s %14s\n' "Linux bridge (veth)" "$lb_pps" "$lb_loss" "$lb_tcp" "-" "-"
