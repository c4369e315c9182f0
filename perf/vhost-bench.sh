#!/usr/bin/env bash
# perf/vhost-bench.sh [SECONDS] [REPETITIONS] [CASES]: Mpps forwarded between two vhost-user ports, 64-byte
# frames, our switch and OVS-DPDK 3.1 (Debian openvswitch-switch-dpdk) side by side in one run:
#
#   dpdk-testpmd (CPU 0)  net_virtio_user0 <==vhost-user==> [switch PMD, CPU 1] <==vhost-user==> net_virtio_user1
#
# testpmd is the vhost-user server of both sockets (server=1) and every switch connects as a client
# (dpdkvhostuserclient), as in OVS-DPDK's usual setup. One testpmd process serves every window of a
# case, and the switches take turns under it, window by window: a switch starts (each has its own run
# directory and bridge, br0, br1, ...), gets the case's flows and the two ports, is measured, and
# stops; testpmd's virtio-user ports wait for the next client. So each switch meets the same testpmd
# and hugepages, and the windows alternate between the switches every half minute instead of
# every few minutes (the machine drifts by 30 % and more between phases of minutes here, which decided
# earlier side-by-side medians more than the switches did). A new process per window, so every
# window starts alike (a fresh JIT, fresh connections). A window's speed still swings with the
# machine's phases of 10-40 s, even inside a window, for OVS-DPDK as for ours (docs/perf.md, "Both
# switches change speed inside a window"; perf/window-phases.sh shows it): only many windows, better
# pair by pair, say anything. What the phases are: how far apart the host runs the two virtual CPUs
# (a cache line's round trip between them is ~60-70 ns in one placement, 340-360 in another), so
# after every window, while no switch runs, the script prints that round trip as measured just
# before and just after it (io.vswitch.perf.CoreToCoreLatency): windows of the two switches with
# like round trips met like machines. Our own windows are also fast or slow per process, whatever
# the placement (docs/perf.md, "But our windows are fast or slow as a whole").
#
# testpmd runs "mac" forwarding with 16 bursts per port in flight (start tx_first 16 at the start of
# every window; at its end testpmd takes every frame back, "set fwd rxonly"): what comes in on one port goes back out of the other with
# that port's MAC as source and the other port's as destination, so the frames circulate through the
# switch in both directions and MAC learning stays stable. "set fwd mac retry" makes testpmd retry a
# full transmit ring instead of dropping: a drop would shrink the circulating population for good and
# turn the measurement into a latency one. The rate is what testpmd receives on both
# ports together (Mpps summed over both directions), the same for both switches. testpmd alone can go
# faster than either switch (shared/interop reference: 7.35 Mpps with testpmd's own vhost PMD as the
# "switch"), so the switch's single PMD core is the bottleneck.
#
# SWITCHES (environment, default "vswitch ovs"): the switches, in the order they take turns; "vswitch" is
# this checkout, "vswitch=DIR" another checkout's build (labelled vswitch@REVISION; perf/ab-bench.sh
# runs two builds of ours this way), "ovs" OVS-DPDK. The summary gives the first one's median over
# each other's. WINDOW_HOOK (environment): a command run in the background during each measured window
# with three arguments: the window's label, its seconds and the pid of the switch's PMD process (to
# profile or trace exactly the window; its output goes to $W/hook.log; split on spaces, no quoting;
# stopped 30 s after the window). VIRTIO_OPTS (environment)
# adds net_virtio_user options to both ports, e.g. VIRTIO_OPTS=,packed_vq=1 for packed virtqueues.
# CASES (default "p2p normal"): p2p = two flows in_port=1,actions=output:2 and back; normal = the
# default NORMAL flow (MAC learning). QoS cost (p2p flows, rates far above what passes, so nothing is
# dropped and the cost of the QoS path is measured): ingress = ingress policing on both ports (bytes;
# OVS-DPDK polices bytes only); policer = egress-policer on both ports; shaper = linux-htb with two
# queues on both ports, flows set_queue:1 / set_queue:2 (ours only: OVS-DPDK cannot shape, its
# linux-htb needs the kernel). vxlan = native VXLAN tunnelling, both directions in every round trip:
#
#   testpmd port 0 <=> vh0 on br0 --flows--> vx0 (vxlan, remote 172.31.9.2, VNI 42)
#                                              | encapsulate, route via br-phy (172.31.9.1/24), neighbour set by tnl/neigh/set
#   testpmd port 1 <=> vh1 on br-phy (NORMAL) <-+
#
# Flow scaling (the same traffic as p2p, larger tables; testpmd's frames are all 198.18.0.1 -> 198.18.0.2):
# flows1k, flows100k, flows1m = 1 000 / 100 000 / 1 000 000 exact flows "ip,in_port=1,nw_dst=..." in
# table 0, of which two (one per direction) match the traffic; multi100k = a three-table pipeline of
# 100 005 flows: table 0 sends each port to table 1, table 1 has 50 001 flows on ip,nw_src that write
# metadata and go to table 2, table 2 has 50 002 flows on metadata (and in_port for the traffic's
# two) that output. Both switches get the same flow file through ovs-ofctl add-flows; the install
# time is printed. PLOT=FILE.png draws Mpps against table size for both switches (gnuplot, through
# perf/flow-scaling-plot.sh). flowmods = p2p while perf/flowmod-load.py adds and deletes other flows
# (priority 50, ip,nw_dst=10.200.x.y) at 1000 flow-mods/s during the whole measurement; the line
# after it gives the flow-mods the switch took and the packets it dropped on the two ports meanwhile
# (rx_dropped + tx_dropped; ours also table misses). For our switch every case also prints how many
# collections the dataplane's GC log shows during the measurement window.
#
# vxlan: testpmd forwards in "5tswap" mode, each port back to itself (--port-topology=loop): it swaps the
# outermost MACs, IPs and UDP ports, so an
# encapsulated frame comes back as one from 172.31.9.2 to br-phy's address and MAC, which the switch
# decapsulates into br0 and on to port 0, which swaps the inner frame and sends it again. The outer
# source port is pinned to 4789 (tnl/egress_port_range 4789 4789) so the swapped frame still goes to
# 4789. Needs root and 2 MiB hugepages (reserved here if missing).
set -euo pipefail
SECS=${1:-10}
REPS=${2:-3}
CASES=${3:-p2p normal}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../bin/vswitch-env.sh"
ensure_built
warn_other_switches
command -v dpdk-testpmd >/dev/null || { echo "vhost-bench: installing dpdk-dev (dpdk-testpmd) ..."; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpdk-dev >/dev/null; }
OVS_DPDK=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
[ -x $OVS_DPDK ] || { echo "vhost-bench: installing openvswitch-switch-dpdk ..."; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvswitch-switch-dpdk >/dev/null; }
NEED_PAGES=2048  # testpmd 1 GiB + OVS-DPDK socket-mem 1 GiB (and its extra)
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt $NEED_PAGES ]; then
    echo "vhost-bench: reserving $NEED_PAGES 2 MiB hugepages"
    echo $NEED_PAGES > /proc/sys/vm/nr_hugepages
fi
W=$(mktemp -d /tmp/vhost-bench.XXXXXX)
TESTPMD=
TOPOLOGY=   # vxlan: each port sends back what it received (--port-topology=loop)
OVS_VERSION=$($OVS_DPDK --version | head -1 | awk '{print $NF}')

# The switches of this run: instance k has its kind, checkout (ours), label, run directory $W/sw$k
# and bridge br$k.
KIND=() TREE=() LABEL=()
for s in ${SWITCHES:-vswitch ovs}; do
    case $s in
        vswitch) KIND+=(vswitch) TREE+=("$VSWITCH_HOME") LABEL+=(vswitch) ;;
        vswitch=*)
            tree=$(cd "${s#vswitch=}" && pwd)
            (cd "$tree" && env -u VSWITCH_RUNDIR bash -c 'source bin/vswitch-env.sh && ensure_built')
            KIND+=(vswitch) TREE+=("$tree") LABEL+=("vswitch@$(git -C "$tree" rev-parse --short HEAD)") ;;
        ovs)
            [[ " ${KIND[*]} " == *" ovs "* ]] && { echo "vhost-bench: OVS-DPDK can be in a run once" >&2; exit 2; }
            KIND+=(ovs) TREE+=(-) LABEL+=("OVS-DPDK $OVS_VERSION") ;;
        *) echo "vhost-bench: unknown switch '$s' in SWITCHES (vswitch, vswitch=DIR or ovs)" >&2; exit 2 ;;
    esac
done
for k in "${!LABEL[@]}"; do   # two builds at one revision (a tree with edits, say) still need two labels
    for j in $(seq 0 $((k - 1))); do [ "${LABEL[j]}" != "${LABEL[k]}" ] || LABEL[k]="${LABEL[k]}#$k"; done
done

# use K: the commands and files of instance K (the functions below act on the instance in use)
use() {
    K=$1 D=$W/sw$1 BR=br$1
    MGMT=$D/$BR.mgmt
    OFCTL="env OVS_RUNDIR=$D ovs-ofctl -O OpenFlow13"
    if [ "${KIND[K]}" = vswitch ]; then
        V="env VSWITCH_RUNDIR=$D ${TREE[K]}/bin/vsctl"
        APPCTL="env VSWITCH_RUNDIR=$D ${TREE[K]}/bin/appctl"
        # Our dataplane's unixctl socket, through OVS's own C client: a JVM starting for each command
        # (our bin/appctl) would take CPU from testpmd or from the PMD next to the measurement window.
        PMD_APPCTL="ovs-appctl -t $D/vswitch-dp.ctl"
    else
        V="ovs-vsctl --db=unix:$D/db.sock"
        APPCTL="ovs-appctl -t $D/vswitchd.ctl"   # named after the program otherwise: ovs-vswitchd-dpdk.<pid>.ctl
        PMD_APPCTL=$APPCTL
    fi
}

start_switch() {   # the instance in use, with its bridge (kept from its last run) and no ports
    mkdir -p "$D"
    if [ "${KIND[K]}" = vswitch ]; then
        VSWITCH_RUNDIR=$D "${TREE[K]}/bin/vswitch" start >/dev/null
        $V set Open_vSwitch . other_config:pmd-cpu-mask=0x2
        $V --may-exist add-br $BR
    else   # OVS-DPDK 3.1, userspace datapath, 1 PMD on CPU 1
        [ -f "$D/conf.db" ] || ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
        OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D ovsdb-server --remote=punix:"$D/db.sock" --pidfile="$D/ovsdb-server.pid" --detach --no-chdir \
            --log-file="$D/ovsdb-server.log" "$D/conf.db" 2>/dev/null
        $V --no-wait init
        $V --no-wait set Open_vSwitch . other_config:dpdk-init=true other_config:dpdk-socket-mem=1024 \
            other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
            other_config:dpdk-extra="--in-memory --file-prefix=ovsb --no-pci"
        OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D $OVS_DPDK unix:"$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" \
            --unixctl="$D/vswitchd.ctl" --detach --no-chdir --log-file="$D/ovs-vswitchd.log" 2>/dev/null
        $V --may-exist add-br $BR -- set bridge $BR datapath_type=netdev
    fi
}

stop_switch() {   # the instance in use
    if [ "${KIND[K]}" = vswitch ]; then
        VSWITCH_RUNDIR=$D "${TREE[K]}/bin/vswitch" stop >/dev/null 2>&1 || true
    else
        local p pids=
        for p in "$D"/*.pid; do [ -f "$p" ] && pids="$pids $(cat "$p")"; done
        [ -z "$pids" ] || kill $pids 2>/dev/null || true
        local alive=$pids
        for _ in $(seq 100); do           # until every one has gone (kill -0 of a list fails when any has)
            alive=$(for p in $alive; do kill -0 "$p" 2>/dev/null && echo "$p"; done; true)
            [ -n "$alive" ] || break
            sleep 0.1
        done
        [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true   # its PMD would spin into the next window
        rm -f "$D"/*.pid
    fi
}

cleanup() {
    exec 3>&- 2>/dev/null || true
    [ -n "$TESTPMD" ] && kill "$TESTPMD" 2>/dev/null || true
    local k
    for k in "${!KIND[@]}"; do
        use "$k"
        [ -d "$D" ] || continue
        stop_switch
        if [ "${KIND[K]}" = ovs ]; then
            # OVS's netdev datapath makes its bridges' TAPs persistent: remove the ones this run's OVS made.
            sleep 0.5
            for d in $BR br-phy ovs-netdev; do
                ip -d link show "$d" 2>/dev/null | grep -q 'tun type tap .*persist on' && ip link del "$d" 2>/dev/null || true
            done
        fi
    done
}
trap cleanup EXIT

MAC0=02:00:00:00:00:01
MAC1=02:00:00:00:00:02

# start_testpmd: after the first switch's ports exist (testpmd waits in each server socket until a
# client connects; then it shows its prompt)
start_testpmd() {
    rm -f "$W/cmd"
    mkfifo "$W/cmd"
    stdbuf -o0 dpdk-testpmd --lcores 0@0,1@0 --no-pci --in-memory --single-file-segments -m 1024 --file-prefix vhb \
        --vdev "net_virtio_user0,path=$W/s0,server=1,queues=1,queue_size=1024,mac=$MAC0${VIRTIO_OPTS:-}" \
        --vdev "net_virtio_user1,path=$W/s1,server=1,queues=1,queue_size=1024,mac=$MAC1${VIRTIO_OPTS:-}" -- \
        -i --nb-cores=1 --forward-mode=mac --eth-peer=0,$MAC1 --eth-peer=1,$MAC0 --txd=1024 --rxd=1024 $TOPOLOGY \
        --total-num-mbufs=32768 <"$W/cmd" >"$W/testpmd.log" 2>&1 &
    TESTPMD=$! LOST=0
    exec 3>"$W/cmd"
    for _ in $(seq 300); do grep -q 'testpmd> ' "$W/testpmd.log" && return; sleep 0.1; done
    echo "vhost-bench: testpmd did not start:" >&2; cat "$W/testpmd.log" >&2; exit 1
}

stop_testpmd() {
    echo quit >&3 || true
    exec 3>&-
    for _ in $(seq 100); do kill -0 "$TESTPMD" 2>/dev/null || break; sleep 0.1; done
    kill "$TESTPMD" 2>/dev/null || true
    wait "$TESTPMD" 2>/dev/null || true
    TESTPMD=
    rm -f "$W/s0" "$W/s1"
}

# show_stats: the lines testpmd prints for "show port stats all" (waits for both ports' Rx-pps line)
show_stats() {
    local before n; before=$(wc -l <"$W/testpmd.log")
    echo "show port stats all" >&3
    for _ in $(seq 100); do
        n=$(tail -n +"$before" "$W/testpmd.log" | grep -c 'Rx-pps:' || true)
        [ "$n" -ge 2 ] && break
        sleep 0.05
    done
    tail -n +"$before" "$W/testpmd.log"
}

# rx_pps: testpmd's receive rate over both ports since the previous "show port stats all" (its Rx-pps
# lines, timed by testpmd itself). Timing the window here instead overstated the rate by some 7 %:
# each command's round trip (the 0.5 s wait for the output, and testpmd's main thread sharing CPU 0
# with its forwarding thread) fell inside it.
rx_pps() { show_stats | sed -n 's/.*Rx-pps: *\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'; }

# in_flight: frames testpmd has sent and not received back (both ports, since it started); only the
# lines of "show port stats" count ("stop" prints RX-/TX-packets lines of its own, which may land in
# the same stretch of the log)
in_flight() {
    show_stats | awk '/TX-packets:.*TX-errors:/ {tx += $2} /RX-packets:.*RX-missed:/ {rx += $2} END {print tx - rx}'
}

TSC_MHZ=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$TSC_MHZ" ] || TSC_MHZ=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$TSC_MHZ" ] || TSC_MHZ=$(awk '/cpu MHz/ {print $4; exit}' /proc/cpuinfo)
pmd_ns() {   # the PMD's processing time per packet in the window: ours in ns, OVS's in cycles at the TSC rate
    if [ "${KIND[K]}" = vswitch ]; then
        $PMD_APPCTL dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing ns per packet: \([0-9.]*\).*/\1/p' | head -1
    else
        local c; c=$($PMD_APPCTL dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing cycles per packet: \([0-9.]*\).*/\1/p' | head -1)
        [ -z "$c" ] || echo "$c * 1000 / $TSC_MHZ" | bc -l
    fi
}

links_up() { [ "$($V get Interface vh0 link_state)" = up ] && [ "$($V get Interface vh1 link_state)" = up ]; }

# measure CASE: the instance in use holds the ports; testpmd runs
measure() {
    local label="${LABEL[K]} $1"
    for _ in $(seq 300); do links_up && break; sleep 0.1; done
    links_up || { echo "vhost-bench: $label: ports did not come up" >&2; tail -20 "$W/testpmd.log" >&2; return 1; }
    case $1 in vxlan) echo "set fwd 5tswap retry" >&3 ;; *) echo "set fwd mac retry" >&3 ;; esac
    echo "start tx_first 16" >&3
    sleep 6                      # warm-up: our JIT compiles the PMD loop for this traffic; OVS needs none
    gc_quiet
    local pps ns load= d0 gc0
    gc0=$(gc_count)
    $PMD_APPCTL dpif-netdev/pmd-stats-clear >/dev/null   # the switch's PMD statistics and testpmd's rate cover the same window
    if [ "$1" = flowmods ]; then
        d0=$(dropped)                                    # after the clear: ours counts table misses since it
        python3 "$HERE/flowmod-load.py" "$MGMT" 1000 "$SECS" >"$W/flowmod-load.txt" 2>&1 & load=$!
    fi
    rx_pps >/dev/null
    local hook=
    if [ -n "${WINDOW_HOOK:-}" ]; then
        local pid; pid=$(cat "$D/$([ "${KIND[K]}" = vswitch ] && echo vswitch-dp || echo ovs-vswitchd).pid")
        timeout $((SECS + 30)) $WINDOW_HOOK "$label" "$SECS" "$pid" >>"$W/hook.log" 2>&1 3>&- & hook=$!
    fi
    sleep "$SECS"
    pps=$(rx_pps)
    ns=$(pmd_ns)
    [ -z "$hook" ] || wait "$hook" || true
    # the PMD's own view of the window (batch sizes, idle share, cache hits), kept for a second look
    $PMD_APPCTL dpif-netdev/pmd-perf-show >"$W/stats.$(echo "$label" | tr ' ' '_').$SECONDS" 2>&1 || true
    echo "stop" >&3
    printf '%-34s %10.3f %10s\n' "$label" "$(echo "$pps / 1000000" | bc -l)" "$( [ -n "$ns" ] && printf '%.0f' "$ns" || echo -)" | tee -a "$W/results"
    if [ -n "$load" ]; then
        wait "$load" || true
        echo "  $(tail -1 "$W/flowmod-load.txt"); packets dropped meanwhile: $(( $(dropped) - d0 ))" >&2
    fi
    [ "$gc0" = - ] || echo "  dataplane GC collections during the measurement: $(( $(gc_count) - gc0 ))" >&2
    # testpmd takes back every frame (a client that connects anew finds the receive rings flushed), so
    # each window starts with the same 16 bursts per port; any frame not back was lost by the switch.
    sleep 0.5                    # the switch passes on what testpmd sent last
    echo "set fwd rxonly" >&3
    echo "start" >&3
    sleep 0.5
    echo "stop" >&3
    # (vxlan: port 1's first bursts are no VXLAN frames; br-phy's NORMAL takes them to its internal port.)
    local n expected=0; n=$(in_flight)
    [ "$1" = vxlan ] && expected=512
    [ $((n - LOST)) -le $expected ] || echo "  frames lost in this window: $((n - LOST))" >&2
    LOST=$n
}

# dropped: packets the switch dropped on vh0/vh1 (rx_dropped + tx_dropped; ours also table misses),
# for the flowmods case
dropped() {
    local sum=0 v
    for p in vh0 vh1; do
        for k in rx_dropped tx_dropped; do
            v=$($V get Interface $p statistics:$k 2>/dev/null | tr -d '"') || v=0
            sum=$((sum + ${v:-0}))
        done
    done
    [ "${KIND[K]}" = vswitch ] && sum=$((sum + $($PMD_APPCTL dpif-netdev/pmd-stats-show | sed -n 's/.*table miss \([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')))
    echo $sum
}
# Our dataplane: waits (up to 180 s) until its GC log has shown no collection running or starting for
# 5 s. After a large table transfer (a million flows: some GB of rules, text and the tables they
# replace) the concurrent collector works for up to a minute, and its barriers slow the PMD; the
# cases measure the steady state a switch reaches after that, and the wait is printed.
gc_quiet() {
    [ "${KIND[K]}" = vswitch ] || return 0
    local log=$D/vswitch-dp-gc.log t0=$SECONDS last= n=0
    while [ $((SECONDS - t0)) -lt 180 ]; do
        local now; now=$(wc -l <"$log" 2>/dev/null || echo 0)
        # quiet: no new line, and the last one is not a collection that started ("... Collection (Cause)")
        if [ "$now" = "$last" ] && ! tail -1 "$log" 2>/dev/null | grep -q 'Collection ([^)]*)$'; then
            n=$((n + 1)); [ $n -ge 5 ] && break
        else
            n=0
        fi
        last=$now; sleep 1
    done
    [ $((SECONDS - t0)) -le 6 ] || echo "  (waited $((SECONDS - t0)) s for the dataplane's collector to finish)" >&2
}

gc_count() {   # collections in our dataplane's GC log so far; "-" for OVS
    [ "${KIND[K]}" = vswitch ] || { echo -; return; }
    local n; n=$(grep -c 'Collection (.*) .*->' "$D/vswitch-dp-gc.log" 2>/dev/null || true)
    echo "${n:-0}"
}

flows() {   # CASE: installs the case's flows with ovs-ofctl
    local case=$1
    $OFCTL del-flows $BR
    case $case in
        p2p) $OFCTL add-flow $BR in_port=1,actions=output:2; $OFCTL add-flow $BR in_port=2,actions=output:1 ;;
        normal) $OFCTL add-flow $BR actions=NORMAL ;;
        shaper) $OFCTL add-flow $BR in_port=1,actions=set_queue:1,output:2; $OFCTL add-flow $BR in_port=2,actions=set_queue:2,output:1 ;;
        vxlan) $OFCTL add-flow $BR in_port=1,actions=output:3; $OFCTL add-flow $BR in_port=3,actions=output:1 ;;
        flows*|multi*)
            flow_file "$case" >"$W/flows.txt"
            local t0=$SECONDS n; n=$(wc -l <"$W/flows.txt")
            echo "vhost-bench: ${LABEL[K]}: installing $n flows ($case) ..." >&2
            $OFCTL --verbose=console:err add-flows $BR "$W/flows.txt"
            echo "vhost-bench: ${LABEL[K]}: $n flows installed in $((SECONDS - t0)) s" >&2 ;;
        *) $OFCTL add-flow $BR in_port=1,actions=output:2; $OFCTL add-flow $BR in_port=2,actions=output:1 ;;
    esac
}

flow_file() {   # CASE: the flow-scaling case's flows, in ovs-ofctl add-flows syntax
    python3 - "$1" <<'PY'
import sys
case = sys.argv[1]
out = sys.stdout
def ip(i):
    return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
if case.startswith("flows"):
    n = {"flows1k": 1000, "flows100k": 100000, "flows1m": 1000000}[case]
    out.write("priority=100,ip,in_port=1,nw_dst=198.18.0.2,actions=output:2\n")
    out.write("priority=100,ip,in_port=2,nw_dst=198.18.0.2,actions=output:1\n")
    for i in range(n - 2):
        out.write("priority=100,ip,in_port=1,nw_dst=%s,actions=output:2\n" % ip(i))
elif case == "multi100k":
    half = 50000
    out.write("table=0,priority=10,in_port=1,actions=goto_table:1\ntable=0,priority=10,in_port=2,actions=goto_table:1\n")
    out.write("table=1,priority=100,ip,nw_src=198.18.0.1,actions=write_metadata:0x1,goto_table:2\n")
    out.write("table=2,priority=100,metadata=0x1,in_port=1,actions=output:2\n")
    out.write("table=2,priority=100,metadata=0x1,in_port=2,actions=output:1\n")
    for i in range(half):
        out.write("table=1,priority=100,ip,nw_src=%s,actions=write_metadata:%#x,goto_table:2\n" % (ip(i), i + 2))
        out.write("table=2,priority=100,metadata=%#x,actions=output:2\n" % (i + 2))
else:
    sys.exit("vhost-bench: unknown flow-scaling case " + case)
PY
}

qos() {   # CASE: the case's QoS on vh0 and vh1 (the same ovs-vsctl syntax for both switches)
    for p in vh0 vh1; do
        case $1 in
            ingress) $V set Interface $p ingress_policing_rate=100000000 ingress_policing_burst=1000000 ;;
            policer) $V set Port $p qos=@q -- --id=@q create QoS type=egress-policer other-config:cir=12500000000 other-config:cbs=1000000 >/dev/null ;;
            shaper) $V set Port $p qos=@q -- --id=@q create QoS type=linux-htb other-config:max-rate=100000000000 queues:1=@q1 queues:2=@q2 \
                -- --id=@q1 create Queue other-config:min-rate=10000000000 -- --id=@q2 create Queue other-config:min-rate=10000000000 >/dev/null ;;
        esac
    done
}

# attach CASE: vh0 and vh1 on the bridge (port 1 and 2), with the case's QoS; for vxlan, vh1 on
# br-phy (made here: one switch at a time has the TAP of that name and its address) and vx0 on the
# bridge (port 3), the remote endpoint's MAC (testpmd port 1's) set and the outer source port 4789
attach() {
    local case=$1 vh1_bridge=$BR
    if [ "$case" = vxlan ]; then
        vh1_bridge=br-phy
        $V --may-exist add-br br-phy -- set bridge br-phy datapath_type=netdev
        ip addr replace 172.31.9.1/24 dev br-phy
        ip link set br-phy up
        $V add-port $BR vx0 -- set Interface vx0 type=vxlan options:remote_ip=172.31.9.2 options:key=42 ofport_request=3
    fi
    $V add-port $BR vh0 -- set Interface vh0 type=dpdkvhostuserclient options:vhost-server-path="$W/s0" ofport_request=1 \
        -- add-port $vh1_bridge vh1 -- set Interface vh1 type=dpdkvhostuserclient options:vhost-server-path="$W/s1" ofport_request=2
    qos "$case"
    if [ "$case" = vxlan ]; then
        $APPCTL tnl/neigh/set br-phy 172.31.9.2 $MAC1 >/dev/null
        $APPCTL tnl/egress_port_range 4789 4789 >/dev/null
    fi
}

detach() {   # CASE
    $V del-port vh0 -- del-port vh1
    [ "$1" = vxlan ] && $V del-port vx0 -- del-br br-phy
    $V -- --all destroy QoS -- --all destroy Queue
    # the switch closes its connections (testpmd takes the next client only when this one has gone)
    local conns
    for _ in $(seq 100); do
        conns=$(ss -xH)
        grep -E "$W/s[01] " <<<"$conns" >/dev/null || return 0
        sleep 0.1
    done
    echo "vhost-bench: ${LABEL[K]} still connected to testpmd 10 s after its ports were deleted" >&2; return 1
}

# trip: the round trip of a cache line between CPU 0 (testpmd's) and CPU 1 (the PMD's) in ns, the
# machine's phase; taken while no switch runs (testpmd's stopped lcores block, they do not spin)
trip() {
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$VSWITCH_HOME/perf/target/classes:$VSWITCH_HOME/perf/target/lib/*" \
        io.vswitch.perf.CoreToCoreLatency 0 1 100000 2>/dev/null | sed -n 's/.*round trip \([0-9]*\).*/\1/p' | tail -1
}

printf '\n%-34s %10s %10s\n' "switch, case" "Mpps" "PMD ns/pkt" | tee "$W/results"
for c in $CASES; do
    TOPOLOGY=$([ "$c" = vxlan ] && echo --port-topology=loop || true)
    for rep in $(seq "$REPS"); do
        for k in "${!KIND[@]}"; do
            [ "$c" = shaper ] && [ "${KIND[k]}" = ovs ] && continue   # OVS-DPDK has no userspace shaper
            use "$k"
            before=$(trip || true)
            start_switch
            flows "$c"
            attach "$c"
            [ -n "$TESTPMD" ] || start_testpmd
            measure "$c"
            detach "$c"
            stop_switch
            echo "  CPU 0 <-> CPU 1 round trip before / after the window: ${before:-?} / $(trip || true) ns" >&2
        done
    done
    stop_testpmd
done

echo
echo "min / median / max over $REPS repetition(s):"
python3 - "$W/results" <<'PY'
import sys, statistics, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]).read().splitlines():
    label, nums = line[:34].strip(), line[34:].split()
    if not label or label.startswith("switch"):
        continue
    rows.setdefault(label, []).append(nums)
med = {}
for label, rs in rows.items():
    mpps = sorted(float(r[0]) for r in rs)
    ns = [float(r[1]) for r in rs if r[1] != "-"]
    med[label] = statistics.median(mpps)
    print(f"{label:<34} {mpps[0]:7.3f} / {statistics.median(mpps):7.3f} / {mpps[-1]:7.3f} Mpps"
          + (f"   PMD {statistics.median(ns):.0f} ns/pkt" if ns else ""))
# the first switch's median over each other's, per case
cases = collections.OrderedDict()
for label in rows:
    who, case = label.rsplit(" ", 1)
    cases.setdefault(case, []).append(label)
for case, labels in cases.items():
    first = labels[0]
    for other in labels[1:]:
        if med[other] > 0:
            print(f"ratio {first.rsplit(' ', 1)[0]} / {other.rsplit(' ', 1)[0]}, {case}: {med[first] / med[other]:.2f}")
PY

echo "vhost-bench: results in $W/results (each window's pmd-perf-show in $W/stats.*)"
[ -z "${PLOT:-}" ] || "$HERE/flow-scaling-plot.sh" "$PLOT" "$W/results"
