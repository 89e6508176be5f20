package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.Cidr;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * A client a MASQUE listener accepts: the tunnel it becomes, how it proves who it is (a bearer token, or the
 * SHA-256 fingerprint or subject of its TLS client certificate), the addresses it is assigned and the routes it is
 * told about. {@link #toString()} never shows the token.
 *
 * @param tunnel            the tunnel's name
 * @param token             the bearer token's bytes, or null
 * @param certSha256        the SHA-256 of the client certificate's DER encoding, or null
 * @param certSubject       the client certificate's subject (RFC 2253 form), or null
 * @param assign            ADDRESS_ASSIGN: the client's addresses, also the only sources its packets may carry
 * @param advertise         ROUTE_ADVERTISEMENT: the prefixes the client may send to through this tunnel
 */
public record MasqueIdentity(String tunnel, byte[] token, byte[] certSha256, String certSubject, List<Cidr> assign,
                             List<Cidr> advertise) {
    /** Whether {@code presented} is this identity's token, compared in constant time. */
    public boolean matchesToken(byte[] presented) {
        return token != null && presented != null && MessageDigest.isEqual(token, presented);
    }

    /** Whether a certificate with this DER SHA-256 and subject is this identity's. */
    public boolean matchesCertificate(byte[] sha256, String subject) {
        return certSha256 != null && sha256 != null && MessageDigest.isEqual(certSha256, sha256)
                || certSubject != null && certSubject.equals(subject);
    }

    @Override
    public String toString() {
        return "MasqueIdentity[tunnel=" + tunnel + ", token=" + (token == null ? "none" : "(redacted)")
                + ", certSha256=" + (certSha256 == null ? "none" : HexFormat.of().formatHex(certSha256))
                + ", certSubject=" + certSubject + ", assign=" + assign + ", advertise=" + advertise + "]";
    }
}
