#!/usr/bin/env bash
# Installs what vnetd's tests need from Debian when it is missing: scapy (for /usr/bin/python3), tshark, iperf3,
# iproute2, curl, openssl (the MASQUE tests' certificates), ping (iputils-ping), systemd (systemd-analyze), adduser
# (the Debian package's postinst).
# Needs root (apt-get); prints what is missing otherwise.
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1 || missing+=(python3-scapy)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3-cryptography)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v adduser >/dev/null 2>&1 || missing+=(adduser)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "vnetd tests need: ${missing[*]} — run as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing test dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the tests run as root, so the answer does not matter
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
