#!/usr/bin/python3
"""bench/soak/packets.py DIR IN_KEY_HEX: writes the soak's traffic into DIR (records: 2-byte big-endian length, then
one UDP payload), as soak.sh's senders replay them round-robin:

  site-gre.bin  from the GRE-in-UDP site (127.0.0.2): 64 old flows (the same 5-tuples again and again), new flows
                (a 5-tuple seen once per pass of the file, so a new flow once its last one expired), and malformed
                datagrams: GRE version 1, reserved bits, truncated GRE, a bad inner IPv4 checksum, an unknown GRE key
  site-esp.bin  from the ESP-in-UDP site (127.0.0.6): old and new flows encrypted with AES-GCM-128 under the inbound
                SA (IN_KEY_HEX: 16-byte key + 4-byte salt; 32-bit sequence numbers, replay window off so a pass can
                repeat), and malformed ESP: a flipped ICV byte, an unknown SPI, a truncated packet
  masque-site.bin  from the MASQUE site's LAN (127.0.0.7), GRE-in-UDP into the client vnetd, which carries it to the
                soaked vnetd over MASQUE CONNECT-IP: old and new flows from its assigned prefix 172.16.0.0/12 (inner
                sizes up to 1200 bytes: the MASQUE tunnel's MTU is 1280), and malformed datagrams: GRE version 1 and
                a bad inner IPv4 checksum (dropped by the client vnetd), a source outside the assigned prefix (carried
                over QUIC, dropped by the soaked vnetd as masque_spoofed_source)
  dc.bin        from the data centre (127.0.0.3): the replies to the three sites' old flows, which ARR returns to the
                tunnel that opened them
Inner sizes vary from 60 to 1400 bytes. Prints the record counts by kind. Needs python3-cryptography (Debian's
/usr/bin/python3)."""
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IN_SPI = 0x1001
OLD_FLOWS = 64
GRE_NEW = 120_000
ESP_NEW = 30_000
MASQUE_NEW = 60_000
SIZES = (60, 100, 200, 576, 1000, 1400)
MASQUE_SIZES = (60, 100, 200, 576, 1000, 1200)


def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_udp(src, dst, sport, dport, size):
    """An inner IPv4/UDP packet of `size` bytes (valid header checksum, UDP checksum 0)."""
    payload = bytes(size - 28)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 0, 0, 64, 17, 0, bytes(src), bytes(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + struct.pack("!HHHH", sport, dport, size - 20, 0) + payload


def gre(inner, key=None, version=0, reserved=0):
    flags = (0x2000 if key is not None else 0) | reserved | version
    return struct.pack("!HH", flags, 0x0800) + (struct.pack("!I", key) if key is not None else b"") + inner


def esp(aead, salt, seq, inner, spi=IN_SPI):
    pad = -(len(inner) + 2) % 4
    plain = inner + bytes(range(1, pad + 1)) + bytes([pad, 4])
    iv = struct.pack("!Q", seq)
    aad = struct.pack("!II", spi, seq)
    return aad + iv + aead.encrypt(salt + iv, plain, aad)


def write(path, records):
    with open(path, "wb") as out:
        for r in records:
            out.write(struct.pack("!H", len(r)) + r)


def main():
    out_dir, key_hex = sys.argv[1], sys.argv[2]
    material = bytes.fromhex(key_hex)
    aead, salt = AESGCM(material[:16]), material[16:]
    dc = (10, 0, 0, 5)
    counts = {}

    def site_flow(site, i):
        return (192, 168, site, 1 + i % 250), 20000 + i // 250

    gre_old = [gre(ipv4_udp(*[site_flow(10, i)[0], dc], site_flow(10, i)[1], 5001, SIZES[i % len(SIZES)]))
               for i in range(OLD_FLOWS)]
    malformed_gre = [
        gre(ipv4_udp((192, 168, 10, 1), dc, 1, 2, 100), version=1),
        gre(ipv4_udp((192, 168, 10, 1), dc, 1, 2, 100), reserved=0x0100),
        b"\x00\x00",
        gre(ipv4_udp((192, 168, 10, 1), dc, 1, 2, 100)[:10] + b"\x00\x00" + ipv4_udp((192, 168, 10, 1), dc, 1, 2, 100)[12:]),
        gre(ipv4_udp((192, 168, 10, 1), dc, 1, 2, 100), key=999),
    ]
    records = []
    for i in range(GRE_NEW):
        if i % 20 == 19:
            records.append(malformed_gre[(i // 20) % len(malformed_gre)])
            counts["gre_malformed"] = counts.get("gre_malformed", 0) + 1
        elif i % 2:
            src = (192, 168, 100 + (i >> 16) % 100, (i >> 8) & 0xFF)
            records.append(gre(ipv4_udp(src, dc, 1024 + (i & 0xFF) * 200 + i % 199, 443, SIZES[i % len(SIZES)])))
            counts["gre_new"] = counts.get("gre_new", 0) + 1
        else:
            records.append(gre_old[(i // 2) % OLD_FLOWS])
            counts["gre_old"] = counts.get("gre_old", 0) + 1
    write(os.path.join(out_dir, "site-gre.bin"), records)

    esp_old = [ipv4_udp(site_flow(20, i)[0], dc, site_flow(20, i)[1], 5002, SIZES[i % len(SIZES)])
               for i in range(OLD_FLOWS)]
    records = []
    for i in range(ESP_NEW):
        seq = i + 1
        if i % 20 == 19:
            kind = (i // 20) % 3
            good = esp(aead, salt, seq, esp_old[0])
            records.append(good[:-1] + bytes([good[-1] ^ 1]) if kind == 0
                           else esp(aead, salt, seq, esp_old[0], spi=0x7777) if kind == 1 else good[:12])
            counts["esp_malformed"] = counts.get("esp_malformed", 0) + 1
        elif i % 2:
            src = (192, 168, 200 + (i >> 16) % 50, (i >> 8) & 0xFF)
            records.append(esp(aead, salt, seq, ipv4_udp(src, dc, 1024 + (i & 0xFF) * 200 + i % 199, 443,
                                                          SIZES[i % len(SIZES)])))
            counts["esp_new"] = counts.get("esp_new", 0) + 1
        else:
            records.append(esp(aead, salt, seq, esp_old[(i // 2) % OLD_FLOWS]))
            counts["esp_old"] = counts.get("esp_old", 0) + 1
    write(os.path.join(out_dir, "site-esp.bin"), records)

    def masque_flow(i):
        return (172, 16, 0, 1 + i % 250), 30000 + i // 250

    masque_old = [gre(ipv4_udp(masque_flow(i)[0], dc, masque_flow(i)[1], 5003, MASQUE_SIZES[i % len(MASQUE_SIZES)]))
                  for i in range(OLD_FLOWS)]
    bad_checksum = ipv4_udp((172, 16, 0, 1), dc, 1, 2, 100)
    malformed_masque = [
        gre(ipv4_udp((172, 16, 0, 1), dc, 1, 2, 100), version=1),
        gre(bad_checksum[:10] + b"\x00\x00" + bad_checksum[12:]),
        gre(ipv4_udp((198, 51, 100, 7), dc, 1, 2, 100)),
    ]
    records = []
    for i in range(MASQUE_NEW):
        if i % 20 == 19:
            records.append(malformed_masque[(i // 20) % len(malformed_masque)])
            counts["masque_malformed"] = counts.get("masque_malformed", 0) + 1
        elif i % 2:
            src = (172, 17 + (i >> 16) % 15, (i >> 8) & 0xFF, i & 0xFF)
            records.append(gre(ipv4_udp(src, dc, 1024 + i % 50000, 443, MASQUE_SIZES[i % len(MASQUE_SIZES)])))
            counts["masque_new"] = counts.get("masque_new", 0) + 1
        else:
            records.append(masque_old[(i // 2) % OLD_FLOWS])
            counts["masque_old"] = counts.get("masque_old", 0) + 1
    write(os.path.join(out_dir, "masque-site.bin"), records)

    replies = []
    for i in range(OLD_FLOWS):
        for site, port in ((10, 5001), (20, 5002)):
            src, sport = site_flow(site, i)
            replies.append(gre(ipv4_udp(dc, src, port, sport, SIZES[(i + 3) % len(SIZES)])))
        src, sport = masque_flow(i)
        replies.append(gre(ipv4_udp(dc, src, 5003, sport, MASQUE_SIZES[(i + 3) % len(MASQUE_SIZES)])))
    write(os.path.join(out_dir, "dc.bin"), replies)
    counts["dc_replies"] = len(replies)
    print("soak packets " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))


main()
