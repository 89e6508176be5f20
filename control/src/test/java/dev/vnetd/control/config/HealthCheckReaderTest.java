package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.HealthCheckConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthCheckReaderTest {
    @TempDir
    Path dir;

    private static String config(String tunnelExtra) {
        return """
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - name: dc
                    type: gre-udp
                    listener: gre-udp
                    remote: 127.0.0.3
                    virtual_network: v
                """ + tunnelExtra.indent(4);
    }

    private HealthCheckConfig load(String tunnelExtra) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config(tunnelExtra));
        return ConfigLoader.load(file).tunnels().getFirst().healthCheck();
    }

    private List<String> errors(String tunnelExtra) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config(tunnelExtra));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        return e.errors().stream().map(err -> err.line() + ":" + err.column() + ": " + err.message()).toList();
    }

    @Test
    void shouldHaveNoHealthCheckUnlessConfigured() throws Exception {
        assertNull(load("interface_address: 169.254.20.0/31"));
    }

    @Test
    void shouldFillInCloudflaresDefaultsAndTheFarEndOfTheSlash31() throws Exception {
        HealthCheckConfig hc = load("""
                interface_address: 169.254.20.0/31
                health_check: {}
                """);

        assertTrue(hc.enabled());
        assertFalse(hc.request(), "reply probes by default, as Cloudflare");
        assertEquals("mid", hc.rate());
        assertEquals(Duration.ofSeconds(1), hc.interval());
        assertEquals(InetAddress.ofLiteral("169.254.20.0"), hc.local());
        assertEquals(InetAddress.ofLiteral("169.254.20.1"), hc.target(), "the other end of the /31");
    }

    @Test
    void shouldReadEveryKey() throws Exception {
        HealthCheckConfig hc = load("""
                interface_address: 10.100.0.9/30
                health_check: {enabled: false, type: request, target: 192.0.2.1, rate: high}
                """);

        assertFalse(hc.enabled());
        assertTrue(hc.request());
        assertEquals(InetAddress.ofLiteral("192.0.2.1"), hc.target());
        assertEquals(Duration.ofMillis(250), hc.interval());
    }

    @Test
    void shouldTakeTheOtherHostOfASlash30() throws Exception {
        assertEquals(InetAddress.ofLiteral("10.100.0.10"), load("""
                interface_address: 10.100.0.9/30
                health_check: {type: request}
                """).target());
        assertEquals(InetAddress.ofLiteral("10.100.0.9"), load("""
                interface_address: 10.100.0.10/30
                health_check: {type: request}
                """).target());
    }

    @Test
    void shouldReportEveryMistakeWhereItIs() throws Exception {
        List<String> errors = errors("""
                interface_address: 10.100.0.8/29
                health_check: {type: ping, rate: fast, colour: red}
                """);

        assertEquals(List.of(
                "12:19: 'health_check' needs a 'target': the interface address 10.100.0.8/29 is not one end of a /31"
                        + " or a host of a /30, so the far end is unknown",
                "12:26: 'type' must be request or reply, not 'ping'",
                "12:38: 'rate' must be low, mid or high, not 'fast'",
                "12:44: unknown key 'colour' in a health_check block (allowed: enabled, rate, target, type)"),
                errors);
    }

    @Test
    void shouldNeedAnIpv4InterfaceAddress() throws Exception {
        assertEquals(List.of("11:19: 'health_check' needs an IPv4 'interface_address' on the tunnel: probes are sent "
                + "from it and answered to it"), errors("health_check: {target: 192.0.2.1}"));
    }

    @Test
    void shouldRefuseATargetThatIsNotAnIpv4AddressOrIsTheTunnelsOwn() throws Exception {
        assertEquals(List.of("12:28: 'target' must be a literal IPv4 address, not 'fd00::1'"), errors("""
                interface_address: 169.254.20.0/31
                health_check: {target: fd00::1}
                """));
        assertEquals(List.of("12:28: 'target' 169.254.20.0 is the tunnel's own interface address"), errors("""
                interface_address: 169.254.20.0/31
                health_check: {target: 169.254.20.0}
                """));
    }

    @Test
    void shouldRefuseTheNetworkAddressOfASlash30WithoutATarget() throws Exception {
        assertTrue(errors("""
                interface_address: 10.100.0.8/30
                health_check: {}
                """).getFirst().contains("needs a 'target'"));
    }
}
