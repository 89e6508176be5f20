"""Drives vnetd through socket faults (SocketFaultsNamespaceTest, PlainGreFaultsNamespaceTest): GRE packets from a
site toward data centres, one alive, one that vanished (GRE-in-UDP: its port closed; plain GRE or ESP: nothing
handles the protocol, so its kernel answers ICMP protocol unreachable), one behind an unreachable route and one
behind a slow link that fills vnetd's socket send buffer; then alive traffic alone, to show the worker still
forwards. A phase may first open raw sockets at vanished peers' addresses ("open": [[address, protocol], ...]): the
peer is back, and what reaches it is reported as received_ADDRESS. Carrier "udp" (default) or "raw" (plain GRE on
IP protocol 47; the site and the alive sink are raw sockets bound to their addresses). Plain sockets, no scapy.
Prints key=value lines: per phase what was sent and what the alive sink received, this namespace's ICMP errors
sent, then vnetd's counters from /metrics with the kernel's UDP receive buffer errors."""
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


def raw_socket(address, protocol):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_RAW, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((address, 0))
    sock.setblocking(False)
    return sock


def kernel_counter(path, prefix, name):
    with open(path) as table:
        if path.endswith("snmp6"):
            return dict(line.split() for line in table).get(name, "0")
        rows = [line.split() for line in table if line.startswith(prefix)]
    return dict(zip(rows[0][1:], rows[1][1:]))[name]


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


def run_phases(spec):
    if spec.get("carrier", "udp") == "raw":
        vnetd = (spec["vnetd"], 0)
        sink = raw_socket(spec["alive"], socket.IPPROTO_GRE)
        site = raw_socket(spec["site"], socket.IPPROTO_GRE)
        site.setblocking(True)
    else:
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
        back = {address: raw_socket(address, protocol) for address, protocol in phase.get("open", [])}
        back_received = dict.fromkeys(back, 0)
        for i in range(phase["rounds"]):
            for target, count, size in phase["send"]:
                for j in range(count):
                    n = i * count + j
                    site.sendto(gre_udp("192.168.10.5", target, 1024 + n % 50000, size), vnetd)
                    sent[target] = sent.get(target, 0) + 1
            received += drain(sink)
            for address, sock in back.items():
                back_received[address] += drain(sock)
            time.sleep(phase.get("pause", 0))
        deadline = time.time() + phase.get("settle", 1.0)
        while time.time() < deadline:
            received += drain(sink)
            for address, sock in back.items():
                back_received[address] += drain(sock)
            time.sleep(0.05)
        report({"case": phase["name"], "received": received, **{"sent_" + k: v for k, v in sent.items()},
                **{"received_" + k: v for k, v in back_received.items()}})
        received = 0


def report_metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    metrics = {}
    for line in text.splitlines():
        m = re.match(r'^(vnetd_drops_total|vnetd_rx_packets_total|vnetd_tx_packets_total'
                     r'|vnetd_tunnel_peer_unreachable_total|vnetd_socket_receive_drops_total)\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            key = labels.get("reason") or labels.get("tunnel") or labels.get("listener")
            metrics[m.group(1) + "." + key] = int(float(m.group(3)))
    report({"case": "metrics", "kernel_udp_rcvbuf_errors": kernel_counter("/proc/net/snmp", "Udp:", "RcvbufErrors"),
            **metrics})


def main():
    """Runs the phases when the spec has some, then reports this namespace's ICMP counters ("kernel"), and vnetd's
    metrics when it names the admin port (vnetd's admin API listens on loopback: run where vnetd runs)."""
    spec = json.loads(sys.argv[1])
    if spec.get("phases"):
        run_phases(spec)
        report({"case": "kernel",
                "icmp_out_dest_unreachs": kernel_counter("/proc/net/snmp", "Icmp:", "OutDestUnreachs"),
                "icmp6_out_parm_problems": kernel_counter("/proc/net/snmp6", "", "Icmp6OutParmProblems")})
    if "admin" in spec:
        report_metrics(spec["admin"])


main()
