#!/usr/bin/env bash
# bench/soak.sh MINUTES — drives mixed traffic through one vnetd for MINUTES and checks that nothing was lost
# uncounted (issue 9).
#
# Everything runs in a network namespace of its own (vt-robust-soak-PID, loopback only, deleted on exit), so the
# kernel's UDP counters there belong to the soak alone. Senders and sinks are bench/soak/soakblast.c; the traffic is
# bench/soak/packets.py's: GRE-in-UDP from one site, ESP-in-UDP (AES-GCM-128) from another, and a third site whose
# GRE-in-UDP a second vnetd, the MASQUE client, carries to the soaked vnetd over MASQUE CONNECT-IP (QUIC, TLS 1.3,
# HTTP/3 datagrams); each old flows (repeated 5-tuples), new flows and malformed datagrams, plus the data centre's
# replies to the old flows (ARR returns them, to the MASQUE site back through the client vnetd). Both vnetds run
# from control/target/vnetd.jar with Netty's leak detector at `simple` and a GC log; the soaked one also with native
# memory tracking and, during the counted minutes, a JFR recording (settings `profile`) for the garbage it makes.
#
#   blaster 127.0.0.2 ─GRE-in-UDP────────────────────────▶ ┌──────────────┐ ─GRE-in-UDP─▶ sink 127.0.0.3 (data centre)
#   blaster 127.0.0.6 ─ESP-in-UDP────────────────────────▶ │ soaked vnetd │ ◀─GRE-in-UDP─ blaster 127.0.0.3 (replies)
#   blaster 127.0.0.7 ─GRE-in-UDP─▶ client vnetd ─MASQUE─▶ │  (2 workers) │
#                                   (1 worker)    (QUIC)   └──────────────┘
#   the replies, by ARR on both vnetds, go back the same ways to sinks 127.0.0.2, 127.0.0.6 and 127.0.0.7
#
# Traffic runs in 60-second segments, one a minute (the senders restart each minute; the sinks run throughout);
# after each the script waits until both vnetds' counters stop moving, so every minute's count is closed:
#   soak minute=M in=... masque_in=... out=... icmp=... edge_drops=... client_drops=... socket_drops=...
#        quic_lost=... unaccounted=... edge_rx=... edge_tx=... drops=reason:n,... client=reason:n,...
#        quic_socket_drops=... kernel_rcvbuf=... heap_after_gc_mib=... rss_mib=... direct_mib=...
#        nmt_committed_mib=... gc_pauses=N gc_pause_total_ms=... gc_pause_max_ms=... client_heap_after_gc_mib=... client_rss_mib=...
# in: datagrams the senders sent that minute (masque_in: the MASQUE site's share of it); out: what the sinks
# received; icmp: ICMP errors either vnetd sent (datagrams that were not sent by a blaster); edge_drops and
# client_drops: vnetd_drops_total of the soaked and the client vnetd (by reason in drops= and client=);
# socket_drops: vnetd_socket_receive_drops_total of both at their GRE and ESP sockets (the kernel's drops at full
# receive buffers); quic_socket_drops: the same at the QUIC sockets of the MASQUE listener and client, in QUIC
# packets (several small datagrams share one), which are part of quic_lost and so not counted again;
# quic_lost: MASQUE datagrams one end's path handed to QUIC that the other end's path never saw, both directions
# (the client's tx on its MASQUE tunnel minus the soaked vnetd's rx and masque_* drops on it, and the other way
# round): QUIC packets the kernel dropped at a full QUIC socket (the per-socket list at the end shows which) and
# datagrams Netty's QUIC channel discarded when quiche's DATAGRAM send queue stayed full, which neither vnetd
# counts as a drop; unaccounted = in + icmp - out - edge_drops - client_drops - socket_drops - quic_lost, 0 when
# every datagram was delivered or counted. kernel_rcvbuf is the namespace's RcvbufErrors, as a check. Heap after
# the minute's last GC and GC pauses come from the GC log, RSS from /proc, direct memory from /metrics, NMT's
# committed total from jcmd. At the end: the totals, the drops by reason, the kernel's drops per socket, the leak
# reports of both vnetds, and the garbage per datagram (JFR: jdk.ThreadAllocationStatistics per thread and the
# top allocation sites from jdk.ObjectAllocationSample; the GC log's freed bytes as a check).
# A warm-up of SOAK_WARMUP_SECONDS (30) with the same traffic comes first and is not counted.
# SOAK_PPS (total datagrams per second, default 16000), SOAK_WORKERS (2, the soaked vnetd's), SOAK_JVM_OPTS
# (-Xmx1g) and SOAK_CLIENT_JVM_OPTS (-Xmx256m, the client vnetd's; one worker) change the load and the JVMs.
# Needs root (ip netns), cc, curl, openssl and python3-cryptography (Debian's /usr/bin/python3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk

MINUTES=${1:?usage: bench/soak.sh MINUTES}
SOAK_PPS=${SOAK_PPS:-16000}
SOAK_WORKERS=${SOAK_WORKERS:-2}
SOAK_JVM_OPTS=${SOAK_JVM_OPTS:--Xmx1g}
SOAK_CLIENT_JVM_OPTS=${SOAK_CLIENT_JVM_OPTS:--Xmx256m}
SOAK_WARMUP_SECONDS=${SOAK_WARMUP_SECONDS:-30}
DIR="$ROOT/bench/results/soak"
NS="vt-robust-soak-$$"
rm -rf "$DIR"
mkdir -p "$DIR/keys"
PIDS=()
VNETD_PID=
CLIENT_PID=

cleanup() {
    local pid
    for pid in "${PIDS[@]}" $CLIENT_PID $VNETD_PID; do
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
(
    umask 077
    echo "$IN_KEY" > "$DIR/keys/site-esp.in"
    echo "$OUT_KEY" > "$DIR/keys/site-esp.out"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/keys/site-masque.token"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$DIR/keys/edge.key" \
        -out "$DIR/keys/edge.pem" -days 2 -subj /CN=edge.soak -addext subjectAltName=DNS:edge.soak 2> /dev/null
)
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
  - {name: masque, type: masque, listen: 127.0.0.1:4443, tls: {cert: keys/edge.pem, key: keys/edge.key}}
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
  - {name: site-masque, type: masque, listener: masque, auth: {token_file: keys/site-masque.token},
     virtual_network: soak, arr: true, assign: [172.16.0.0/12], advertise: [10.0.0.0/8]}
  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:6000, virtual_network: soak}
routes:
  - {prefix: 10.0.0.0/8, virtual_network: soak, via: dc}
  - {prefix: 192.168.0.0/16, virtual_network: soak, via: site-gre}
YAML

# The MASQUE site's gateway: a vnetd whose LAN tunnel takes the site's GRE-in-UDP and whose masque-client tunnel
# carries it to the soaked vnetd (the route to 10.0.0.0/8 is the one the server advertises); replies come back by
# ARR on both vnetds.
cat > "$DIR/client.yaml" <<YAML
node: {name: soak-masque-site, workers: 1, transport: auto}
admin: {listen: 127.0.0.1:9401}
flow_table:
  capacity: 65536
  timeouts: {udp: 5s}
listeners:
  - {name: lan, type: gre-udp, listen: 127.0.0.1:4755, source_ports: 1}
virtual_networks:
  - {name: soak}
tunnels:
  - {name: lan, type: gre-udp, listener: lan, remote: 127.0.0.7:5003, virtual_network: soak, arr: true}
  - {name: edge-masque, type: masque-client, server: 127.0.0.1:4443, server_name: edge.soak, ca: keys/edge.pem,
     auth: {token_file: keys/site-masque.token}, virtual_network: soak}
routes:
  - {prefix: 172.16.0.0/12, virtual_network: soak, via: lan}
YAML

ip netns add "$NS"
ip -n "$NS" link set lo up
# in_ns CMD...: runs CMD in the namespace; background jobs call ip netns exec directly, so $! is the program's PID
in_ns() { ip netns exec "$NS" "$@"; }

# start_vnetd NAME JVM_OPTS EXTRA_OPTS: starts a vnetd on $DIR/NAME.yaml in the namespace, log and GC log in $DIR
start_vnetd() {
    # shellcheck disable=SC2086
    ip netns exec "$NS" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
        --add-exports java.base/jdk.internal.misc=ALL-UNNAMED $2 $3 -Dio.netty.leakDetection.level=simple \
        -Xlog:gc:file="$DIR/$1-gc.log":uptime -jar "$ROOT/control/target/vnetd.jar" run --config "$DIR/$1.yaml" \
        > "$DIR/$1.log" 2>&1 &
}
# await_metrics PORT LOG: waits until the admin API on PORT answers
await_metrics() {
    for _ in $(seq 1 150); do
        in_ns curl -sf "http://127.0.0.1:$1/metrics" > /dev/null && return 0
        sleep 0.2
    done
    cat "$2" >&2
    exit 1
}
start_vnetd vnetd "$SOAK_JVM_OPTS" -XX:NativeMemoryTracking=summary
VNETD_PID=$!
await_metrics 9400 "$DIR/vnetd.log"
start_vnetd client "$SOAK_CLIENT_JVM_OPTS" ""
CLIENT_PID=$!
await_metrics 9401 "$DIR/client.log"

# metrics: both vnetds' /metrics into $DIR/metrics.txt (soaked) and $DIR/client-metrics.txt
metrics() {
    in_ns curl -sf http://127.0.0.1:9400/metrics > "$DIR/metrics.txt"
    in_ns curl -sf http://127.0.0.1:9401/metrics > "$DIR/client-metrics.txt"
}
# metric_sum FILE PREFIX [FILTER]: the sum of every series of a metric (whose line contains FILTER).
metric_sum() {
    awk -v p="$2" -v f="${3:-}" 'index($0, p) == 1 && index($0, f) { n += $NF } END { printf "%d\n", n }' "$1"
}
# drops_by_reason FILE: "reason n" lines of vnetd_drops_total.
drops_by_reason() {
    awk -F'[{}"]' '/^vnetd_drops_total\{/ { for (i = 1; i < NF; i++) if ($i ~ /reason=$/) r = $(i + 1); print r, int($NF) }' \
        "$1" | sed 's/^ *//'
}
# gc_minute LOG FROM TO: "count total_ms max_ms heap_after_mib freed_mib" of the GC pauses logged between uptimes
# FROM and TO s.
gc_minute() {
    awk -v from="$2" -v to="$3" -F'[][]' '/Pause/ {
        t = $2; sub(/s$/, "", t); t += 0
        if (t < from || t >= to) next
        if (match($0, /[0-9.]+ms$/)) { ms = substr($0, RSTART, RLENGTH - 2) + 0; n++; total += ms; if (ms > max) max = ms }
        if (match($0, /[0-9]+M->[0-9]+M/)) {
            split(substr($0, RSTART, RLENGTH), h, /M->|M/); heap = h[2]; freed += h[1] - h[2]
        }
    } END { printf "%d %.1f %.1f %s %d\n", n, total, max, heap == "" ? "-" : heap, freed }' "$1"
}
# jvm_uptime PID: seconds since the process started, as its GC log's uptime stamps count
jvm_uptime() {
    awk '{ print $22 }' "/proc/$1/stat" \
        | awk -v hz="$(getconf CLK_TCK)" -v up="$(cut -d' ' -f1 /proc/uptime)" '{ printf "%.0f\n", up - $1 / hz }'
}
rss_mib() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

SENDERS=()
# start_sinks SECONDS: the sinks, which run for the whole soak; their cumulative counts go to $DIR/sink-*.out
start_sinks() {
    local spec
    for spec in "127.0.0.3 6000 dc" "127.0.0.2 5000 site-gre" "127.0.0.6 4501 site-esp" "127.0.0.7 5003 masque-site"; do
        set -- $spec
        ip netns exec "$NS" "$DIR/soakblast" sink "$1" "$2" "$SECONDS_TOTAL" > "$DIR/sink-$3.out" &
        PIDS+=($!)
    done
}
# start_senders SECONDS TAG: 45 % from the GRE site, 25 % from the ESP site, 20 % from the MASQUE site (into the
# client vnetd), 10 % replies from the data centre; their counts go to $DIR/send-TAG-*.out.
start_senders() {
    local seconds=$1 tag=$2 spec
    SENDERS=()
    for spec in "site-gre 127.0.0.2 4754 45" "site-esp 127.0.0.6 4500 25" "masque-site 127.0.0.7 4755 20" \
            "dc 127.0.0.3 4754 10"; do
        set -- $spec
        ip netns exec "$NS" "$DIR/soakblast" blast "$DIR/$1.bin" "$2" 127.0.0.1 "$3" $((SOAK_PPS * $4 / 100)) \
            "$seconds" > "$DIR/send-$tag-$1.out" &
        PIDS+=($!)
        SENDERS+=($!)
    done
}

last_count() { tail -n 1 "$1" 2>/dev/null | awk '{ print $2 + 0 }'; }
sum_counts() { local f n=0; for f in "$@"; do n=$((n + $(last_count "$f"))); done; echo "$n"; }

# quiet: waits until both vnetds' counters stop moving, leaving them in $DIR/metrics.txt and client-metrics.txt;
# then a little more, so that each sink has printed its count of everything it received
quiet() {
    local last= now
    while :; do
        metrics
        now="$(cat "$DIR/metrics.txt" "$DIR/client-metrics.txt" \
            | awk '/^vnetd_(rx_packets|tx_packets|drops)_total/ { n += $NF } END { printf "%d", n }')"
        [ "$now" = "$last" ] && break
        last=$now
        sleep 1
    done
    sleep 1.5
}

kernel_rcvbuf_errors() {
    in_ns awk '/^Udp:/ { if (!seen) { for (i = 2; i <= NF; i++) c[$i] = i; seen = 1; next } print $c["RcvbufErrors"] }' \
        /proc/net/snmp
}
icmp_sent() { awk '/^vnetd_icmp_errors_total\{.*result="sent"/ { n += $NF } END { printf "%d", n }' "$@"; }
# quic_lost_total: MASQUE datagrams handed to QUIC by one end that the other end's path never saw, both ways
quic_lost_total() {
    local masque_drops="masque_bad_datagram masque_unknown_context masque_spoofed_source" r
    local client_tx client_rx edge_rx edge_tx edge_masque=0 client_masque=0
    client_tx=$(metric_sum "$DIR/client-metrics.txt" vnetd_tx_packets_total 'tunnel="edge-masque"')
    client_rx=$(metric_sum "$DIR/client-metrics.txt" vnetd_rx_packets_total 'tunnel="edge-masque"')
    edge_rx=$(metric_sum "$DIR/metrics.txt" vnetd_rx_packets_total 'tunnel="site-masque"')
    edge_tx=$(metric_sum "$DIR/metrics.txt" vnetd_tx_packets_total 'tunnel="site-masque"')
    for r in $masque_drops; do
        edge_masque=$((edge_masque + $(metric_sum "$DIR/metrics.txt" vnetd_drops_total "reason=\"$r\"")))
        client_masque=$((client_masque + $(metric_sum "$DIR/client-metrics.txt" vnetd_drops_total "reason=\"$r\"")))
    done
    echo $((client_tx - edge_rx - edge_masque + edge_tx - client_rx - client_masque))
}
# socket_drops MASQUE: vnetd_socket_receive_drops_total of both vnetds, of their MASQUE listeners (QUIC packets;
# MASQUE=1) or of the others (datagrams; MASQUE=0)
socket_drops() {
    cat "$DIR/metrics.txt" "$DIR/client-metrics.txt" | awk -v masque="$1" '/^vnetd_socket_receive_drops_total\{/ {
        if ((index($0, "listener=\"masque") > 0) == masque) n += $NF } END { printf "%d\n", n }'
}
# counters: "edge_drops client_drops socket_drops icmp quic_lost edge_rx edge_tx kernel_rcvbuf out quic_socket_drops",
# each a running total
counters() {
    echo "$(metric_sum "$DIR/metrics.txt" vnetd_drops_total)" \
        "$(metric_sum "$DIR/client-metrics.txt" vnetd_drops_total)" \
        "$(socket_drops 0) $(icmp_sent "$DIR/metrics.txt" "$DIR/client-metrics.txt") $(quic_lost_total)" \
        "$(metric_sum "$DIR/metrics.txt" vnetd_rx_packets_total)" \
        "$(metric_sum "$DIR/metrics.txt" vnetd_tx_packets_total)" \
        "$(kernel_rcvbuf_errors) $(sum_counts "$DIR"/sink-*.out) $(socket_drops 1)"
}
# drops_delta FILE ARRAY OUT: sets OUT to "reason:n,..." of the drops since the counts in the associative array
# ARRAY, and updates ARRAY (not in a subshell: the counts must persist)
drops_delta() {
    local -n seen=$2 result=$3
    local reason n
    result=""
    while read -r reason n; do
        if [ $((n - ${seen[$reason]:-0})) -gt 0 ]; then
            result+="$reason:$((n - ${seen[$reason]:-0})),"
        fi
        seen[$reason]=$n
    done < <(drops_by_reason "$1")
    result=${result%,}
}
# drops_since ARRAY BASE: "reason:n,..." of ARRAY's counts minus BASE's
drops_since() {
    local -n now=$1 base=$2
    local reason out=""
    for reason in "${!now[@]}"; do
        if [ $((now[$reason] - ${base[$reason]:-0})) -gt 0 ]; then
            out+="$reason:$((now[$reason] - ${base[$reason]:-0})),"
        fi
    done
    echo "${out%,}"
}

# the MASQUE session must be up before traffic starts (the client retries after 1 s, doubling)
for _ in $(seq 1 100); do
    metrics
    [ "$(metric_sum "$DIR/client-metrics.txt" vnetd_masque_sessions_total)" -gt 0 ] && break
    sleep 0.3
done
[ "$(metric_sum "$DIR/client-metrics.txt" vnetd_masque_sessions_total)" -gt 0 ] \
    || { echo "soak: the MASQUE session did not come up" >&2; tail -n 20 "$DIR/client.log" >&2; exit 1; }

SECONDS_TOTAL=$((SOAK_WARMUP_SECONDS + MINUTES * 90 + 60))
start_sinks
sleep 0.5
# warm-up (JIT, pools, flow tables, QUIC's congestion window) with the same load, not counted
start_senders "$SOAK_WARMUP_SECONDS" warmup
wait "${SENDERS[@]}"
quiet
declare -A edge_seen client_seen edge_base client_base
drops_delta "$DIR/metrics.txt" edge_seen edge_minute
drops_delta "$DIR/client-metrics.txt" client_seen client_minute
for reason in "${!edge_seen[@]}"; do edge_base[$reason]=${edge_seen[$reason]}; done
for reason in "${!client_seen[@]}"; do client_base[$reason]=${client_seen[$reason]}; done
read -r base_edge_drops base_client_drops base_socket base_icmp base_quic prev_rx prev_tx base_rcvbuf base_out \
    base_quic_socket < <(counters)
prev_edge_drops=$base_edge_drops prev_client_drops=$base_client_drops prev_socket=$base_socket prev_icmp=$base_icmp
prev_quic=$base_quic prev_rcvbuf=$base_rcvbuf prev_out=$base_out base_rx=$prev_rx prev_quic_socket=$base_quic_socket
"$JAVA_HOME/bin/jcmd" "$VNETD_PID" JFR.start name=soak settings=profile > /dev/null
echo "soak start minutes=$MINUTES pps=$SOAK_PPS workers=$SOAK_WORKERS jvm=\"$SOAK_JVM_OPTS\"" \
    "client_jvm=\"$SOAK_CLIENT_JVM_OPTS\" namespace=$NS load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" $(date -u +%FT%TZ)"
prev_up=$(jvm_uptime "$VNETD_PID") prev_client_up=$(jvm_uptime "$CLIENT_PID")
total_in=0 total_masque_in=0 gc_freed_mib=0
for minute in $(seq 1 "$MINUTES"); do
    start_senders 60 "m$minute"
    wait "${SENDERS[@]}"
    quiet
    in=$(sum_counts "$DIR"/send-m"$minute"-*.out)
    masque_in=$(last_count "$DIR/send-m$minute-masque-site.out")
    read -r edge_drops client_drops socket icmp quic rx tx rcvbuf out quic_socket < <(counters)
    up=$(jvm_uptime "$VNETD_PID")
    client_up=$(jvm_uptime "$CLIENT_PID")
    read -r gcs gc_total gc_max heap freed < <(gc_minute "$DIR/vnetd-gc.log" "$prev_up" "$up")
    read -r _ _ _ client_heap _ < <(gc_minute "$DIR/client-gc.log" "$prev_client_up" "$client_up")
    direct=$(awk '/^jvm_buffer_memory_used_bytes\{.*id="direct"/ { printf "%d", $NF / 1048576 }' "$DIR/metrics.txt")
    native=$("$JAVA_HOME/bin/jcmd" "$VNETD_PID" VM.native_memory summary 2>/dev/null \
        | awk '/^Total:/ { if (match($0, /committed=[0-9]+KB/)) printf "%d", substr($0, RSTART + 10, RLENGTH - 12) / 1024 }' \
        || true)
    d_edge=$((edge_drops - prev_edge_drops)) d_client=$((client_drops - prev_client_drops))
    d_socket=$((socket - prev_socket)) d_icmp=$((icmp - prev_icmp)) d_quic=$((quic - prev_quic))
    d_out=$((out - prev_out))
    drops_delta "$DIR/metrics.txt" edge_seen edge_minute
    drops_delta "$DIR/client-metrics.txt" client_seen client_minute
    echo "soak minute=$minute in=$in masque_in=$masque_in out=$d_out icmp=$d_icmp edge_drops=$d_edge" \
        "client_drops=$d_client socket_drops=$d_socket quic_lost=$d_quic" \
        "unaccounted=$((in + d_icmp - d_out - d_edge - d_client - d_socket - d_quic))" \
        "edge_rx=$((rx - prev_rx)) edge_tx=$((tx - prev_tx)) drops=$edge_minute" \
        "client=$client_minute quic_socket_drops=$((quic_socket - prev_quic_socket))" \
        "kernel_rcvbuf=$((rcvbuf - prev_rcvbuf))" \
        "heap_after_gc_mib=$heap rss_mib=$(rss_mib "$VNETD_PID") direct_mib=${direct:--}" \
        "nmt_committed_mib=${native:--}" \
        "gc_pauses=$gcs gc_pause_total_ms=$gc_total gc_pause_max_ms=$gc_max client_heap_after_gc_mib=$client_heap" \
        "client_rss_mib=$(rss_mib "$CLIENT_PID")"
    total_in=$((total_in + in)) total_masque_in=$((total_masque_in + masque_in)) gc_freed_mib=$((gc_freed_mib + freed))
    prev_edge_drops=$edge_drops prev_client_drops=$client_drops prev_socket=$socket prev_icmp=$icmp prev_quic=$quic
    prev_rx=$rx prev_tx=$tx prev_rcvbuf=$rcvbuf prev_out=$out prev_up=$up prev_client_up=$client_up
    prev_quic_socket=$quic_socket
done

"$JAVA_HOME/bin/jcmd" "$VNETD_PID" JFR.stop name=soak filename="$DIR/soak.jfr" > /dev/null
read -r edge_drops client_drops socket icmp quic rx tx rcvbuf out quic_socket < <(counters)
echo "soak drops edge $(drops_since edge_seen edge_base) client $(drops_since client_seen client_base)"
# the kernel's drops per socket (a full receive buffer), from the namespace's /proc/net/udp: hex address:port=drops
echo "soak socket_drops $(in_ns awk 'NR > 1 && $NF > 0 { printf "%s=%d ", $2, $NF }' /proc/net/udp)"
echo "soak total in=$total_in masque_in=$total_masque_in out=$((out - base_out)) icmp=$((icmp - base_icmp))" \
    "edge_drops=$((edge_drops - base_edge_drops)) client_drops=$((client_drops - base_client_drops))" \
    "socket_drops=$((socket - base_socket)) quic_lost=$((quic - base_quic))" \
    "unaccounted=$((total_in + icmp - base_icmp - out + base_out - edge_drops + base_edge_drops - client_drops \
        + base_client_drops - socket + base_socket - quic + base_quic))" \
    "quic_socket_drops=$((quic_socket - base_quic_socket)) kernel_rcvbuf=$((rcvbuf - base_rcvbuf))" \
    "leaks=$(grep -c 'LEAK:' "$DIR/vnetd.log" || true)" \
    "client_leaks=$(grep -c 'LEAK:' "$DIR/client.log" || true) rss_mib=$(rss_mib "$VNETD_PID")" \
    "client_rss_mib=$(rss_mib "$CLIENT_PID")"
"$JAVA_HOME/bin/jcmd" "$VNETD_PID" VM.native_memory summary > "$DIR/nmt.txt" 2>&1 || true

# garbage per datagram: bytes each thread allocated during the counted minutes (the last minus the first
# jdk.ThreadAllocationStatistics sample of each thread) over the datagrams the soaked vnetd received; the GC log's
# freed bytes as a check; the top allocation sites by jdk.ObjectAllocationSample weight
"$JAVA_HOME/bin/jfr" print --json --events jdk.ThreadAllocationStatistics "$DIR/soak.jfr" > "$DIR/alloc-threads.json"
python3 - "$DIR/alloc-threads.json" $((rx - base_rx)) <<'PY'
import json
import sys

events = json.load(open(sys.argv[1]))["recording"]["events"]
rx = int(sys.argv[2])
first, last = {}, {}
for e in sorted(events, key=lambda e: e["values"]["startTime"]):
    name = (e["values"]["thread"] or {}).get("javaName") or "?"
    first.setdefault(name, e["values"]["allocated"])
    last[name] = e["values"]["allocated"]
deltas = sorted(((last[t] - first[t], t) for t in last), reverse=True)
for d, t in deltas[:10]:
    if d > 0:
        print(f'soak alloc thread="{t}" mib={d / 2**20:.1f} bytes_per_rx_datagram={d / max(rx, 1):.1f}')
print(f"soak alloc all_threads_mib={sum(d for d, _ in deltas) / 2**20:.1f} rx_datagrams={rx}"
      f" bytes_per_rx_datagram={sum(d for d, _ in deltas) / max(rx, 1):.1f}")
PY
echo "soak alloc gc_log_freed_mib=$gc_freed_mib" \
    "bytes_per_rx_datagram=$((gc_freed_mib * 1048576 / (rx - base_rx > 0 ? rx - base_rx : 1)))"
"$JAVA_HOME/bin/jfr" view --width 200 allocation-by-site "$DIR/soak.jfr" > "$DIR/alloc-sites.txt" 2>&1 || true
"$JAVA_HOME/bin/jfr" view --width 200 allocation-by-class "$DIR/soak.jfr" > "$DIR/alloc-classes.txt" 2>&1 || true
sed -n '1,25p' "$DIR/alloc-sites.txt" | sed 's/^/soak alloc_site /'
