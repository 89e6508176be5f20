#!/usr/bin/env bash
# Runs every vnetd test: unit and property tests, the fuzz-style decoder test, and the tests against real peers
# (scapy, tshark) on loopback and in network namespaces. Installs missing Debian test tools first (as root), finds
# a JDK 25, and fails on any failing test; tests that need root fail under CI=true and are reported as skipped
# elsewhere. Extra arguments go to Maven (e.g. -Dtest=ConfigLoaderTest).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/install-test-deps.sh"
# shellcheck source=find-jdk.sh
source "$ROOT/scripts/find-jdk.sh"
vnetd_find_jdk
cd "$ROOT"
exec mvn -B verify "$@"
