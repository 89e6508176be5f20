#!/usr/bin/python3
"""Writes the seed corpus of the Jazzer fuzz targets (src/test/resources/.../<Target>Inputs/<method>/) from real
packets built with scapy and the shipped configuration files. Run from anywhere with Debian's python3-scapy:
    /usr/bin/python3 bench/fuzz-seeds.py
Seeds are named seed-<what>; files the fuzzer adds (crash-*, or kept findings) are left alone."""
import os
import struct
import sys

from scapy.all import GRE, ICMP, IP, IPv6, TCP, UDP, Raw, raw  # noqa: E402
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig,  # noqa: E402
                                ICMPv6TimeExceeded, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATAPLANE = os.path.join(ROOT, "dataplane/src/test/resources/dev/vnetd/dataplane/fuzz")
CRYPTO = os.path.join(ROOT, "crypto/src/test/resources/dev/vnetd/crypto/fuzz")
CONTROL = os.path.join(ROOT, "control/src/test/resources/dev/vnetd/control/fuzz")

# TestNetwork: senders of GreInUdpFuzzTest and IcmpFuzzTest, by input byte 0
UDP_SITE_A, UDP_SITE_B, UDP_DC_PROD, UDP_DC_STAGING, UDP_INTERNET, UDP_V6_SITE = range(6)
ICMP_SITE_A, ICMP_V6_SITE, ICMP_DC_PROD, ICMP_SITE_B = range(4)
KEYS = {ICMP_SITE_A: 100, ICMP_SITE_B: 200}

SITE, SERVER, SITE6, SERVER6 = "192.168.10.5", "10.1.2.3", "fd00:a::5", "fd00:10::5"
TCP_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def inner_packets():
    """Inner packets as sites send them: UDP, TCP, ICMP, IPv6, options, fragments, TTL 1, too big."""
    return {
        "udp4": IP(src=SITE, dst=SERVER) / UDP(sport=40000, dport=53) / Raw(b"q" * 32),
        "tcp4-syn": IP(src=SITE, dst=SERVER) / TCP(sport=40001, dport=443, flags="S", options=TCP_OPTIONS),
        "tcp4-data": IP(src=SITE, dst=SERVER) / TCP(sport=40001, dport=443, flags="PA") / Raw(b"GET / HTTP/1.1\r\n"),
        "icmp4-echo": IP(src=SITE, dst=SERVER) / ICMP(id=7, seq=1) / Raw(b"p" * 16),
        "ttl1": IP(src=SITE, dst=SERVER, ttl=1) / UDP(sport=1, dport=2) / Raw(b"t" * 8),
        "ip-options": IP(src=SITE, dst=SERVER, options=[b"\x01\x01\x01\x00"]) / UDP(sport=3, dport=4),
        "fragment-first": IP(src=SITE, dst=SERVER, flags="MF", id=9) / UDP(sport=5, dport=6) / Raw(b"f" * 24),
        "fragment-later": IP(src=SITE, dst=SERVER, frag=3, id=9, proto=17) / Raw(b"f" * 24),
        "too-big": IP(src=SITE, dst=SERVER, flags="DF") / UDP(sport=7, dport=8) / Raw(b"b" * 1450),
        "broadcast": IP(src=SITE, dst="255.255.255.255") / UDP(sport=67, dport=68),
        "udp6": IPv6(src=SITE6, dst=SERVER6) / UDP(sport=40000, dport=53) / Raw(b"q" * 32),
        "tcp6-syn": IPv6(src=SITE6, dst=SERVER6) / TCP(sport=40002, dport=443, flags="S", options=TCP_OPTIONS),
        "icmp6-echo": IPv6(src=SITE6, dst=SERVER6) / ICMPv6EchoRequest(id=7, seq=1, data=b"p" * 16),
        "hbh6": IPv6(src=SITE6, dst=SERVER6) / IPv6ExtHdrHopByHop() / UDP(sport=9, dport=10),
        "frag6": IPv6(src=SITE6, dst=SERVER6) / IPv6ExtHdrFragment(id=1, m=1) / UDP(sport=11, dport=12),
        "hlim1-6": IPv6(src=SITE6, dst=SERVER6, hlim=1) / UDP(sport=13, dport=14),
    }


def gre(key, inner, **flags):
    header = GRE(key_present=1, key=key, **flags) if key is not None else GRE(**flags)
    return raw(header / inner)


def gre_in_udp():
    out = os.path.join(DATAPLANE, "GreInUdpFuzzTestInputs/shouldForwardOrCountEveryDatagram")
    for name, inner in inner_packets().items():
        write(out, "site-a-" + name, bytes([UDP_SITE_A]) + gre(100, inner))
        write(out, "v6-site-" + name, bytes([UDP_V6_SITE]) + gre(None, inner))
    write(out, "site-b-udp4", bytes([UDP_SITE_B]) + gre(200, IP(src=SITE, dst="10.2.2.2") / UDP(sport=1, dport=2)))
    write(out, "dc-prod-reply", bytes([UDP_DC_PROD]) + gre(None, IP(src=SERVER, dst=SITE) / UDP(sport=53, dport=40000)))
    write(out, "internet-no-route", bytes([UDP_INTERNET]) + gre(None, IP(src="8.8.8.8", dst=SITE) / UDP()))
    write(out, "gre-checksum", bytes([UDP_SITE_A]) + gre(100, inner_packets()["udp4"], chksum_present=1))
    write(out, "gre-sequence", bytes([UDP_SITE_A]) + gre(100, inner_packets()["udp4"], seqnum_present=1, seqence_number=5))
    write(out, "unknown-key", bytes([UDP_SITE_A]) + gre(999, inner_packets()["udp4"]))


def raw_gre():
    out = os.path.join(DATAPLANE, "RawGreFuzzTestInputs/shouldForwardOrCountEveryRawPacket")
    for name, inner in inner_packets().items():
        write(out, name, raw(IP(src="127.0.0.6", dst="127.0.0.1", proto=47) / GRE() / inner))
    write(out, "outer-options", raw(IP(src="127.0.0.6", dst="127.0.0.1", proto=47, options=[b"\x01\x01\x01\x00"])
                                    / GRE() / inner_packets()["udp4"]))
    write(out, "unknown-source", raw(IP(src="127.0.0.9", dst="127.0.0.1", proto=47) / GRE() / inner_packets()["udp4"]))


def icmp():
    out = os.path.join(DATAPLANE, "IcmpFuzzTestInputs/shouldNeverAnswerAnIcmpErrorWithAnError")
    quoted4 = IP(src=SERVER, dst=SITE) / UDP(sport=53, dport=40000)
    quoted6 = IPv6(src=SERVER6, dst=SITE6) / UDP(sport=53, dport=40000)
    packets = {
        "echo-ttl1": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, ttl=1) / ICMP(id=1, seq=1)),
        "echo": (ICMP_SITE_A, IP(src=SITE, dst=SERVER) / ICMP(id=2, seq=1) / Raw(b"e" * 8)),
        "unreachable-ttl1": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, ttl=1) / ICMP(type=3, code=1) / raw(quoted4)),
        "time-exceeded-ttl1": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, ttl=1) / ICMP(type=11) / raw(quoted4)),
        "redirect-ttl1": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, ttl=1) / ICMP(type=5, gw="10.0.0.1") / raw(quoted4)),
        "unreachable-no-route": (ICMP_SITE_B, IP(src=SITE, dst="8.8.8.8") / ICMP(type=3, code=3) / raw(quoted4)),
        "echo-no-route": (ICMP_SITE_B, IP(src=SITE, dst="8.8.8.8") / ICMP(id=3, seq=1)),
        "too-big-df": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, flags="DF") / ICMP(id=4) / Raw(b"x" * 1450)),
        "error-too-big-df": (ICMP_SITE_A, IP(src=SITE, dst=SERVER, flags="DF") / ICMP(type=12) / Raw(b"x" * 1450)),
        "reply-echo": (ICMP_DC_PROD, IP(src=SERVER, dst=SITE) / ICMP(type=0, id=2, seq=1)),
        "v6-echo-hlim1": (ICMP_V6_SITE, IPv6(src=SITE6, dst=SERVER6, hlim=1) / ICMPv6EchoRequest(id=5)),
        "v6-unreachable-hlim1": (ICMP_V6_SITE, IPv6(src=SITE6, dst=SERVER6, hlim=1) / ICMPv6DestUnreach()
                                 / raw(quoted6)),
        "v6-time-exceeded-hlim1": (ICMP_V6_SITE, IPv6(src=SITE6, dst=SERVER6, hlim=1) / ICMPv6TimeExceeded()
                                   / raw(quoted6)),
        "v6-too-big-big": (ICMP_V6_SITE, IPv6(src=SITE6, dst=SERVER6) / ICMPv6PacketTooBig(mtu=1280)
                           / Raw(b"x" * 1450)),
        "v6-echo-no-route": (ICMP_V6_SITE, IPv6(src=SITE6, dst="2001:db8::1") / ICMPv6EchoRequest(id=6)),
        "v4-in-v6-site-echo-ttl1": (ICMP_V6_SITE, IP(src=SITE, dst=SERVER, ttl=1) / ICMP(id=8)),
        "v6-echo-destopt-hlim1": (ICMP_V6_SITE, IPv6(src=SITE6, dst=SERVER6, hlim=1) / IPv6ExtHdrDestOpt()
                                  / ICMPv6EchoRequest(id=9)),
        "v6-echo-hbh-no-route": (ICMP_V6_SITE, IPv6(src=SITE6, dst="2001:db8::1") / IPv6ExtHdrHopByHop()
                                 / ICMPv6EchoRequest(id=10)),
    }
    for name, (sender, packet) in packets.items():
        write(out, name, bytes([sender]) + raw(packet))


def icmp_error_behind_extension_header():
    """ICMPv6 errors behind an extension header, hop limit 1: vnetd must not answer them with Time Exceeded."""
    quoted6 = IPv6(src=SERVER6, dst=SITE6) / UDP(sport=53, dport=40000)
    return {
        "v6-unreachable-destopt-hlim1": bytes([ICMP_V6_SITE]) + raw(
            IPv6(src=SITE6, dst=SERVER6, hlim=1) / IPv6ExtHdrDestOpt() / ICMPv6DestUnreach() / raw(quoted6)),
        "v6-unreachable-hbh-no-route": bytes([ICMP_V6_SITE]) + raw(
            IPv6(src=SITE6, dst="2001:db8::1") / IPv6ExtHdrHopByHop() / ICMPv6DestUnreach() / raw(quoted6)),
    }


def tcp_arr():
    out = os.path.join(DATAPLANE, "TcpArrFuzzTestInputs/shouldTranslatePortsAndKeepChecksumsValid")
    segments = {
        "syn-options": TCP(sport=40001, dport=443, flags="S", options=TCP_OPTIONS),
        "syn-ack": TCP(sport=40002, dport=443, flags="SA", options=[("MSS", 1400)]),
        "data": TCP(sport=40003, dport=80, flags="PA") / Raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        "fin": TCP(sport=40004, dport=80, flags="FA"),
        "rst": TCP(sport=40005, dport=80, flags="R"),
        "all-flags": TCP(sport=40006, dport=80, flags="FSRPAUEC", urgptr=1),
        "eol-padding": TCP(sport=40007, dport=22, flags="S", options=[("EOL", None)]),
        "big-window-scale": TCP(sport=40008, dport=22, flags="S", options=[("WScale", 14), ("SAck", (1, 2))]),
    }
    for name, segment in segments.items():
        for sends in (1, 2, 3):
            # TcpArrFuzzTest computes the checksum itself
            write(out, "%s-%d" % (name, sends), bytes([sends - 1]) + raw(segment))
    write(out, "bad-data-offset", bytes([2]) + raw(TCP(sport=40009, dport=80, dataofs=15)))
    write(out, "short", bytes([2]) + raw(TCP(sport=40010, dport=80))[:12])


def mss_clamp():
    """MssClampFuzzTest: bytes 0-1 the clamp, byte 2 bit 0 IPv6, then a TCP segment (IP header and checksum are
    made by the target). Real SYNs and the hostile option encodings the walker must refuse."""
    out = os.path.join(DATAPLANE, "MssClampFuzzTestInputs/shouldClampOnlyTheMssAndKeepTheChecksumValid")

    def segment(flags, options, payload=b"", dataofs=None):
        b = bytearray(raw(TCP(sport=40000, dport=443, flags=flags, seq=1, options=options) / payload))
        if dataofs is not None:
            b[12] = (dataofs << 4) | (b[12] & 0x0F)
        return b

    def put(name, clamp, v6, data):
        write(out, name, struct.pack("!HB", clamp, 1 if v6 else 0) + bytes(data))

    padded = [("MSS", 1460)] + [("NOP", None)] * 4
    put("linux-syn-v4", 1360, False, segment("S", TCP_OPTIONS))
    put("linux-syn-v6", 1340, True, segment("S", [("MSS", 1440)] + TCP_OPTIONS[1:]))
    put("syn-ack", 1200, False, segment("SA", [("MSS", 8960), ("NOP", None), ("NOP", None), ("SAckOK", b"")]))
    put("mss-below-clamp", 1400, False, segment("S", [("MSS", 536)]))
    put("no-mss", 1000, False, segment("S", [("NOP", None), ("WScale", 7), ("SAckOK", b"")]))
    put("odd-offset", 1000, False, segment("S", [("NOP", None), ("MSS", 1460)] + [("NOP", None)] * 3))
    put("eol-first", 1000, False, segment("S", [("EOL", None), ("MSS", 1460)]))
    put("ack-with-mss", 1000, False, segment("A", [("MSS", 1460)], b"data"))
    zero = segment("S", padded)
    zero[21] = 0
    put("zero-length-option", 1000, False, zero)
    overlong = segment("S", [(30, b"\x00" * 2), ("MSS", 1460)])
    overlong[21] = 40
    put("length-past-header", 1000, False, overlong)
    short = segment("S", padded)
    short[21] = 3
    put("mss-length-3", 1000, False, short)
    put("data-offset-beyond", 1000, False, segment("S", [("MSS", 1460)], dataofs=15))
    put("data-offset-short", 1000, False, segment("S", [("MSS", 1460)], dataofs=4))
    put("truncated-in-options", 1000, False, segment("S", TCP_OPTIONS)[:23])
    put("truncated-header", 1000, False, segment("S", TCP_OPTIONS)[:15])
    put("max-options", 600, True, segment("S", [("NOP", None)] * 36 + [("MSS", 9000)]))
    put("clamp-zero", 0, False, segment("S", [("MSS", 1)]))


def esp():
    out = os.path.join(CRYPTO, "EspFuzzTestInputs/shouldDecryptSealedPacketsAndRefuseAltered")
    inner4 = raw(IP(src=SITE, dst=SERVER) / UDP(sport=1, dport=2) / Raw(b"e" * 40))
    inner6 = raw(IPv6(src=SITE6, dst=SERVER6) / TCP(sport=3, dport=4, flags="S"))
    for transform in range(8):
        for flags, name in ((0x00, "heap"), (0x01, "esn"), (0x04, "bc"), (0x08, "direct"), (0x1d, "esn-bc-direct-w0"),
                            (0x20, "w1024")):
            write(out, "t%d-%s" % (transform, name),
                  bytes([transform, flags]) + struct.pack(">IHBB", 1, 0, 0, 4) + inner4)
        write(out, "t%d-v6-seq-high" % transform,
              bytes([transform, 0x31]) + struct.pack(">IHBB", 0xFFFFFFF0, 0, 0, 41) + inner6)
        write(out, "t%d-dummy" % transform, bytes([transform, 0]) + struct.pack(">IHBB", 7, 0, 0, 59))
        write(out, "t%d-mutated-icv" % transform,
              bytes([transform, 0]) + struct.pack(">IHBB", 9, 0xFFFF, 0x01, 4) + inner4)
        write(out, "t%d-mutated-spi" % transform,
              bytes([transform, 0]) + struct.pack(">IHBB", 9, 2, 0x10, 4) + inner4)
        write(out, "t%d-raw" % transform,
              bytes([transform, 0x02]) + struct.pack(">IHBB", 0, 0, 0, 0) + struct.pack(">II", 0x1001, 1)
              + bytes(range(64)))
    write(out, "raw-ike-marker", bytes([0, 0x02]) + bytes(8) + bytes(32))
    write(out, "raw-truncated", bytes([0, 0x02]) + bytes(8) + struct.pack(">I", 0x1001))


def replay():
    out = os.path.join(CRYPTO, "ReplayWindowFuzzTestInputs/shouldAgreeWithReferenceModel")

    def ops(size, steps):
        return struct.pack(">H", size) + b"".join(struct.pack(">Bh", kind, delta) for kind, delta in steps)

    write(out, "in-order", ops(64, [(1, 1)] * 40))
    write(out, "replays", ops(64, [(1, 5), (1, 0), (0, 0), (1, -3), (1, -3), (0, -3), (1, -70), (0, -64)]))
    write(out, "jumps", ops(1024, [(1, 100), (3, 1), (1, -1000), (1, -1023), (3, 2), (0, -1), (1, -2000)]))
    write(out, "window-off", ops(0, [(1, 7), (1, 0), (1, -5), (0, -5)]))
    write(out, "max-window", ops(4096, [(1, 4000), (1, -3999), (1, -4095), (1, -4096), (3, 5), (1, -4095)]))
    write(out, "esn-infer", ops(64, [(3, 4095), (3, 1), (4, -100), (4, 100), (1, 10), (4, -50)]))
    write(out, "block-edges", ops(32, [(1, 15), (1, 1), (1, 16), (1, -16), (1, -17), (1, 48), (0, -31), (1, -32)]))


def key_material():
    out = os.path.join(CRYPTO, "KeyMaterialFuzzTestInputs/shouldParseOrRejectWithLocatedError")
    gcm128 = "00112233445566778899aabbccddeeff01020304"
    cbc = "00" * 16 + "11" * 32
    texts = {
        "gcm128": (0, gcm128 + "\n"),
        "gcm128-comment": (0, "# site-a inbound\n" + gcm128[:20] + " " + gcm128[20:] + "  # salt last\n"),
        "gcm256-0x": (1, "0x" + "ab" * 36),
        "chacha": (6, ":".join(["cd"] * 36)),
        "cbc": (7, cbc),
        "odd-digits": (0, gcm128[:-1]),
        "bad-char": (0, gcm128[:10] + "zz" + gcm128[12:]),
        "too-short": (1, gcm128),
        "empty": (0, ""),
        "crlf": (0, gcm128[:20] + "\r\n" + gcm128[20:] + "\r\n"),
    }
    for name, (transform, text) in texts.items():
        write(out, name, bytes([transform]) + text.encode())


def config():
    out = os.path.join(CONTROL, "ConfigLoaderFuzzTestInputs/shouldLoadOrReportLocatedErrors")
    shipped = [os.path.join(ROOT, "config/vnetd.yaml")]
    examples = os.path.join(ROOT, "config/examples")
    shipped += [os.path.join(examples, f) for f in sorted(os.listdir(examples)) if f.endswith(".yaml")]
    for path in shipped:
        with open(path, "rb") as f:
            write(out, os.path.basename(path), f.read())
    snippets = {
        "empty.yaml": b"",
        "not-a-map.yaml": b"- a\n- b\n",
        "bad-indent.yaml": b"node:\n  name: a\n name: b\n",
        "anchors.yaml": b"a: &x {name: n}\nnode: *x\n",
        "unknown-key.yaml": b"nodes: {}\n",
        "bad-prefix.yaml": b"routes:\n  - {prefix: 10.0.0.0/33, virtual_network: x, via: y}\n",
        "include-missing.yaml": b"include: [missing.yaml]\n",
        "tab.yaml": b"node:\n\tname: a\n",
        "tags.yaml": b"node: !!binary aGVsbG8=\n",
    }
    for name, text in snippets.items():
        write(out, name, text)


def main():
    gre_in_udp()
    raw_gre()
    icmp()
    tcp_arr()
    mss_clamp()
    esp()
    replay()
    key_material()
    config()
    if len(sys.argv) > 1 and sys.argv[1] == "--extension-header-reproducers":
        for name, data in icmp_error_behind_extension_header().items():
            with open(name, "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
