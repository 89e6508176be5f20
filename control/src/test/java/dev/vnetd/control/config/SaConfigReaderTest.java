package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.dataplane.state.ListenerType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ESP listeners, tunnels and their {@code sa:} blocks: defaults, and every key-file and SA error at its value. */
class SaConfigReaderTest {
    private static final String GCM128_KEY = "00112233445566778899aabbccddeeff01020304";
    private static final String HEADER = """
            listeners:
              - {name: esp-udp, type: esp-udp, listen: 127.0.0.1}
              - {name: esp, type: esp, listen: 127.0.0.1}
            virtual_networks:
              - {name: default}
            tunnels:
            """;

    @TempDir
    Path dir;

    @BeforeEach
    void writeKeys() throws Exception {
        Files.createDirectories(dir.resolve("keys"));
        key("keys/a.in", GCM128_KEY + "\n");
        key("keys/a.out", "# branch a, outbound\n" + GCM128_KEY.replace("00", "ff") + "\n");
    }

    private Path key(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static String tunnel(String name, String type, String listener, String sa) {
        return """
                  - name: %s
                    type: %s
                    listener: %s
                    remote: 127.0.0.2
                    virtual_network: default
                    sa:
                %s""".formatted(name, type, listener, sa.indent(6));
    }

    private static final String GOOD_SA = """
            transform: aes-gcm-128
            inbound:  {spi: 0x00001001, key_file: keys/a.in}
            outbound: {spi: 0x00002001, key_file: keys/a.out}""";

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
    void shouldLoadAnEspTunnelWithOperatorDefaults() throws Exception {
        VnetdConfig config = load(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA));
        assertEquals(ListenerType.ESP_UDP, config.listeners().get(0).type());
        assertEquals(4500, config.listeners().get(0).address().getPort(), "RFC 3948 port");
        assertEquals(0, config.listeners().get(0).sourcePorts(), "ESP-in-UDP answers from port 4500");
        TunnelConfig t = config.tunnels().get(0);
        assertEquals(4500, t.remote().getPort());
        assertEquals(EspTransform.AES_GCM_128, t.sa().transform());
        assertEquals(0x1001, t.sa().inboundSpi());
        assertEquals(0x2001, t.sa().outboundSpi());
        assertEquals(1024, t.sa().replayWindow());
        assertTrue(t.sa().esn());
        assertEquals(1435, t.mtu(), "1500 - 20 IPv4 - 8 UDP - (8 ESP + 8 IV + 2 trailer + 3 pad + 16 ICV)");
        assertFalse(t.sa().toString().contains("0011223344"), "no key bytes in toString");
    }

    @Test
    void shouldLoadPlainEspWithoutPortsAndRespectReplayWindowAndEsn() throws Exception {
        VnetdConfig config = load(HEADER + tunnel("a", "esp", "esp", GOOD_SA + "\nreplay_window: 0\nesn: false"));
        TunnelConfig t = config.tunnels().get(0);
        assertEquals(0, t.remote().getPort());
        assertEquals(0, t.sa().replayWindow());
        assertFalse(t.sa().esn());
        assertEquals(1443, t.mtu(), "no UDP header");
    }

    @Test
    void shouldReportAMissingKeyFileAtItsValue() throws Exception {
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA.replace("keys/a.in",
                "keys/missing")));
        assertEquals(List.of("14:45: key file " + dir.resolve("keys/missing") + " does not exist"), errors);
    }

    @Test
    void shouldRefuseAKeyFileThatGroupOrOthersCanRead() throws Exception {
        Files.setPosixFilePermissions(dir.resolve("keys/a.out"), PosixFilePermissions.fromString("rw-r--r--"));
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA));
        assertEquals(List.of("15:45: key file " + dir.resolve("keys/a.out")
                + " is accessible to group or others (mode 0644); chmod 600 it"), errors);
    }

    @Test
    void shouldReportAWrongKeyLengthWithThePlaceInTheKeyFileButNoKeyBytes() throws Exception {
        key("keys/a.in", "# too short\n  0011223344556677\n");
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA));
        assertEquals(List.of("14:45: key file " + dir.resolve("keys/a.in") + " line 2 column 3: key material is 8"
                + " bytes, aes-gcm-128 needs 20 (16-byte key + 4-byte salt)"), errors);
        assertFalse(errors.getFirst().contains("00112233"));
    }

    @Test
    void shouldReportBadHexAtItsLineAndColumnInTheKeyFile() throws Exception {
        key("keys/a.in", "0011223344556677\n8899zz\n");
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA));
        assertEquals(List.of("14:45: key file " + dir.resolve("keys/a.in") + " line 2 column 5: not a hex digit"
                + " (key files hold hex, '#' comments)"), errors);
    }

    @Test
    void shouldRefuseADuplicateInboundSpiOnOneListener() throws Exception {
        String second = GOOD_SA.replace("0x00002001", "0x00002002");
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA)
                + tunnel("b", "esp-udp", "esp-udp", second));
        assertEquals(List.of("23:23: tunnel 'b' uses inbound SPI 0x1001 of tunnel 'a' on listener 'esp-udp';"
                + " inbound SPIs must be unique per listener"), errors);
    }

    @Test
    void shouldAllowTheSameInboundSpiOnDifferentListeners() throws Exception {
        VnetdConfig config = load(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA)
                + tunnel("b", "esp", "esp", GOOD_SA));
        assertEquals(2, config.tunnels().size());
    }

    @Test
    void shouldRefuseReservedSpis() throws Exception {
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA.replace("0x00001001", "255")
                .replace("0x00002001", "0")));
        assertEquals(List.of(
                "14:23: 'spi' must be at least 256: 1-255 are reserved by IANA and 0 marks IKE messages"
                        + " (RFC 4303 2.1), not 255",
                "15:23: 'spi' must be at least 256: 1-255 are reserved by IANA and 0 marks IKE messages"
                        + " (RFC 4303 2.1), not 0"), errors);
    }

    @Test
    void shouldReportUnknownTransformsAndOutOfRangeWindows() throws Exception {
        List<String> errors = errors(HEADER + tunnel("a", "esp-udp", "esp-udp", GOOD_SA.replace("aes-gcm-128",
                "3des") + "\nreplay_window: 5000"));
        assertEquals(List.of(
                "13:18: 'transform' must be one of aes-gcm-128, aes-gcm-256, aes-gcm-128-icv12, aes-gcm-256-icv12,"
                        + " aes-gcm-128-icv8, aes-gcm-256-icv8, chacha20-poly1305, aes-cbc-hmac-sha256, not '3des'",
                "16:22: 'replay_window' must be between 0 and 4096, not 5000"), errors);
    }

    @Test
    void shouldRequireAnSaForEspAndRefuseOneForGre() throws Exception {
        List<String> errors = errors("""
                listeners:
                  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1}
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: a, type: esp-udp, listener: esp-udp, remote: 127.0.0.2, virtual_network: default, key: 5}
                  - {name: b, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: default, sa: {}}
                """);
        assertEquals(List.of(
                "7:5: missing required key 'sa' in a tunnel",
                "7:99: 'key' is a GRE key; an esp-udp tunnel is identified by its inbound SPI (sa.inbound.spi)",
                "8:98: 'sa' applies to esp-udp and esp tunnels only"), errors);
    }

    @Test
    void shouldRefuseSourcePortsOnEspListeners() throws Exception {
        List<String> errors = errors("""
                listeners:
                  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1, source_ports: 4}
                """);
        assertEquals(List.of("2:69: 'source_ports' applies to gre-udp listeners only"), errors);
    }

    /** Git keeps no modes but the executable bit, so the example's key files are copied and made 0600 here. */
    @Test
    void shouldAcceptTheShippedEspExample() throws Exception {
        Path examples = Path.of("..", "config", "examples");
        Path copy = Files.createDirectories(dir.resolve("example"));
        Files.copy(examples.resolve("esp.yaml"), copy.resolve("esp.yaml"));
        Files.createDirectories(copy.resolve("keys"));
        try (var keys = Files.list(examples.resolve("keys"))) {
            for (Path k : keys.toList()) {
                Path target = copy.resolve("keys").resolve(k.getFileName());
                Files.copy(k, target);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
            }
        }
        VnetdConfig config = ConfigLoader.load(copy.resolve("esp.yaml"));
        assertEquals(List.of(ListenerType.ESP_UDP, ListenerType.ESP),
                config.listeners().stream().map(VnetdConfig.ListenerConfig::type).toList());
        assertEquals(EspTransform.CHACHA20_POLY1305, config.tunnels().get(1).sa().transform());
    }

    @Test
    void shouldResolveKeyFilesAgainstTheIncludedFilesDirectory() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("tunnels.d"));
        Files.createDirectories(sub.resolve("keys"));
        key("tunnels.d/keys/a.in", GCM128_KEY);
        key("tunnels.d/keys/a.out", GCM128_KEY);
        Files.writeString(sub.resolve("a.yaml"), "tunnels:\n" + tunnel("a", "esp-udp", "esp-udp", GOOD_SA));
        VnetdConfig config = load(HEADER.replace("tunnels:\n", "include: tunnels.d/*.yaml\n"));
        assertEquals("a", config.tunnels().getFirst().name());
        assertTrue(config.tunnels().getFirst().sa().inboundSpiWhere().file().endsWith("a.yaml"));
    }
}
