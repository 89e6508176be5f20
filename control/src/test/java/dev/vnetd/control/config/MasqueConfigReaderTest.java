package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ListenerType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MASQUE listeners and tunnels: defaults, the secret files, and each error at its value. */
class MasqueConfigReaderTest {
    private static final String HEADER = """
            listeners:
              - {name: masque, type: masque, listen: 127.0.0.1, tls: {cert: edge.pem, key: edge.key}}
            virtual_networks:
              - {name: default}
            tunnels:
            """;
    private static final String SERVER_TUNNEL = """
              - name: fleet-1
                type: masque
                listener: masque
                auth: {token_file: fleet-1.token}
                virtual_network: default
                assign: [100.96.0.10/32]
                advertise: [10.0.0.0/8]
            """;
    private static final String CLIENT_TUNNEL = """
              - name: to-edge
                type: masque-client
                server: 192.0.2.1
                server_name: edge.example
                auth: {token_file: fleet-1.token}
                virtual_network: default
            """;

    @TempDir
    Path dir;

    @BeforeEach
    void writeFiles() throws Exception {
        Files.writeString(dir.resolve("edge.pem"), "-----BEGIN CERTIFICATE-----\n");
        secret("edge.key", "-----BEGIN PRIVATE KEY-----\n");
        secret("fleet-1.token", "s3cret-token\n");
    }

    private void secret(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private VnetdConfig load(String yaml) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, yaml);
        return ConfigLoader.load(file);
    }

    private List<String> errors(String yaml) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        return e.errors().stream().map(err -> err.line() + ":" + err.column() + ": " + err.message()).toList();
    }

    @Test
    void shouldLoadBothRolesWithOperatorDefaults() throws Exception {
        VnetdConfig config = load(HEADER + SERVER_TUNNEL + CLIENT_TUNNEL);
        assertEquals(443, config.listeners().getFirst().address().getPort());
        MasqueConfig.Listener listener = config.masque().listeners().get("masque");
        assertEquals("/.well-known/masque/ip/{target}/{ipproto}/", listener.uriTemplate());
        TunnelConfig server = config.tunnels().get(0);
        assertEquals(ListenerType.MASQUE, server.type());
        assertEquals(1280, server.mtu());
        MasqueConfig.Tunnel identity = config.masque().tunnels().get("fleet-1");
        assertEquals("s3cret-token", new String(identity.token(), StandardCharsets.UTF_8));
        assertEquals("[100.96.0.10/32]", identity.assign().toString());
        assertFalse(identity.toString().contains("s3cret"), "tokens never appear in toString");
        TunnelConfig client = config.tunnels().get(1);
        assertEquals(ListenerType.MASQUE_CLIENT, client.type());
        assertEquals("masque-client/to-edge", client.listener());
        assertEquals(443, config.masque().tunnels().get("to-edge").server().getPort());
        ForwardingState state = ForwardingStateBuilder.build(config);
        assertEquals(2, state.listeners().length);
        assertTrue(state.tunnel("to-edge").listener().type().masque());
    }

    @Test
    void shouldReportEveryMasqueErrorAtItsValue() throws Exception {
        secret("loose.token", "x\n");
        Files.setPosixFilePermissions(dir.resolve("loose.token"), PosixFilePermissions.fromString("rw-r--r--"));
        List<String> errors = errors("""
                listeners:
                  - {name: masque, type: masque, listen: 127.0.0.1, uri_template: /vpn,
                     tls: {cert: edge.pem, key: edge.key}}
                  - {name: gre, type: gre-udp, listen: 127.0.0.1, tls: {cert: edge.pem, key: edge.key}}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: a, type: masque, listener: masque, auth: {token_file: loose.token},
                     virtual_network: default, assign: [10.0.0.1/8]}
                  - {name: b, type: masque, listener: masque, auth: {client_cert_sha256: abcd},
                     virtual_network: default, assign: [10.1.0.0/16]}
                  - {name: c, type: masque-client, server: 192.0.2.1, auth: {token_file: fleet-1.token},
                     virtual_network: default, remote: 192.0.2.1}
                """);
        assertEquals(List.of(
                "2:67: 'uri_template': a URI template needs {target} and {ipproto} once each: /vpn",
                "4:51: unknown key 'tls' in a listener (allowed: connected_remotes, listen, name, source_ports, type)",
                "8:66: 'token_file' file " + dir.resolve("loose.token") + " is accessible to group or others; chmod 600"
                        + " it",
                "9:41: 'assign' 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)",
                "10:74: 'client_cert_sha256' must be 64 hex digits (colons allowed)",
                "12:5: missing required key 'server_name' in a tunnel",
                "13:32: unknown key 'remote' in a tunnel (allowed: arr, auth, ca, interface_address, mtu, name, server,"
                        + " server_name, type, uri_template, virtual_network)"), errors);
    }

    @Test
    void shouldRefuseTheSameTokenForTwoClientsOfAListener() throws Exception {
        List<String> errors = errors(HEADER + SERVER_TUNNEL + SERVER_TUNNEL.replace("fleet-1\n", "fleet-2\n"));
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.getFirst().contains("has the same token as tunnel 'fleet-1'"), errors.toString());
    }

    @Test
    void shouldLoadAClientCertificateWithOrWithoutAToken() throws Exception {
        secret("site.key", "-----BEGIN PRIVATE KEY-----\n");
        Files.writeString(dir.resolve("site.pem"), "-----BEGIN CERTIFICATE-----\n");
        VnetdConfig config = load(HEADER + CLIENT_TUNNEL.replace("{token_file: fleet-1.token}",
                "{cert: site.pem, key: site.key}") + CLIENT_TUNNEL.replace("to-edge", "both")
                .replace("{token_file: fleet-1.token}", "{token_file: fleet-1.token, cert: site.pem, key: site.key}"));
        MasqueConfig.Tunnel certOnly = config.masque().tunnels().get("to-edge");
        assertEquals(null, certOnly.token());
        assertEquals(dir.resolve("site.pem"), certOnly.clientCert());
        assertEquals(dir.resolve("site.key"), certOnly.clientKey());
        MasqueConfig.Tunnel both = config.masque().tunnels().get("both");
        assertEquals("s3cret-token", new String(both.token(), StandardCharsets.UTF_8));
        assertEquals(dir.resolve("site.key"), both.clientKey());
    }

    @Test
    void shouldRefuseAClientCertificateWithoutItsKeyOrWithAReadableKeyOrNoAuthAtAll() throws Exception {
        Files.writeString(dir.resolve("site.pem"), "-----BEGIN CERTIFICATE-----\n");
        Files.writeString(dir.resolve("open.key"), "-----BEGIN PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(dir.resolve("open.key"), PosixFilePermissions.fromString("rw-r--r--"));
        List<String> errors = errors(HEADER
                + CLIENT_TUNNEL.replace("{token_file: fleet-1.token}", "{cert: site.pem}")
                + CLIENT_TUNNEL.replace("to-edge", "b").replace("{token_file: fleet-1.token}",
                        "{cert: site.pem, key: open.key}")
                + CLIENT_TUNNEL.replace("to-edge", "c").replace("{token_file: fleet-1.token}", "{}"));
        assertEquals(3, errors.size(), errors.toString());
        assertTrue(errors.get(0).contains("missing required key 'key'"), errors.toString());
        assertTrue(errors.get(1).contains("is accessible to group or others; chmod 600 it"), errors.toString());
        assertTrue(errors.get(2).contains("'auth' needs token_file, or cert and key"), errors.toString());
    }

    /** The example names files it does not ship (no committed keys): the test makes them, as its header says. */
    @Test
    void shouldAcceptTheShippedMasqueExample() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("example"));
        Files.copy(Path.of("..", "config", "examples", "masque.yaml"), copy.resolve("masque.yaml"));
        Files.createDirectories(copy.resolve("tls"));
        Files.createDirectories(copy.resolve("tokens"));
        Files.copy(dir.resolve("edge.pem"), copy.resolve("tls/edge.pem"));
        Files.copy(dir.resolve("edge.key"), copy.resolve("tls/edge.key"));
        Files.copy(dir.resolve("fleet-1.token"), copy.resolve("tokens/fleet-1"));
        for (String secret : new String[] {"tls/edge.key", "tokens/fleet-1"}) {
            Files.setPosixFilePermissions(copy.resolve(secret), PosixFilePermissions.fromString("rw-------"));
        }
        VnetdConfig config = ConfigLoader.load(copy.resolve("masque.yaml"));
        assertEquals(List.of("dc", "laptop-fleet-1", "to-upstream"),
                config.tunnels().stream().map(TunnelConfig::name).toList());
    }
}
