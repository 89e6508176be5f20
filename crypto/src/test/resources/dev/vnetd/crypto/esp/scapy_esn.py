"""RFC 4303 2.2.1 ESN handling for scapy's ESP HMAC, shared by the ESP peers played by scapy (crypto's
scapy_esp.py, control's esp_peer.py).

scapy 2.5 (Debian 12) leaves the ESN high half out of ESP's HMAC: SecurityAssociation passes esn only to the AEAD's
AAD and to AH. RFC 4303 2.2.1 says that with a separate integrity algorithm "the high order bits are included in the
implicit ESP trailer, but are not transmitted", i.e. appended after the Next Header (after the ciphertext) for the
ICV computation only; Linux (authencesn) and scapy upstream since secdev/scapy#3908 (2023) do exactly that.
use_rfc_esn_hmac() finds out whether the installed scapy does, and if not applies that upstream fix to
SecurityAssociation.
"""
import struct

from scapy.layers.inet import IP
from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation
from scapy.packet import Raw, raw


class EsnHmac:
    """scapy's AuthAlgo for one packet with the ESN high half appended to ESP's ICV input (RFC 4303 2.2.1), as
    scapy upstream's AuthAlgo.sign and verify do since secdev/scapy#3908."""

    def __init__(self, algo, esn):
        self.algo = algo
        self.esn = esn

    def __getattr__(self, name):
        return getattr(self.algo, name)

    def icv(self, key, data):
        mac = self.algo.new_mac(key)
        mac.update(data + struct.pack("!L", self.esn))
        return mac.finalize()[:self.algo.icv_size]

    def sign(self, pkt, key, esn_en=False, esn=0):
        pkt[ESP].data += self.icv(key, raw(pkt[ESP]))
        return pkt

    def verify(self, pkt, key, esn_en=False, esn=0):
        size = self.algo.icv_size
        clone = pkt.copy()
        received = clone.data[len(clone.data) - size:]
        clone.data = clone.data[:len(clone.data) - size]
        computed = self.icv(key, raw(clone))
        if received != computed:
            raise IPSecIntegrityError("pkt_icv=%r, computed_icv=%r" % (received, computed))


def scapy_hmac_covers_esn():
    """Whether this scapy's ESP HMAC depends on the ESN high half (scapy 2.5 does not, later versions do)."""
    sa = SecurityAssociation(ESP, spi=0x100, crypt_algo="AES-CBC", crypt_key=bytes(16),
                             auth_algo="SHA2-256-128", auth_key=bytes(32), esn_en=True)
    probe = IP(src="10.0.0.1", dst="10.0.0.2") / Raw(b"esn probe")
    icvs = {raw(sa.encrypt(probe, seq_num=1, iv=bytes(16), esn=high))[-16:] for high in (1, 2)}
    return len(icvs) == 2


def backport_esn_hmac():
    """Makes SecurityAssociation's ESP encryption and decryption use EsnHmac when ESN and an HMAC are on."""
    def with_esn_hmac(original):
        def call(self, pkt, *args, esn_en=None, esn=None, **kwargs):
            if not (esn_en or self.esn_en) or not self.auth_algo.mac:
                return original(self, pkt, *args, esn_en=esn_en, esn=esn, **kwargs)
            algo = self.auth_algo
            self.auth_algo = EsnHmac(algo, esn or self.esn)
            try:
                return original(self, pkt, *args, esn_en=esn_en, esn=esn, **kwargs)
            finally:
                self.auth_algo = algo
        return call

    SecurityAssociation._encrypt_esp = with_esn_hmac(SecurityAssociation._encrypt_esp)
    SecurityAssociation._decrypt_esp = with_esn_hmac(SecurityAssociation._decrypt_esp)


def use_rfc_esn_hmac():
    """Makes scapy's ESP HMAC cover the ESN high half as RFC 4303 2.2.1 says, unless it already does."""
    if not scapy_hmac_covers_esn():
        backport_esn_hmac()
