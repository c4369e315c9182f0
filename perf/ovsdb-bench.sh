#!/usr/bin/env bash
# perf/ovsdb-bench.sh [COUNT]: our OVSDB server beside the real ovsdb-server (Debian openvswitch-common),
# in the same run, on the same machine:
#   A  COUNT add-port in ONE ovs-vsctl transaction (--no-wait), seconds
#   B  COUNT separate `ovs-vsctl --no-wait add-port` processes, seconds in total
#   C  transactions/s from one Java client (sequential, 64 in flight, and sequential asking for durability)
# Our server fsyncs every transaction before replying; ovsdb-server fsyncs only transactions that ask
# for durability (ovs-vsctl does not), so only "durable" in C compares like with like.
# Each server runs the whole sequence twice: "first" starts from a fresh process (our JVM still
# interprets and compiles), "warm" is the second pass on the same process, what a long-running switch sees.
set -euo pipefail
COUNT=${1:-1000}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../bin/vswitch-env.sh"
ensure_built
warn_other_switches
(cd "$VSWITCH_HOME" && mvn -q -B -o package -pl perf -DskipTests) >/dev/null
W=$(mktemp -d /tmp/ovsdb-bench.XXXXXX)
OURS_PID=
cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null || true
    [ -f "$W/ovs.pid" ] && kill "$(cat "$W/ovs.pid")" 2>/dev/null || true
}
trap cleanup EXIT

"$JAVA" "${JAVA_OPTS_COMMON[@]}" -Xmx512m -cp "$(classpath)" io.vswitch.ovsdb.server.OvsdbMain --remote=punix:"$W/ours.sock" "$W/ours.db" > "$W/ours.log" 2>&1 &
OURS_PID=$!
ovsdb-tool create "$W/ovs.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote=punix:"$W/ovs.sock" --pidfile="$W/ovs.pid" --unixctl="$W/ovs.ctl" --detach --no-chdir --log-file="$W/ovs.log" "$W/ovs.db"
for _ in $(seq 100); do [ -S "$W/ours.sock" ] && [ -S "$W/ovs.sock" ] && break; sleep 0.1; done

bench() {  # SOCKET PASS -> "A|B|C"
    local db="--db=unix:$1" one="one$2" many="many$2" args=() i t0 t1 a b c
    ovs-vsctl "$db" --no-wait init
    ovs-vsctl "$db" --no-wait add-br "$one"
    for i in $(seq "$COUNT"); do args+=(-- add-port "$one" "p$2-$i"); done
    t0=$(date +%s.%N); ovs-vsctl "$db" --no-wait "${args[@]}"; t1=$(date +%s.%N)
    a=$(echo "$t1 - $t0" | bc)
    ovs-vsctl "$db" --no-wait add-br "$many"
    t0=$(date +%s.%N); for i in $(seq "$COUNT"); do ovs-vsctl "$db" --no-wait add-port "$many" "q$2-$i"; done; t1=$(date +%s.%N)
    b=$(echo "$t1 - $t0" | bc)
    c=$("$JAVA" -cp "$VSWITCH_HOME/perf/target/classes:$VSWITCH_HOME/perf/target/lib/*" io.vswitch.perf.OvsdbTxnBench "$1" "$((COUNT * 2))")
    [ "$(ovs-vsctl "$db" list-ports "$one" | wc -l)" = "$COUNT" ] || { echo "ports missing in $1" >&2; exit 1; }
    echo "$a|$b|$c"
}
OVS="ovsdb-server $(ovsdb-server --version | head -1 | awk '{print $NF}')"
printf '\n%-30s %-28s %-30s %s\n' "server, pass" "A: $COUNT ports, 1 txn (s)" "B: $COUNT ovs-vsctl calls (s)" "C: Java client"
for pass in first warm; do
    IFS='|' read -r oa ob oc < <(bench "$W/ours.sock" "$pass")
    IFS='|' read -r va vb vc < <(bench "$W/ovs.sock" "$pass")
    printf '%-30s %-28s %-30s %s\n' "vswitch ovsdb, $pass" "$oa" "$ob" "$oc"
    printf '%-30s %-28s %-30s %s\n' "$OVS, $pass" "$va" "$vb" "$vc"
done
