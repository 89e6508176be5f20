#!/usr/bin/python3
"""A GRE peer played by scapy: sends each case's packet to vnetd and reports what came back, and where.

Usage: gre_peer.py CONFIG_JSON
  {"carrier": "udp" | "raw",
   "vnetd": ["127.0.0.1", 47540],            # where vnetd listens (port ignored for raw GRE)
   "peers": {"site-a": ["127.0.0.2", 47541, 100]},  # each tunnel's remote: address, port (ignored for raw
                                                     # GRE) and GRE key (null for none)
   "cases": [{"name": "...", "from": "site-a", "key": 100, "src": "192.168.10.5", "dst": "10.1.2.3",
              "ttl": 64, "l4": "udp" | "tcp" | "tcp-synack" | "icmp" | "icmp-reply",
              "sport": 40000, "dport": 40001}]}          # ports, or the ICMP echo identifier in sport;
                                                         # "$CASE.sport" takes a port an earlier case reported
Prints one line of key=value fields per case: where the packet arrived (peer name or null), the GRE key, the inner
packet's TTL / hop limit, whether every checksum verifies, and for ICMP errors their type and code and the
quoted packet's destination.
"""
import json
import select
import socket
import sys
import time

from scapy.all import GRE, ICMP, IP, TCP, UDP, IPv6, Raw, raw
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest

from peer_common import checksums_ok, raw_receivers, receive_raw, report

WAIT_SECONDS = 3.0


def inner_packet(case):
    v6 = ":" in case["dst"]
    ip = IPv6(src=case["src"], dst=case["dst"], hlim=case["ttl"]) if v6 else \
        IP(src=case["src"], dst=case["dst"], ttl=case["ttl"], id=0x4242, flags="DF" if case.get("df") else 0)
    l4 = case.get("l4", "udp")
    sport = case.get("sport", 40000)
    dport = case.get("dport", 40001)
    payload = Raw(b"vnetd-" + case["name"].encode() + b"-" + b"x" * case.get("size", 32))
    if l4 in ("tcp", "tcp-synack"):
        return ip / TCP(sport=sport, dport=dport, flags="S" if l4 == "tcp" else "SA", seq=1000) / payload
    if l4 == "icmp":
        return ip / (ICMPv6EchoRequest(id=sport, seq=1) if v6 else ICMP(type=8, id=sport, seq=1)) / payload
    if l4 == "icmp-reply":
        return ip / (ICMPv6EchoReply(id=sport, seq=1) if v6 else ICMP(type=0, id=sport, seq=1)) / payload
    return ip / UDP(sport=sport, dport=dport) / payload


def gre_packet(case):
    inner = inner_packet(case)
    proto = 0x86DD if inner.version == 6 else 0x0800
    if case.get("key") is not None:
        return GRE(key_present=1, key=case["key"], proto=proto) / inner
    return GRE(proto=proto) / inner


def describe(data, peer):
    gre = GRE(data)
    result = {"arrived_at": peer, "key": gre.key if gre.key_present else None, "gre_proto": gre.proto}
    inner = gre.payload
    if gre.proto == 0x86DD:
        inner = IPv6(raw(inner))
        result.update(ttl=inner.hlim, src=inner.src, dst=inner.dst)
        if inner.nh == 58:
            icmp = raw(inner.payload)
            result.update(icmp_type=icmp[0], icmp_code=icmp[1], icmp_mtu=int.from_bytes(icmp[4:8], "big"))
            quoted = IPv6(icmp[8:])
            result.update(quoted_dst=quoted.dst)
    else:
        inner = IP(raw(inner))
        result.update(ttl=inner.ttl, src=inner.src, dst=inner.dst, ip_len=inner.len)
        if inner.proto in (6, 17):
            result.update(sport=inner.sport, dport=inner.dport)
        if inner.proto == 1 and inner[ICMP].type in (3, 11):
            result.update(icmp_type=inner[ICMP].type, icmp_code=inner[ICMP].code,
                          icmp_mtu=inner[ICMP].nexthopmtu if inner[ICMP].type == 3 else 0)
            quoted = IP(raw(inner[ICMP].payload))
            result.update(quoted_dst=quoted.dst)
    result["checksums_ok"] = checksums_ok(inner)
    result["payload_len"] = len(raw(inner))
    return result


def peer_name(peers, addr, key):
    """The peer whose address (and GRE key, when several share an address) this is."""
    names = [n for n, p in peers.items() if p[0] == addr]
    keyed = [n for n in names if len(peers[n]) > 2 and peers[n][2] == key]
    return (keyed or names or [None])[0]


def run_udp(cfg):
    vnetd = tuple(cfg["vnetd"])
    peers = cfg["peers"]
    socks = {}
    for name, p in peers.items():
        addr, port = p[0], p[1]
        if (addr, port) not in socks:
            s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, port))
            socks[(addr, port)] = s
    seen = {}
    for case in cfg["cases"]:
        for field in ("sport", "dport"):
            if isinstance(case.get(field), str):  # "$CASE.FIELD": a value an earlier case reported
                ref_case, ref_field = case[field][1:].split(".")
                case[field] = int(seen[ref_case][ref_field])
        p = peers[case["from"]]
        sender = socks[(p[0], p[1])]
        target = vnetd if sender.family == socket.AF_INET else tuple(cfg["vnetd6"])
        sender.sendto(raw(gre_packet(case)), target)
        ready, _, _ = select.select(list(socks.values()), [], [], WAIT_SECONDS)
        if not ready:
            report({"case": case["name"], "arrived_at": None})
            continue
        data, addr = ready[0].recvfrom(65535)
        local = ready[0].getsockname()
        gre = GRE(data)
        result = {"case": case["name"]}
        result.update(describe(data, peer_name(peers, local[0], gre.key if gre.key_present else None)))
        result["from_port"] = addr[1]
        seen[case["name"]] = result
        report(result)


def run_raw(cfg):
    """Plain GRE (IP protocol 47): send from the peer's address on a raw socket, receive every GRE packet on raw
    sockets (IPv4 ones see the IP header; IPv6 ones learn the destination from IPV6_PKTINFO)."""
    vnetd4 = cfg["vnetd"][0]
    vnetd6 = cfg.get("vnetd6", [None])[0]
    peer_addresses = {p[0] for p in cfg["peers"].values()}
    recv4, recv6 = raw_receivers(47)
    for case in cfg["cases"]:
        src = cfg["peers"][case["from"]][0]
        v6 = ":" in src
        sender = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, 47)
        sender.bind((src, 0))
        sender.sendto(raw(gre_packet(case)), (vnetd6 if v6 else vnetd4, 0))
        sender.close()
        deadline = time.time() + WAIT_SECONDS
        payload, dst = receive_raw(recv4, recv6, vnetd4, vnetd6, peer_addresses, deadline)
        result = {"case": case["name"], "arrived_at": None}
        if payload is not None:
            gre = GRE(payload)
            result.update(describe(payload, peer_name(cfg["peers"], dst, gre.key if gre.key_present else None)))
        report(result)


def main():
    cfg = json.loads(sys.argv[1])
    if cfg.get("carrier", "udp") == "raw":
        run_raw(cfg)
    else:
        run_udp(cfg)


if __name__ == "__main__":
    main()
