# bench/run.sh e2e — vnetd against wireguard-go between two hosts, end to end through real TCP and UDP (issue 6),
# over ESP-in-UDP and over MASQUE (issue 8).
#
# Topology (two network namespaces joined by a veth pair, built for the run and always removed):
#
#   namespace A, veth 198.18.0.1                                      namespace B, veth 198.18.0.2
#   iperf3 -c 10.0.2.1 ─ TUN 10.0.1.1/24 ─ vnetd A ══ ESP-in-UDP ══ vnetd B ─ TUN 10.0.2.1/24 ─ iperf3 -s
#                                                  AES-GCM-128, port 4500
#   iperf3 -c 10.9.2.1 ─ wg  10.9.1.1/24 ─ wireguard-go A ═ WireGuard ═ wireguard-go B ─ wg 10.9.2.1/24 ─ iperf3 -s
#   iperf3 -c 10.8.2.1 ─ TUN 10.8.1.1/24 ─ vnetd A' ══ MASQUE ══ vnetd B' ─ TUN 10.8.2.1/24 ─ iperf3 -s
#                                     masque-client    QUIC, TLS 1.3,    masque listener, UDP 443
#                                                      HTTP/3 datagrams
#
# Each vnetd is a site gateway whose TUN faces its own namespace's stack (the "host"): the host routes the other
# site's /24 into the TUN, vnetd encrypts it to the peer, the peer decrypts it and writes it to its TUN. wireguard-go
# does the same on the same veth with the same inner MTU (1420). Both run for the whole run; the measurements
# alternate vnetd and wireguard-go (ABBA over the rounds) so drift on this shared machine hits both alike.
# The MASQUE pair is a second pair of vnetd processes (admin port E2E_ADMIN_PORT + 1): B' runs a `masque` listener
# (test-only certificate and bearer token, made for the run with openssl in the key directory and removed with it)
# with one client identity that it assigns 10.8.1.0/24 and advertises 10.8.2.0/24 to; A' is a `masque-client`
# that installs the advertised route. Its inner MTU is E2E_MASQUE_MTU (1400, not 1420: QUIC's short header with
# its 20-byte connection ID, packet number, AEAD tag and the DATAGRAM frame and HTTP/3 datagram headers take 46
# bytes of the 1452-byte UDP payload vnetd's QUIC settings allow, so 1406 is the most; the setup checks that a
# full-size packet with DF gets through). The order of each round is E2E_SYSTEMS' in odd rounds (ESP,
# wireguard-go, MASQUE by default) and the reverse in even ones.
# E2E_SYSTEMS (default "esp wg masque") picks the systems to run.
#
# Prints, from the medians over E2E_ROUNDS:
#   e2e tcp vnetd_gbps=... wireguard_go_gbps=... ratio=...          iperf3 TCP, one stream, receiver's rate
#   e2e udp64 vnetd_pps=... wireguard_go_pps=... ratio=...          iperf3 UDP, 64-byte payloads, delivered pps
#   e2e tcp masque_gbps=... vnetd_esp_gbps=... wireguard_go_gbps=... masque_vs_wireguard_go=...
#   e2e udp64 masque_pps=... vnetd_esp_pps=... wireguard_go_pps=... masque_vs_wireguard_go=...
#   e2e note udp64_mode=...                                         which UDP figure that is (below)
#   e2e note masque_sessions=...                                    MASQUE sessions in the run (1: none ended)
#   e2e trial ...                                                   every trial, with CPU seconds of the gateways
# (the first two result lines when ESP and wireguard-go ran, the two MASQUE lines when MASQUE ran: a skipped
# system's field and the ratio that needs it are left out)
# UDP (E2E_UDP_MODE): `max` (default) offers as much as one iperf3 sender can (-b 0) and reports the packets/s
# delivered to the receiver; `search` bisects the offered rate for the highest one that loses < 1 % and reports its
# delivered packets/s (E2E_UDP_STEPS steps of E2E_UDP_SEARCH_SECONDS each, per system and round).
# E2E_PROFILE=1 adds a TCP run per system after the rounds (not in the figures): JFR (settings=profile) of the
# vnetd JVMs, `perf stat` system-call counts of the sending gateway (vnetd A, wireguard-go A, MASQUE A) over the
# same window as the TUN device's packet counters, `perf record -g` of each gateway by stage, all summarised into
# $RESULTS/e2e/profile.txt (bench/e2e/profile.sh). It starts the JVMs with -XX:+PreserveFramePointer.
# Fails (non-zero, with the reason) when a tool is missing, vnetd rejects the TUN or MASQUE configuration, the
# MASQUE session does not come up, or no traffic gets through; it never prints a figure it did not measure.
# shellcheck shell=bash
E2E_SECONDS=${E2E_SECONDS:-10}
E2E_UDP_SECONDS=${E2E_UDP_SECONDS:-5}
E2E_ROUNDS=${E2E_ROUNDS:-3}
E2E_UDP_MODE=${E2E_UDP_MODE:-max}
E2E_UDP_STEPS=${E2E_UDP_STEPS:-6}
E2E_UDP_SEARCH_SECONDS=${E2E_UDP_SEARCH_SECONDS:-3}
E2E_WORKERS=${E2E_WORKERS:-1}
E2E_TRANSPORT=${E2E_TRANSPORT:-auto}
E2E_PROFILE=${E2E_PROFILE:-0}
E2E_PROFILE_SECONDS=${E2E_PROFILE_SECONDS:-5}
E2E_JVM_OPTS=${E2E_JVM_OPTS:-}
E2E_VNETD_JAR=${E2E_VNETD_JAR:-$ROOT/control/target/vnetd.jar}
E2E_ADMIN_PORT=${E2E_ADMIN_PORT:-29400}
E2E_IPERF_PORT=${E2E_IPERF_PORT:-25201}
E2E_SYSTEMS=${E2E_SYSTEMS:-esp wg masque}
E2E_MASQUE_MTU=${E2E_MASQUE_MTU:-1400}
E2E_MASQUE_PORT=${E2E_MASQUE_PORT:-443}
# The inner MTU of both tunnels: wireguard-go's default, below vnetd's ESP-in-UDP limit over a 1500-byte veth (1435).
E2E_MTU=1420

E2E_DIR="$RESULTS/e2e"
mkdir -p "$E2E_DIR"
: > "$E2E_DIR/trials.txt"

e2e_fail() {
    echo "e2e: FAILED: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || e2e_fail "needs root (network namespaces, TUN devices)"
[ -c /dev/net/tun ] || e2e_fail "/dev/net/tun is missing"
# The systems to run, by their names in the figures: vnetd (ESP), wireguard_go, masque.
SYSTEMS=()
for system in $E2E_SYSTEMS; do
    case $system in
        esp) SYSTEMS+=(vnetd) ;;
        wg) SYSTEMS+=(wireguard_go) ;;
        masque) SYSTEMS+=(masque) ;;
        *) e2e_fail "E2E_SYSTEMS takes esp, wg and masque, not $system" ;;
    esac
done
[ ${#SYSTEMS[@]} -gt 0 ] || e2e_fail "E2E_SYSTEMS names no system"
# runs SYSTEM: whether SYSTEM is among the systems of this run.
runs() {
    [[ " ${SYSTEMS[*]} " == *" $1 "* ]]
}
for tool in ip iperf3 wireguard-go wg curl python3 openssl ping; do
    command -v "$tool" > /dev/null || e2e_fail "$tool is not installed (apt-get install iproute2 iperf3" \
        "wireguard-go wireguard-tools curl openssl iputils-ping)"
done
case $E2E_UDP_MODE in
    max | search) ;;
    *) e2e_fail "E2E_UDP_MODE must be max or search, not $E2E_UDP_MODE" ;;
esac
if [ "$E2E_PROFILE" = 1 ]; then
    command -v perf > /dev/null || e2e_fail "E2E_PROFILE=1 needs perf (apt-get install linux-perf)"
fi

if [ ! -f "$ROOT/control/target/vnetd.jar" ] \
        || [ -n "$(find "$ROOT" -path '*/src/main/*' -newer "$ROOT/control/target/vnetd.jar" -print -quit)" ]; then
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl control -am) >&2
fi
[ -f "$E2E_VNETD_JAR" ] || e2e_fail "no vnetd jar at $E2E_VNETD_JAR"

# Names unique to this run: namespaces vb-e2e-TAG-a/b; interfaces (at most 15 bytes) vbeTAGa (veth), vbtTAGa (TUN),
# vbwTAGa (wireguard-go, whose control socket /var/run/wireguard/NAME.sock is shared by all namespaces).
TAG=$(printf '%04x' $((RANDOM)))
NS_A=vb-e2e-$TAG-a
NS_B=vb-e2e-$TAG-b
VETH_A=vbe${TAG}a
VETH_B=vbe${TAG}b
TUN_A=vbt${TAG}a
TUN_B=vbt${TAG}b
MTUN_A=vbm${TAG}a
MTUN_B=vbm${TAG}b
WG_A=vbw${TAG}a
WG_B=vbw${TAG}b
OUTER_A=198.18.0.1
OUTER_B=198.18.0.2
KEYS=$(mktemp -d /tmp/vb-e2e-keys.XXXXXX)
VNETD_PID_A=
VNETD_PID_B=
MASQUE_PID_A=
MASQUE_PID_B=
WG_PID_A=
WG_PID_B=

# e2e_cleanup: stops every process this run started inside its namespaces (by pid), then removes the namespaces
# (and with them the veth, TUN and wireguard devices) and the key files. Runs on every exit, also on failure.
e2e_cleanup() {
    local ns pid pids=() i
    trap - EXIT INT TERM
    for ns in "$NS_A" "$NS_B"; do
        [ -e "/var/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2> /dev/null); do
            pids+=("$pid")
        done
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill "${pids[@]}" 2> /dev/null || true
        for i in $(seq 1 50); do
            kill -0 "${pids[@]}" 2> /dev/null || break
            sleep 0.1
        done
        kill -9 "${pids[@]}" 2> /dev/null || true
    fi
    for ns in "$NS_A" "$NS_B"; do
        [ -e "/var/run/netns/$ns" ] && ip netns del "$ns"
    done
    rm -rf "$KEYS"
    rm -f "/var/run/wireguard/$WG_A.sock" "/var/run/wireguard/$WG_B.sock"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
ip -n "$NS_A" addr add "$OUTER_A/24" dev "$VETH_A"
ip -n "$NS_B" addr add "$OUTER_B/24" dev "$VETH_B"
for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
done
ip -n "$NS_A" link set "$VETH_A" up
ip -n "$NS_B" link set "$VETH_B" up

# --- (b) wireguard-go: one interface per namespace, keys from wg genkey.
start_wireguard() {
    local ns=$1 dev=$2 log=$3 i
    ip netns exec "$ns" setsid wireguard-go -f "$dev" > "$log" 2>&1 &
    for i in $(seq 1 50); do
        [ -S "/var/run/wireguard/$dev.sock" ] && ip -n "$ns" link show "$dev" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$log" >&2
    e2e_fail "wireguard-go did not create $dev in $ns (see $log)"
}
if runs wireguard_go; then
    (umask 077 && wg genkey > "$KEYS/wg-a" && wg genkey > "$KEYS/wg-b")
    start_wireguard "$NS_A" "$WG_A" "$E2E_DIR/wireguard-go-a.log"
    WG_PID_A=$(pgrep -n -f "^wireguard-go -f $WG_A\$" || true)
    start_wireguard "$NS_B" "$WG_B" "$E2E_DIR/wireguard-go-b.log"
    WG_PID_B=$(pgrep -n -f "^wireguard-go -f $WG_B\$" || true)
    [ -n "$WG_PID_A" ] && [ -n "$WG_PID_B" ] || e2e_fail "cannot find the pids of wireguard-go $WG_A and $WG_B"
    in_a wg set "$WG_A" private-key "$KEYS/wg-a" listen-port 51820 \
        peer "$(wg pubkey < "$KEYS/wg-b")" endpoint "$OUTER_B:51820" allowed-ips 10.9.2.0/24
    in_b wg set "$WG_B" private-key "$KEYS/wg-b" listen-port 51820 \
        peer "$(wg pubkey < "$KEYS/wg-a")" endpoint "$OUTER_A:51820" allowed-ips 10.9.1.0/24
    ip -n "$NS_A" addr add 10.9.1.1/24 dev "$WG_A"
    ip -n "$NS_B" addr add 10.9.2.1/24 dev "$WG_B"
    ip -n "$NS_A" link set "$WG_A" mtu "$E2E_MTU" up
    ip -n "$NS_B" link set "$WG_B" mtu "$E2E_MTU" up
    ip -n "$NS_A" route add 10.9.2.0/24 dev "$WG_A"
    ip -n "$NS_B" route add 10.9.1.0/24 dev "$WG_B"
fi

# --- (a) vnetd: one gateway per namespace, ESP-in-UDP AES-GCM-128 with static keys (key then salt, mode 0600).
# vnetd_config NAME OUTER PEER TUN LOCAL_NET REMOTE_NET IN_SPI IN_KEY OUT_SPI OUT_KEY
vnetd_config() {
    cat <<EOF
node: {name: $1, workers: $E2E_WORKERS, transport: $E2E_TRANSPORT}
admin: {listen: 127.0.0.1:$E2E_ADMIN_PORT}
flow_table: {capacity: 65536}
listeners:
  - {name: esp-udp, type: esp-udp, listen: $2:4500}
virtual_networks:
  - {name: default}
tunnels:
  - {name: hosts, type: tun, device: $4, virtual_network: default, addresses: [${5%.0/24}.1/24], mtu: $E2E_MTU,
     host_routes: [$6]}
  - name: peer
    type: esp-udp
    listener: esp-udp
    remote: $3
    virtual_network: default
    sa:
      transform: aes-gcm-128
      inbound: {spi: $7, key_file: $KEYS/$8}
      outbound: {spi: $9, key_file: $KEYS/${10}}
routes:
  - {prefix: $5, virtual_network: default, via: hosts}
  - {prefix: $6, virtual_network: default, via: peer}
EOF
}

# --- (c) vnetd over MASQUE: B' is the server (a masque listener on its veth address, one client identity), A' the
# masque-client. Certificate (PKCS#8 key, as MASQUE wants) and token are test-only, made here, removed with $KEYS.
MASQUE_ADMIN_PORT=$((E2E_ADMIN_PORT + 1))
masque_configs() {
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -keyout "$KEYS/masque.key" -out "$KEYS/masque.pem" -subj /CN=edge.e2e.test \
        -addext subjectAltName=DNS:edge.e2e.test > "$E2E_DIR/openssl.log" 2>&1 \
        && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > "$KEYS/masque.token") \
        || { cat "$E2E_DIR/openssl.log" >&2; e2e_fail "openssl could not make the MASQUE test certificate"; }
    cat > "$E2E_DIR/masque-b.yaml" <<EOF
node: {name: e2e-masque-b, workers: $E2E_WORKERS, transport: $E2E_TRANSPORT}
admin: {listen: 127.0.0.1:$MASQUE_ADMIN_PORT}
flow_table: {capacity: 65536}
listeners:
  - {name: masque, type: masque, listen: "$OUTER_B:$E2E_MASQUE_PORT",
     tls: {cert: $KEYS/masque.pem, key: $KEYS/masque.key}}
virtual_networks:
  - {name: default}
tunnels:
  - {name: hosts, type: tun, device: $MTUN_B, virtual_network: default, addresses: [10.8.2.1/24],
     mtu: $E2E_MASQUE_MTU, host_routes: [10.8.1.0/24]}
  - {name: site-a, type: masque, listener: masque, auth: {token_file: $KEYS/masque.token}, virtual_network: default,
     mtu: $E2E_MASQUE_MTU, assign: [10.8.1.0/24], advertise: [10.8.2.0/24]}
routes:
  - {prefix: 10.8.2.0/24, virtual_network: default, via: hosts}
  - {prefix: 10.8.1.0/24, virtual_network: default, via: site-a}
EOF
    cat > "$E2E_DIR/masque-a.yaml" <<EOF
node: {name: e2e-masque-a, workers: $E2E_WORKERS, transport: $E2E_TRANSPORT}
admin: {listen: 127.0.0.1:$MASQUE_ADMIN_PORT}
flow_table: {capacity: 65536}
virtual_networks:
  - {name: default}
tunnels:
  - {name: hosts, type: tun, device: $MTUN_A, virtual_network: default, addresses: [10.8.1.1/24],
     mtu: $E2E_MASQUE_MTU, host_routes: [10.8.2.0/24]}
  - {name: edge, type: masque-client, server: "$OUTER_B:$E2E_MASQUE_PORT", server_name: edge.e2e.test,
     ca: $KEYS/masque.pem, auth: {token_file: $KEYS/masque.token}, virtual_network: default, mtu: $E2E_MASQUE_MTU}
routes:
  - {prefix: 10.8.1.0/24, virtual_network: default, via: hosts}
EOF
}

# masque_ping NS FROM TO: waits until a ping from FROM to TO gets through MASQUE (30 tries, 15-45 s), else fails. The
# client is ready before its session is up (its route to 10.8.2.0/24 comes with the server's ROUTE_ADVERTISEMENT),
# and a session that ended (idle timeout, lost connection) comes back a second later: every MASQUE trial starts
# with this, so none measures a reconnect.
masque_ping() {
    local ns=$1 from=$2 to=$3 i
    for i in $(seq 1 30); do
        ip netns exec "$ns" ping -n -q -c 1 -W 1 -I "$from" "$to" > /dev/null 2>&1 && return 0
        sleep 0.5
        kill -0 "$MASQUE_PID_A" 2> /dev/null && kill -0 "$MASQUE_PID_B" 2> /dev/null || break
    done
    cat "$E2E_DIR/masque-a.log" "$E2E_DIR/masque-b.log" >&2
    e2e_fail "no ping through MASQUE from $from to $to in 30 tries (gateway logs above and in $E2E_DIR)"
}

VNETD_JAVA=("$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS $E2E_JVM_OPTS)
# perf walks Java frames only with frame pointers (costs a few per cent: take figures from a run without profile).
[ "$E2E_PROFILE" = 1 ] && VNETD_JAVA+=(-XX:+PreserveFramePointer)
# start_vnetd NS CONFIG LOG TUN ADMIN_PORT: runs vnetd in NS and waits for its admin API and its TUN device; prints
# its pid.
start_vnetd() {
    local ns=$1 config=$2 log=$3 tun=$4 port=$5 pid i
    ip netns exec "$ns" "${VNETD_JAVA[@]}" -Xlog:gc:file="$log.gc" -jar "$E2E_VNETD_JAR" run --config "$config" \
        > "$log" 2>&1 &
    pid=$!
    for i in $(seq 1 150); do
        if ip netns exec "$ns" curl -sf "http://127.0.0.1:$port/readyz" > /dev/null \
                && ip -n "$ns" link show "$tun" > /dev/null 2>&1; then
            echo "$pid"
            return 0
        fi
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.2
    done
    cat "$log" >&2
    e2e_fail "vnetd in $ns did not become ready with its TUN $tun (see $log)"
}
if runs vnetd; then
    # Static keys: key then salt, mode 0600.
    (umask 077 && od -An -tx1 -N20 /dev/urandom | tr -d ' \n' > "$KEYS/a-to-b" \
        && od -An -tx1 -N20 /dev/urandom | tr -d ' \n' > "$KEYS/b-to-a")
    vnetd_config e2e-a "$OUTER_A" "$OUTER_B" "$TUN_A" 10.0.1.0/24 10.0.2.0/24 0x2001 b-to-a 0x1001 a-to-b \
        > "$E2E_DIR/vnetd-a.yaml"
    vnetd_config e2e-b "$OUTER_B" "$OUTER_A" "$TUN_B" 10.0.2.0/24 10.0.1.0/24 0x1001 a-to-b 0x2001 b-to-a \
        > "$E2E_DIR/vnetd-b.yaml"

    if ! "${VNETD_JAVA[@]}" -jar "$E2E_VNETD_JAR" validate "$E2E_DIR/vnetd-a.yaml" > "$E2E_DIR/validate.txt" 2>&1; then
        cat "$E2E_DIR/validate.txt" >&2
        e2e_fail "this vnetd build rejects the TUN gateway configuration $E2E_DIR/vnetd-a.yaml (no type: tun yet?)"
    fi

    VNETD_PID_A=$(start_vnetd "$NS_A" "$E2E_DIR/vnetd-a.yaml" "$E2E_DIR/vnetd-a.log" "$TUN_A" "$E2E_ADMIN_PORT")
    VNETD_PID_B=$(start_vnetd "$NS_B" "$E2E_DIR/vnetd-b.yaml" "$E2E_DIR/vnetd-b.log" "$TUN_B" "$E2E_ADMIN_PORT")
fi
if runs masque; then
    masque_configs
    for side in a b; do
        "${VNETD_JAVA[@]}" -jar "$E2E_VNETD_JAR" validate "$E2E_DIR/masque-$side.yaml" > "$E2E_DIR/validate.txt" 2>&1 \
            || { cat "$E2E_DIR/validate.txt" >&2; e2e_fail "vnetd rejects the MASQUE configuration" \
                "$E2E_DIR/masque-$side.yaml"; }
    done
    MASQUE_PID_B=$(start_vnetd "$NS_B" "$E2E_DIR/masque-b.yaml" "$E2E_DIR/masque-b.log" "$MTUN_B" "$MASQUE_ADMIN_PORT")
    MASQUE_PID_A=$(start_vnetd "$NS_A" "$E2E_DIR/masque-a.yaml" "$E2E_DIR/masque-a.log" "$MTUN_A" "$MASQUE_ADMIN_PORT")
    masque_ping "$NS_A" 10.8.1.1 10.8.2.1
    masque_ping "$NS_B" 10.8.2.1 10.8.1.1
    # A packet of the full MTU with DF set must get through (QUIC would refuse a larger DATAGRAM as tx_failed).
    in_a ping -n -q -c 3 -i 0.2 -W 2 -M do -s $((E2E_MASQUE_MTU - 28)) -I 10.8.1.1 10.8.2.1 > /dev/null 2>&1 \
        || e2e_fail "no ${E2E_MASQUE_MTU}-byte packet gets through MASQUE: lower E2E_MASQUE_MTU"
fi

in_b iperf3 -s -p "$E2E_IPERF_PORT" > "$E2E_DIR/iperf3-server.log" 2>&1 &
sleep 0.5

# Which addresses each system's traffic uses (client bind, server address), its gateway processes, its TUN.
declare -A SRC=([vnetd]=10.0.1.1 [wireguard_go]=10.9.1.1 [masque]=10.8.1.1)
declare -A DST=([vnetd]=10.0.2.1 [wireguard_go]=10.9.2.1 [masque]=10.8.2.1)
declare -A DEV=([vnetd]=$TUN_A [wireguard_go]=$WG_A [masque]=$MTUN_A)

# gateway_pids SYSTEM: the pids of its two gateway processes.
gateway_pids() {
    case $1 in
        vnetd) echo "$VNETD_PID_A $VNETD_PID_B" ;;
        masque) echo "$MASQUE_PID_A $MASQUE_PID_B" ;;
        *) echo "$WG_PID_A $WG_PID_B" ;;
    esac
}

# cpu_ticks PID...: "user system" clock ticks of these processes (all threads), summed.
cpu_ticks() {
    local pid user=0 system=0
    for pid in "$@"; do
        read -r u s < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
        user=$((user + u))
        system=$((system + s))
    done
    echo "$user $system"
}

# vnetd_drops SYSTEM: "reason count" lines, vnetd_drops_total of SYSTEM's two vnetd gateways summed per reason
# (nothing for wireguard-go).
vnetd_drops() {
    local port=$E2E_ADMIN_PORT
    case $1 in
        vnetd) ;;
        masque) port=$MASQUE_ADMIN_PORT ;;
        *) return 0 ;;
    esac
    {
        in_a curl -sf "http://127.0.0.1:$port/metrics"
        in_b curl -sf "http://127.0.0.1:$port/metrics"
    } | awk -F'[{}"]' '/^vnetd_drops_total\{/ { for (i = 2; i < NF; i++) if ($i ~ /reason=$/) r = $(i + 1)
        split($0, f, " "); n[r] += f[length(f)] } END { for (r in n) print r, n[r] }' | sort
}

# drops_since BEFORE_FILE SYSTEM: "vnetd_drops=REASON:N,..." since the snapshot in BEFORE_FILE (vnetd only).
drops_since() {
    [ "$2" = wireguard_go ] && return 0
    vnetd_drops "$2" | awk 'NR == FNR { before[$1] = $2; next }
        { d = $2 - before[$1]; if (d > 0) { s = s sep $1 ":" d; sep = "," } }
        END { print "vnetd_drops=" (s == "" ? "none" : s) }' "$1" -
}

# iperf SYSTEM OUT ARGS...: iperf3 client from namespace A through SYSTEM, JSON into OUT; fails loudly after a second
# attempt (the iperf3 server now and then resets a control connection that follows another test closely).
iperf() {
    local system=$1 out=$2 attempt
    shift 2
    [ "$system" = masque ] && masque_ping "$NS_A" 10.8.1.1 10.8.2.1
    for attempt in 1 2; do
        if in_a iperf3 -c "${DST[$system]}" -B "${SRC[$system]}" -p "$E2E_IPERF_PORT" --connect-timeout 5000 -J \
                "$@" > "$out" 2>&1 \
                && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit("error" in d)' "$out"; then
            return 0
        fi
        echo "e2e trial kind=retry system=$system file=$(basename "$out") attempt=$attempt" >> "$E2E_DIR/trials.txt"
        sleep 1
    done
    cat "$out" >&2
    e2e_fail "iperf3 through $system failed twice (see $out; gateway logs in $E2E_DIR)"
}

# json FILE EXPR: evaluates a Python expression over iperf3's JSON (as d).
json() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# a_packets SYSTEM: "INNER OUTER" of namespace A: the inner packets SYSTEM's gateway A read from its TUN (the TUN
# device's tx, what the host sent into it) and the datagrams sent on the veth (all systems share it, but only one
# runs at a time).
a_packets() {
    in_a cat "/sys/class/net/${DEV[$1]}/statistics/tx_packets" "/sys/class/net/$VETH_A/statistics/tx_packets" \
        | tr '\n' ' '
}

# outer_since BEFORE SYSTEM: "a_inner=N a_outer=M outer_per_inner=M/N" since the a_packets snapshot BEFORE: UDP
# datagrams gateway A sent per inner packet it read (ESP and WireGuard: one each, plus their few control packets;
# QUIC packs small DATAGRAM frames together and adds ACK-only packets).
outer_since() {
    echo "$1 $(a_packets "$2")" | awk '{ t = $3 - $1; v = $4 - $2
        printf "a_inner=%d a_outer=%d outer_per_inner=%.3f", t, v, (t > 0) ? v / t : 0 }'
}

# tcp_trial SYSTEM ROUND: one TCP run, prints Gbit/s at the receiver.
tcp_trial() {
    local system=$1 round=$2 out="$E2E_DIR/tcp-$1-$2.json" pids ticks_before ticks_after gbps packets
    pids=$(gateway_pids "$system")
    # shellcheck disable=SC2086
    ticks_before=$(cpu_ticks $pids)
    vnetd_drops "$system" > "$E2E_DIR/drops.before"
    packets=$(a_packets "$system")
    iperf "$system" "$out" -t "$E2E_SECONDS"
    # shellcheck disable=SC2086
    ticks_after=$(cpu_ticks $pids)
    gbps=$(json "$out" "'%.3f' % (d['end']['sum_received']['bits_per_second'] / 1e9)")
    echo "e2e trial kind=tcp system=$system round=$round gbps=$gbps" \
        "retransmits=$(json "$out" "d['end']['sum_sent'].get('retransmits', 0)")" \
        "$(echo "$ticks_before $ticks_after" | awk -v hz="$(getconf CLK_TCK)" -v g="$gbps" -v t="$E2E_SECONDS" '{
            u = ($3 - $1) / hz; s = ($4 - $2) / hz
            printf "gateways_user_s=%.2f gateways_system_s=%.2f gateway_cpu_s_per_gbit=%.2f", u, s,
                (g > 0) ? (u + s) / (g * t) : 0 }') $(outer_since "$packets" "$system")" \
        "$(drops_since "$E2E_DIR/drops.before" "$system")" >> "$E2E_DIR/trials.txt"
    echo "$gbps"
}

# udp_run SYSTEM OUT SECONDS BITS: one UDP run at BITS bit/s offered (0: as fast as the sender can), prints
# "delivered_pps offered_pps loss_percent".
udp_run() {
    iperf "$1" "$2" -u -l 64 -b "$4" -t "$3"
    json "$2" "'%.0f %.0f %.3f' % ((d['end']['sum']['packets'] - d['end']['sum']['lost_packets'])
        / d['end']['sum']['seconds'], d['end']['sum']['packets'] / d['end']['sum']['seconds'],
        d['end']['sum']['lost_percent'])"
}

# udp_trial SYSTEM ROUND: prints delivered pps: at max offered, or at the highest offered rate losing < 1 %.
udp_trial() {
    local system=$1 round=$2 result delivered offered loss lo hi rate best=0 best_offered=0 step pids before after
    local packets
    pids=$(gateway_pids "$system")
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    vnetd_drops "$system" > "$E2E_DIR/drops.before"
    packets=$(a_packets "$system")
    result=$(udp_run "$system" "$E2E_DIR/udp-$system-$round-max.json" "$E2E_UDP_SECONDS" 0)
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    read -r delivered offered loss <<< "$result"
    echo "e2e trial kind=udp64 system=$system round=$round offered_pps=$offered delivered_pps=$delivered" \
        "loss_percent=$loss $(echo "$before $after" | awk -v hz="$(getconf CLK_TCK)" '{
            u = ($3 - $1) / hz; s = ($4 - $2) / hz
            printf "gateways_user_s=%.2f gateways_system_s=%.2f", u, s }') $(outer_since "$packets" "$system")" \
        "$(drops_since "$E2E_DIR/drops.before" "$system")" >> "$E2E_DIR/trials.txt"
    if [ "$E2E_UDP_MODE" = max ]; then
        echo "$delivered"
        return
    fi
    lo=0
    hi=$offered
    for step in $(seq 1 "$E2E_UDP_STEPS"); do
        rate=$(((lo + hi) / 2))
        result=$(udp_run "$system" "$E2E_DIR/udp-$system-$round-$step.json" "$E2E_UDP_SEARCH_SECONDS" \
            $((rate * 64 * 8)))
        read -r delivered offered loss <<< "$result"
        echo "e2e trial kind=udp64-search system=$system round=$round step=$step offered_pps=$offered" \
            "delivered_pps=$delivered loss_percent=$loss" >> "$E2E_DIR/trials.txt"
        if awk -v l="$loss" 'BEGIN { exit !(l < 1) }'; then
            lo=$rate
            if [ "$delivered" -gt "$best" ]; then
                best=$delivered
                best_offered=$offered
            fi
        else
            hi=$rate
        fi
    done
    echo "e2e trial kind=udp64-below-1pct system=$system round=$round offered_pps=$best_offered" \
        "delivered_pps=$best" >> "$E2E_DIR/trials.txt"
    echo "$best"
}

# median N...: the median of its arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm-up: a short TCP and UDP run through each (JIT, ARP, WireGuard handshake); a failure here fails the run.
for system in "${SYSTEMS[@]}"; do
    iperf "$system" "$E2E_DIR/warmup-$system.json" -t 3
    udp_run "$system" "$E2E_DIR/warmup-udp-$system.json" 2 0 > /dev/null
done

# The order of the systems in odd rounds (as E2E_SYSTEMS names them) and, reversed, in even ones.
FORWARD="${SYSTEMS[*]}"
REVERSE=$(printf '%s\n' "${SYSTEMS[@]}" | tac | tr '\n' ' ')
declare -A TCP UDP
for round in $(seq 1 "$E2E_ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order=$FORWARD; else order=$REVERSE; fi
    for system in $order; do
        TCP[$system]="${TCP[$system]:-} $(tcp_trial "$system" "$round")"
    done
    for system in $order; do
        UDP[$system]="${UDP[$system]:-} $(udp_trial "$system" "$round")"
    done
done

declare -A TCP_MEDIAN UDP_MEDIAN
for system in "${SYSTEMS[@]}"; do
    # shellcheck disable=SC2086
    TCP_MEDIAN[$system]=$(median ${TCP[$system]})
    # shellcheck disable=SC2086
    UDP_MEDIAN[$system]=$(median ${UDP[$system]})
done

if [ "$E2E_PROFILE" = 1 ]; then
    source "$ROOT/bench/e2e/profile.sh"
fi

cat "$E2E_DIR/trials.txt"
if [ "$E2E_UDP_MODE" = max ]; then
    echo "e2e note udp64_mode=max_offered: delivered packets/s while one iperf3 sender offers all it can (-b 0)"
else
    echo "e2e note udp64_mode=below_1pct_loss: delivered packets/s at the highest offered rate losing < 1 %"
fi
for system in "${SYSTEMS[@]}"; do
    for figure in "tcp ${TCP_MEDIAN[$system]}" "udp64 ${UDP_MEDIAN[$system]}"; do
        awk -v f="${figure##* }" 'BEGIN { exit !(f > 0) }' || e2e_fail "$system ${figure% *}: no rate measured (in" \
            "search mode: no offered rate lost < 1 %, the machine is too busy; see the trials above), so no ratio"
    done
done
if runs vnetd && runs wireguard_go; then
    awk -v v="${TCP_MEDIAN[vnetd]}" -v w="${TCP_MEDIAN[wireguard_go]}" 'BEGIN {
        printf "e2e tcp vnetd_gbps=%.3f wireguard_go_gbps=%.3f ratio=%.2f\n", v, w, v / w }'
    awk -v v="${UDP_MEDIAN[vnetd]}" -v w="${UDP_MEDIAN[wireguard_go]}" 'BEGIN {
        printf "e2e udp64 vnetd_pps=%.0f wireguard_go_pps=%.0f ratio=%.2f\n", v, w, v / w }'
fi
# masque_line KIND UNIT FORMAT MASQUE ESP WG: the MASQUE result line; ESP and WG are empty when not run.
masque_line() {
    awk -v k="$1" -v u="$2" -v f="$3" -v m="$4" -v e="$5" -v w="$6" 'BEGIN {
        line = sprintf("e2e %s masque_%s=" f, k, u, m)
        if (e != "") line = line sprintf(" vnetd_esp_%s=" f, u, e)
        if (w != "") line = line sprintf(" wireguard_go_%s=" f " masque_vs_wireguard_go=%.2f", u, w, m / w)
        print line }'
}
if runs masque; then
    echo "e2e note masque_sessions=$(in_b curl -sf "http://127.0.0.1:$MASQUE_ADMIN_PORT/metrics" \
        | awk '/^vnetd_masque_sessions_total\{/ { n += $NF } END { print n + 0 }'): sessions the MASQUE server" \
        "accepted in the run (1: the session never ended)"
    masque_line tcp gbps %.3f "${TCP_MEDIAN[masque]}" "${TCP_MEDIAN[vnetd]:-}" "${TCP_MEDIAN[wireguard_go]:-}"
    masque_line udp64 pps %.0f "${UDP_MEDIAN[masque]}" "${UDP_MEDIAN[vnetd]:-}" "${UDP_MEDIAN[wireguard_go]:-}"
fi
