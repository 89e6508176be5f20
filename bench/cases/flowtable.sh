# bench/cases/flowtable.sh — the ARR flow table against ConcurrentHashMap at 1 M flows (issue 4).
# Sourced by bench/run.sh (ROOT, JAVA_HOME, BENCH_JAR, RESULTS, run_jmh). Prints:
#   flowtable flows=1000000 lookups_per_s=... inserts_per_s=... chm_lookups_per_s=... bytes_per_flow=...
#   flowtable flows=1000000 batch_lookups_per_s=... (64 keys per FlowTable.lookup(FlowLookupBatch):
#     the dataplane's receive batch)
#   flowtable threads=2 lookups_per_s=... batch_lookups_per_s=... chm_lookups_per_s=... scaling=... ...
#   flowtable lookup_vs_chm=... batch_vs_chm=... lookup_b_per_op=... batch_b_per_op=... chm_b_per_op=... ...
#   flowtable touch flows=1|1024 touches_per_s=... b_per_op=... (FlowTable.touch of an ARR packet, one thread)
#   flowtable interleaved slices=... lookups_per_s=... batch_lookups_per_s=... chm_lookups_per_s=... ..._vs_chm=...
#     (FlowTableInterleaved: the three contenders in turn in one JVM for 60 s, best and p75 slices; the steadier
#     ratio on a machine shared with other builds)
#   flowtable ceiling chase|gather|batch|tagged ... best_lines_per_s=... (MemoryGatherCeiling, 10 s: how many random
#     64-byte lines of a 128 MB region one thread pulls, no table: the memory bound of a 1 M-flow lookup on this VM)
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
LOOKUPS="$FT.(FlowTableLookupBenchmark.lookup|FlowTableBatchLookupBenchmark.lookupBatch|ChmLookupBenchmark.lookup)"
flowtable_jmh one "$LOOKUPS" -t 1 -prof gc
flowtable_jmh two "$LOOKUPS" -t 2
flowtable_jmh insert "$FT.FlowTableInsertBenchmark.insertAll" -prof gc
flowtable_jmh touch "$FT.FlowTableTouchBenchmark.touch" -prof gc
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    -cp "$BENCH_JAR" "$FT.FlowTableFootprint" >"$RESULTS/flowtable-footprint.txt"
"$JAVA_HOME/bin/java" $FLOWTABLE_JVM_ARGS --enable-native-access=ALL-UNNAMED -cp "$BENCH_JAR" \
    "$FT.FlowTableInterleaved" 60 >"$RESULTS/flowtable-interleaved.txt"
"$JAVA_HOME/bin/java" $FLOWTABLE_JVM_ARGS -cp "$BENCH_JAR" "$FT.MemoryGatherCeiling" 10 \
    >"$RESULTS/flowtable-ceiling.txt"

lookups=$(flowtable_score one "$FT.FlowTableLookupBenchmark.lookup")
chm=$(flowtable_score one "$FT.ChmLookupBenchmark.lookup")
lookup_bop=$(flowtable_score one "$FT.FlowTableLookupBenchmark.lookup:gc.alloc.rate.norm")
batch=$(flowtable_score one "$FT.FlowTableBatchLookupBenchmark.lookupBatch")
batch_bop=$(flowtable_score one "$FT.FlowTableBatchLookupBenchmark.lookupBatch:gc.alloc.rate.norm")
batch2=$(flowtable_score two "$FT.FlowTableBatchLookupBenchmark.lookupBatch")
chm_bop=$(flowtable_score one "$FT.ChmLookupBenchmark.lookup:gc.alloc.rate.norm")
lookups2=$(flowtable_score two "$FT.FlowTableLookupBenchmark.lookup")
chm2=$(flowtable_score two "$FT.ChmLookupBenchmark.lookup")
insert_ms=$(flowtable_score insert "$FT.FlowTableInsertBenchmark.insertAll")
insert_bshot=$(flowtable_score insert "$FT.FlowTableInsertBenchmark.insertAll:gc.alloc.rate.norm")
footprint=$(cat "$RESULTS/flowtable-footprint.txt")
per_flow=$(sed -n 's/.*bytes_per_flow=\([0-9.]*\).*/\1/p' <<<"$footprint")
live=$(sed -n 's/.* live=\([0-9]*\).*/\1/p' <<<"$footprint")
drops=$(sed -n 's/.*early_drops=\([0-9]*\).*/\1/p' <<<"$footprint")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'flowtable flows=1000000 lookups_per_s=%.0f inserts_per_s=%.0f chm_lookups_per_s=%.0f bytes_per_flow=%s\n' \
    "$lookups" "$(awk -v ms="$insert_ms" 'BEGIN { print 1e6 / (ms / 1000) }')" "$chm" "$per_flow"
printf 'flowtable flows=1000000 batch_lookups_per_s=%.0f chm_lookups_per_s=%.0f\n' "$batch" "$chm"
printf 'flowtable threads=2 lookups_per_s=%.0f batch_lookups_per_s=%.0f chm_lookups_per_s=%.0f' \
    "$lookups2" "$batch2" "$chm2"
printf ' scaling=%s batch_scaling=%s chm_scaling=%s\n' \
    "$(ratio "$lookups2" "$lookups")" "$(ratio "$batch2" "$batch")" "$(ratio "$chm2" "$chm")"
printf 'flowtable lookup_vs_chm=%s batch_vs_chm=%s lookup_b_per_op=%.3f batch_b_per_op=%.3f chm_b_per_op=%.3f' \
    "$(ratio "$lookups" "$chm")" "$(ratio "$batch" "$chm")" "$lookup_bop" "$batch_bop" "$chm_bop"
printf ' insert_b_per_op=%.3f live=%s early_drops=%s\n' \
    "$(awk -v b="$insert_bshot" 'BEGIN { print b / 1e6 }')" "$live" "$drops"
# one line per flows param: the score (column 5) and, on the :gc.alloc.rate.norm row, B/op; param is the last column
TOUCH="$FT.FlowTableTouchBenchmark.touch"
awk -F, -v want="\"$TOUCH\"" -v norm="\"$TOUCH:gc.alloc.rate.norm\"" '
    { gsub(/"/, "", $5); gsub(/"/, "", $NF) }
    $1 == want { score[$NF] = $5 } $1 == norm { bop[$NF] = $5 }
    END { for (f in score) printf "flowtable touch flows=%s touches_per_s=%.0f b_per_op=%.3f\n", f, score[f], bop[f] }
' "$RESULTS/flowtable-touch.csv"
cat "$RESULTS/flowtable-interleaved.txt"
cat "$RESULTS/flowtable-ceiling.txt"
