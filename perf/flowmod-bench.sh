#!/usr/bin/env bash
# perf/flowmod-bench.sh [FLOWS]: how fast flows get installed. The real `ovs-ofctl -O OpenFlow13
# add-flows` sends FLOWS flows (default 100000; one exact nw_dst each) and ends with a barrier, so it
# returns once the switch has them all; timed against our switch and against Open vSwitch
# (ovs-vswitchd, userspace datapath) in the same run, then `dump-aggregate` checks the count.
set -euo pipefail
FLOWS=${1:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../bin/vswitch-env.sh"
ensure_built
W=$(mktemp -d /tmp/flowmod-bench.XXXXXX)
cleanup() {
    VSWITCH_RUNDIR=$W/vsw "$VSWITCH_HOME/bin/vswitch" stop >/dev/null 2>&1 || true
    for p in "$W"/ovs/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    ip netns del vswb-ovs 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT

python3 - "$FLOWS" > "$W/flows.txt" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"priority=100,ip,nw_dst=10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255},actions=output:2")
PY

install() {  # LABEL MGMT-SOCKET
    local t0 t1 count
    t0=$(date +%s.%N)
    ovs-ofctl -O OpenFlow13 add-flows "unix:$2" "$W/flows.txt"
    t1=$(date +%s.%N)
    count=$(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$2" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
    printf '%-28s %8d flows in %6.2f s = %8.0f flows/s (flow_count after: %s)\n' "$1" "$FLOWS" \
        "$(echo "$t1 - $t0" | bc -l)" "$(echo "$FLOWS / ($t1 - $t0)" | bc -l)" "$count"
}

export VSWITCH_RUNDIR=$W/vsw
"$VSWITCH_HOME/bin/vswitch" start >/dev/null
"$VSWITCH_HOME/bin/vsctl" add-br brf
install "vswitch" "$W/vsw/brf.mgmt"
"$VSWITCH_HOME/bin/vswitch" stop >/dev/null
unset VSWITCH_RUNDIR

# OVS in a namespace of its own (its bridge's internal port must not meet ours).
mkdir -p "$W/ovs"
ip netns add vswb-ovs
O() { ip netns exec vswb-ovs env OVS_RUNDIR="$W/ovs" OVS_LOGDIR="$W/ovs" OVS_DBDIR="$W/ovs" "$@"; }
ovsdb-tool create "$W/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
O ovsdb-server --remote=punix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovsdb-server.pid" --detach --no-chdir --log-file="$W/ovs/ovsdb-server.log" "$W/ovs/conf.db"
O ovs-vsctl --no-wait init
O ovs-vswitchd unix:"$W/ovs/db.sock" --pidfile="$W/ovs/ovs-vswitchd.pid" --detach --no-chdir --log-file="$W/ovs/ovs-vswitchd.log" 2>/dev/null
O ovs-vsctl --timeout=30 add-br brf -- set bridge brf datapath_type=netdev
install "OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}')" "$W/ovs/brf.mgmt"
