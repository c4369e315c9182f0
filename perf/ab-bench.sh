#!/usr/bin/env bash
# perf/ab-bench.sh ROUNDS TREE_A TREE_B [SECONDS REPETITIONS CASES]: our switch from two checkouts
# (e.g. this one and `git worktree add /tmp/old REV`), measured by perf/vhost-bench.sh in alternating
# rounds (A B, B A, A B, ...), so that the machine's drift between fast and slow phases hits both
# alike. Prints every window and, per build and case, min / median / max Mpps over all rounds.
# Defaults: 8-s windows, 3 repetitions, cases "vxlan p2p". Each tree is built by its own script.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: perf/ab-bench.sh ROUNDS TREE_A TREE_B [SECONDS REPETITIONS CASES]" >&2; exit 2; }
ROUNDS=$1 A=$(cd "$2" && pwd) B=$(cd "$3" && pwd)
SECS=${4:-8} REPS=${5:-3} CASES=${6:-vxlan p2p}
OUT=$(mktemp -d /tmp/ab-bench.XXXXXX)
echo "ab-bench: A = $A ($(git -C "$A" rev-parse --short HEAD)), B = $B ($(git -C "$B" rev-parse --short HEAD)); logs in $OUT"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
    for t in $order; do
        tree=$A; [ $t = B ] && tree=$B
        echo "ab-bench: round $r/$ROUNDS, $t"
        (cd "$tree" && SWITCHES=vswitch bash perf/vhost-bench.sh "$SECS" "$REPS" "$CASES" </dev/null >"$OUT/$t.$r.log" 2>&1) \
            || { echo "ab-bench: $t failed in round $r, see $OUT/$t.$r.log" >&2; exit 1; }
        # The windows: "vswitch CASE Mpps ns" lines (vhost-bench's own summary has more fields).
        awk -v t=$t -v r=$r '/^vswitch / && NF == 4 { print t, r, $2, $3, $4 }' "$OUT/$t.$r.log" | tee -a "$OUT/windows"
    done
done
python3 - "$OUT/windows" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    t, r, case, mpps, ns = line.split()
    runs.setdefault((case, t), []).append(float(mpps))
print("\n%-8s %-5s %8s %8s %8s  windows" % ("case", "build", "min", "median", "max"))
for (case, t) in sorted(runs):
    v = runs[(case, t)]
    print("%-8s %-5s %8.3f %8.3f %8.3f  %d" % (case, t, min(v), statistics.median(v), max(v), len(v)))
PY
