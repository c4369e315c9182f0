#!/usr/bin/env bash
# perf/ab-bench.sh ROUNDS TREE_A TREE_B [SECONDS REPETITIONS CASES]: our switch from two checkouts
# (e.g. this one and `git worktree add /tmp/old REV`), measured by perf/vhost-bench.sh: the builds
# take turns under one testpmd per case (A, B, A, B, ...; a new switch process every window),
# ROUNDS x REPETITIONS windows each per case, so that the machine's drift between fast and slow
# phases hits both alike. Prints every window and, per build and case, min / median / max Mpps and
# A's median over B's.
# Defaults: 8-s windows, 3 repetitions, cases "vxlan p2p".
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: perf/ab-bench.sh ROUNDS TREE_A TREE_B [SECONDS REPETITIONS CASES]" >&2; exit 2; }
A=$(cd "$2" && pwd)
B=$(cd "$3" && pwd)
SECS=${4:-8} REPS=$(($1 * ${5:-3})) CASES=${6:-vxlan p2p}
echo "ab-bench: A = $A ($(git -C "$A" rev-parse --short HEAD)), B = $B ($(git -C "$B" rev-parse --short HEAD))"
SWITCHES="vswitch=$A vswitch=$B" exec bash "$(dirname "$0")/vhost-bench.sh" "$SECS" "$REPS" "$CASES"
