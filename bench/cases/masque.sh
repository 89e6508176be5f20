# bench/run.sh masque — MASQUE on the packet path, in process (no QUIC crypto, no sockets): a GRE packet routed into
# a MASQUE tunnel owned by the same worker (MasqueEgressBenchmark), a CONNECT-IP datagram routed into GRE
# (MasqueIngressBenchmark), and the cross-worker hand-off to the connection's event loop (MasqueHandoffBenchmark),
# with the GRE-in-UDP transit of the pipeline case as the yardstick. Prints:
#   masque op=egress size=1200 mpps=... gbps=... bytes_per_op=...
#   masque op=handoff size=1200 offered_mpps=... delivered_mpps=... dropped_share=... bytes_per_op=...
#   masque yardstick op=gre-transit mpps=... egress_over_gre=... ingress_over_gre=...
# MASQUE_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s") sets the run length.
# shellcheck shell=bash
MASQUE_JMH=${MASQUE_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}

# shellcheck disable=SC2086
run_jmh 'dev.vnetd.bench.(masque.Masque(Egress|Ingress|Handoff)|pipeline.PacketPath)Benchmark' $MASQUE_JMH \
    -p family=ipv4 -prof gc -rf json \
    -rff "$RESULTS/masque.json" > "$RESULTS/masque.txt" 2>&1 || { cat "$RESULTS/masque.txt" >&2; exit 1; }
python3 - "$RESULTS/masque.json" <<'PY'
import json
import sys

rates = {}
with open(sys.argv[1]) as f:
    for entry in json.load(f):
        name = entry["benchmark"].rsplit(".", 2)[-2]
        if name == "PacketPathBenchmark":
            rates["gre"] = entry["primaryMetric"]["score"]
            continue
        size = int(entry["params"]["size"])
        if entry["params"].get("headroom", "0") == "0":
            rates[(name, size)] = entry["primaryMetric"]["score"]
        ops = entry["primaryMetric"]["score"]
        secondary = entry.get("secondaryMetrics", {})
        alloc = secondary.get("gc.alloc.rate.norm", {}).get("score", float("nan"))
        if name == "MasqueHandoffBenchmark":
            delivered = secondary.get("delivered", {}).get("score", float("nan"))
            dropped = secondary.get("dropped", {}).get("score", float("nan"))
            print("masque op=handoff size=%d offered_mpps=%.3f delivered_mpps=%.3f dropped_share=%.3f bytes_per_op=%.0f"
                  % (size, ops / 1e6, delivered / 1e6, dropped / ops if ops else float("nan"), alloc))
        else:
            op = "egress" if name == "MasqueEgressBenchmark" else "ingress"
            extra = " headroom=%s" % entry["params"]["headroom"] if "headroom" in entry["params"] else ""
            print("masque op=%s size=%d%s mpps=%.3f gbps=%.2f bytes_per_op=%.0f"
                  % (op, size, extra, ops / 1e6, ops * size * 8 / 1e9, alloc))
gre = rates.get("gre")
if gre:
    print("masque yardstick op=gre-transit mpps=%.3f egress_over_gre=%.2f ingress_over_gre=%.2f"
          % (gre / 1e6, rates.get(("MasqueEgressBenchmark", 64), 0) / gre,
             rates.get(("MasqueIngressBenchmark", 64), 0) / gre))
PY
