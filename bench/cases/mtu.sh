# bench/run.sh mtu — what MSS clamping costs a TCP SYN (MssClampBenchmark), against what the whole in-process packet
# path costs a packet (PacketPathBenchmark, IPv4) in the same run. Prints:
#   mtu mss_clamp mode=clamp ns_per_syn=... bytes_per_op=...
#   mtu mss_clamp mode=below ns_per_syn=... bytes_per_op=...
#   mtu path ns_per_packet=... clamp_over_path=...
# MTU_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s") sets the JMH run length; the machine is shared, keep it moderate.
# shellcheck shell=bash
MTU_JMH=${MTU_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.mtu.MssClampBenchmark' $MTU_JMH -prof gc -rf json -rff "$RESULTS/mtu-clamp.json" \
    > "$RESULTS/mtu-clamp.txt" 2>&1 || { cat "$RESULTS/mtu-clamp.txt" >&2; exit 1; }
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.pipeline.PacketPathBenchmark' $MTU_JMH -p family=ipv4 -prof gc -rf json \
    -rff "$RESULTS/mtu-path.json" > "$RESULTS/mtu-path.txt" 2>&1 || { cat "$RESULTS/mtu-path.txt" >&2; exit 1; }
python3 - "$RESULTS/mtu-clamp.json" "$RESULTS/mtu-path.json" <<'PY'
import json
import sys

clamp = {}
for entry in json.load(open(sys.argv[1])):
    ns = entry["primaryMetric"]["score"]
    alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
    clamp[entry["params"]["mode"]] = ns
    print("mtu mss_clamp mode=%s ns_per_syn=%.2f bytes_per_op=%.3f" % (entry["params"]["mode"], ns, alloc))
for entry in json.load(open(sys.argv[2])):
    path_ns = 1e9 / entry["primaryMetric"]["score"]
    print("mtu path ns_per_packet=%.1f clamp_over_path=%.3f" % (path_ns, clamp.get("clamp", float("nan")) / path_ns))
PY
