#!/usr/bin/env bash
# perf/flow-scaling-plot.sh OUT.png RESULTS...: draws the flow-scaling curve (median Mpps against the
# number of flows in table 0, both switches) from one or more result files of perf/vhost-bench.sh
# (it prints where its results file is; PLOT=OUT.png makes it call this script itself). p2p counts as
# 2 flows; flows1k, flows100k and flows1m as their numbers. Several files: their repetitions are pooled.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OUT.png RESULTS..." >&2; exit 2; }
OUT=$1; shift
command -v gnuplot >/dev/null || { echo "flow-scaling-plot: installing gnuplot-nox ..."; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null; }
DAT=$(mktemp /tmp/flow-scaling.XXXXXX)
trap 'rm -f "$DAT"' EXIT
OVS=$(python3 - "$DAT" "$@" <<'PY'
import sys, statistics, collections
size = {"p2p": 2, "flows1k": 1000, "flows100k": 100000, "flows1m": 1000000}
rows, ovs = collections.defaultdict(list), "OVS-DPDK"
for path in sys.argv[2:]:
    for line in open(path).read().splitlines():
        label, nums = line[:34].strip(), line[34:].split()
        parts = label.split()
        if len(parts) < 2 or parts[-1] not in size or not nums:
            continue
        who = "vswitch" if parts[0].startswith("vswitch") else "ovs"
        if who == "ovs":
            ovs = " ".join(parts[:-1])
        rows[(who, size[parts[-1]])].append(float(nums[0]))
with open(sys.argv[1], "w") as f:
    for who in ("vswitch", "ovs"):
        for n in sorted(size.values()):
            if (who, n) in rows:
                f.write("%d %.3f\n" % (n, statistics.median(rows[(who, n)])))
        f.write("\n\n")
print(ovs)
PY
)
gnuplot <<GP
set terminal pngcairo size 800,500
set output "$OUT"
set title "64-byte frames through 2 vhost-user ports, 1 PMD core: Mpps (median) against flows in table 0"
set xlabel "exact flows in table 0 (log scale)"
set ylabel "Mpps"
set logscale x
set yrange [0:*]
set key bottom left
set grid
plot "$DAT" index 0 with linespoints lw 2 pt 7 title "vswitch", "$DAT" index 1 with linespoints lw 2 pt 5 title "$OVS"
GP
echo "flow-scaling-plot: $OUT"
