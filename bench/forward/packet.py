#!/usr/bin/env python3
"""bench/forward/packet.py SIZE FILE [esp SPI KEY_HEX]: writes one datagram payload of SIZE bytes to FILE.

The payload is what the blaster puts in its UDP datagram: by default GRE-in-UDP (RFC 8086), a GRE header without
key (protocol 0x0800), then an inner IPv4 UDP packet 192.168.10.5:40000 -> 10.0.0.5:5001 (TTL 64, valid header
checksum, UDP checksum 0) whose payload fills the datagram to SIZE bytes. With `esp SPI KEY_HEX`: ESP-in-UDP
(RFC 3948) with AES-GCM-128 (RFC 4106; KEY_HEX is the 16-byte key and the 4-byte salt, as in vnetd's key files),
sequence number 1, no ESN: SPI, sequence, 8-byte IV, the encrypted inner packet, padding, pad length, next header
4 and the 16-byte ICV, SIZE bytes in all (SIZE - 34 must leave the inner packet 4-byte aligned with its trailer).
The blaster repeats this one datagram, so the receiving SA needs `replay_window: 0`. forward.sh routes
10.0.0.0/8 of the sender's virtual network to the sink.
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


ESP_OVERHEAD = 8 + 8 + 2 + 16  # SPI and sequence, IV, pad length and next header, ICV


def inner(inner_len):
    payload_len = inner_len - IPV4_HEADER - UDP_HEADER
    if payload_len < 0:
        raise SystemExit("size must be at least %d" % (GRE_HEADER + IPV4_HEADER + UDP_HEADER))
    src, dst = bytes([192, 168, 10, 5]), bytes([10, 0, 0, 5])
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, inner_len, 1, 0, 64, 17, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    udp = struct.pack("!HHHH", 40000, 5001, UDP_HEADER + payload_len, 0)
    return header + udp + bytes(i & 0xFF for i in range(payload_len))


def gre_datagram(size):
    return struct.pack("!HH", 0, 0x0800) + inner(size - GRE_HEADER)


def esp_datagram(size, spi, key_hex):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = bytes.fromhex(key_hex)
    inner_len = size - ESP_OVERHEAD
    if (inner_len + 2) % 4:
        raise SystemExit("size - %d must leave the inner packet and its trailer 4-byte aligned" % ESP_OVERHEAD)
    header = struct.pack("!II", spi, 1)
    iv = struct.pack("!Q", 1)
    plaintext = inner(inner_len) + struct.pack("!BB", 0, 4)
    return header + iv + AESGCM(key[:16]).encrypt(key[16:] + iv, plaintext, header)


if __name__ == "__main__":
    size = int(sys.argv[1])
    data = esp_datagram(size, int(sys.argv[4], 0), sys.argv[5]) if sys.argv[3:4] == ["esp"] else gre_datagram(size)
    with open(sys.argv[2], "wb") as out:
        out.write(data)
