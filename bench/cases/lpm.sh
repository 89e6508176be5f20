# bench/run.sh lpm — the per-virtual-network LPM (dataplane/.../fib): lookups, bulk build, single-route updates and
# memory, on gen-routes.py tables (generated once into $RESULTS and reused). Prints one line per family:
#   lpm family=v4 routes=1000000 lookups_per_s=... build_s=... bytes_per_route=... updates_per_s=... gc_bytes_per_lookup=...
#       lookups_per_s_best_iteration=... batch_lookups_per_s=... total_bytes_per_route=...
# (lookups_per_s is JMH's mean over the measured iterations; the best iteration shows what the shared machine allows
# when the other engineers' benchmarks pause; bytes_per_route counts the lookup arrays, total_ adds the writer's
# route store) and one line for 10 000 virtual networks x 100 routes. Raw JMH output: $RESULTS/lpm-*.{txt,json}.
# Settings: LPM_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s", moderate: the machine is shared).
GEN="$ROOT/../shared/tools/gen-routes.py"
LPM_JMH=${LPM_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}

lpm_generate() { # FILE ARGS... — runs gen-routes.py once per FILE
    local file=$1; shift
    if [ ! -s "$file" ]; then
        echo "bench: generating $file" >&2
        python3 "$GEN" "$@" > "$file.tmp" && mv "$file.tmp" "$file"
    fi
}

lpm_score() { # JSON [SECONDARY|best] — mean score, a secondary metric, or the best measured iteration of a JMH json
    python3 - "$@" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))[0]
if len(sys.argv) > 2 and sys.argv[2] == "best":
    print("%.6g" % max(max(fork) for fork in result["primaryMetric"]["rawData"]))
else:
    metric = result["primaryMetric"] if len(sys.argv) < 3 else result["secondaryMetrics"][sys.argv[2]]
    print("%.6g" % metric["score"])
PY
}

lpm_jmh() { # NAME CLASS ROUTES KEYS|- JMH_ARGS... — runs one benchmark class into $RESULTS/lpm-NAME.json
    local name=$1 class=$2 routes=$3 keys=$4; shift 4
    local params=(-p "routes=$routes")
    [ "$keys" = - ] || params+=(-p "keys=$keys")
    local attempt
    for attempt in $(seq 1 60); do # another engineer's JMH holds /tmp/jmh.lock: wait for it, do not share the cores
        if run_jmh "dev.vnetd.bench.lpm.$class" "${params[@]}" "$@" \
                -rf json -rff "$RESULTS/lpm-$name.json" > "$RESULTS/lpm-$name.txt" 2>&1; then
            return 0
        fi
        grep -q 'Unable to acquire the JMH lock' "$RESULTS/lpm-$name.txt" || break
        echo "bench: $name waits for the JMH lock ($attempt)" >&2
        sleep 10
    done
    cat "$RESULTS/lpm-$name.txt" >&2
    return 1
}

lpm_family() { # FAMILY ROUTES KEYS CLASS_PREFIX
    local family=$1 routes=$2 keys=$3 prefix=$4 count lookups best gc batch build updates memory
    count=$(wc -l < "$routes" | tr -d ' ')
    # shellcheck disable=SC2086
    lpm_jmh "$family-lookup" "${prefix}LookupBenchmark" "$routes" "$keys" $LPM_JMH -prof gc
    # shellcheck disable=SC2086
    lpm_jmh "$family-batch-lookup" "${prefix}BatchLookupBenchmark" "$routes" "$keys" $LPM_JMH -prof gc
    lpm_jmh "$family-build" "${prefix}BuildBenchmark" "$routes" - -f 1 -wi 2 -i 5
    # shellcheck disable=SC2086
    lpm_jmh "$family-update" "${prefix}UpdateBenchmark" "$routes" - $LPM_JMH
    lookups=$(lpm_score "$RESULTS/lpm-$family-lookup.json")
    best=$(lpm_score "$RESULTS/lpm-$family-lookup.json" best)
    gc=$(lpm_score "$RESULTS/lpm-$family-lookup.json" gc.alloc.rate.norm)
    batch=$(lpm_score "$RESULTS/lpm-$family-batch-lookup.json")
    build=$(lpm_score "$RESULTS/lpm-$family-build.json")
    updates=$(lpm_score "$RESULTS/lpm-$family-update.json")
    # shellcheck disable=SC2086 # the flags are several words
    memory=$("$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -cp "$BENCH_JAR" dev.vnetd.bench.lpm.LpmMemory "$family" "$routes")
    echo "$memory" >> "$RESULTS/lpm-memory.txt"
    printf 'lpm family=%s routes=%s lookups_per_s=%.0f build_s=%.3f bytes_per_route=%s updates_per_s=%.0f' \
        "$family" "$count" "$lookups" "$build" "$(sed -n 's/.* bytes_per_route=\([^ ]*\).*/\1/p' <<< "$memory")" \
        "$updates"
    printf ' gc_bytes_per_lookup=%s lookups_per_s_best_iteration=%.0f batch_lookups_per_s=%.0f' "$gc" "$best" "$batch"
    printf ' total_bytes_per_route=%s\n' \
        "$(sed -n 's/.*total_bytes_per_route=\([^ ]*\).*/\1/p' <<< "$memory")"
}

V4_ROUTES="$RESULTS/routes-v4-1000000.txt"
V4_KEYS="$RESULTS/keys-v4-2000000.txt"
V6_ROUTES="$RESULTS/routes-v6-200000.txt"
V6_KEYS="$RESULTS/keys-v6-2000000.txt"
lpm_generate "$V4_ROUTES" routes v4 1000000 1
lpm_generate "$V4_KEYS" keys v4 2000000 7 1 1000000
lpm_generate "$V6_ROUTES" routes v6 200000 1
lpm_generate "$V6_KEYS" keys v6 2000000 7 1 200000
: > "$RESULTS/lpm-memory.txt"

lpm_family v4 "$V4_ROUTES" "$V4_KEYS" Ipv4
lpm_family v6 "$V6_ROUTES" "$V6_KEYS" Ipv6
# shellcheck disable=SC2086 # the flags are several words (the LPM reads its arrays through Agrona's UnsafeApi)
"$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -cp "$BENCH_JAR" dev.vnetd.bench.lpm.LpmMemory vns "$V4_ROUTES" 10000 100 \
    | tee -a "$RESULTS/lpm-memory.txt" | sed 's/^lpm-memory /lpm memory /'
