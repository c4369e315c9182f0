# Sourced by the bin/ scripts: finds the checkout, a JDK >= 25 and the built classpath.
VSWITCH_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export VSWITCH_RUNDIR=${VSWITCH_RUNDIR:-$VSWITCH_HOME/run}

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }

find_jdk() {
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    for d in /usr/lib/jvm/*; do candidates+=("$d"); done
    command -v java >/dev/null && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    local d major
    for d in "${candidates[@]}"; do
        [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
        major=$(java_major "$d/bin/java")
        if [ -n "$major" ] && [ "$major" -ge 25 ]; then echo "$d"; return 0; fi
    done
    return 1
}

if ! JAVA_HOME=$(find_jdk); then
    echo "vswitch: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, java on PATH)." >&2
    echo "vswitch: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
VSWITCH_LIB="$VSWITCH_HOME/vswitch-cli/target/lib"

# Builds the distribution if it is missing or older than the sources that go into it. A stamp file
# marks the last good build: Maven does not rewrite an unchanged jar, so the jar's time can't.
STAMP="$VSWITCH_HOME/vswitch-cli/target/.vswitch-built"
# Benchmarks share two cores: a switch left running elsewhere (its PMD busy-polls a core) skews them.
warn_other_switches() {
    local others; others=$(pgrep -f 'io\.vswitch\.(datapath\.Dataplane|ofproto\.Vswitchd)' | tr '\n' ' ' || true)
    [ -z "$others" ] || echo "vswitch: warning: other vswitch processes are running (pids ${others% }); a busy-polling PMD among them takes a core from this benchmark (stop them: VSWITCH_RUNDIR=DIR bin/vswitch stop)" >&2
}

ensure_built() {
    local jar="$VSWITCH_HOME/vswitch-cli/target/vswitch-cli-0.1.0-SNAPSHOT.jar"
    if [ -f "$jar" ] && [ -f "$STAMP" ] && [ -z "$(find "$VSWITCH_HOME" \( -name target -o -name .git -o -path "$VSWITCH_RUNDIR" \) -prune -o \
            \( -path '*/src/main/*' -o -name pom.xml \) -type f -newer "$STAMP" -print -quit)" ]; then
        return 0
    fi
    command -v mvn >/dev/null || { echo "vswitch: Maven (mvn) is needed to build; install it (apt-get install maven)" >&2; exit 1; }
    echo "vswitch: building (first run or sources changed; about a minute)..." >&2
    local started; started=$(mktemp)
    (cd "$VSWITCH_HOME" && mvn -q -B -DskipTests package) >&2 || { rm -f "$started"; echo "vswitch: build failed (see the Maven output above)" >&2; exit 1; }
    mv "$started" "$STAMP"     # stamped with the build's start: a source edited during the build is seen next time
}

classpath() { echo "$VSWITCH_HOME/vswitch-cli/target/vswitch-cli-0.1.0-SNAPSHOT.jar:$VSWITCH_LIB/*"; }

JAVA_OPTS_COMMON=(--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED "-Djava.util.logging.SimpleFormatter.format=%1\$tFT%1\$tT.%1\$tLZ|%4\$s|%3\$s|%5\$s%6\$s%n")
