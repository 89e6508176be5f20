#!/usr/bin/env bash
# bench/soak.sh MINUTES — drives mixed traffic through one vnetd for MINUTES and checks that nothing was lost
# uncounted (issue 9).
#
# Everything runs in a network namespace of its own (vt-robust-soak-PID, loopback only, deleted on exit), so the
# kernel's UDP counters there belong to the soak alone. Senders and sinks are bench/soak/soakblast.c; the traffic is
# bench/soak/packets.py's: GRE-in-UDP from one site and ESP-in-UDP (AES-GCM-128) from another, each old flows
# (repeated 5-tuples), new flows and malformed datagrams, plus the data centre's replies to the old flows (ARR
# returns them). vnetd runs from control/target/vnetd.jar with Netty's leak detector at `simple`, a GC log and
# native memory tracking.
#
# Prints one line per minute:
#   soak minute=M in=... out=... vnetd_rx=... vnetd_tx=... drops=reason:n,... heap_after_gc_mib=... rss_mib=...
#        direct_mib=... nmt_committed_mib=... gc_pauses=N gc_pause_total_ms=... gc_pause_max_ms=...
# (in/out: datagrams the senders sent and the sinks received that minute; direct: the JDK's direct buffer pool;
# nmt_committed: all memory the JVM committed, heap and native, by native memory tracking; the flow table is
# anonymous memory outside both, in rss), then
#   soak total in=... out=... vnetd_drops=... icmp_errors=... vnetd_socket_receive_drops=... kernel_rcvbuf_errors=...
#        unaccounted=... leaks=...
# where unaccounted = in + icmp_errors - out - vnetd_drops - vnetd_socket_receive_drops, 0 when every datagram sent
# was received or counted by vnetd: dropped on its path by reason, or by the kernel at vnetd's full receive buffers
# (vnetd_socket_receive_drops_total; kernel_rcvbuf_errors is the namespace's total, sinks included, as a check).
# A warm-up of SOAK_WARMUP_SECONDS (30) with the same traffic comes first and is not counted: the counts start
# from a quiet vnetd, and fresh senders and sinks.
# SOAK_PPS (total datagrams per second, default 16000: what vnetd sustained without kernel drops on the shared
# 2-core machine), SOAK_WORKERS (2), SOAK_JVM_OPTS (-Xmx1g) change the load and the JVM.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk

MINUTES=${1:?usage: bench/soak.sh MINUTES}
SOAK_PPS=${SOAK_PPS:-16000}
SOAK_WORKERS=${SOAK_WORKERS:-2}
SOAK_JVM_OPTS=${SOAK_JVM_OPTS:--Xmx1g}
SOAK_WARMUP_SECONDS=${SOAK_WARMUP_SECONDS:-30}
SECONDS_TOTAL=$((MINUTES * 60))
DIR="$ROOT/bench/results/soak"
NS="vt-robust-soak-$$"
rm -rf "$DIR"
mkdir -p "$DIR/keys"
PIDS=()
VNETD_PID=

cleanup() {
    local pid
    for pid in "${PIDS[@]}" $VNETD_PID; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

if [ ! -f "$ROOT/control/target/vnetd.jar" ] \
        || [ -n "$(find "$ROOT" -path '*/src/main/*' -newer "$ROOT/control/target/vnetd.jar" -print -quit)" ]; then
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl control -am) >&2
fi
cc -O2 -Wall -o "$DIR/soakblast" "$ROOT/bench/soak/soakblast.c"
IN_KEY=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
OUT_KEY=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; echo "$IN_KEY" > "$DIR/keys/site-esp.in"; echo "$OUT_KEY" > "$DIR/keys/site-esp.out")
/usr/bin/python3 "$ROOT/bench/soak/packets.py" "$DIR" "$IN_KEY"

cat > "$DIR/vnetd.yaml" <<YAML
node: {name: soak, workers: $SOAK_WORKERS, transport: auto}
admin: {listen: 127.0.0.1:9400}
flow_table:
  capacity: 65536
  timeouts: {udp: 5s}
listeners:
  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754, source_ports: 1}
  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1:4500}
virtual_networks:
  - {name: soak}
tunnels:
  - {name: site-gre, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:5000, virtual_network: soak, arr: true,
     max_flows: 20000}
  - name: site-esp
    type: esp-udp
    listener: esp-udp
    remote: 127.0.0.6:4501
    virtual_network: soak
    arr: true
    sa:
      transform: aes-gcm-128
      inbound: {spi: 0x1001, key_file: keys/site-esp.in}
      outbound: {spi: 0x2001, key_file: keys/site-esp.out}
      replay_window: 0
      esn: false
  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:6000, virtual_network: soak}
routes:
  - {prefix: 10.0.0.0/8, virtual_network: soak, via: dc}
  - {prefix: 192.168.0.0/16, virtual_network: soak, via: site-gre}
YAML

ip netns add "$NS"
ip -n "$NS" link set lo up
# in_ns CMD...: runs CMD in the namespace; background jobs call ip netns exec directly, so $! is the program's PID
in_ns() { ip netns exec "$NS" "$@"; }

# shellcheck disable=SC2086
ip netns exec "$NS" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    $SOAK_JVM_OPTS -XX:NativeMemoryTracking=summary -Dio.netty.leakDetection.level=simple \
    -Xlog:gc:file="$DIR/gc.log":uptime -jar "$ROOT/control/target/vnetd.jar" run --config "$DIR/vnetd.yaml" \
    > "$DIR/vnetd.log" 2>&1 &
VNETD_PID=$!
for _ in $(seq 1 150); do
    in_ns curl -sf http://127.0.0.1:9400/metrics > /dev/null && break
    sleep 0.2
done
in_ns curl -sf http://127.0.0.1:9400/metrics > /dev/null || { cat "$DIR/vnetd.log" >&2; exit 1; }

last_count() { tail -n 1 "$1" 2>/dev/null | awk '{ print $2 + 0 }'; }
sum_counts() { local f n=0; for f in "$@"; do n=$((n + $(last_count "$f"))); done; echo "$n"; }
metrics() { in_ns curl -sf http://127.0.0.1:9400/metrics; }
# metric_sum PREFIX: the sum of every series of a metric.
metric_sum() { awk -v p="$1" 'index($0, p) == 1 { n += $NF } END { printf "%d\n", n }' "$DIR/metrics.txt"; }
# drops_by_reason: "reason n" lines of vnetd_drops_total.
drops_by_reason() {
    awk -F'[{}"]' '/^vnetd_drops_total\{/ { for (i = 1; i < NF; i++) if ($i ~ /reason=$/) r = $(i + 1); print r, int($NF) }' \
        "$DIR/metrics.txt" | sed 's/^ *//'
}
# gc_minute FROM TO: "count total_ms max_ms heap_after_mib" of the GC pauses logged between uptimes FROM and TO s.
gc_minute() {
    awk -v from="$1" -v to="$2" -F'[][]' '/Pause/ {
        t = $2; sub(/s$/, "", t); t += 0
        if (t < from || t >= to) next
        if (match($0, /[0-9.]+ms$/)) { ms = substr($0, RSTART, RLENGTH - 2) + 0; n++; total += ms; if (ms > max) max = ms }
        if (match($0, /->[0-9]+M/)) heap = substr($0, RSTART + 2, RLENGTH - 3)
    } END { printf "%d %.1f %.1f %s\n", n, total, max, heap == "" ? "-" : heap }' "$DIR/gc.log"
}
jvm_uptime() { awk '{ print $22 }' "/proc/$VNETD_PID/stat" | awk -v hz="$(getconf CLK_TCK)" -v up="$(cut -d' ' -f1 /proc/uptime)" '{ printf "%.0f\n", up - $1 / hz }'; }

# start_traffic SECONDS TAG: sinks first (they outlive the senders by 20 s), then the senders: 60% from the GRE
# site, 30% from the ESP site, 10% replies from the data centre. Their counts go to $DIR/{send,sink}-TAG-*.out.
start_traffic() {
    local seconds=$1 tag=$2 spec
    for spec in "127.0.0.3 6000 dc" "127.0.0.2 5000 site-gre" "127.0.0.6 4501 site-esp"; do
        set -- $spec
        ip netns exec "$NS" "$DIR/soakblast" sink "$1" "$2" $((seconds + 20)) > "$DIR/sink-$tag-$3.out" &
        PIDS+=($!)
    done
    sleep 0.5
    SENDERS=()
    for spec in "site-gre 127.0.0.2 4754 60" "site-esp 127.0.0.6 4500 30" "dc 127.0.0.3 4754 10"; do
        set -- $spec
        ip netns exec "$NS" "$DIR/soakblast" blast "$DIR/$1.bin" "$2" 127.0.0.1 "$3" $((SOAK_PPS * $4 / 100)) \
            "$seconds" > "$DIR/send-$tag-$1.out" &
        PIDS+=($!)
        SENDERS+=($!)
    done
}

# quiet: waits until vnetd's counters stop moving, leaving them in $DIR/metrics.txt
quiet() {
    local last= now
    while :; do
        metrics > "$DIR/metrics.txt"
        now="$(metric_sum vnetd_rx_packets_total) $(metric_sum vnetd_tx_packets_total) $(metric_sum vnetd_drops_total)"
        [ "$now" = "$last" ] && break
        last=$now
        sleep 1
    done
}

kernel_rcvbuf_errors() {
    in_ns awk '/^Udp:/ { if (!seen) { for (i = 2; i <= NF; i++) c[$i] = i; seen = 1; next } print $c["RcvbufErrors"] }' \
        /proc/net/snmp
}

# warm-up (JIT, pools, flow table) with the same load, not counted: the soak's counts start from a quiet vnetd
start_traffic "$SOAK_WARMUP_SECONDS" warmup
wait "${SENDERS[@]}"
quiet
sleep 21
base_drops=$(metric_sum vnetd_drops_total)
base_icmp=$(awk '/^vnetd_icmp_errors_total\{.*result="sent"/ { n += $NF } END { printf "%d", n }' "$DIR/metrics.txt")
base_rcvbuf=$(kernel_rcvbuf_errors)
base_socket_drops=$(metric_sum vnetd_socket_receive_drops_total)
base_rx=$(metric_sum vnetd_rx_packets_total)
base_tx=$(metric_sum vnetd_tx_packets_total)
declare -A prev_drops base_drop_of
while read -r reason n; do
    prev_drops[$reason]=$n
    base_drop_of[$reason]=$n
done < <(drops_by_reason)
start_traffic "$SECONDS_TOTAL" soak
echo "soak start minutes=$MINUTES pps=$SOAK_PPS workers=$SOAK_WORKERS jvm=\"$SOAK_JVM_OPTS\" namespace=$NS $(date -u +%FT%TZ)"
prev_in=0 prev_out=0 prev_rx=$base_rx prev_tx=$base_tx prev_up=$(jvm_uptime)
for minute in $(seq 1 "$MINUTES"); do
    sleep 60
    metrics > "$DIR/metrics.txt"
    in=$(sum_counts "$DIR"/send-soak-*.out)
    out=$(sum_counts "$DIR"/sink-soak-*.out)
    rx=$(metric_sum vnetd_rx_packets_total)
    tx=$(metric_sum vnetd_tx_packets_total)
    drops=""
    while read -r reason n; do
        delta=$((n - ${prev_drops[$reason]:-0}))
        prev_drops[$reason]=$n
        if [ "$delta" -gt 0 ]; then
            drops+="$reason:$delta,"
        fi
    done < <(drops_by_reason)
    up=$(jvm_uptime)
    read -r gcs gc_total gc_max heap < <(gc_minute "$prev_up" "$up")
    rss=$(awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$VNETD_PID/status")
    direct=$(awk -F' ' '/^jvm_buffer_memory_used_bytes\{.*id="direct"/ { printf "%d", $NF / 1048576 }' "$DIR/metrics.txt")
    native=$("$JAVA_HOME/bin/jcmd" "$VNETD_PID" VM.native_memory summary 2>/dev/null \
        | awk '/^Total:/ { if (match($0, /committed=[0-9]+KB/)) printf "%d", substr($0, RSTART + 10, RLENGTH - 12) / 1024 }' \
        || true)
    echo "soak minute=$minute in=$((in - prev_in)) out=$((out - prev_out)) vnetd_rx=$((rx - prev_rx))" \
        "vnetd_tx=$((tx - prev_tx)) drops=${drops%,} heap_after_gc_mib=$heap rss_mib=$rss direct_mib=${direct:--}" \
        "nmt_committed_mib=${native:--} gc_pauses=$gcs gc_pause_total_ms=$gc_total gc_pause_max_ms=$gc_max"
    prev_in=$in prev_out=$out prev_rx=$rx prev_tx=$tx prev_up=$up
done

wait "${SENDERS[@]}"
quiet
sleep 21
in=$(sum_counts "$DIR"/send-soak-*.out)
out=$(sum_counts "$DIR"/sink-soak-*.out)
drops=$(($(metric_sum vnetd_drops_total) - base_drops))
icmp=$(($(awk '/^vnetd_icmp_errors_total\{.*result="sent"/ { n += $NF } END { printf "%d", n }' "$DIR/metrics.txt") - base_icmp))
rcvbuf=$(($(kernel_rcvbuf_errors) - base_rcvbuf))
socket_drops=$(($(metric_sum vnetd_socket_receive_drops_total) - base_socket_drops))
leaks=$(grep -c 'LEAK:' "$DIR/vnetd.log" || true)
"$JAVA_HOME/bin/jcmd" "$VNETD_PID" VM.native_memory summary > "$DIR/nmt.txt" 2>&1 || true
summary=""
while read -r reason n; do
    if [ $((n - ${base_drop_of[$reason]:-0})) -gt 0 ]; then
        summary+="$reason:$((n - ${base_drop_of[$reason]:-0})),"
    fi
done < <(drops_by_reason)
echo "soak drops ${summary%,}"
# the kernel's drops per socket (a full receive buffer), from the namespace's /proc/net/udp: hex address:port=drops
echo "soak socket_drops $(in_ns awk 'NR > 1 && $NF > 0 { printf "%s=%d ", $2, $NF }' /proc/net/udp)"
echo "soak total in=$in out=$out vnetd_drops=$drops icmp_errors=$icmp vnetd_socket_receive_drops=$socket_drops" \
    "kernel_rcvbuf_errors=$rcvbuf unaccounted=$((in + icmp - out - drops - socket_drops)) leaks=$leaks rss_mib=$(awk '/^VmRSS/ { printf "%d", $2 / 1024 }' \
    "/proc/$VNETD_PID/status")"
