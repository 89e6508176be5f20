# bench/run.sh tun — the per-packet system calls of a TUN attachment on a real TUN device, vnetd's FFM downcalls
# (TunDevice.read/write: critical, buffer address as a long, errno captured) against Netty's JNI
# (FileDescriptor.readAddress/writeAddress): read() of an empty queue (EAGAIN, ends every read batch) and write()
# of a 64-byte packet the host then drops. Needs root; JMH runs inside a network namespace made for it. Prints:
#   tun read_empty ffm_ns=... jni_ns=... ffm_over_jni=... ffm_bytes_per_op=...
#   tun write_64 ffm_ns=... jni_ns=... ffm_over_jni=... ffm_bytes_per_op=...
# TUN_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s") sets the run length.
# shellcheck shell=bash
TUN_JMH=${TUN_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}
TUN_NS="vt-tun-bench-$$"
ip netns add "$TUN_NS"
trap 'ip netns del "$TUN_NS" 2>/dev/null || true' EXIT
ip -n "$TUN_NS" link set lo up

tun_jmh() { # tun_jmh OUTPUT_BASENAME BENCHMARK — like run_jmh (waits for /tmp/jmh.lock), inside $TUN_NS
    local name=$1 benchmark=$2 attempt status
    for attempt in $(seq 1 120); do
        status=0
        # shellcheck disable=SC2086
        ip netns exec "$TUN_NS" "$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -jar "$BENCH_JAR" \
            -jvmArgsPrepend "$VNETD_JVM_FLAGS" "$benchmark" $TUN_JMH -prof gc -rf json -rff "$RESULTS/$name.json" \
            > "$RESULTS/$name.txt" 2>&1 || status=$?
        grep -q 'Unable to acquire the JMH lock' "$RESULTS/$name.txt" || break
        echo "bench: another JMH run holds /tmp/jmh.lock, waiting (attempt $attempt)" >&2
        sleep 10
    done
    [ "$status" -eq 0 ] || { cat "$RESULTS/$name.txt" >&2; return 1; }
}

tun_jmh tun-read 'dev.vnetd.bench.tun.TunReadBenchmark'
tun_jmh tun-write 'dev.vnetd.bench.tun.TunWriteBenchmark'
python3 - "$RESULTS/tun-read.json" "$RESULTS/tun-write.json" <<'PY'
import json
import sys

for label, path in (("read_empty", sys.argv[1]), ("write_64", sys.argv[2])):
    with open(path) as f:
        entries = json.load(f)
    ns = {e["params"]["binding"]: e["primaryMetric"]["score"] for e in entries}
    alloc = {e["params"]["binding"]: e.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {})
             .get("score", float("nan")) for e in entries}
    print("tun %s ffm_ns=%.1f jni_ns=%.1f ffm_over_jni=%.2f ffm_bytes_per_op=%.1f jni_bytes_per_op=%.1f"
          % (label, ns["ffm"], ns["jni"], ns["ffm"] / ns["jni"], alloc["ffm"], alloc["jni"]))
PY
