"""Independent ESP peer for EspScapyInteropTest: scapy's own SecurityAssociation (Debian python3-scapy).

scapy 2.5 always sends a 16-byte AES-GCM ICV whatever crypt_icv_size says, so cases with a 12- or 8-byte ICV are
built here by hand (RFC 4106 layout) on python3-cryptography's GCM, i.e. OpenSSL, which truncates and checks short
tags.

scapy 2.5 (Debian 12) also leaves the ESN high half out of ESP's HMAC: SecurityAssociation passes esn only to the
AEAD's AAD and to AH. RFC 4303 2.2.1 says that with a separate integrity algorithm "the high order bits are included
in the implicit ESP trailer, but are not transmitted", i.e. appended after the Next Header (after the ciphertext) for
the ICV computation only; Linux (authencesn) and scapy upstream since secdev/scapy#3908 (2023) do exactly that. So
when the installed scapy is found to ignore the ESN in ESP's HMAC, backport_esn_hmac() applies that upstream fix to
SecurityAssociation (scapy_esn.py, shared with the control module's peer scripts through this module's test-jar),
and AES-CBC + HMAC with ESN runs through scapy's own encryption, padding and parsing with the RFC's ICV input.

usage: /usr/bin/python3 scapy_esp.py encrypt|decrypt < request.json > response.json

The request is a JSON list of cases; the response has one line per packet, fields separated by spaces.
encrypt: for each case, from sequence number seq_start on (64 bits with ESN), scapy builds inner IPv4 and IPv6
         UDP packets and encrypts them in tunnel mode;
         prints "CASE NEXT_HEADER INNER_HEX ESP_HEX" (ESP_HEX from the SPI through the ICV).
decrypt: for each case, scapy decrypts the given ESP packets (SPI through ICV) with the ESN high halves given;
         prints "CASE ok INNER_HEX" or "CASE error REASON".
"""
import json
import sys

try:
    import os
    import struct
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.packet import Raw, raw
    from scapy_esn import use_rfc_esn_hmac
except ImportError as error:
    sys.stderr.write("scapy_esp.py: cannot import scapy (%s); install Debian python3-scapy\n" % error)
    sys.exit(3)

SIZES = [0, 1, 2, 3, 15, 16, 17, 100, 1372]


def security_association(case):
    key = bytes.fromhex(case["key"])
    tunnel = IP(src="198.51.100.1", dst="198.51.100.2")
    common = dict(spi=case["spi"], tunnel_header=tunnel, esn_en=case["esn"], esn=0)
    transform = case["transform"]
    if transform == "aes-cbc-hmac-sha256":
        return SecurityAssociation(ESP, crypt_algo="AES-CBC", crypt_key=key[:-32],
                                   auth_algo="SHA2-256-128", auth_key=key[-32:], **common)
    algo = "CHACHA20-POLY1305" if transform == "chacha20-poly1305" else "AES-GCM"
    return SecurityAssociation(ESP, crypt_algo=algo, crypt_key=key, **common)


def inner_packets():
    for size in SIZES:
        payload = bytes((i * 7 + size) & 0xFF for i in range(size))
        yield IP(src="10.1.0.1", dst="10.2.0.1", ttl=63) / UDP(sport=1000 + size, dport=53) / Raw(payload), 4
        yield IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=2000 + size, dport=53) / Raw(payload), 41


def short_icv_aad(case, seq):
    high = struct.pack("!I", seq >> 32) if case["esn"] else b""
    return struct.pack("!I", case["spi"]) + high + struct.pack("!I", seq & 0xFFFFFFFF)


def encrypt_short_icv(case):
    material = bytes.fromhex(case["key"])
    key, salt, icv = material[:-4], material[-4:], case["icv"]
    out = []
    seq = case["seq_start"]
    for inner, nh in inner_packets():
        data = raw(inner)
        pad = -(len(data) + 2) % 4
        plain = data + bytes(range(1, pad + 1)) + bytes([pad, nh])
        iv = os.urandom(8)
        encryptor = Cipher(algorithms.AES(key), modes.GCM(salt + iv)).encryptor()
        encryptor.authenticate_additional_data(short_icv_aad(case, seq))
        sealed = encryptor.update(plain) + encryptor.finalize() + encryptor.tag[:icv]
        esp = struct.pack("!II", case["spi"], seq & 0xFFFFFFFF) + iv + sealed
        out.append("%d %s %s" % (nh, data.hex(), esp.hex()))
        seq += 1
    return out


def decrypt_short_icv(case):
    material = bytes.fromhex(case["key"])
    key, salt, icv = material[:-4], material[-4:], case["icv"]
    out = []
    for esp_hex, seq_high in zip(case["packets"], case["seq_highs"]):
        esp = bytes.fromhex(esp_hex)
        seq = seq_high << 32 | struct.unpack("!I", esp[4:8])[0]
        try:
            decryptor = Cipher(algorithms.AES(key), modes.GCM(salt + esp[8:16], esp[-icv:], min_tag_length=icv)
                               ).decryptor()
            decryptor.authenticate_additional_data(short_icv_aad(case, seq))
            plain = decryptor.update(esp[16:-icv]) + decryptor.finalize()
            out.append("ok " + plain[:len(plain) - 2 - plain[-2]].hex())
        except Exception as error:  # InvalidTag and friends: the test wants the reason
            out.append("error %s: %s" % (type(error).__name__, error))
    return out


def encrypt(case):
    if case["icv"] != 16:
        return encrypt_short_icv(case)
    sa = security_association(case)
    out = []
    seq = case["seq_start"]
    for inner, nh in inner_packets():
        if seq & 0xFFFFFFFF == 0:
            seq += 1  # scapy reads seq_num=0 as "use your own counter"; a gap is harmless
        inner = inner.__class__(raw(inner))
        packet = sa.encrypt(inner, seq_num=seq & 0xFFFFFFFF, esn=seq >> 32)
        out.append("%d %s %s" % (nh, raw(inner).hex(), raw(packet[ESP]).hex()))
        seq += 1
    return out


def decrypt(case):
    if case["icv"] != 16:
        return decrypt_short_icv(case)
    sa = security_association(case)
    out = []
    for esp, seq_high in zip(case["packets"], case["seq_highs"]):
        outer = IP(raw(IP(src="198.51.100.2", dst="198.51.100.1", proto=50) / Raw(bytes.fromhex(esp))))
        try:
            out.append("ok " + raw(sa.decrypt(outer, esn=seq_high)).hex())
        except Exception as error:  # scapy raises several types; the test wants the reason
            out.append("error %s: %s" % (type(error).__name__, str(error).replace("\n", " ")))
    return out


def main():
    use_rfc_esn_hmac()
    mode = sys.argv[1]
    cases = json.load(sys.stdin)
    handler = encrypt if mode == "encrypt" else decrypt
    for index, case in enumerate(cases):
        for line in handler(case):
            print(index, line)


if __name__ == "__main__":
    main()
