# bench/cases/flowtable.sh — the ARR flow table against ConcurrentHashMap at 1 M flows (issue 4).
# Sourced by bench/run.sh (ROOT, JAVA_HOME, BENCH_JAR, RESULTS, run_jmh). Prints:
#   flowtable flows=1000000 lookups_per_s=... inserts_per_s=... chm_lookups_per_s=... bytes_per_flow=...
#   flowtable threads=2 lookups_per_s=... chm_lookups_per_s=... scaling=... chm_scaling=...
#   flowtable lookup_vs_chm=... lookup_b_per_op=... chm_b_per_op=... insert_b_per_op=... live=... early_drops=...
# Raw JMH output and CSV stay in bench/results/flowtable-*.
# Both contenders get transparent huge pages: the table asks for them itself (madvise), the JVM heap that holds
# the ConcurrentHashMap gets them from -XX:+UseTransparentHugePages, so the comparison is of data structures.

FLOWTABLE_JVM_ARGS="--add-exports java.base/jdk.internal.misc=ALL-UNNAMED -XX:+UseTransparentHugePages"
FLOWTABLE_JMH=(-f 1 -wi 3 -w 1s -i 5 -r 1s -jvmArgsAppend "$FLOWTABLE_JVM_ARGS")

# flowtable_jmh NAME ARGS... — runs JMH into $RESULTS/flowtable-NAME.csv, waiting while another JMH run (another
# worktree on this machine) holds /tmp/jmh.lock rather than measuring on top of it.
flowtable_jmh() {
    local name=$1 attempt
    shift
    for attempt in $(seq 1 90); do
        if run_jmh "$@" "${FLOWTABLE_JMH[@]}" -rf csv -rff "$RESULTS/flowtable-$name.csv" \
                >"$RESULTS/flowtable-$name.log" 2>&1; then
            return 0
        fi
        if ! grep -q "Unable to acquire the JMH lock" "$RESULTS/flowtable-$name.log"; then
            cat "$RESULTS/flowtable-$name.log" >&2
            return 1
        fi
        echo "bench: flowtable $name: another JMH run holds /tmp/jmh.lock, waiting (attempt $attempt)" >&2
        sleep 10
    done
    echo "bench: flowtable $name: gave up waiting for /tmp/jmh.lock" >&2
    return 1
}

# flowtable_score NAME BENCHMARK — the score column of BENCHMARK (a full name, secondary metrics after a colon)
flowtable_score() {
    awk -F, -v want="\"$2\"" '$1 == want { gsub(/"/, "", $5); print $5 }' "$RESULTS/flowtable-$1.csv"
}

FT=dev.vnetd.bench.flowtable
flowtable_jmh one "$FT.(FlowTableLookup|ChmLookup)Benchmark.lookup" -t 1 -prof gc
flowtable_jmh two "$FT.(FlowTableLookup|ChmLookup)Benchmark.lookup" -t 2
flowtable_jmh insert "$FT.FlowTableInsertBenchmark.insertAll" -prof gc
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    -cp "$BENCH_JAR" "$FT.FlowTableFootprint" >"$RESULTS/flowtable-footprint.txt"

lookups=$(flowtable_score one "$FT.FlowTableLookupBenchmark.lookup")
chm=$(flowtable_score one "$FT.ChmLookupBenchmark.lookup")
lookup_bop=$(flowtable_score one "$FT.FlowTableLookupBenchmark.lookup:gc.alloc.rate.norm")
chm_bop=$(flowtable_score one "$FT.ChmLookupBenchmark.lookup:gc.alloc.rate.norm")
lookups2=$(flowtable_score two "$FT.FlowTableLookupBenchmark.lookup")
chm2=$(flowtable_score two "$FT.ChmLookupBenchmark.lookup")
insert_ms=$(flowtable_score insert "$FT.FlowTableInsertBenchmark.insertAll")
insert_bshot=$(flowtable_score insert "$FT.FlowTableInsertBenchmark.insertAll:gc.alloc.rate.norm")
footprint=$(cat "$RESULTS/flowtable-footprint.txt")
per_flow=$(sed -n 's/.*bytes_per_flow=\([0-9.]*\).*/\1/p' <<<"$footprint")
live=$(sed -n 's/.* live=\([0-9]*\).*/\1/p' <<<"$footprint")
drops=$(sed -n 's/.*early_drops=\([0-9]*\).*/\1/p' <<<"$footprint")

awk -v l="$lookups" -v c="$chm" -v ims="$insert_ms" -v pf="$per_flow" \
    'BEGIN { printf "flowtable flows=1000000 lookups_per_s=%.0f inserts_per_s=%.0f chm_lookups_per_s=%.0f bytes_per_flow=%s\n", l, 1e6 / (ims / 1000), c, pf }'
awk -v l="$lookups" -v c="$chm" -v l2="$lookups2" -v c2="$chm2" \
    'BEGIN { printf "flowtable threads=2 lookups_per_s=%.0f chm_lookups_per_s=%.0f scaling=%.2f chm_scaling=%.2f\n", l2, c2, l2 / l, c2 / c }'
awk -v l="$lookups" -v c="$chm" -v lb="$lookup_bop" -v cb="$chm_bop" -v ib="$insert_bshot" -v live="$live" -v d="$drops" \
    'BEGIN { printf "flowtable lookup_vs_chm=%.2f lookup_b_per_op=%.3f chm_b_per_op=%.3f insert_b_per_op=%.3f live=%s early_drops=%s\n", l / c, lb, cb, ib / 1e6, live, d }'
