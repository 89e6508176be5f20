"""What the scapy peers (gre_peer.py, esp_peer.py) share: checksum verification, the report line, and receiving
what vnetd sends on raw sockets (IPv4 ones see the IP header; IPv6 ones learn the destination from IPV6_PKTINFO)."""
import select
import socket
import time

from scapy.all import IP, raw
from scapy.packet import NoPayload


def checksums_ok(pkt):
    """Whether every checksum scapy knows in pkt (IP header, UDP, TCP, ICMP, ICMPv6) is the one it computes."""
    original = raw(pkt)
    clone = pkt.__class__(original)
    layer = clone
    while layer is not None and not isinstance(layer, NoPayload):
        for field in ("chksum", "cksum"):
            if field in layer.fields:
                delattr(layer, field)
        layer = layer.payload
    return raw(clone) == original


def report(result):
    """One line of key=value fields for the Java test (PeerScript)."""
    print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


def raw_receivers(protocol):
    """An IPv4 and an IPv6 raw socket for IP protocol `protocol`."""
    recv4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol)
    recv6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, protocol)
    recv6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    return recv4, recv6


def receive_raw(recv4, recv6, vnetd4, vnetd6, addresses, deadline):
    """The payload and destination of the next packet vnetd sends to one of `addresses` before `deadline`, skipping
    the peers' own packets on their way to vnetd; (None, None) when none comes."""
    while time.time() < deadline:
        ready, _, _ = select.select([recv4, recv6], [], [], max(0.0, deadline - time.time()))
        if not ready:
            break
        if ready[0] is recv4:
            packet, _ = recv4.recvfrom(65535)
            outer = IP(packet)
            if outer.src != vnetd4 or outer.dst not in addresses:
                continue
            return raw(outer.payload), outer.dst
        payload, ancillary, _flags, addr = recv6.recvmsg(65535, 1024)
        dst = next((socket.inet_ntop(socket.AF_INET6, d[:16]) for level, kind, d in ancillary
                    if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO), None)
        if addr[0] != vnetd6 or dst not in addresses:
            continue
        return payload, dst
    return None, None
