# bench/run.sh esp — ESP transit cost per core: decrypt + re-encrypt in place (EspDecryptEncryptBenchmark) for every
# transform, inner size 64/512/1400 and provider (OpenSSL libcrypto through FFM, the JDK's JCE, Bouncy Castle's
# low-level engines), plus direct buffers for AES-GCM-128 with OpenSSL and the JCE. Prints one line per combination:
#   esp transform=aes-gcm-128 size=1400 decrypt_encrypt_gbps=... mpps=... provider=openssl buffer=heap bytes_per_op=...
# then per transform and size the fastest provider and the ratios between providers, the provider that wins most
# sizes per transform, and the 5 Gbps AES-GCM-128 target. Gbps counts inner-packet bits.
# ESP_JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s") sets the JMH run length; the machine is shared, keep it moderate.
# ESP_PROVIDERS (default "openssl,jdk,bc") limits the providers measured.
# shellcheck shell=bash
ESP_JMH=${ESP_JMH:--f 1 -wi 3 -w 1s -i 5 -r 1s}
ESP_PROVIDERS=${ESP_PROVIDERS:-openssl,jdk,bc}

esp_jmh() { # esp_jmh OUTPUT_BASENAME JMH_ARGS...
    local name=$1
    shift
    run_jmh 'dev.vnetd.bench.esp.EspDecryptEncryptBenchmark' "$@" -prof gc -rf json -rff "$RESULTS/$name.json" \
        > "$RESULTS/$name.txt" 2>&1 || { cat "$RESULTS/$name.txt" >&2; return 1; }
}

# shellcheck disable=SC2086
esp_jmh esp-heap $ESP_JMH -p provider="$ESP_PROVIDERS"
# shellcheck disable=SC2086
esp_jmh esp-direct $ESP_JMH -p transform=aes-gcm-128 -p provider=openssl,jdk -p buffer=direct
python3 - "$RESULTS/esp-heap.json" "$RESULTS/esp-direct.json" <<'PY'
import json
import sys

rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        for entry in json.load(f):
            p = entry["params"]
            ops = entry["primaryMetric"]["score"]
            alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
            size = int(p["size"])
            rows.append((p["transform"], size, p["provider"], p["buffer"], ops, alloc))
for transform, size, provider, buffer, ops, alloc in rows:
    print("esp transform=%s size=%d decrypt_encrypt_gbps=%.2f mpps=%.3f provider=%s buffer=%s bytes_per_op=%.0f"
          % (transform, size, ops * size * 8 / 1e9, ops / 1e6, provider, buffer, alloc))
heap = [r for r in rows if r[3] == "heap"]


def ratio(by_provider, a, b):
    return by_provider[a] / by_provider[b] if by_provider.get(a) and by_provider.get(b) else float("nan")


for transform in sorted({r[0] for r in heap}):
    wins = {}
    for size in sorted({r[1] for r in heap if r[0] == transform}):
        by_provider = {r[2]: r[4] for r in heap if r[0] == transform and r[1] == size}
        best = max(by_provider, key=by_provider.get)
        wins[best] = wins.get(best, 0) + 1
        gbps = by_provider[best] * size * 8 / 1e9
        print("esp fastest transform=%s size=%d provider=%s decrypt_encrypt_gbps=%.2f openssl_over_jdk=%.2f"
              " jdk_over_bc=%.1f openssl_over_bc=%.1f"
              % (transform, size, best, gbps, ratio(by_provider, "openssl", "jdk"), ratio(by_provider, "jdk", "bc"),
                 ratio(by_provider, "openssl", "bc")))
    print("esp default transform=%s provider=%s" % (transform, max(wins, key=wins.get)))
target = {r[2]: r for r in heap if r[0] == "aes-gcm-128" and r[1] == 1400}
if target:
    best = max(target.values(), key=lambda r: r[4])
    gbps = best[4] * 1400 * 8 / 1e9
    print("esp target transform=aes-gcm-128 size=1400 provider=%s decrypt_encrypt_gbps=%.2f target_gbps=5 ratio=%.2f"
          " met=%s bytes_per_op=%.0f" % (best[2], gbps, gbps / 5, "yes" if gbps >= 5 else "no", best[5]))
PY
