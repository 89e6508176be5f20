#!/usr/bin/env bash
# bench/fuzz.sh TARGET SECONDS — fuzzes one Jazzer target of vnetd for real (coverage-guided, libFuzzer) for
# SECONDS and prints what it found. Targets:
#   gre-udp   dataplane GreInUdpFuzzTest   GRE-in-UDP datagram through the whole path (IPv4/IPv6 inner, ARR)
#   raw-gre   dataplane RawGreFuzzTest     raw GRE: outer IPv4 header, GRE, inner packet
#   icmp      dataplane IcmpFuzzTest       ICMP/ICMPv6 inner packets: at most one error out, none for an error
#   tcp-arr   dataplane TcpArrFuzzTest     TCP flags and options through ARR port translation, checksums kept valid
#   mss       dataplane MssClampFuzzTest   the TCP option walker of MSS clamping, against a reference, and the path
#   esp       crypto    EspFuzzTest        ESP decryption with a live SA, every transform, both providers
#   replay    crypto    ReplayWindowFuzzTest   the anti-replay window against a reference model
#   key-hex   crypto    KeyMaterialFuzzTest    KeyMaterial.parseHex
#   config    control   ConfigLoaderFuzzTest   the YAML configuration loader
#   masque    dataplane MasqueCapsuleFuzzTest  CONNECT-IP capsules split into reads, HTTP/3 datagram headers
#
# Jazzer 0.24.0 bundles an ASM that cannot read Java 25 class files (major version 69): it would fuzz without
# coverage. So the compiled classes of vnetd's modules are relabelled as major version 65 (Java 21) for the run and
# relabelled back afterwards; the bytecode itself is unchanged and runs on the JDK 25 as before.
#
# A crash is written by Jazzer as crash-<sha1> into the target's corpus directory
# (<module>/src/test/resources/<package>/<Class>Inputs/<method>/), where `mvn verify` replays it from then on; the
# inputs that grew coverage stay in <module>/.cifuzz-corpus/ (not committed) and seed the next run. A run stops at
# its first finding; FUZZ_KEEP_GOING=N (Jazzer's keep_going) goes on until N findings with distinct stack traces.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk

usage() {
    echo "usage: bench/fuzz.sh TARGET SECONDS   targets: gre-udp raw-gre icmp tcp-arr mss esp replay key-hex config masque" >&2
    exit 2
}
[ $# -eq 2 ] || usage
TARGET=$1
SECONDS_TO_RUN=$2
[[ "$SECONDS_TO_RUN" =~ ^[0-9]+$ ]] || usage
case "$TARGET" in
    gre-udp) MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.GreInUdpFuzzTest ;;
    raw-gre) MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.RawGreFuzzTest ;;
    icmp)    MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.IcmpFuzzTest ;;
    tcp-arr) MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.TcpArrFuzzTest ;;
    mss)     MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.MssClampFuzzTest ;;
    masque)  MODULE=dataplane; CLASS=dev.vnetd.dataplane.fuzz.MasqueCapsuleFuzzTest ;;
    esp)     MODULE=crypto;    CLASS=dev.vnetd.crypto.fuzz.EspFuzzTest ;;
    replay)  MODULE=crypto;    CLASS=dev.vnetd.crypto.fuzz.ReplayWindowFuzzTest ;;
    key-hex) MODULE=crypto;    CLASS=dev.vnetd.crypto.fuzz.KeyMaterialFuzzTest ;;
    config)  MODULE=control;   CLASS=dev.vnetd.control.fuzz.ConfigLoaderFuzzTest ;;
    *) usage ;;
esac

RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
LOG="$RESULTS/fuzz-$TARGET-$(date -u +%Y%m%dT%H%M%SZ).log"
CORPUS="$ROOT/$MODULE/src/test/resources/$(dirname "${CLASS//.//}")/${CLASS##*.}Inputs"
CLASS_DIRS=()
for module in flowtable crypto dataplane control; do
    CLASS_DIRS+=("$ROOT/$module/target/classes" "$ROOT/$module/target/test-classes")
done

# relabel FROM TO: rewrites the class-file major version FROM to TO in every vnetd class directory
relabel() {
    python3 - "$1" "$2" "${CLASS_DIRS[@]}" <<'PY'
import os, sys
old, new = int(sys.argv[1]), int(sys.argv[2])
for top in sys.argv[3:]:
    for root, _, files in os.walk(top):
        for name in files:
            if name.endswith(".class"):
                with open(os.path.join(root, name), "r+b") as f:
                    head = f.read(8)
                    if head[:4] == b"\xca\xfe\xba\xbe" and int.from_bytes(head[6:8], "big") == old:
                        f.seek(6)
                        f.write(new.to_bytes(2, "big"))
PY
}

cd "$ROOT"
echo "fuzz: building $MODULE" >&2
mvn -q -B -pl "$MODULE" -am test-compile >&2
ls "$CORPUS"/*/ >/dev/null
before=$(find "$CORPUS" -type f -name 'crash-*' | sort)
relabel 69 65
trap 'relabel 65 69' EXIT
echo "fuzz: $TARGET ($CLASS) for ${SECONDS_TO_RUN}s, log $LOG" >&2
status=0
JAZZER_FUZZ=1 mvn -B -pl "$MODULE" -am test -Dtest="$CLASS" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.hooks=true -Djazzer.internal.arg.0=vnetd-fuzz \
    -Djazzer.internal.arg.1=-max_total_time="$SECONDS_TO_RUN" -Djazzer.keep_going="${FUZZ_KEEP_GOING:-1}" \
    >"$LOG" 2>&1 || status=$?
if grep -q "Changes detected - recompiling\|Compiling [0-9]* source" "$LOG"; then
    echo "fuzz: warning: Maven recompiled during the run, so coverage may be missing for some classes" >&2
fi
echo "== $TARGET: libFuzzer"
grep -E "^#[0-9]+\s+(INITED|DONE)|^Done [0-9]+ runs|no interesting inputs" "$LOG" | tail -n 3 || true
echo "== $TARGET: findings"
after=$(find "$CORPUS" -type f -name 'crash-*' | sort)
new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
if [ -z "$new" ] && [ "$status" -eq 0 ]; then
    echo "none (the target passed)"
else
    grep -E 'FuzzTestFindingException|^== Java Exception|Caused by' "$LOG" | head -n 10 || true
    for file in $new; do
        echo "reproducer: ${file#"$ROOT"/} ($(stat -c %s "$file") bytes)"
    done
    [ "$status" -eq 0 ] || echo "maven exited $status; see $LOG"
fi
exit "$status"
