#!/usr/bin/env bash
# bench/ab-forks.sh ROUNDS 'BENCHMARK [JMH OPTIONS]' A.jar B.jar — compares two builds of the benchmarks (each a
# bench/target/benchmarks.jar, say one from main and one from a branch) on one benchmark, one JMH fork per build per
# round, alternating, the order reversed every other round; prints each round's scores and B/A, then the geometric
# mean and the range of the per-round ratios.
#
# Why forks and not the two builds in one JVM: in one JVM the build set up second ran faster or slower than the
# first by up to 0.3 on the same pair of jars (docs/performance.md, issue 10's seventh pass), while one build per JVM
# has no set-up order; alternating the forks spreads this shared machine's drift over both builds. Each fork runs
# ParallelGC (the launchers' collector) with -f 1 -wi 2 -w 1s -i 3 -r 1s unless the options say otherwise; a fork
# fails, and with it the comparison, while another JMH run holds /tmp/jmh.lock (run it on a machine left alone).
#
#   bench/ab-forks.sh 6 'PacketPathBatchBenchmark -p family=ipv4 -p entry=receiveBatch -p traffic=forward' \
#       /tmp/base.jar bench/target/benchmarks.jar
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk
[ $# -eq 4 ] || { echo "usage: bench/ab-forks.sh ROUNDS 'BENCHMARK [JMH OPTIONS]' A.jar B.jar" >&2; exit 2; }
ROUNDS=$1
read -r -a BENCH <<< "$2"
A=$3
B=$4
FLAGS="--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
-Dio.netty.leakDetection.level=disabled"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# score JAR — one fork of the benchmark from JAR; prints its score (operations per second)
score() {
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" $FLAGS -jar "$1" "${BENCH[@]}" -f 1 -wi 2 -w 1s -i 3 -r 1s \
        -jvmArgsPrepend "$FLAGS -XX:+UseParallelGC" -rf json -rff "$OUT/score.json" > "$OUT/jmh.out" 2>&1 \
        || { cat "$OUT/jmh.out" >&2; exit 1; }
    python3 -c 'import json, sys; print("%.0f" % json.load(open(sys.argv[1]))[0]["primaryMetric"]["score"])' \
        "$OUT/score.json"
}

for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then
        a=$(score "$A"); b=$(score "$B")
    else
        b=$(score "$B"); a=$(score "$A")
    fi
    echo "round $round a=$a b=$b b/a=$(python3 -c "print('%.3f' % ($b / $a))")"
    echo "$b $a" >> "$OUT/ratios"
done
python3 - "$OUT/ratios" <<'PY'
import math
import sys

ratios = [float(b) / float(a) for b, a in (line.split() for line in open(sys.argv[1]))]
mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
print("b/a geometric_mean=%.3f min=%.3f max=%.3f rounds=%d" % (mean, min(ratios), max(ratios), len(ratios)))
PY
