"""Peers for the path MTU namespace test (MtuNamespaceTest): a site and a data centre speaking GRE-in-UDP to vnetd
through a router whose link towards them has a smaller MTU than the tunnels. Plain UDP sockets carry the tunnel
packets, so the kernel of this namespace fragments what the site sends and reassembles what vnetd sends; scapy
makes and checks the inner packets. Then a bounded flood of first fragments that never complete, sent on a raw
socket, at vnetd's listener.

Argument: JSON {"vnetd": ADDR, "site": ADDR, "dc": ADDR, "edge_ns": NAME, "flood": N, "frag_time": SECONDS,
"cases": [{"name", "size", "df", "proto": "udp"|"tcp-syn", "mss"}...]}. One report line per case, then one for
the flood."""
import json
import select
import socket
import struct
import subprocess
import sys
import time

from peer_common import checksums_ok, report
from scapy.all import IP, IPv6, TCP, UDP, ICMP, raw
from scapy.layers.inet6 import ICMPv6PacketTooBig, in6_chksum
from scapy.utils import checksum

cfg = json.loads(sys.argv[1])
VNETD = (cfg["vnetd"], 4754)
SITE_KEY = 1

site = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
site.bind((cfg["site"], 4754))
dc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dc.bind((cfg["dc"], 4754))


def inner(case, ident):
    """The inner packet of a case: `size` bytes in all, DF as asked (IPv6: never fragmented by routers), from a
    site host to a data-centre host."""
    if case.get("family") == "ipv6":
        payload = bytes((i * 7 + ident) & 0xFF for i in range(case["size"] - 48))
        return IPv6(src="fd00:a::5", dst="fd00:10::3", hlim=64) / UDP(sport=40000, dport=9) / payload
    ip = IP(src="192.168.10.5", dst="10.1.2.3", ttl=64, id=ident, flags="DF" if case["df"] else 0)
    if case.get("proto") == "tcp-syn":
        return ip / TCP(sport=40000, dport=443, flags="S", seq=1000,
                        options=[("MSS", case["mss"]), ("SAckOK", b""), ("WScale", 7)])
    payload = bytes((i * 7 + ident) & 0xFF for i in range(case["size"] - 28))
    return ip / UDP(sport=40000, dport=9, len=None) / payload


def gre(key, packet):
    flags = 0x2000 if key is not None else 0
    header = struct.pack("!HH", flags, 0x86DD if packet[0] >> 4 == 6 else 0x0800) + (struct.pack("!I", key) if key is not None else b"")
    return header + packet


def strip_gre(data):
    flags = struct.unpack("!H", data[:2])[0]
    return data[8:] if flags & 0x2000 else data[4:]


def exchange(case, ident, wait=3.0):
    """Sends one case from the site; returns what came back: (where, bytes) or (None, None)."""
    sent = inner(case, ident)
    site.sendto(gre(SITE_KEY, raw(sent)), VNETD)
    deadline = time.time() + wait
    while time.time() < deadline:
        ready, _, _ = select.select([site, dc], [], [], max(0.0, deadline - time.time()))
        for sock in ready:
            data, _ = sock.recvfrom(65535)
            return ("dc" if sock is dc else "site"), strip_gre(data), sent
    return None, None, sent


def run_case(case, ident):
    where, data, sent = exchange(case, ident)
    result = {"case": case["name"], "arrived_at": where}
    if data is not None and data[0] >> 4 == 6:
        got = IPv6(data)
        result["length"] = len(data)
        result["checksums_ok"] = checksums_ok(got) if where == "dc" else None
        if where == "dc":
            result["payload_same"] = bytes(got[UDP].payload) == bytes(sent[UDP].payload)
            result["ttl"] = got.hlim
        else:
            result["src"] = got.src
            result["icmp_type"] = got[ICMPv6PacketTooBig].type
            result["mtu"] = got[ICMPv6PacketTooBig].mtu
            result["checksums_ok"] = in6_chksum(58, got, raw(got.payload)) == 0
    elif where == "dc":
        got = IP(data)
        result["length"] = len(data)
        result["ttl"] = got.ttl
        result["checksums_ok"] = checksums_ok(got)
        if case.get("proto") == "tcp-syn":
            result["mss"] = dict(got[TCP].options).get("MSS")
        else:
            result["payload_same"] = bytes(got[UDP].payload) == bytes(sent[UDP].payload)
    elif where == "site":
        got = IP(data)
        result["src"] = got.src
        result["icmp_type"] = got[ICMP].type
        result["icmp_code"] = got[ICMP].code
        result["mtu"] = got[ICMP].nexthopmtu
        # the quoted packet is cut at 576 bytes, so only the outer IP and the ICMP checksums can verify
        result["checksums_ok"] = checksum(data[:20]) == 0 and checksum(data[20:]) == 0
    report(result)


def in_edge(*command):
    return subprocess.run(["ip", "netns", "exec", cfg["edge_ns"], *command], capture_output=True, text=True,
                          check=True).stdout


def frag_memory():
    """Bytes the edge's kernel holds in IPv4 reassembly queues (/proc/net/sockstat, FRAG: inuse N memory M)."""
    for line in in_edge("cat", "/proc/net/sockstat").splitlines():
        if line.startswith("FRAG:"):
            return int(line.split()[4])
    return -1


def flood(count):
    """`count` first fragments (MF set, offset 0, distinct IDs) of 1400-byte UDP datagrams to vnetd's listener,
    never completed: each opens a reassembly queue in the edge's kernel."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    first = raw(UDP(sport=4754, dport=4754, len=1408) / bytes(960))[:968]
    for i in range(count):
        header = IP(src=cfg["site"], dst=cfg["vnetd"], id=(i + 1) & 0xFFFF, flags="MF", frag=0, proto=17,
                    ttl=64, len=20 + len(first))
        sender.sendto(raw(header) + first, (cfg["vnetd"], 0))
    sender.close()


for n, case in enumerate(cfg["cases"]):
    run_case(case, 100 + n)

big = {"name": "x", "size": 1300, "df": False}
small = {"name": "x", "size": 200, "df": False}
flood(cfg["flood"])
memory_after_flood = frag_memory()
small_during, _, _ = exchange(small, 7001)
big_during, _, _ = exchange(big, 7002, wait=1.0)
time.sleep(cfg["frag_time"] + 1.5)
big_after, _, _ = exchange(big, 7003)
report({"case": "flood", "sent": cfg["flood"], "frag_memory": memory_after_flood,
        "small_during": small_during, "big_during": big_during, "big_after": big_after,
        "frag_memory_after_timeout": frag_memory()})
