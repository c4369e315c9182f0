#!/usr/bin/env bash
# perf/window-phases.sh LABEL SECONDS PID: a WINDOW_HOOK for perf/vhost-bench.sh that prints the
# switch PMD's processing time per packet for every 4 s of the window (ours in ns, OVS-DPDK's in
# TSC cycles), to see whether a window's speed changes inside it. Clears the PMD statistics as it
# goes, so the window's own "PMD ns/pkt" column then covers only its last interval. Example:
#   WINDOW_HOOK=perf/window-phases.sh perf/vhost-bench.sh 60 2 p2p; cat $W/hook.log
set -euo pipefail
label=$1 secs=$2 pid=$3
ctl=$(ss -xlpH | grep "pid=$pid," | awk '{print $5}' | grep '\.ctl$' | head -1)
[ -n "$ctl" ] || { echo "$label: no control socket of pid $pid"; exit 0; }
out=
for _ in $(seq 4 4 $((secs - 1))); do
    ovs-appctl -t "$ctl" dpif-netdev/pmd-stats-clear >/dev/null
    sleep 4
    v=$(ovs-appctl -t "$ctl" dpif-netdev/pmd-stats-show | sed -n 's/.*avg processing \(ns\|cycles\) per packet: \([0-9.]*\).*/\2/p' | head -1)
    out="$out ${v%.*}"
done
echo "$(date +%T) $label:$out"
