# bench/run.sh masque-e2e [SECONDS] [SIZE] — two vnetd daemons on loopback (one worker each), a site and an edge,
# joined by GRE-in-UDP and by MASQUE (QUIC + TLS 1.3 + HTTP/3 datagrams); a Java sender blasts GRE-in-UDP packets
# into the site for SECONDS (default 5) per carrier, inner SIZE bytes (default 1200), and a receiver behind the edge
# counts what arrives (MasqueLoopback). Prints, for carrier=gre then carrier=masque:
#   masque-e2e carrier=... size=... sent_pps=... delivered_pps=... gbps=... delivered_share=... ...
#   masque-e2e ratio masque_over_gre=...
# The sender is one Java thread (DatagramChannel.send), so sent_pps is its ceiling, not vnetd's.
# shellcheck shell=bash
"$JAVA_HOME/bin/java" $VNETD_JVM_FLAGS -cp "$BENCH_JAR" dev.vnetd.bench.masque.MasqueLoopback "${1:-5}" "${2:-1200}" \
    > "$RESULTS/masque-e2e.txt" 2>&1 || { cat "$RESULTS/masque-e2e.txt" >&2; exit 1; }
grep '^masque-e2e ' "$RESULTS/masque-e2e.txt"
awk '/^masque-e2e carrier=gre/ {for (i = 1; i <= NF; i++) if ($i ~ /^delivered_pps=/) { split($i, a, "="); g = a[2] } }
     /^masque-e2e carrier=masque/ {for (i = 1; i <= NF; i++) if ($i ~ /^delivered_pps=/) { split($i, a, "="); m = a[2] } }
     END { if (g > 0) printf "masque-e2e ratio masque_over_gre=%.2f\n", m / g }' "$RESULTS/masque-e2e.txt"
