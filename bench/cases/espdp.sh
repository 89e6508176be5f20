# bench/run.sh espdp — ESP transit through a worker's whole path (EspTransitBenchmark: SPI lookup, decrypt in place,
# route, re-encrypt in place into another ESP tunnel, pooled direct receive buffer) for every transform and inner
# size 64/512/1400, and in the same run the crypto core alone (EspDecryptEncryptBenchmark, AES-GCM-128, JCE, direct
# buffer) as the yardstick. Prints:
#   espdp transform=aes-gcm-128 size=1400 transit_gbps=... mpps=... bytes_per_op=...
#   espdp yardstick transform=aes-gcm-128 size=1400 core_gbps=... path_over_core=... target_gbps=5 path_over_target=...
# Gbps counts inner-packet bits. ESPDP_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s") sets the run length.
# shellcheck shell=bash
ESPDP_JMH=${ESPDP_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}

espdp_jmh() { # espdp_jmh OUTPUT_BASENAME BENCHMARK JMH_ARGS...
    local name=$1 benchmark=$2
    shift 2
    run_jmh "$benchmark" "$@" -prof gc -rf json -rff "$RESULTS/$name.json" > "$RESULTS/$name.txt" 2>&1 \
        || { cat "$RESULTS/$name.txt" >&2; return 1; }
}

# shellcheck disable=SC2086
espdp_jmh espdp-transit 'dev.vnetd.bench.espdp.EspTransitBenchmark' $ESPDP_JMH
# shellcheck disable=SC2086
espdp_jmh espdp-core 'dev.vnetd.bench.esp.EspDecryptEncryptBenchmark' $ESPDP_JMH -p transform=aes-gcm-128 \
    -p provider=jdk -p buffer=direct -p size=64,1400
python3 - "$RESULTS/espdp-transit.json" "$RESULTS/espdp-core.json" <<'PY'
import json
import sys


def load(path):
    with open(path) as f:
        for entry in json.load(f):
            p = entry["params"]
            alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
            yield p["transform"], int(p["size"]), entry["primaryMetric"]["score"], alloc


transit = list(load(sys.argv[1]))
core = {(t, s): ops for t, s, ops, _ in load(sys.argv[2])}
for transform, size, ops, alloc in transit:
    print("espdp transform=%s size=%d transit_gbps=%.2f mpps=%.3f bytes_per_op=%.0f"
          % (transform, size, ops * size * 8 / 1e9, ops / 1e6, alloc))
for transform, size, ops, _ in transit:
    if (transform, size) in core:
        gbps = ops * size * 8 / 1e9
        core_gbps = core[(transform, size)] * size * 8 / 1e9
        print("espdp yardstick transform=%s size=%d transit_gbps=%.2f core_gbps=%.2f path_over_core=%.2f"
              " target_gbps=5 path_over_target=%.2f" % (transform, size, gbps, core_gbps, gbps / core_gbps, gbps / 5))
PY
