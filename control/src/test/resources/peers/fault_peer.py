"""Drives vnetd through socket faults (FaultsNamespaceTest): GRE-in-UDP packets from a site toward four data
centres, one alive, one whose port is closed (a peer that vanished), one behind an unreachable route and one behind
a slow link that fills vnetd's socket send buffer; then alive traffic alone, to show the worker still forwards.
Plain sockets, no scapy. Prints key=value lines: per phase what was sent and what the alive sink received, then
vnetd's counters from /metrics."""
import json
import re
import socket
import struct
import sys
import time
import urllib.request


def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def gre_udp(src, dst, sport, size):
    """GRE (no key, IPv4) + inner IPv4 + UDP with `size` bytes of payload."""
    payload = bytes(size)
    udp = struct.pack("!HHHH", sport, 9, 8 + size, 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, socket.inet_aton(src),
                         socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return struct.pack("!HH", 0, 0x0800) + header + udp


def drain(sock):
    count = 0
    while True:
        try:
            sock.recv(65535)
            count += 1
        except BlockingIOError:
            return count


def report(fields):
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def main():
    spec = json.loads(sys.argv[1])
    vnetd = (spec["vnetd"], spec["port"])
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.bind((spec["alive"], spec["peer_port"]))
    sink.setblocking(False)
    site = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    site.bind((spec["site"], spec["peer_port"]))
    received = 0
    for phase in spec["phases"]:
        sent = {}
        for i in range(phase["rounds"]):
            for target, count, size in phase["send"]:
                for j in range(count):
                    n = i * count + j
                    site.sendto(gre_udp("192.168.10.5", target, 1024 + n % 50000, size), vnetd)
                    sent[target] = sent.get(target, 0) + 1
            received += drain(sink)
            time.sleep(phase.get("pause", 0))
        deadline = time.time() + phase.get("settle", 1.0)
        while time.time() < deadline:
            received += drain(sink)
            time.sleep(0.05)
        report({"case": phase["name"], "received": received, **{"sent_" + k: v for k, v in sent.items()}})
        received = 0
    text = urllib.request.urlopen(f"http://127.0.0.1:{spec['admin']}/metrics", timeout=10).read().decode()
    metrics = {}
    for line in text.splitlines():
        m = re.match(r'^(vnetd_drops_total|vnetd_rx_packets_total|vnetd_tx_packets_total'
                     r'|vnetd_tunnel_peer_unreachable_total)\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            key = labels.get("reason") or labels.get("tunnel")
            metrics[m.group(1) + "." + key] = int(float(m.group(3)))
    with open("/proc/net/snmp") as snmp:
        rows = [line.split() for line in snmp if line.startswith("Udp:")]
    udp = dict(zip(rows[0][1:], rows[1][1:]))
    report({"case": "metrics", "kernel_udp_rcvbuf_errors": udp["RcvbufErrors"], **metrics})


main()
