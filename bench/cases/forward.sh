# bench/run.sh forward — vnetd's end-to-end packet rate through real sockets against the C relay (issue 10).
#
# On loopback, the same blasters and sink (udpblast, compiled from /work/shared/tools/udpblast.c) measure:
#   (a) `udpblast relay`: recvmmsg a batch, sendmmsg it on, no parsing: the ceiling of a socket forwarder;
#   (b) vnetd forwarding GRE-in-UDP from site A (the blasters) to the data centre (the sink) in one virtual network,
#       with the full per-packet work: decap, tunnel lookup, inner checks, ARR flow lookup, LPM, TTL, encap;
# at 100 and 1400 bytes of outer UDP payload, FORWARD_RUNS times each, and prints the medians:
#   forward size=100 workers=1 transport=io_uring vnetd_pps=... relay_pps=... ratio=... gc=parallel
#   forward transport=epoll size=100 workers=1 vnetd_pps=... ratio=... gc=parallel
#   forward carrier=esp-udp transform=aes-gcm-128 size=100 workers=1 transport=... vnetd_pps=... relay_pps=... ratio=...
#       gc=parallel
#       (c) the same with ESP-in-UDP AES-GCM-128 in and out: decrypt, the same path, re-encrypt to the sink's SA.
#       The blasters repeat one ESP datagram, so site A's inbound SA has replay_window 0 (as on anycast edges); the
#       relay's rate is carrier-blind, so both carriers share its line. Only the first transport runs ESP.
#   forward accounting case=... size=... sent=... received=... vnetd_rx=... vnetd_tx=... vnetd_drops=...
#       rcvbuf_errors=... in_errors=... unaccounted=...   (one per trial; unaccounted = sent - received - drops
#       - rcvbuf_errors, 0 when every packet is accounted for; other traffic on the machine shows up here)
#       For case=relay, vnetd_rx and vnetd_tx hold the relay's own count of datagrams it relayed.
#       fwd_cpu_ns=... is the forwarder's CPU time (user + system, from /proc or time(1)) per packet it received:
#       less disturbed than the rates when other work shares the cores.
# Cores: the blasters share CPU FORWARD_BLAST_CPU, the sink has FORWARD_SINK_CPU, the forwarder (relay or vnetd)
# may run on FORWARD_FWD_CPUS; the same for relay and vnetd. FORWARD_BLASTERS blasters (default 4) send from
# distinct source ports, so SO_REUSEPORT spreads them over vnetd's workers (one blaster would reach one worker).
# FORWARD_TRANSPORTS lists the transports measured (the first is the one the ratio lines use);
# FORWARD_JFR=1 records a JFR profile of the first vnetd configuration into $RESULTS/forward.jfr;
# FORWARD_CONNECTED_REMOTES sets the listener's connected_remotes (unset: the listener's default), and
# FORWARD_IDLE_REMOTES adds that many tunnels of the carrier that send and receive nothing (remotes 127.0.1.1, ...),
# to measure what other remotes' connected sockets cost: on ESP-in-UDP they share the listening port, whose lookup
# then scores every socket bound to it for a datagram from a remote no socket is connected to.
# FORWARD_JVM_OPTS adds JVM options to vnetd (e.g. -Dio.netty.leakDetection.level=simple) and FORWARD_VNETD_JAR
# runs another build of vnetd (an experiment built elsewhere) with the same load, for A/B comparisons.
# vnetd runs on the collector its launchers give it, ParallelGC (docs/operations.md "JVM and garbage collector");
# FORWARD_GC=g1 (or serial, z, default: the JVM's own choice) measures another one, and the result lines end with
# gc=... saying which. A collector named in FORWARD_JVM_OPTS (-XX:+UseG1GC, say) wins: the JVM refuses two, so
# FORWARD_GC's flag is then left out and gc= says the option.
# shellcheck shell=bash
FORWARD_SECONDS=${FORWARD_SECONDS:-5}
FORWARD_RUNS=${FORWARD_RUNS:-3}
FORWARD_SIZES=${FORWARD_SIZES:-100 1400}
FORWARD_WORKERS=${FORWARD_WORKERS:-1 2}
FORWARD_TRANSPORTS=${FORWARD_TRANSPORTS:-io_uring epoll}
FORWARD_CARRIERS=${FORWARD_CARRIERS:-gre-udp esp-udp}
FORWARD_BLASTERS=${FORWARD_BLASTERS:-4}
FORWARD_BLAST_CPU=${FORWARD_BLAST_CPU:-0}
FORWARD_SINK_CPU=${FORWARD_SINK_CPU:-1}
FORWARD_FWD_CPUS=${FORWARD_FWD_CPUS:-0,1}
FORWARD_JFR=${FORWARD_JFR:-0}
FORWARD_JVM_OPTS=${FORWARD_JVM_OPTS:-}
FORWARD_GC=${FORWARD_GC:-parallel}
FORWARD_GC_FLAG=$(collector_flag FORWARD_GC "$FORWARD_GC")
if [[ $FORWARD_JVM_OPTS =~ -XX:\+Use[A-Za-z0-9]+GC ]]; then
    FORWARD_GC_FLAG=
    FORWARD_GC=${BASH_REMATCH[0]}
fi
FORWARD_VNETD_JAR=${FORWARD_VNETD_JAR:-$ROOT/control/target/vnetd.jar}
FORWARD_CONNECTED_REMOTES=${FORWARD_CONNECTED_REMOTES:-}
FORWARD_IDLE_REMOTES=${FORWARD_IDLE_REMOTES:-0}
# Ports away from the defaults (4754, 9400) so a demo or another engineer's vnetd on this machine does not collide.
FORWARD_LISTEN_PORT=${FORWARD_LISTEN_PORT:-24754}
FORWARD_SINK_PORT=${FORWARD_SINK_PORT:-24755}
FORWARD_ADMIN_PORT=${FORWARD_ADMIN_PORT:-29400}

FWD_DIR="$RESULTS/forward"
mkdir -p "$FWD_DIR"
cc -O2 -o "$FWD_DIR/udpblast" /work/shared/tools/udpblast.c
UDPBLAST="$FWD_DIR/udpblast"
# ESP key files (AES-GCM-128: 16-byte key + 4-byte salt, hex), owner-only as vnetd requires; fixed bench keys.
SITE_SPI=0x1001
SITE_KEY=000102030405060708090a0b0c0d0e0f10111213
DC_SPI=0x2001
(umask 077
 echo "$SITE_KEY" > "$FWD_DIR/site.key"
 echo 202122232425262728292a2b2c2d2e2f30313233 > "$FWD_DIR/dc.key"
 echo 404142434445464748494a4b4c4d4e4f50515253 > "$FWD_DIR/unused.key")
for size in $FORWARD_SIZES; do
    python3 "$ROOT/bench/forward/packet.py" "$size" "$FWD_DIR/packet-gre-udp-$size.bin"
    python3 "$ROOT/bench/forward/packet.py" "$size" "$FWD_DIR/packet-esp-udp-$size.bin" esp "$SITE_SPI" "$SITE_KEY"
done
CARRIER=gre-udp
: > "$FWD_DIR/trials.txt"
VNETD_PID=

# udp_errors: "RcvbufErrors InErrors" of the kernel's UDP counters (whole machine).
udp_errors() {
    awk '/^Udp:/ {
        if (!seen) { for (i = 2; i <= NF; i++) col[$i] = i; seen = 1; next }
        print $col["RcvbufErrors"], $col["InErrors"]
    }' /proc/net/snmp
}

# vnetd_counters: "rx tx drops" summed over tunnels and reasons from vnetd's /metrics.
vnetd_counters() {
    curl -s "http://127.0.0.1:$FORWARD_ADMIN_PORT/metrics" | awk '
        /^vnetd_rx_packets_total/ { rx += $NF } /^vnetd_tx_packets_total/ { tx += $NF }
        /^vnetd_drops_total/ { drops += $NF } END { printf "%d %d %d\n", rx, tx, drops }'
}

# vnetd_quiet: vnetd's counters once they stop moving (the warm-up's or last trial's packets are all through).
vnetd_quiet() {
    local last= now
    now=$(vnetd_counters)
    while [ "$now" != "$last" ]; do
        last=$now
        sleep 0.3
        now=$(vnetd_counters)
    done
    echo "$now"
}

# blast SIZE SECONDS OUT: the blasters, in parallel on FORWARD_BLAST_CPU, sending the CARRIER packet of SIZE,
# their sent counts summed into OUT.
blast() {
    local size=$1 seconds=$2 out=$3 pids=() i
    for i in $(seq 1 "$FORWARD_BLASTERS"); do
        taskset -c "$FORWARD_BLAST_CPU" "$UDPBLAST" blast 127.0.0.1 "$FORWARD_LISTEN_PORT" \
            "$FWD_DIR/packet-$CARRIER-$size.bin" "$seconds" > "$out.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    awk '{ n += $2 } END { print n }' "$out".* > "$out"
    rm -f "$out".*
}

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# trial CASE SIZE: one measurement; the forwarder (relay or vnetd) already listens. Prints the sink's pps and
# appends the accounting line to trials.txt.
trial() {
    local case=$1 size=$2 sink_pid relay_pid= before_udp after_udp before_v after_v sent received pps cpu
    local before_cpu=0 after_cpu
    if [ "$case" = relay ]; then
        before_v="0 0 0"
    else
        before_v=$(vnetd_quiet)
        before_cpu=$(cpu_ticks "$VNETD_PID")
    fi
    before_udp=$(udp_errors)
    taskset -c "$FORWARD_SINK_CPU" "$UDPBLAST" sink "$FORWARD_SINK_PORT" $((FORWARD_SECONDS + 3)) \
        > "$FWD_DIR/sink.out" &
    sink_pid=$!
    if [ "$case" = relay ]; then
        /usr/bin/time -f '%U %S' -o "$FWD_DIR/relay.time" taskset -c "$FORWARD_FWD_CPUS" "$UDPBLAST" relay \
            "$FORWARD_LISTEN_PORT" 127.0.0.3 "$FORWARD_SINK_PORT" $((FORWARD_SECONDS + 2)) > "$FWD_DIR/relay.out" &
        relay_pid=$!
    fi
    sleep 0.5
    blast "$size" "$FORWARD_SECONDS" "$FWD_DIR/sent.out"
    wait "$sink_pid"
    [ -n "$relay_pid" ] && wait "$relay_pid"
    after_udp=$(udp_errors)
    if [ "$case" = relay ]; then
        after_v="$(awk '{ print $2, $2, 0 }' "$FWD_DIR/relay.out")"
        cpu=$(awk -v t="$(getconf CLK_TCK)" '{ print ($1 + $2) * t }' "$FWD_DIR/relay.time")
    else
        after_v=$(vnetd_quiet)
        after_cpu=$(cpu_ticks "$VNETD_PID")
        cpu=$((after_cpu - before_cpu))
    fi
    sent=$(cat "$FWD_DIR/sent.out")
    received=$(awk '{ print $2 }' "$FWD_DIR/sink.out")
    pps=$(awk '{ print $4 }' "$FWD_DIR/sink.out")
    # shellcheck disable=SC2086
    set -- $before_v $after_v $before_udp $after_udp
    local rx=$(($4 - $1)) tx=$(($5 - $2)) drops=$(($6 - $3)) rcvbuf=$(($9 - $7)) inerr=$((${10} - $8))
    echo "forward accounting case=$case size=$size sent=$sent received=$received vnetd_rx=$rx vnetd_tx=$tx" \
        "vnetd_drops=$drops rcvbuf_errors=$rcvbuf in_errors=$inerr" \
        "unaccounted=$((sent - received - drops - rcvbuf)) sink_pps=$pps" \
        "fwd_cpu_ns=$(awk -v c="$cpu" -v t="$(getconf CLK_TCK)" -v n="$rx" 'BEGIN { printf "%.0f", n ? c / t * 1e9 / n : 0 }')" \
        >> "$FWD_DIR/trials.txt"
    echo "$pps"
}

# median N...: the median of its arguments.
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# measure CASE SIZE: FORWARD_RUNS trials, prints the median pps.
measure() {
    local results=() run
    for run in $(seq 1 "$FORWARD_RUNS"); do
        results+=("$(trial "$1" "$2")")
    done
    echo "$1 size=$2 runs=${results[*]}" >> "$FWD_DIR/runs.txt"
    median "${results[@]}"
}

stop_vnetd() {
    if [ -n "$VNETD_PID" ]; then
        kill "$VNETD_PID" 2>/dev/null || true
        wait "$VNETD_PID" 2>/dev/null || true
        VNETD_PID=
    fi
}
trap stop_vnetd EXIT

# start_vnetd WORKERS TRANSPORT JFR: writes the config for CARRIER and starts vnetd on FORWARD_FWD_CPUS, waits for
# /metrics.
start_vnetd() {
    local workers=$1 transport=$2 jfr=$3 config="$FWD_DIR/vnetd-$CARRIER-$1-$2.yaml" flags=() i
    # Site A is the blasters' address: udpblast connects to 127.0.0.1 without binding, so its datagrams come
    # from 127.0.0.1. One source-port socket per worker: the sink listens on one port whatever the source port.
    cat > "$config" <<EOF
node: {name: forward-bench, workers: $workers, transport: $transport}
admin: {listen: 127.0.0.1:$FORWARD_ADMIN_PORT}
flow_table: {capacity: 65536}
virtual_networks:
  - {name: bench}
routes:
  - {prefix: 10.0.0.0/8, virtual_network: bench, via: dc, priority: 100}
EOF
    local connected=""
    [ -z "$FORWARD_CONNECTED_REMOTES" ] || connected=", connected_remotes: $FORWARD_CONNECTED_REMOTES"
    if [ "$CARRIER" = esp-udp ]; then
        cat >> "$config" <<EOF
listeners:
  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1:$FORWARD_LISTEN_PORT$connected}
tunnels:
  - name: site-a
    type: esp-udp
    listener: esp-udp
    remote: 127.0.0.1
    virtual_network: bench
    arr: true
    sa:
      transform: aes-gcm-128
      inbound: {spi: $SITE_SPI, key_file: $FWD_DIR/site.key}
      outbound: {spi: 0x1002, key_file: $FWD_DIR/unused.key}
      replay_window: 0
      esn: false
  - name: dc
    type: esp-udp
    listener: esp-udp
    remote: 127.0.0.3:$FORWARD_SINK_PORT
    virtual_network: bench
    sa:
      transform: aes-gcm-128
      inbound: {spi: 0x2002, key_file: $FWD_DIR/unused.key}
      outbound: {spi: $DC_SPI, key_file: $FWD_DIR/dc.key}
EOF
        for ((i = 1; i <= FORWARD_IDLE_REMOTES; i++)); do
            printf '  - {name: idle-%d, type: esp-udp, listener: esp-udp, remote: 127.0.1.%d, virtual_network: bench,\n' \
                "$i" "$i"
            printf '     sa: {transform: aes-gcm-128, inbound: {spi: %d, key_file: %s},\n' $((0x30000 + i)) \
                "$FWD_DIR/unused.key"
            printf '          outbound: {spi: %d, key_file: %s}}}\n' $((0x40000 + i)) "$FWD_DIR/unused.key"
        done >> "$config"
    else
        cat >> "$config" <<EOF
listeners:
  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:$FORWARD_LISTEN_PORT, source_ports: 1$connected}
tunnels:
  - {name: site-a, type: gre-udp, listener: gre-udp, remote: 127.0.0.1, virtual_network: bench, arr: true}
  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:$FORWARD_SINK_PORT, virtual_network: bench}
EOF
        for ((i = 1; i <= FORWARD_IDLE_REMOTES; i++)); do
            printf '  - {name: idle-%d, type: gre-udp, listener: gre-udp, remote: 127.0.1.%d, virtual_network: bench}\n' \
                "$i" "$i"
        done >> "$config"
    fi
    if [ "$jfr" = 1 ]; then
        flags+=("-XX:StartFlightRecording=filename=$RESULTS/forward.jfr,settings=profile,dumponexit=true")
    fi
    # shellcheck disable=SC2086
    taskset -c "$FORWARD_FWD_CPUS" "$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS $FORWARD_GC_FLAG $FORWARD_JVM_OPTS \
        "${flags[@]}" \
        -Xlog:gc:file="$FWD_DIR/gc-$CARRIER-$workers-$transport.log" \
        -jar "$FORWARD_VNETD_JAR" run --config "$config" > "$FWD_DIR/vnetd-$CARRIER-$workers-$transport.log" 2>&1 &
    VNETD_PID=$!
    for i in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$FORWARD_ADMIN_PORT/metrics" > /dev/null && return 0
        sleep 0.2
    done
    echo "forward: vnetd did not start, see $FWD_DIR/vnetd-$CARRIER-$workers-$transport.log" >&2
    cat "$FWD_DIR/vnetd-$CARRIER-$workers-$transport.log" >&2
    exit 1
}

if [ ! -f "$ROOT/control/target/vnetd.jar" ] \
        || [ -n "$(find "$ROOT" -path '*/src/main/*' -newer "$ROOT/control/target/vnetd.jar" -print -quit)" ]; then
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl control -am) >&2
fi

: > "$FWD_DIR/runs.txt"
declare -A RELAY VNETD
for size in $FORWARD_SIZES; do
    RELAY[$size]=$(measure relay "$size")
done
first_transport=${FORWARD_TRANSPORTS%% *}
jfr=$FORWARD_JFR
for CARRIER in $FORWARD_CARRIERS; do
    transports=$FORWARD_TRANSPORTS
    [ "$CARRIER" = gre-udp ] || transports=$first_transport
    for transport in $transports; do
        for workers in $FORWARD_WORKERS; do
            start_vnetd "$workers" "$transport" "$jfr"
            jfr=0
            for size in $FORWARD_SIZES; do
                blast "$size" 3 "$FWD_DIR/warmup.out"
                VNETD[$CARRIER,$size,$workers,$transport]=$(measure "vnetd-$CARRIER-w$workers-$transport" "$size")
            done
            stop_vnetd
        done
    done
done

for size in $FORWARD_SIZES; do
    for workers in $FORWARD_WORKERS; do
        pps=${VNETD[gre-udp,$size,$workers,$first_transport]:-}
        [ -n "$pps" ] || continue # FORWARD_CARRIERS without gre-udp
        awk -v s="$size" -v w="$workers" -v t="$first_transport" -v v="$pps" -v r="${RELAY[$size]}" \
            -v gc="$FORWARD_GC" 'BEGIN {
            printf "forward size=%s workers=%s transport=%s vnetd_pps=%.0f relay_pps=%.0f ratio=%.2f gc=%s\n",
                s, w, t, v, r, v / r, gc }'
    done
done
for transport in $FORWARD_TRANSPORTS; do
    for size in $FORWARD_SIZES; do
        for workers in $FORWARD_WORKERS; do
            [ -n "${VNETD[gre-udp,$size,$workers,$transport]:-}" ] || continue
            awk -v s="$size" -v w="$workers" -v t="$transport" -v v="${VNETD[gre-udp,$size,$workers,$transport]}" \
                -v r="${RELAY[$size]}" -v gc="$FORWARD_GC" 'BEGIN {
                printf "forward transport=%s size=%s workers=%s vnetd_pps=%.0f ratio=%.2f gc=%s\n",
                    t, s, w, v, v / r, gc }'
        done
    done
done
for size in $FORWARD_SIZES; do
    for workers in $FORWARD_WORKERS; do
        pps=${VNETD[esp-udp,$size,$workers,$first_transport]:-}
        [ -n "$pps" ] || continue
        awk -v s="$size" -v w="$workers" -v t="$first_transport" -v v="$pps" -v r="${RELAY[$size]}" \
            -v gc="$FORWARD_GC" 'BEGIN {
            printf "forward carrier=esp-udp transform=aes-gcm-128 size=%s workers=%s transport=%s vnetd_pps=%.0f " \
                "relay_pps=%.0f ratio=%.2f gc=%s\n", s, w, t, v, r, v / r, gc }'
    done
done
cat "$FWD_DIR/trials.txt"
