#!/usr/bin/python3
"""ESP and GRE peers played by scapy (scapy.layers.ipsec.SecurityAssociation): each case encrypts (or GRE-wraps) an
inner packet toward vnetd and reports what came back, where, and what scapy decrypted.

Usage: esp_peer.py CONFIG_JSON
  {"carrier": "udp" | "raw",
   "vnetd": ["127.0.0.1", 4500], "vnetd6": ["::1", 4500], "vnetd_gre": ["127.0.0.1", 4754],
   "peers": {"site-a": {"addr": "127.0.0.2", "port": 45000, "kind": "esp", "transform": "aes-gcm-128", "esn": true,
                        "to_vnetd": {"spi": 4097, "key": "HEX"}, "from_vnetd": {"spi": 8193, "key": "HEX"}},
             "dc": {"addr": "127.0.0.6", "port": 45001, "kind": "gre", "key": null}},
   "cases": [{"name": "...", "from": "site-a", "src": "192.168.10.5", "dst": "10.1.2.3", "ttl": 64,
              "l4": "udp" | "tcp" | "icmp", "seq": 7 (optional: resend this sequence number),
              "tamper": "icv" | "ciphertext" | "padding" | "spi" | "marker" | "keepalive" | "wrong-source",
              "wait": 3.0}]}
Each ESP peer sends with sequence numbers 1, 2, 3... unless a case names one (later ones continue above it). Prints one line of key=value fields
per case: where a packet arrived (peer name or None), its SPI and sequence number, the inner packet's TTL / hop limit,
whether every inner checksum verifies, and for ICMP errors their type and quoted destination.
"""
import json
import select
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import GRE, ICMP, IP, TCP, UDP, IPv6, Raw, raw
from scapy.layers.inet6 import ICMPv6EchoRequest
from scapy.layers.ipsec import ESP, SecurityAssociation

from peer_common import checksums_ok, raw_receivers, receive_raw, report
from scapy_esn import use_rfc_esn_hmac


def security_association(transform, spi, key_hex, esn):
    key = bytes.fromhex(key_hex)
    common = dict(spi=spi, tunnel_header=IP(src="127.0.0.2", dst="127.0.0.1"), esn_en=esn, esn=0)
    if transform == "aes-cbc-hmac-sha256":
        return SecurityAssociation(ESP, crypt_algo="AES-CBC", crypt_key=key[:-32], auth_algo="SHA2-256-128",
                                   auth_key=key[-32:], **common)
    algo = "CHACHA20-POLY1305" if transform == "chacha20-poly1305" else "AES-GCM"
    return SecurityAssociation(ESP, crypt_algo=algo, crypt_key=key, **common)


def inner_packet(case):
    v6 = ":" in case["dst"]
    ip = IPv6(src=case["src"], dst=case["dst"], hlim=case["ttl"]) if v6 else \
        IP(src=case["src"], dst=case["dst"], ttl=case["ttl"], id=0x4242)
    l4 = case.get("l4", "udp")
    payload = Raw(b"vnetd-" + case["name"].encode() + b"-" + b"x" * case.get("size", 32))
    if l4 == "tcp":
        pkt = ip / TCP(sport=40001, dport=443, flags="S", seq=1000) / payload
    elif l4 == "icmp":
        pkt = ip / (ICMPv6EchoRequest(id=7, seq=1) if v6 else ICMP(type=8, id=7, seq=1)) / payload
    else:
        pkt = ip / UDP(sport=40000, dport=40001) / payload
    return pkt.__class__(raw(pkt))


def bad_padding_esp(peer, seq, inner):
    """AES-GCM ESP whose ICV verifies but whose padding bytes are not 1, 2, 3... (RFC 4303 2.4)."""
    material = bytes.fromhex(peer["to_vnetd"]["key"])
    key, salt = material[:-4], material[-4:]
    data = raw(inner)
    pad = -(len(data) + 2) % 4 + 4
    plain = data + bytes([9] * pad) + bytes([pad, 4 if inner.version == 4 else 41])
    iv = struct.pack("!Q", seq)
    spi = peer["to_vnetd"]["spi"]
    aad = struct.pack("!III", spi, seq >> 32, seq & 0xFFFFFFFF)
    return struct.pack("!II", spi, seq & 0xFFFFFFFF) + iv + AESGCM(key).encrypt(salt + iv, plain, aad)


def esp_bytes(peer, case, state):
    following = state.get(case["from"], 1)
    seq = case.get("seq") or following
    state[case["from"]] = max(following, seq + 1)
    inner = inner_packet(case)
    tamper = case.get("tamper")
    if tamper == "padding":
        return bad_padding_esp(peer, seq, inner)
    spi = peer["to_vnetd"]["spi"] + (0x100000 if tamper == "spi" else 0)
    sa = security_association(peer["transform"], spi, peer["to_vnetd"]["key"], peer["esn"])
    data = bytearray(raw(sa.encrypt(inner, seq_num=seq)[ESP]))
    if tamper == "icv":
        data[-1] ^= 0x01
    elif tamper == "ciphertext":
        data[20] ^= 0x80
    return bytes(data)


def describe_inner(inner):
    result = {}
    if inner.version == 6:
        inner = IPv6(raw(inner))
        result.update(ttl=inner.hlim, src=inner.src, dst=inner.dst)
        if inner.nh == 58:
            icmp = raw(inner.payload)
            result.update(icmp_type=icmp[0], quoted_dst=IPv6(icmp[8:]).dst)
    else:
        inner = IP(raw(inner))
        result.update(ttl=inner.ttl, src=inner.src, dst=inner.dst)
        if inner.proto == 1 and inner[ICMP].type in (3, 11):
            result.update(icmp_type=inner[ICMP].type, quoted_dst=IP(raw(inner[ICMP].payload)).dst)
    result["checksums_ok"] = checksums_ok(inner)
    return result


def describe(peers, name, data):
    peer = peers[name]
    result = {"arrived_at": name}
    if peer["kind"] == "gre":
        gre = GRE(data)
        inner = IPv6(raw(gre.payload)) if gre.proto == 0x86DD else IP(raw(gre.payload))
        result["key"] = gre.key if gre.key_present else None
    else:
        spi, seq = struct.unpack("!II", data[:8])
        result.update(spi=spi, seq=seq)
        sa = security_association(peer["transform"], peer["from_vnetd"]["spi"], peer["from_vnetd"]["key"],
                                  peer["esn"])
        outer = IPv6(src="::1", dst=peer["addr"], nh=50) if ":" in peer["addr"] else \
            IP(src="127.0.0.1", dst=peer["addr"], proto=50)
        try:
            inner = sa.decrypt(outer.__class__(raw(outer / Raw(data))), esn=0)
        except Exception as error:  # the test wants the reason scapy refused
            result["decrypt_error"] = type(error).__name__
            return result
        result["decrypted"] = True
    result.update(describe_inner(inner))
    return result


def run_udp(cfg):
    peers = cfg["peers"]
    socks = {}
    for name, p in peers.items():
        s = socket.socket(socket.AF_INET6 if ":" in p["addr"] else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((p["addr"], p["port"]))
        socks[name] = s
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.9", 0))
    state = {}
    for case in cfg["cases"]:
        name = case["from"]
        peer = peers[name]
        tamper = case.get("tamper")
        if peer["kind"] == "gre":
            target = tuple(cfg["vnetd_gre"])
            inner = inner_packet(case)
            data = raw(GRE(proto=0x86DD if inner.version == 6 else 0x0800) / inner)
        else:
            target = tuple(cfg["vnetd6"] if ":" in peer["addr"] else cfg["vnetd"])
            data = esp_bytes(peer, case, state)
        if tamper == "marker":
            data = b"\x00\x00\x00\x00" + b"IKE"
        elif tamper == "keepalive":
            data = b"\xff"
        sender = stranger if tamper == "wrong-source" else socks[name]
        sender.sendto(data, target)
        result = {"case": case["name"], "arrived_at": None}
        ready, _, _ = select.select(list(socks.values()), [], [], case.get("wait", 3.0))
        if ready:
            arrived = next(n for n, s in socks.items() if s is ready[0])
            payload, _ = ready[0].recvfrom(65535)
            result = {"case": case["name"]}
            result.update(describe(peers, arrived, payload))
        report(result)


def run_raw(cfg):
    """Plain ESP (IP protocol 50): send from the peer's address on a raw socket, receive vnetd's ESP on raw sockets
    (IPv4 ones see the IP header; IPv6 ones learn the destination from IPV6_PKTINFO)."""
    peers = cfg["peers"]
    vnetd4 = cfg["vnetd"][0]
    vnetd6 = cfg.get("vnetd6", [None])[0]
    by_addr = {p["addr"]: n for n, p in peers.items()}
    recv4, recv6 = raw_receivers(50)
    state = {}
    for case in cfg["cases"]:
        peer = peers[case["from"]]
        data = esp_bytes(peer, case, state)
        v6 = ":" in peer["addr"]
        sender = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, 50)
        sender.bind((peer["addr"], 0))
        sender.sendto(data, (vnetd6 if v6 else vnetd4, 0))
        sender.close()
        deadline = time.time() + case.get("wait", 3.0)
        payload, dst = receive_raw(recv4, recv6, vnetd4, vnetd6, by_addr, deadline)
        result = {"case": case["name"], "arrived_at": None}
        if payload is not None:
            result.update(describe(peers, by_addr[dst], payload))
        report(result)


def main():
    use_rfc_esn_hmac()
    cfg = json.loads(sys.argv[1])
    if cfg.get("carrier", "udp") == "raw":
        run_raw(cfg)
    else:
        run_udp(cfg)


if __name__ == "__main__":
    main()
