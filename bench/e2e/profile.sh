# Sourced by bench/cases/e2e.sh when E2E_PROFILE=1, after the measured rounds (so the profile never touches the
# figures): one more TCP run per system of the run (E2E_SYSTEMS), profiled, on the sending gateway (A) unless said
# otherwise.
#   vnetd (ESP and MASQUE): JFR (settings=profile) of both gateways for the whole run, summarised by
#                 bench/e2e/jfr_stages.py;
#   both systems: `perf stat` of A's system calls for E2E_PROFILE_SECONDS, against the packets its TUN device
#                 carried in the same window (rx + tx: each one crossed the gateway once), i.e. system calls per
#                 packet; then `perf record -g` of A and B together for E2E_PROFILE_SECONDS, by stage
#                 (bench/e2e/perf_stages.py; Java frames named by jcmd Compiler.perfmap).
# Writes $E2E_DIR/profile.txt and appends "e2e profile ..." lines to trials.txt.
E2E_SYSCALLS="read write readv writev recvmsg recvmmsg sendmsg sendmmsg sendto recvfrom epoll_wait epoll_pwait
    epoll_pwait2 io_uring_enter futex poll ppoll nanosleep sched_yield"

# perf_record SYSTEM SIDE PID: perf record -g of PID for E2E_PROFILE_SECONDS into $E2E_DIR/perf-SYSTEM-SIDE.data;
# for vnetd also its perf map (Java method names), which perf_stages reads after the run.
perf_record() {
    perf record -q -g -F 499 -p "$3" -o "$E2E_DIR/perf-$1-$2.data" -- sleep "$E2E_PROFILE_SECONDS" > /dev/null 2>&1
    if [ "$1" != wireguard_go ]; then
        jcmd "$3" Compiler.perfmap > /dev/null || e2e_fail "jcmd could not write the perf map of vnetd pid $3"
    fi
}

# perf_stages SYSTEM SIDE PID: the recording of perf_record by stage, into profile.txt.
perf_stages() {
    local out="$E2E_DIR/perf-$1-$2"
    perf script -F comm,tid,ip,sym,dso -i "$out.data" > "$out.script" 2> /dev/null
    rm -f "/tmp/perf-$3.map"
    {
        echo "== perf record -g of $1 gateway $2 (pid $3), ${E2E_PROFILE_SECONDS}s"
        python3 "$ROOT/bench/e2e/perf_stages.py" "$out.script"
    } >> "$E2E_DIR/profile.txt"
}

# profile_syscalls SYSTEM PID_A PID_B: perf stat of PID_A's system calls in the middle of a TCP run through SYSTEM,
# then perf record of both gateways.
profile_syscalls() {
    local system=$1 pid=$2 events=raw_syscalls:sys_enter call before after out="$E2E_DIR/perf-$1.txt" iperf_pid
    for call in $E2E_SYSCALLS; do
        events+=",syscalls:sys_enter_$call"
    done
    in_a iperf3 -c "${DST[$system]}" -B "${SRC[$system]}" -p "$E2E_IPERF_PORT" -J \
        -t $((2 * E2E_PROFILE_SECONDS + 4)) > "$E2E_DIR/tcp-$system-profile.json" 2>&1 &
    iperf_pid=$!
    sleep 2
    before=$(ip netns exec "$NS_A" cat "/sys/class/net/${DEV[$system]}/statistics/rx_packets" \
        "/sys/class/net/${DEV[$system]}/statistics/tx_packets" | awk '{ n += $1 } END { print n }')
    perf stat -x, -e "$events" -p "$pid" -o "$out" -- sleep "$E2E_PROFILE_SECONDS" 2> /dev/null
    after=$(ip netns exec "$NS_A" cat "/sys/class/net/${DEV[$system]}/statistics/rx_packets" \
        "/sys/class/net/${DEV[$system]}/statistics/tx_packets" | awk '{ n += $1 } END { print n }')
    perf_record "$system" A "$pid" &
    perf_record "$system" B "$3"
    wait $!
    wait "$iperf_pid" || e2e_fail "profiled iperf3 through $system failed (see $E2E_DIR/tcp-$system-profile.json)"
    {
        echo "== $system gateway A (pid $pid): system calls in ${E2E_PROFILE_SECONDS}s, $((after - before))" \
            "packets through its TUN (rx + tx), TCP at $(json "$E2E_DIR/tcp-$system-profile.json" \
            "'%.3f' % (d['end']['sum_received']['bits_per_second'] / 1e9)") Gbit/s"
        awk -F, -v p=$((after - before)) '$1 ~ /^[0-9]+$/ && $1 > 0 {
            sub(/^(raw_)?syscalls:sys_enter_?/, "", $3); if ($3 == "") $3 = "all"
            printf "%12d  %8.3f per packet  %s\n", $1, (p > 0) ? $1 / p : 0, $3 }' "$out" | sort -k1,1nr
    } >> "$E2E_DIR/profile.txt"
    awk -F, -v p=$((after - before)) -v s="$system" '$3 == "raw_syscalls:sys_enter" {
        printf "e2e profile system=%s syscalls=%d tun_packets=%d syscalls_per_packet=%.3f\n", s, $1, p,
            (p > 0) ? $1 / p : 0 }' "$out" >> "$E2E_DIR/trials.txt"
    perf_stages "$system" A "$pid"
    perf_stages "$system" B "$3"
}

# jfr SYSTEM start|stop: JFR of SYSTEM's two vnetd JVMs (vnetd: ESP, masque), into $E2E_DIR/SYSTEM-PID.jfr.
jfr() {
    local pid
    for pid in $(gateway_pids "$1"); do
        if [ "$2" = start ]; then
            jcmd "$pid" JFR.start name=e2e settings=profile filename="$E2E_DIR/$1-$pid.jfr" > /dev/null \
                || e2e_fail "jcmd could not start JFR in $1 pid $pid"
        else
            jcmd "$pid" JFR.stop name=e2e > /dev/null || e2e_fail "jcmd could not stop JFR in $1 pid $pid"
        fi
    done
}

: > "$E2E_DIR/profile.txt"
for system in "${SYSTEMS[@]}"; do
    [ "$system" = wireguard_go ] || jfr "$system" start
    # shellcheck disable=SC2046
    profile_syscalls "$system" $(gateway_pids "$system")
    [ "$system" = wireguard_go ] || jfr "$system" stop
done
for system in "${SYSTEMS[@]}"; do
    [ "$system" = wireguard_go ] && continue
    side=A
    for pid in $(gateway_pids "$system"); do
        {
            echo "== JFR of $system $side (pid $pid): $E2E_DIR/$system-$pid.jfr"
            python3 "$ROOT/bench/e2e/jfr_stages.py" "$E2E_DIR/$system-$pid.jfr" vnetd-worker
        } >> "$E2E_DIR/profile.txt"
        side=B
    done
done
echo "e2e profile written to $E2E_DIR/profile.txt" >> "$E2E_DIR/trials.txt"
