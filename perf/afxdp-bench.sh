#!/usr/bin/env bash
# perf/afxdp-bench.sh [SECONDS] [REPETITIONS]: packets/s forwarded between two AF_XDP veth ports, 64-byte frames from
# a real generator, in one run, beside OVS's own afxdp ports and the Linux bridge:
#
#   [ns vswb-gen]  dpdk-testpmd txonly (net_af_xdp on bxap)  --veth-->  bxa  ==switch==>  bxb  --veth-->  bxbp  [ns vswb-sink]
#
# The generator sends 64-byte UDP frames to an unknown MAC, so every switch floods each frame to its
# only other port (NORMAL); the sink's kernel counts what arrives on bxbp and drops it (not for its MAC).
# Result: frames/s arriving at the sink, and the generator's rate. Cores: the generator busy-polls
# core 0, each switch's PMD core 1 (pmd-cpu-mask=0x2); the Linux bridge forwards in softirq context.
set -euo pipefail
SECS=${1:-10}
REPS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../bin/vswitch-env.sh"
ensure_built
warn_other_switches
command -v dpdk-testpmd >/dev/null || { echo "afxdp-bench: installing dpdk-dev (dpdk-testpmd) ..."; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpdk-dev >/dev/null; }
W=$(mktemp -d /tmp/afxdp-bench.XXXXXX)
GEN=

cleanup() {
    [ -n "$GEN" ] && kill "$GEN" 2>/dev/null || true
    VSWITCH_RUNDIR=$W/vsw "$VSWITCH_HOME/bin/vswitch" stop >/dev/null 2>&1 || true
    for p in "$W"/ovs/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    ip link del lbr 2>/dev/null || true
    ip netns del vswb-gen 2>/dev/null || true
    ip netns del vswb-sink 2>/dev/null || true
    ip link del bxa 2>/dev/null || true
    ip link del bxb 2>/dev/null || true
}
trap cleanup EXIT
cleanup

for side in a:gen b:sink; do
    dev=bx${side%%:*}; ns=vswb-${side#*:}
    ip netns add "$ns"
    ip link add "$dev" type veth peer name "${dev}p"
    ip link set "${dev}p" netns "$ns"
    ip -n "$ns" link set "${dev}p" up
    ip netns exec "$ns" ethtool -K "${dev}p" tx off >/dev/null
    ip link set "$dev" up
done

sink_rx() { ip netns exec vswb-sink cat /sys/class/net/bxbp/statistics/rx_packets; }
gen_tx() { ip netns exec vswb-gen cat /sys/class/net/bxap/statistics/tx_packets; }

start_generator() {
    ip netns exec vswb-gen dpdk-testpmd -l 0,1 --main-lcore=1 --no-huge -m 512 --no-pci --file-prefix=vswb \
        --vdev=net_af_xdp0,iface=bxap,start_queue=0,queue_count=1 -- \
        --forward-mode=txonly --txpkts=64 --burst=32 --total-num-mbufs=16384 --auto-start --stats-period=1000 >"$W/testpmd.log" 2>&1 &
    GEN=$!
    for _ in $(seq 100); do [ "$(gen_tx)" -gt 100000 ] && return; sleep 0.1; done
    echo "afxdp-bench: the generator did not start:" >&2; cat "$W/testpmd.log" >&2; exit 1
}

stop_generator() { kill "$GEN" 2>/dev/null || true; wait "$GEN" 2>/dev/null || true; GEN=; }

# The PMD's processing time per packet over the window (busy time only, not idle polls): the switch's
# own cost, which the generator-bound rates above cannot show. OVS reports TSC cycles: converted at
# the TSC rate the kernel measured.
TSC_MHZ=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$TSC_MHZ" ] || TSC_MHZ=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$TSC_MHZ" ] || TSC_MHZ=$(awk '/cpu MHz/ {print $4; exit}' /proc/cpuinfo)
ours_ns() { "$VSWITCH_HOME/bin/appctl" dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing ns per packet: \([0-9.]*\).*/\1/p' | head -1; }
ovs_ns() {
    local c; c=$(ovs-appctl dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing cycles per packet: \([0-9.]*\).*/\1/p' | head -1)
    [ -n "$c" ] && echo "$c * 1000 / $TSC_MHZ" | bc -l
}

measure() {  # LABEL [STATS-CLEAR-COMMAND NS-PER-PACKET-COMMAND] -> one result line
    start_generator
    sleep 2
    local r0 t0 r1 t1 ns=
    [ $# -gt 1 ] && $2 >/dev/null
    r0=$(sink_rx); t0=$(gen_tx)
    sleep "$SECS"
    r1=$(sink_rx); t1=$(gen_tx)
    [ $# -gt 1 ] && ns=$($3)
    stop_generator
    printf '%-34s %12.0f %14.0f %10s\n' "$1" "$(echo "($r1 - $r0) / $SECS" | bc -l)" "$(echo "($t1 - $t0) / $SECS" | bc -l)" \
        "$( [ -n "$ns" ] && printf '%.0f' "$ns" || echo -)"
}

# One switch at a time (an idle PMD still polls its core); repetitions interleave the switches, so a
# drift of the machine hits all alike.
V="$VSWITCH_HOME/bin/vsctl"
O="ovs-vsctl --db=unix:$W/ovs/db.sock"
OVS_VERSION=$(ovs-vswitchd --version | head -1 | awk '{print $NF}')

run_vswitch() {
    export VSWITCH_RUNDIR=$W/vsw
    "$VSWITCH_HOME/bin/vswitch" start >/dev/null
    $V set Open_vSwitch . other_config:pmd-cpu-mask=0x2
    $V --may-exist add-br br0
    for mode in generic native; do
        $V add-port br0 bxa -- set Interface bxa type=afxdp options:xdp-mode=$mode \
            -- add-port br0 bxb -- set Interface bxb type=afxdp options:xdp-mode=$mode
        measure "vswitch afxdp ($mode)" "$VSWITCH_HOME/bin/appctl dpif-netdev/pmd-stats-clear" ours_ns | tee -a "$W/results"
        $V del-port bxa -- del-port bxb
    done
    "$VSWITCH_HOME/bin/vswitch" stop >/dev/null
    unset VSWITCH_RUNDIR
}

run_ovs() {   # OVS (Debian), userspace datapath, its own afxdp ports
    mkdir -p "$W/ovs"
    export OVS_RUNDIR=$W/ovs OVS_LOGDIR=$W/ovs OVS_DBDIR=$W/ovs
    [ -f "$W/ovs/conf.db" ] || ovsdb-tool create "$W/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server --remote=punix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovsdb-server.pid" --detach --no-chdir \
        --log-file="$W/ovs/ovsdb-server.log" "$W/ovs/conf.db"
    $O --no-wait init
    $O --no-wait set Open_vSwitch . other_config:pmd-cpu-mask=0x2
    ovs-vswitchd unix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovs-vswitchd.pid" --detach --no-chdir \
        --log-file="$W/ovs/ovs-vswitchd.log" 2>/dev/null
    $O --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
    for mode in generic native; do
        $O add-port br0 bxa -- set Interface bxa type=afxdp options:xdp-mode=$mode \
            -- add-port br0 bxb -- set Interface bxb type=afxdp options:xdp-mode=$mode
        sleep 2
        $O get Interface bxa error | grep -q '^\[\]$' || { echo "OVS refused afxdp ($mode): $($O get Interface bxa error)" >&2; }
        measure "OVS $OVS_VERSION afxdp ($mode)" "ovs-appctl dpif-netdev/pmd-stats-clear" ovs_ns | tee -a "$W/results"
        $O del-port bxa -- del-port bxb
    done
    for p in "$W"/ovs/*.pid; do kill "$(cat "$p")" 2>/dev/null || true; done
    sleep 1
    unset OVS_RUNDIR OVS_LOGDIR OVS_DBDIR
}

run_bridge() {
    ip link add lbr type bridge
    ip link set lbr up
    ip link set bxa master lbr
    ip link set bxb master lbr
    measure "Linux bridge" | tee -a "$W/results"
    ip link del lbr
}

printf '\n%-34s %12s %14s %10s\n' "switch" "forwarded/s" "offered/s" "PMD ns/pkt" | tee "$W/results"
for rep in $(seq "$REPS"); do
    run_vswitch
    run_ovs
    run_bridge
done

echo
echo "medians over $REPS repetition(s):"
python3 - "$W/results" <<'PY'
import sys, statistics, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]).read().splitlines():
    label, nums = line[:34].strip(), line[34:].split()
    if not label or label == "switch":
        continue
    rows.setdefault(label, []).append(nums)
for label, rs in rows.items():
    med = lambda i: statistics.median(float(r[i]) for r in rs) if all(r[i] != "-" for r in rs) else None
    ns = med(2)
    print(f"{label:<34} {med(0):12.0f} {med(1):14.0f} {('%.0f' % ns) if ns else '-':>10}")
PY
