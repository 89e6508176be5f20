package dev.vnetd.control.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The MASQUE settings of a configuration, beside the listeners and tunnels they belong to: TLS and URI template of
 * each {@code masque} listener, identity, assignments and routes of each {@code masque} tunnel, server and trust of
 * each {@code masque-client} tunnel. {@link #toString()} shows no token.
 *
 * @param listeners by listener name
 * @param tunnels   by tunnel name
 */
public record MasqueConfig(Map<String, Listener> listeners, Map<String, Tunnel> tunnels) {
    /** A configuration without MASQUE. */
    public static final MasqueConfig NONE = new MasqueConfig(Map.of(), Map.of());

    /**
     * A {@code masque} listener's settings.
     *
     * @param cert        the certificate chain file, PEM
     * @param key         the private key file, PEM (PKCS#8), mode 600
     * @param uriTemplate the CONNECT-IP URI template's path
     */
    public record Listener(Path cert, Path key, String uriTemplate) {
    }

    /**
     * A {@code masque} (server role: a client identity) or {@code masque-client} tunnel's settings.
     *
     * @param client      whether vnetd is the client
     * @param token       the bearer token (both roles), or null
     * @param certSha256  server role: the client certificate's SHA-256, or null
     * @param certSubject server role: the client certificate's subject, or null
     * @param assign      server role: addresses assigned to the client (and its only allowed sources)
     * @param advertise   server role: prefixes advertised to the client
     * @param server      client role: the server's address
     * @param serverName  client role: the TLS server name (SNI, certificate check) and :authority
     * @param ca          client role: PEM certificates to trust, or null for the JDK's trust store
     * @param uriTemplate client role: the server's URI template path
     * @param clientCert  client role: the certificate chain presented to the server (PEM), or null
     * @param clientKey   client role: its private key (PEM, PKCS#8), null exactly when {@code clientCert} is
     */
    public record Tunnel(boolean client, byte[] token, byte[] certSha256, String certSubject, List<IpPrefix> assign,
                         List<IpPrefix> advertise, InetSocketAddress server, String serverName, Path ca,
                         String uriTemplate, Path clientCert, Path clientKey) {
        @Override
        public String toString() {
            return "MasqueConfig.Tunnel[client=" + client + ", token=" + (token == null ? "none" : "(redacted)")
                    + ", certSha256=" + (certSha256 == null ? "none" : HexFormat.of().formatHex(certSha256))
                    + ", certSubject=" + certSubject + ", assign=" + assign + ", advertise=" + advertise
                    + ", server=" + server + ", serverName=" + serverName + ", ca=" + ca + ", uriTemplate="
                    + uriTemplate + ", clientCert=" + clientCert + "]";
        }
    }
}
