package dev.vnetd.control.config;

import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private static final String VALID = """
            node: {name: edge-1, workers: 2, transport: epoll}
            listeners:
              - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754}
              - {name: gre, type: gre, listen: 0.0.0.0}
            virtual_networks:
              - {name: default}
              - {name: production, fallback: default}
            tunnels:
              - {name: site-a, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, key: 100,
                 virtual_network: production, mtu: 1400, arr: true}
              - {name: dc, type: gre, listener: gre, remote: 192.0.2.7, virtual_network: production}
            routes:
              - {prefix: 10.0.0.0/8, virtual_network: production, via: dc, priority: 100, weight: 1}
              - {prefix: 10.0.0.0/8, virtual_network: production, via: site-a, priority: 200}
            """;

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
    void shouldLoadAValidConfigurationWithDefaultsFilledIn() throws Exception {
        VnetdConfig config = load(VALID);

        assertEquals("edge-1", config.node().name());
        assertEquals(2, config.node().workers());
        assertEquals("127.0.0.1:9400", config.admin().listen().getHostString() + ":" + config.admin().listen().getPort());
        assertEquals(ConfigLoader.DEFAULT_FLOW_CAPACITY, config.flowTable().capacity());
        assertEquals(ListenerType.GRE, config.listeners().get(1).type());
        VnetdConfig.TunnelConfig site = config.tunnels().get(0);
        assertEquals(4754, site.remote().getPort(), "GRE-in-UDP remotes default to port 4754");
        assertEquals(100, site.key());
        assertEquals(1400, site.mtu());
        assertTrue(site.arr());
        VnetdConfig.TunnelConfig dc = config.tunnels().get(1);
        assertEquals(1476, dc.mtu(), "plain GRE over IPv4 without key: 1500 - 20 - 4");
        assertEquals(-1, dc.key());
        assertEquals(2, config.routes().size());
    }

    @Test
    void shouldReportFiveDifferentMistakesAtOnceWithLineAndColumn() throws Exception {
        List<String> errors = errors("""
                node: {name: edge-1, workers: two}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site-a, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: prod}
                routes:
                  - {prefix: 10.0.0.0/33, virtual_network: production, via: site-a}
                  - {prefix: 10.1.0.0/16, virtual_network: production, via: site-a, wieght: 2}
                  - {prefix: 10.2.0.0/16, virtual_network: production, via: nowhere}
                """);

        assertEquals(List.of(
                "1:31: 'workers' must be an integer, not 'two'",
                "7:5: tunnel 'site-a' names unknown virtual network 'prod'",
                "9:14: 'prefix' must be ADDRESS/LENGTH, like 10.0.0.0/8 or fd00::/8, not '10.0.0.0/33'",
                "10:69: unknown key 'wieght' in a route (did you mean 'weight'?)",
                "11:5: route 10.2.0.0/16 goes via unknown tunnel 'nowhere'"), errors);
    }

    @Test
    void shouldReadMssClampAutoOrASizeAndLeaveItOffWhenAbsent() throws Exception {
        VnetdConfig config = load(VALID.replace("mtu: 1400, arr: true}", "mtu: 1400, arr: true, mss_clamp: auto}")
                .replace("remote: 192.0.2.7, virtual_network: production}",
                        "remote: 192.0.2.7, virtual_network: production, mss_clamp: 1300}"));

        assertEquals(Tunnel.MSS_CLAMP_AUTO, config.tunnels().get(0).mssClamp());
        assertEquals(1300, config.tunnels().get(1).mssClamp());
        assertEquals(Tunnel.MSS_CLAMP_OFF, load(VALID).tunnels().get(0).mssClamp());
    }

    @Test
    void shouldReportMssClampsThatAreNotAutoOrOutOfRangeWithTheirPosition() throws Exception {
        List<String> errors = errors("""
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:4754}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: a, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, key: 1,
                     virtual_network: production, mtu: 1400, mss_clamp: 1361}
                  - {name: b, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, key: 2,
                     virtual_network: production, mss_clamp: 100}
                  - {name: c, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, key: 3,
                     virtual_network: production, mss_clamp: automatic}
                """);

        assertEquals(List.of(
                "7:57: 'mss_clamp' must be between 536 and 1360, not 1361",
                "9:46: 'mss_clamp' must be between 536 and 1424, not 100",
                "11:46: 'mss_clamp' must be auto or a segment size in bytes, not 'automatic'"), errors);
    }

    @Test
    void shouldReportSyntaxErrorsWithTheirPosition() throws Exception {
        List<String> errors = errors("listeners:\n  - {name: a, type: gre-udp\n");
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().startsWith("3:1: YAML syntax:"), errors.toString());
    }

    @Test
    void shouldRejectDuplicatesOverlapsAndMismatchedTypes() throws Exception {
        List<String> errors = errors("""
                listeners:
                  - {name: a, type: gre-udp, listen: 0.0.0.0:4754}
                  - {name: b, type: gre-udp, listen: 127.0.0.1:4754}
                  - {name: a, type: gre, listen: 127.0.0.1}
                virtual_networks:
                  - {name: v}
                  - {name: v}
                  - {name: w, fallback: w}
                tunnels:
                  - {name: t1, type: gre, listener: b, remote: 127.0.0.2, virtual_network: v}
                  - {name: t2, type: gre-udp, listener: b, remote: 127.0.0.2, virtual_network: v}
                  - {name: t3, type: gre-udp, listener: b, remote: 127.0.0.2, virtual_network: v}
                routes:
                  - {prefix: 10.0.0.1/8, virtual_network: v, via: t2}
                  - {prefix: 10.0.0.0/8, virtual_network: w, via: t2}
                """);

        assertEquals(List.of(
                "3:5: listener 'b' overlaps listener 'a' (same gre-udp socket 127.0.0.1:4754)",
                "4:5: duplicate listener name 'a' (first at line 2)",
                "7:5: duplicate virtual network name 'v' (first at line 6)",
                "8:5: virtual network 'w' cannot fall back to itself",
                "10:5: tunnel 't1' is gre but listener 'b' is gre-udp",
                "12:5: tunnel 't3' cannot be told from tunnel 't2': same listener, remote address and key",
                "14:14: 'prefix' 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)",
                "15:5: route 10.0.0.0/8 in virtual network 'w' goes via tunnel 't2' of virtual network 'v'; "
                        + "a tunnel carries one virtual network"), errors);
    }

    @Test
    void shouldValidateValueRangesAndAddresses() throws Exception {
        List<String> errors = errors("""
                node: {transport: dpdk}
                admin: {listen: 127.0.0.1}
                flow_table: {capacity: 10}
                listeners:
                  - {name: a, type: gre-udp, listen: localhost:4754}
                  - {name: b, type: gre, listen: 127.0.0.1:47}
                  - {name: c, type: vxlan, listen: 127.0.0.1}
                """);

        assertEquals(List.of(
                "1:19: 'transport' must be one of auto, io_uring, epoll, nio, not 'dpdk'",
                "2:17: 'listen' needs a port, like 127.0.0.1:9400",
                "3:24: 'capacity' must be between 1024 and 268435456, not 10",
                "5:38: 'listen' must be a literal IP address with an optional :PORT, not 'localhost:4754'",
                "6:34: 'listen' of a plain GRE or ESP (IP protocol 47 or 50) listener or tunnel takes no port:"
                        + " '127.0.0.1:47'",
                "7:21: 'type' must be gre-udp, gre, esp-udp, esp or masque, not 'vxlan'"), errors);
    }

    @Test
    void shouldMergeIncludedFilesRelativeToTheMainFile() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("routes.d"));
        Files.writeString(routes.resolve("10-extra.yaml"), """
                routes:
                  - {prefix: 172.16.0.0/12, virtual_network: production, via: dc}
                """);
        Files.writeString(routes.resolve("20-bad.yaml"), """
                routes:
                  - {prefix: 172.17.0.0/16, virtual_network: production, via: ghost}
                """);
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, VALID + "include: [routes.d/*.yaml]\n");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(1, e.errors().size(), e.getMessage());
        ConfigError error = e.errors().getFirst();
        assertTrue(error.file().endsWith("routes.d/20-bad.yaml"), error.toString());
        assertEquals(2, error.line());

        Files.delete(routes.resolve("20-bad.yaml"));
        assertEquals(3, ConfigLoader.load(file).routes().size());
    }

    @Test
    void shouldReportAMissingIncludedFile() throws Exception {
        List<String> errors = errors(VALID + "include: [missing.yaml]\n");
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().startsWith("15:11: included file "), errors.toString());
    }

    @Test
    void shouldRefuseAnIncludeGlobThatMatchesNoFileAndAnEmptyIncludedFile() throws Exception {
        Files.createDirectory(dir.resolve("routes.d"));
        List<String> errors = errors(VALID + "include: [routes.d/*.yaml, nowhere/*.yaml]\n");
        assertEquals(2, errors.size(), errors.toString());
        assertTrue(errors.get(0).matches("15:11: 'include' glob \\S+routes.d/\\*\\.yaml matches no file"), errors.toString());
        assertTrue(errors.get(1).matches("15:28: 'include' glob \\S+nowhere/\\*\\.yaml matches no file"), errors.toString());

        Files.writeString(dir.resolve("routes.d/10-empty.yaml"), "# being written\n");
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, VALID + "include: [routes.d/*.yaml]\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(List.of(dir.resolve("routes.d/10-empty.yaml") + ":1:1: included file is empty"),
                e.errors().stream().map(ConfigError::toString).toList());
    }

    @Test
    void shouldLoadTheShippedDefaultConfiguration() throws Exception {
        VnetdConfig config = ConfigLoader.loadEmbedded();
        assertEquals(ConfigLoader.EMBEDDED_NAME, config.source());
        assertEquals(3, config.virtualNetworks().size());
        VnetdConfig shipped = ConfigLoader.load(Path.of("../config/vnetd.yaml"));
        assertEquals(config.routes().size(), shipped.routes().size(), "the jar embeds config/vnetd.yaml");
        assertEquals(config.tunnels().size(), shipped.tunnels().size());
    }

    @Test
    void shouldReadFlowTableSettings() throws Exception {
        VnetdConfig config = load(VALID + "flow_table: {capacity: 4096, persist: state/flows.bin, "
                + "timeouts: {udp: 5m, icmp: 10s}}\n");
        assertEquals(4096, config.flowTable().capacity());
        assertEquals(dir.resolve("state/flows.bin"), config.flowTable().persist(), "relative to the config file");
        assertEquals(java.time.Duration.ofMinutes(5), config.flowTable().timeouts().udp());
        assertEquals(java.time.Duration.ofSeconds(10), config.flowTable().timeouts().icmp());
        assertEquals(dev.vnetd.flowtable.FlowTimeouts.DEFAULTS.tcpEstablished(),
                config.flowTable().timeouts().tcpEstablished());

        List<String> errors = errors(VALID
                + "flow_table: {timeouts: {udp: 5x, tcp_established: 0s, icmp: 90d, sctp: 1s}}\n");
        assertEquals(List.of(
                "15:30: 'udp' must be a duration from 1s to 20d like 30s, 5m, 6h or 2d, not '5x'",
                "15:51: 'tcp_established' must be a duration from 1s to 20d like 30s, 5m, 6h or 2d, not '0s'",
                "15:61: 'icmp' must be a duration from 1s to 20d like 30s, 5m, 6h or 2d, not '90d'",
                "15:66: unknown key 'sctp' in flow_table.timeouts (did you mean 'icmp'?)"), errors);
    }

    @Test
    void shouldReadATunnelsFlowQuota() throws Exception {
        VnetdConfig config = load(VALID.replace("mtu: 1400, arr: true}", "mtu: 1400, arr: true, max_flows: 5000}"));

        assertEquals(5000, config.tunnels().get(0).maxFlows());
        assertEquals(Tunnel.UNLIMITED_FLOWS, config.tunnels().get(1).maxFlows(), "no max_flows: no quota");
    }

    @Test
    void shouldRejectAFlowQuotaOutOfRangeOrWithoutArr() throws Exception {
        List<String> zero = errors(VALID.replace("mtu: 1400, arr: true}", "mtu: 1400, arr: true, max_flows: 0}"));
        List<String> noArr = errors(VALID.replace("virtual_network: production}",
                "virtual_network: production, max_flows: 10}"));

        assertEquals(List.of("10:68: 'max_flows' must be between 1 and 268435456, not 0"), zero);
        assertEquals(List.of("11:101: 'max_flows' limits the ARR flows a tunnel opens; it needs 'arr: true'"),
                noArr);
    }

    @Test
    void shouldConnectSixtyFourRemotesByDefaultOnGreInUdpListenersWithSourcePortsAndEspInUdpListeners()
            throws Exception {
        String withEsp = VALID.replace("  - {name: gre, type: gre, listen: 0.0.0.0}",
                "  - {name: gre, type: gre, listen: 0.0.0.0}\n  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1}");
        VnetdConfig defaults = load(withEsp);
        VnetdConfig set = load(withEsp.replace("listen: 127.0.0.1:4754}",
                "listen: 127.0.0.1:4754, connected_remotes: 3}").replace("listen: 127.0.0.1}",
                "listen: 127.0.0.1, connected_remotes: 0}"));
        VnetdConfig off = load(VALID.replace("listen: 127.0.0.1:4754}", "listen: 127.0.0.1:4754, source_ports: 0}"));

        assertEquals(ConfigLoader.DEFAULT_CONNECTED_REMOTES, defaults.listeners().get(0).connectedRemotes());
        assertEquals(0, defaults.listeners().get(1).connectedRemotes(), "plain GRE: raw sockets, nothing to connect");
        assertEquals(ConfigLoader.DEFAULT_CONNECTED_REMOTES, defaults.listeners().get(2).connectedRemotes(),
                "ESP-in-UDP: connected on its listening port");
        assertEquals(3, set.listeners().get(0).connectedRemotes());
        assertEquals(0, set.listeners().get(2).connectedRemotes());
        assertEquals(0, off.listeners().get(0).connectedRemotes(), "source_ports 0: sent from the listening socket");
    }

    @Test
    void shouldRefuseConnectedRemotesWithoutSourcePortsOnOtherListenersAndOutOfRange() throws Exception {
        List<String> noPorts = errors(VALID.replace("listen: 127.0.0.1:4754}",
                "listen: 127.0.0.1:4754, source_ports: 0, connected_remotes: 2}"));
        List<String> raw = errors(VALID.replace("listen: 0.0.0.0}", "listen: 0.0.0.0, connected_remotes: 2}"));
        List<String> tooMany = errors(VALID.replace("listen: 127.0.0.1:4754}",
                "listen: 127.0.0.1:4754, connected_remotes: 5000}"));

        assertEquals(List.of("3:96: 'connected_remotes' needs 'source_ports' of 1 or more: with 0, packets leave "
                + "from the listening socket, which cannot be connected to one remote"), noPorts);
        assertEquals(List.of("4:64: 'connected_remotes' applies to gre-udp and esp-udp listeners only"), raw);
        assertEquals(List.of("3:79: 'connected_remotes' must be between 0 and 4096, not 5000"), tooMany);
    }

    @Test
    void shouldReportPathsThatCannotBePathsAndBadGlobs() throws Exception {
        List<String> errors = errors(VALID + "include: [\"a\\0b\", \"ysq[mi.u\"]\n"
                + "flow_table: {persist: \"f\\0\"}\n");
        assertEquals(3, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("15:11: 'include' is not a valid path"), errors.toString());
        assertTrue(errors.get(1).startsWith("15:19: 'include' has a bad glob 'ysq[mi.u'"), errors.toString());
        assertTrue(errors.get(2).startsWith("16:23: 'persist' is not a valid path"), errors.toString());
    }
}
