# bench/run.sh health — tunnel health probes on the in-process packet path. Runs, in one go, the pipeline baseline
# (PacketPathBenchmark, ipv4: no probes), the same path with every tunnel probed (ProbedForwardBenchmark: a UDP
# packet, and an ICMP echo reply that is not a probe reply, both forwarded) and a probe reply taken out
# (ProbeReplyBenchmark). Prints:
#   health case=baseline_udp packets_per_s=... bytes_per_op=...
#   health case=probed_udp packets_per_s=... bytes_per_op=... ratio_to_baseline=...
#   health case=probed_echo_reply packets_per_s=... bytes_per_op=... ratio_to_baseline=...
#   health case=probe_reply packets_per_s=... bytes_per_op=...
# HEALTH_JMH sets the run length.
# shellcheck shell=bash
HEALTH_JMH=${HEALTH_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.pipeline.PacketPathBenchmark' -p family=ipv4 $HEALTH_JMH -prof gc -rf json \
    -rff "$RESULTS/health-baseline.json" > "$RESULTS/health-baseline.txt" 2>&1 \
    || { cat "$RESULTS/health-baseline.txt" >&2; exit 1; }
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.health.' $HEALTH_JMH -prof gc -rf json \
    -rff "$RESULTS/health.json" > "$RESULTS/health.txt" 2>&1 || { cat "$RESULTS/health.txt" >&2; exit 1; }
python3 - "$RESULTS/health-baseline.json" "$RESULTS/health.json" <<'PY'
import json
import sys


def rows(path):
    for entry in json.load(open(path)):
        alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
        yield entry["benchmark"].rsplit(".", 2)[-2], entry.get("params", {}), entry["primaryMetric"]["score"], alloc


baseline = None
for _, _, ops, alloc in rows(sys.argv[1]):
    baseline = ops
    print("health case=baseline_udp packets_per_s=%.0f bytes_per_op=%.3f" % (ops, alloc))
for name, params, ops, alloc in rows(sys.argv[2]):
    if name == "ProbedForwardBenchmark":
        print("health case=probed_%s packets_per_s=%.0f bytes_per_op=%.3f ratio_to_baseline=%.2f"
              % (params["packet"], ops, alloc, ops / baseline))
    else:
        print("health case=probe_reply packets_per_s=%.0f bytes_per_op=%.3f" % (ops, alloc))
PY
