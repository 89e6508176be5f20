# Sourced by bench/cases/e2e.sh when E2E_PROFILE=1, after the measured rounds (so the profile never touches the
# figures): one more TCP run per system, profiled.
#   vnetd:        JFR (settings=profile) of both gateways for the whole run, summarised by bench/e2e/jfr_stages.py;
#   both systems: `perf stat` of system calls of the sending gateway (A) for E2E_PROFILE_SECONDS in the middle of
#                 the run, against the packets its TUN device carried in the same window (rx + tx: each one crossed
#                 the gateway once), so the result is system calls per packet.
# Writes $E2E_DIR/profile.txt and appends "e2e profile ..." lines to trials.txt.
# shellcheck shell=bash
E2E_SYSCALLS="read write readv writev recvmsg recvmmsg sendmsg sendmmsg sendto recvfrom epoll_wait epoll_pwait
    epoll_pwait2 io_uring_enter futex poll ppoll nanosleep sched_yield"

# profile_syscalls SYSTEM PID: perf stat of PID's system calls in the middle of a TCP run through SYSTEM.
profile_syscalls() {
    local system=$1 pid=$2 events=raw_syscalls:sys_enter call before after out="$E2E_DIR/perf-$1.txt" iperf_pid
    for call in $E2E_SYSCALLS; do
        events+=",syscalls:sys_enter_$call"
    done
    in_a iperf3 -c "${DST[$system]}" -B "${SRC[$system]}" -p "$E2E_IPERF_PORT" -J -t $((E2E_PROFILE_SECONDS + 4)) \
        > "$E2E_DIR/tcp-$system-profile.json" 2>&1 &
    iperf_pid=$!
    sleep 2
    before=$(ip netns exec "$NS_A" cat "/sys/class/net/${DEV[$system]}/statistics/rx_packets" \
        "/sys/class/net/${DEV[$system]}/statistics/tx_packets" | awk '{ n += $1 } END { print n }')
    perf stat -x, -e "$events" -p "$pid" -o "$out" -- sleep "$E2E_PROFILE_SECONDS" 2> /dev/null
    after=$(ip netns exec "$NS_A" cat "/sys/class/net/${DEV[$system]}/statistics/rx_packets" \
        "/sys/class/net/${DEV[$system]}/statistics/tx_packets" | awk '{ n += $1 } END { print n }')
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
}

: > "$E2E_DIR/profile.txt"
for pid in "$VNETD_PID_A" "$VNETD_PID_B"; do
    jcmd "$pid" JFR.start name=e2e settings=profile filename="$E2E_DIR/vnetd-$pid.jfr" > /dev/null \
        || e2e_fail "jcmd could not start JFR in vnetd pid $pid"
done
profile_syscalls vnetd "$VNETD_PID_A"
for pid in "$VNETD_PID_A" "$VNETD_PID_B"; do
    jcmd "$pid" JFR.stop name=e2e > /dev/null || e2e_fail "jcmd could not stop JFR in vnetd pid $pid"
done
profile_syscalls wireguard_go "$WG_PID_A"
for side in A B; do
    pid_var=VNETD_PID_$side
    {
        echo "== JFR of vnetd $side (pid ${!pid_var}): $E2E_DIR/vnetd-${!pid_var}.jfr"
        python3 "$ROOT/bench/e2e/jfr_stages.py" "$E2E_DIR/vnetd-${!pid_var}.jfr"
    } >> "$E2E_DIR/profile.txt"
done
echo "e2e profile written to $E2E_DIR/profile.txt" >> "$E2E_DIR/trials.txt"
