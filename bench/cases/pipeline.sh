# bench/run.sh pipeline — the in-process packet path (PacketPathBenchmark): GRE-in-UDP decap, tunnel lookup, inner
# checks, LPM, next hop, TTL and re-encapsulation on one thread, no sockets. Prints per inner family:
#   pipeline family=ipv4 packets_per_s=... bytes_per_op=... target_packets_per_s=10000000 ratio=...
# The 10 M packets/s per core target is the issue's (docs/performance.md). PIPELINE_JMH sets the run length.
# shellcheck shell=bash
PIPELINE_JMH=${PIPELINE_JMH:--f 1 -wi 3 -w 2s -i 5 -r 2s}
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.pipeline.PacketPathBenchmark' $PIPELINE_JMH -prof gc -rf json \
    -rff "$RESULTS/pipeline.json" > "$RESULTS/pipeline.txt" 2>&1 || { cat "$RESULTS/pipeline.txt" >&2; exit 1; }
python3 - "$RESULTS/pipeline.json" <<'PY'
import json
import sys

for entry in json.load(open(sys.argv[1])):
    ops = entry["primaryMetric"]["score"]
    alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
    print("pipeline family=%s packets_per_s=%.0f bytes_per_op=%.3f target_packets_per_s=10000000 ratio=%.2f"
          % (entry["params"]["family"], ops, alloc, ops / 1e7))
PY
