# bench/run.sh pipeline — the in-process packet path: GRE-in-UDP decap, tunnel lookup, inner checks, flow lookup or
# LPM, next hop, TTL and re-encapsulation on one thread, no sockets. Two cases per inner family:
#   PacketPathBenchmark: one datagram of one flow, over and over (everything cache-hot), a flush per packet, either
#   from site-a (decision=arr: a flow-table hit, the pinned next hop) or from site-b (decision=lpm: no ARR, a
#   longest-prefix match and next-hop selection every packet);
#   PacketPathBatchBenchmark: read batches of 64 datagrams from 4096 flows (half ARR flow-table hits, half LPM
#   lookups in 16384-route FIBs), a flush per batch, as the socket reader runs the path; traffic=forward has the
#   ARR half all from site-a's own flows, traffic=replies makes half of it dc-prod's replies to them (ARR's return
#   direction: the swapped key found, back to site-a without a FIB lookup). Then receiveBatch again with 131072
#   flows in a flow table of 1048576 (the daemon's default capacity), so that the flows' lines no longer stay in the
#   caches, as on a busy edge (PIPELINE_SCALE=0 leaves this run out).
# Prints:
#   pipeline family=ipv4 decision=arr|lpm packets_per_s=... bytes_per_op=... target_packets_per_s=10000000 ratio=...
#       gc=parallel
#   pipeline family=ipv4 case=batch64 entry=receiveBatch|receive traffic=forward|replies flows=4096|131072
#       packets_per_s=... bytes_per_op=... target_packets_per_s=10000000 ratio=... gc=parallel
# The 10 M packets/s per core target is the issue's (docs/performance.md). PIPELINE_JMH sets the run length.
# The forks run the collector the launchers give vnetd (ParallelGC, docs/operations.md "JVM and garbage
# collector"); PIPELINE_GC=g1 (or serial, z, default: the JVM's own choice) measures another one, and the line says
# which. Each benchmark's set-up ends with System.gc(), so the path's objects are old, as in a running daemon. The
# forks fail on error (-foe): a batch case that dropped packets, or sent no reply back through ARR, fails the run.
# shellcheck shell=bash
PIPELINE_JMH=${PIPELINE_JMH:--f 1 -wi 3 -w 2s -i 5 -r 2s}
PIPELINE_GC=${PIPELINE_GC:-parallel}
PIPELINE_GC_FLAG=$(collector_flag PIPELINE_GC "$PIPELINE_GC")
PIPELINE_GC_FLAGS=()
[ -z "$PIPELINE_GC_FLAG" ] || PIPELINE_GC_FLAGS=(-jvmArgsAppend "$PIPELINE_GC_FLAG")
PIPELINE_SCALE=${PIPELINE_SCALE:-1}
# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.pipeline.PacketPath(Batch)?Benchmark' $PIPELINE_JMH "${PIPELINE_GC_FLAGS[@]}" -foe true -prof gc \
    -rf json -rff "$RESULTS/pipeline.json" > "$RESULTS/pipeline.txt" 2>&1 \
    || { cat "$RESULTS/pipeline.txt" >&2; exit 1; }
echo '[]' > "$RESULTS/pipeline-scale.json"
if [ "$PIPELINE_SCALE" != 0 ]; then
    # shellcheck disable=SC2086
    run_jmh 'dev.vnetd.bench.pipeline.PacketPathBatchBenchmark' -p entry=receiveBatch -p flows=131072 $PIPELINE_JMH \
        "${PIPELINE_GC_FLAGS[@]}" -foe true -prof gc -rf json -rff "$RESULTS/pipeline-scale.json" \
        > "$RESULTS/pipeline-scale.txt" 2>&1 || { cat "$RESULTS/pipeline-scale.txt" >&2; exit 1; }
fi
python3 - "$RESULTS/pipeline.json" "$PIPELINE_GC" "$RESULTS/pipeline-scale.json" <<'PY'
import json
import sys

for entry in json.load(open(sys.argv[1])) + json.load(open(sys.argv[3])):
    ops = entry["primaryMetric"]["score"]
    alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
    params = entry["params"]
    case = (" case=batch64 entry=%s traffic=%s flows=%s" % (params["entry"], params["traffic"], params["flows"])
            if "entry" in params else " decision=%s" % params["decision"])
    print("pipeline family=%s%s packets_per_s=%.0f bytes_per_op=%.3f target_packets_per_s=10000000 ratio=%.2f gc=%s"
          % (entry["params"]["family"], case, ops, alloc, ops / 1e7, sys.argv[2]))
PY
