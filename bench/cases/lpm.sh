# bench/run.sh lpm — the per-virtual-network LPM (dataplane/.../fib): lookups, bulk build, single-route updates and
# memory, on gen-routes.py tables (generated once into $RESULTS and reused). Prints one line per family:
#   lpm family=v4 routes=1000000 lookups_per_s=... build_s=... bytes_per_route=... updates_per_s=... gc_bytes_per_lookup=...
#       lookups_per_s_best_iteration=... batch_lookups_per_s=... total_bytes_per_route=...
#       [v4: view_lookups_per_s=... view_gc_bytes_per_lookup=...]
# (lookups_per_s is JMH's mean over the measured iterations; the best iteration shows what the shared machine allows
# when the other engineers' benchmarks pause; bytes_per_route counts the lookup arrays, total_ adds the writer's
# route store; view_ are single lookups through Ipv4Lpm.view(), taken every 64 keys as a worker takes it per receive
# batch) and one line for 10 000 virtual networks x 100 routes. Raw JMH output: $RESULTS/lpm-*.{txt,json}.
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
    if [ "$family" = v4 ]; then
        # shellcheck disable=SC2086
        lpm_jmh "$family-view-lookup" "${prefix}ViewLookupBenchmark" "$routes" "$keys" $LPM_JMH -prof gc
    fi
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
    printf ' total_bytes_per_route=%s' "$(sed -n 's/.*total_bytes_per_route=\([^ ]*\).*/\1/p' <<< "$memory")"
    if [ "$family" = v4 ]; then
        printf ' view_lookups_per_s=%.0f view_gc_bytes_per_lookup=%s' \
            "$(lpm_score "$RESULTS/lpm-$family-view-lookup.json")" \
            "$(lpm_score "$RESULTS/lpm-$family-view-lookup.json" gc.alloc.rate.norm)"
    fi
    printf '\n'
}

# lpm_rte_locked COMMAND — one command to the running rte_lpm_bench, its answer on stdout, while holding JMH's
# lock (/tmp/jmh.lock, an fcntl lock as JMH takes it) so that no JMH run shares the cores with rte_lpm's iterations.
lpm_rte_locked() {
    python3 - "$1" 3>&"$RTE_IN" 4<&"$RTE_OUT" <<'PY'
import fcntl, os, sys
with open("/tmp/jmh.lock", "a") as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    os.write(3, (sys.argv[1] + "\n").encode())
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(4, 1)
        if not chunk:
            sys.exit("rte_lpm_bench ended before answering " + sys.argv[1])
        line += chunk
    sys.stdout.write(line.decode())
PY
}

# lpm_rte_yardstick — DESIGN.md's yardstick, DPDK rte_lpm, measured in this run on the same routes and keys:
# bench/native/rte_lpm_bench.c (built here against Debian's libdpdk-dev) is built once, checked to give the same
# answers as the Poptrie (hits and the sum of the routes' values over all keys), then LPM_RTE_ROUNDS rounds
# alternate rte_lpm's iterations (3 x 2 s) with JMH forks of the Poptrie (2 + 3 iterations of 2 s): single lookups
# (rte_lpm_lookup against Ipv4Lpm.lookup, then against lookups through a view taken every 64 keys), then batches of
# 64 (rte_lpm_lookup_bulk against Ipv4Lpm's batch lookup). Prints
#   lpm yardstick=rte_lpm family=v4 routes=... rounds=... rte_lookups_per_s=... poptrie_lookups_per_s=...
#       ratio=... ratio_min=... ratio_max=... poptrie_view_lookups_per_s=... view_ratio=... view_ratio_min=...
#       view_ratio_max=... rte_bulk_lookups_per_s=... poptrie_batch_lookups_per_s=... batch_ratio=...
#       batch_ratio_min=... batch_ratio_max=... rte_build_s=... hugepages=yes|no
# (rates: medians of the rounds' means; ratios: median, least and most of the per-round Poptrie / rte_lpm ratios).
# rte_lpm runs on 2 MiB hugetlbfs pages, as DPDK deploys it: reserved here when the script may (root), released
# after. LPM_RTE_ROUNDS=0 skips the yardstick.
LPM_RTE_ROUNDS=${LPM_RTE_ROUNDS:-5}

# lpm_rte_release — ends rte_lpm_bench (EOF on its commands) and gives back what lpm_rte_yardstick took: the
# hugepages it reserved, the hugetlbfs it mounted.
lpm_rte_release() {
    exec {RTE_IN}>&- {RTE_OUT}<&-
    [ -z "$LPM_RTE_PID" ] || wait "$LPM_RTE_PID" || true
    [ "$LPM_RTE_MOUNTED" = no ] || umount /dev/hugepages || true
    [ -z "$LPM_RTE_RESERVED" ] || echo "$LPM_RTE_RESERVED" > /proc/sys/vm/nr_hugepages || true
}

lpm_rte_yardstick() {
    [ "$LPM_RTE_ROUNDS" -gt 0 ] || return 0
    if ! pkg-config --exists libdpdk 2>/dev/null; then
        echo "lpm yardstick=rte_lpm not_measured: libdpdk-dev is not installed (apt-get install libdpdk-dev)"
        return 0
    fi
    local bin="$RESULTS/rte_lpm_bench" hugepages=no round rte_build hits sum answers line
    LPM_RTE_RESERVED="" LPM_RTE_MOUNTED=no LPM_RTE_PID=""
    if [ ! -x "$bin" ] || [ "$ROOT/bench/native/rte_lpm_bench.c" -nt "$bin" ]; then
        # shellcheck disable=SC2046 # pkg-config's flags are several words
        cc -O3 -Wall -o "$bin" "$ROOT/bench/native/rte_lpm_bench.c" $(pkg-config --cflags --libs libdpdk) \
            -march=native
    fi
    local free
    free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
    if [ "$free" -lt 128 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
        LPM_RTE_RESERVED=$(cat /proc/sys/vm/nr_hugepages)
        echo $((LPM_RTE_RESERVED + 128 - free)) > /proc/sys/vm/nr_hugepages || true
        free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
    fi
    if [ "$free" -ge 96 ] && ! mountpoint -q /dev/hugepages && mkdir -p /dev/hugepages \
            && mount -t hugetlbfs nodev /dev/hugepages; then
        LPM_RTE_MOUNTED=yes
    fi
    if [ "$free" -ge 96 ] && mountpoint -q /dev/hugepages; then
        hugepages=yes
    fi
    local rte_env=()
    [ "$hugepages" = yes ] || rte_env=(RTE_LPM_BENCH_NO_HUGE=1)
    echo "bench: building rte_lpm from $(wc -l < "$V4_ROUTES") routes (DPDK's own build takes minutes)" >&2
    # rte_lpm_bench reads commands from one FIFO and answers on another (plain descriptors, which the subshells of
    # $(...) inherit; bash's coproc descriptors are not passed to them)
    local fifos
    fifos=$(mktemp -d)
    mkfifo "$fifos/in" "$fifos/out"
    env "${rte_env[@]}" "$bin" "$V4_ROUTES" "$V4_KEYS" < "$fifos/in" > "$fifos/out" 2> "$RESULTS/lpm-rte.err" &
    LPM_RTE_PID=$!
    exec {RTE_IN}>"$fifos/in" {RTE_OUT}<"$fifos/out"
    rm -r "$fifos"
    read -r _ rte_build <&"$RTE_OUT" || { cat "$RESULTS/lpm-rte.err" >&2; lpm_rte_release; return 1; }
    read -r _ hits sum < <(lpm_rte_locked check)
    # shellcheck disable=SC2086 # the flags are several words
    answers=$("$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -cp "$BENCH_JAR" dev.vnetd.bench.lpm.LpmAnswers \
        "$V4_ROUTES" "$V4_KEYS")
    if [ "$answers" != "lpm-answers hits=$hits value_sum=$sum" ]; then
        echo "bench: rte_lpm and the Poptrie answer differently: rte_lpm hits=$hits value_sum=$sum, $answers" >&2
        lpm_rte_release
        return 1
    fi
    : > "$RESULTS/lpm-rte-rounds.txt"
    for round in $(seq 1 "$LPM_RTE_ROUNDS"); do
        line="round $round $(lpm_rte_locked 'single 3 2')"
        lpm_jmh "v4-lookup-round" Ipv4LookupBenchmark "$V4_ROUTES" "$V4_KEYS" -f 1 -wi 2 -w 2s -i 3 -r 2s
        line="$line poptrie $(lpm_score "$RESULTS/lpm-v4-lookup-round.json")"
        lpm_jmh "v4-view-lookup-round" Ipv4ViewLookupBenchmark "$V4_ROUTES" "$V4_KEYS" -f 1 -wi 2 -w 2s -i 3 -r 2s
        line="$line view $(lpm_score "$RESULTS/lpm-v4-view-lookup-round.json") $(lpm_rte_locked 'bulk 3 2')"
        lpm_jmh "v4-batch-lookup-round" Ipv4BatchLookupBenchmark "$V4_ROUTES" "$V4_KEYS" -f 1 -wi 2 -w 2s -i 3 -r 2s
        echo "$line poptrie_batch $(lpm_score "$RESULTS/lpm-v4-batch-lookup-round.json")" \
            | tee -a "$RESULTS/lpm-rte-rounds.txt" >&2
    done
    lpm_rte_release
    python3 - "$RESULTS/lpm-rte-rounds.txt" "$(wc -l < "$V4_ROUTES" | tr -d ' ')" "$rte_build" "$hugepages" <<'PY'
import statistics, sys
rounds = []
for line in open(sys.argv[1]):
    w = line.split()  # round N single a b c poptrie P view V bulk a b c poptrie_batch B
    single = statistics.mean(map(float, w[3:6]))
    bulk = statistics.mean(map(float, w[11:14]))
    rounds.append((single, float(w[7]), float(w[9]), bulk, float(w[15])))
ratios = [p / r for r, p, _, _, _ in rounds]
views = [v / r for r, _, v, _, _ in rounds]
batch = [p / r for _, _, _, r, p in rounds]
med = lambda i: statistics.median(x[i] for x in rounds)
spread = lambda xs: (statistics.median(xs), min(xs), max(xs))
print("lpm yardstick=rte_lpm family=v4 routes=%s rounds=%d rte_lookups_per_s=%.0f poptrie_lookups_per_s=%.0f"
      " ratio=%.2f ratio_min=%.2f ratio_max=%.2f poptrie_view_lookups_per_s=%.0f view_ratio=%.2f"
      " view_ratio_min=%.2f view_ratio_max=%.2f rte_bulk_lookups_per_s=%.0f poptrie_batch_lookups_per_s=%.0f"
      " batch_ratio=%.2f batch_ratio_min=%.2f batch_ratio_max=%.2f rte_build_s=%s hugepages=%s"
      % ((sys.argv[2], len(rounds), med(0), med(1)) + spread(ratios) + (med(2),) + spread(views) + (med(3), med(4))
         + spread(batch) + (sys.argv[3], sys.argv[4])))
PY
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
lpm_rte_yardstick
lpm_family v6 "$V6_ROUTES" "$V6_KEYS" Ipv6
# shellcheck disable=SC2086 # the flags are several words (the LPM reads its arrays through Agrona's UnsafeApi)
"$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -cp "$BENCH_JAR" dev.vnetd.bench.lpm.LpmMemory vns "$V4_ROUTES" 10000 100 \
    | tee -a "$RESULTS/lpm-memory.txt" | sed 's/^lpm-memory /lpm memory /'
