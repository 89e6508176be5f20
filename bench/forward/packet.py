#!/usr/bin/env python3
"""bench/forward/packet.py SIZE FILE: writes one GRE-in-UDP datagram payload (RFC 8086) of SIZE bytes to FILE.

The payload is what the blaster puts in its UDP datagram: a GRE header without key (protocol 0x0800), then an
inner IPv4 UDP packet 192.168.10.5:40000 -> 10.0.0.5:5001 (TTL 64, valid header checksum, UDP checksum 0) whose
payload fills the datagram to SIZE bytes. forward.sh routes 10.0.0.0/8 of the sender's virtual network to the sink.
"""
import struct
import sys

GRE_HEADER = 4
IPV4_HEADER = 20
UDP_HEADER = 8


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def datagram(size):
    inner_len = size - GRE_HEADER
    payload_len = inner_len - IPV4_HEADER - UDP_HEADER
    if payload_len < 0:
        raise SystemExit("size must be at least %d" % (GRE_HEADER + IPV4_HEADER + UDP_HEADER))
    src, dst = bytes([192, 168, 10, 5]), bytes([10, 0, 0, 5])
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, inner_len, 1, 0, 64, 17, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    udp = struct.pack("!HHHH", 40000, 5001, UDP_HEADER + payload_len, 0)
    gre = struct.pack("!HH", 0, 0x0800)
    return gre + header + udp + bytes(i & 0xFF for i in range(payload_len))


if __name__ == "__main__":
    data = datagram(int(sys.argv[1]))
    with open(sys.argv[2], "wb") as out:
        out.write(data)
