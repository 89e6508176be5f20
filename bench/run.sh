#!/usr/bin/env bash
# bench/run.sh CASE [ARGS...] — runs one benchmark case of vnetd and prints its result lines.
#
# Each case is a script bench/cases/CASE.sh; it is sourced with these set:
#   ROOT         the repository root
#   JAVA_HOME    a JDK 25 (found like ./vnetd finds it)
#   BENCH_JAR    bench/target/benchmarks.jar (JMH uber-jar, rebuilt when sources are newer)
#   RESULTS      bench/results/ (raw outputs, not committed)
#   run_jmh      helper: run_jmh ARGS... runs JMH from BENCH_JAR, waiting while another JMH run holds its lock
# Cases: ls bench/cases/
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk

usage() {
    echo "usage: bench/run.sh CASE [ARGS...]   cases: $(ls "$ROOT/bench/cases" | sed 's/\.sh$//' | tr '\n' ' ')" >&2
    exit 2
}
[ $# -ge 1 ] || usage
CASE=$1; shift
[ -f "$ROOT/bench/cases/$CASE.sh" ] || usage

BENCH_JAR="$ROOT/bench/target/benchmarks.jar"
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"

if [ ! -f "$BENCH_JAR" ] || [ -n "$(find "$ROOT" -path '*/src/main/*' -newer "$BENCH_JAR" -print -quit)" ] \
        || [ "$ROOT/pom.xml" -nt "$BENCH_JAR" ]; then
    echo "bench: building $BENCH_JAR" >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl bench -am) >&2
fi

# The flags every vnetd JVM needs: FFM native access (raw sockets, huge pages) and Agrona's jdk.internal.misc.
# Netty's leak detection off, as vnetd's Main turns it off unless told otherwise: at its default level one buffer in
# 128 is wrapped for tracking, which in a benchmark makes the path's buffer calls polymorphic in some forks only.
VNETD_JVM_FLAGS="--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
-Dio.netty.leakDetection.level=disabled"

# collector_flag VARIABLE NAME — the JVM flag of collector NAME (parallel, g1, serial, z; default: none, the JVM's own
# choice), for the cases that let the collector be chosen (PIPELINE_GC, FORWARD_GC); exits on another name.
collector_flag() {
    case $2 in
        parallel) echo -XX:+UseParallelGC ;;
        g1) echo -XX:+UseG1GC ;;
        serial) echo -XX:+UseSerialGC ;;
        z) echo -XX:+UseZGC ;;
        default) ;;
        *) echo "$1 must be parallel, g1, serial, z or default, was $2" >&2; exit 2 ;;
    esac
}

# run_jmh ARGS... — JMH from BENCH_JAR, its forks started with VNETD_JVM_FLAGS. Another JMH run on this shared
# machine holds /tmp/jmh.lock while it runs: wait for it (up to 20 minutes) rather than measure on top of it.
run_jmh() {
    local out attempt status
    out=$(mktemp)
    for attempt in $(seq 1 120); do
        status=0
        "$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -jar "$BENCH_JAR" -jvmArgsPrepend "$VNETD_JVM_FLAGS" "$@" \
            > "$out" 2>&1 || status=$?
        if ! grep -q 'Unable to acquire the JMH lock' "$out"; then
            cat "$out"
            rm -f "$out"
            return $status
        fi
        [ "$attempt" = 1 ] && echo "bench: another JMH run holds /tmp/jmh.lock, waiting" >&2
        sleep 10
    done
    cat "$out"
    rm -f "$out"
    echo "bench: gave up waiting for /tmp/jmh.lock" >&2
    return 1
}

# shellcheck disable=SC1090
source "$ROOT/bench/cases/$CASE.sh"
