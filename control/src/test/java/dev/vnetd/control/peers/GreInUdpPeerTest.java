package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GRE-in-UDP (RFC 8086) through a running vnetd on loopback, against scapy as the sites and data centres, with
 * tshark dissecting everything vnetd sent. Outer IPv4 and IPv6, inner IPv4 and IPv6, two virtual networks holding
 * the same prefixes.
 */
class GreInUdpPeerTest {
    @TempDir
    static Path dir;

    static Daemon daemon;
    static int port;
    static int port6;
    static int peerPort;
    static Map<String, Map<String, String>> results;
    static Path capture;
    static Tshark tshark;

    @BeforeAll
    static void runPeers() throws Exception {
        Prerequisites.scapy();
        Prerequisites.tshark();
        port = FreePort.udp("127.0.0.1");
        port6 = FreePort.udp("::1");
        peerPort = FreePort.udp("127.0.0.2");
        String yaml = """
                node: {name: peer-test, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                  - {name: gre-udp6, type: gre-udp, listen: "[::1]:%d"}
                virtual_networks:
                  - {name: production}
                  - {name: staging}
                tunnels:
                  - {name: site-a, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:%4$d, key: 100, virtual_network: production, interface_address: 169.254.10.0/31}
                  - {name: site-b, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:%4$d, key: 200, virtual_network: staging}
                  - {name: dc-prod, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%4$d, virtual_network: production}
                  - {name: dc-staging, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%4$d, virtual_network: staging}
                  - {name: site-v6, type: gre-udp, listener: gre-udp6, remote: "[::1]:%4$d", virtual_network: production}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: production, via: dc-prod}
                  - {prefix: fd00:10::/32, virtual_network: production, via: dc-prod}
                  - {prefix: 192.168.10.0/24, virtual_network: production, via: site-a}
                  - {prefix: 192.168.20.0/24, virtual_network: production, via: site-v6}
                  - {prefix: 10.0.0.0/8, virtual_network: staging, via: dc-staging}
                  - {prefix: fd00:10::/32, virtual_network: staging, via: dc-staging}
                """.formatted(FreePort.tcp(), port, port6, peerPort);
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, yaml);
        daemon = Daemon.start(ConfigLoader.load(config));

        String peers = """
                {"site-a": ["127.0.0.2", %1$d, 100], "site-b": ["127.0.0.2", %1$d, 200], "dc-prod": ["127.0.0.3", %1$d],
                 "dc-staging": ["127.0.0.4", %1$d], "site-v6": ["::1", %1$d]}""".formatted(peerPort);
        String cases = String.join(",\n",
                kase("v4-prod", "site-a", 100, "192.168.10.5", "10.1.2.3", 64, "udp"),
                kase("v4-staging", "site-b", 200, "192.168.10.5", "10.1.2.3", 64, "udp"),
                kase("v4-tcp", "site-a", 100, "192.168.10.5", "10.9.9.9", 64, "tcp"),
                kase("v4-icmp", "site-b", 200, "192.168.10.5", "10.9.9.9", 30, "icmp"),
                kase("v6-prod", "site-a", 100, "fd00:a::5", "fd00:10::5", 64, "udp"),
                kase("v6-staging", "site-b", 200, "fd00:a::5", "fd00:10::5", 64, "tcp"),
                kase("return-to-site-a", "dc-prod", null, "10.1.2.3", "192.168.10.5", 64, "udp"),
                kase("outer-v6-in", "site-v6", null, "192.168.20.5", "10.1.2.3", 64, "udp"),
                kase("outer-v6-out", "dc-prod", null, "10.1.2.3", "192.168.20.5", 64, "udp"),
                kase("ttl-1", "site-a", 100, "192.168.10.5", "10.1.2.3", 1, "udp"),
                kase("hlim-1", "site-a", 100, "fd00:a::5", "fd00:10::5", 1, "udp"));
        String json = """
                {"carrier": "udp", "vnetd": ["127.0.0.1", %d], "vnetd6": ["::1", %d], "peers": %s, "cases": [%s]}"""
                .formatted(port, port6, peers, cases);
        capture = dir.resolve("vnetd.pcapng");
        tshark = Tshark.capture(null, "lo", "udp dst port " + peerPort, capture);
        List<Map<String, String>> lines;
        try {
            lines = PeerScript.run(List.of(Prerequisites.PYTHON,
                    PeerScript.extract("gre_peer.py", dir).toString(), json), 120);
        } finally {
            tshark.close();
        }
        results = lines.stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
    }

    private static String kase(String name, String from, Integer key, String src, String dst, int ttl, String l4) {
        return """
                {"name": "%s", "from": "%s", "key": %s, "src": "%s", "dst": "%s", "ttl": %d, "l4": "%s"}"""
                .formatted(name, from, key == null ? "null" : key, src, dst, ttl, l4);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static Map<String, String> result(String name) {
        Map<String, String> r = results.get(name);
        assertTrue(r != null, "no report for " + name + ": " + results);
        return r;
    }

    private static void assertForwarded(String name, String at, String ttl) {
        Map<String, String> r = result(name);
        assertEquals(at, r.get("arrived_at"), name + ": " + r);
        assertEquals(ttl, r.get("ttl"), name + " TTL/hop limit decremented: " + r);
        assertEquals("True", r.get("checksums_ok"), name + " checksums: " + r);
    }

    @Test
    void shouldDeliverInnerIpv4ToTheNextTunnelWithTtlDecrementedAndChecksumsRight() {
        assertForwarded("v4-prod", "dc-prod", "63");
        assertForwarded("v4-tcp", "dc-prod", "63");
        assertEquals("None", result("v4-prod").get("key"), "dc-prod has no key");
    }

    @Test
    void shouldSpreadFlowsOverSourcePortsFromTheDynamicRange() {
        Set<Integer> ports = new HashSet<>();
        for (Map<String, String> r : results.values()) {
            if (r.get("from_port") != null && !"None".equals(r.get("arrived_at"))) {
                int p = Integer.parseInt(r.get("from_port"));
                assertTrue(p >= 49152 && p <= 65535, "RFC 8086 source port in the dynamic range: " + r);
                ports.add(p);
            }
        }
        assertTrue(ports.size() >= 2, "different flows leave from different source ports: " + ports);
    }

    @Test
    void shouldDeliverInnerIpv6WithHopLimitDecremented() {
        assertForwarded("v6-prod", "dc-prod", "63");
        assertForwarded("v6-staging", "dc-staging", "63");
    }

    @Test
    void shouldRouteTheSamePrefixToDifferentTunnelsInTwoVirtualNetworks() {
        assertForwarded("v4-prod", "dc-prod", "63");
        assertForwarded("v4-staging", "dc-staging", "63");
        assertForwarded("v4-icmp", "dc-staging", "29");
    }

    @Test
    void shouldSendReturnTrafficWithTheSitesKey() {
        assertForwarded("return-to-site-a", "site-a", "63");
        assertEquals("100", result("return-to-site-a").get("key"));
    }

    @Test
    void shouldCarryTunnelsOverOuterIpv6() {
        assertForwarded("outer-v6-in", "dc-prod", "63");
        assertForwarded("outer-v6-out", "site-v6", "63");
    }

    @Test
    void shouldAnswerTtlOneWithTimeExceeded() {
        Map<String, String> v4 = result("ttl-1");
        assertEquals("site-a", v4.get("arrived_at"), v4.toString());
        assertEquals("100", v4.get("key"));
        assertEquals("11", v4.get("icmp_type"), "ICMP time exceeded");
        assertEquals("0", v4.get("icmp_code"));
        assertEquals("169.254.10.0", v4.get("src"), "from the tunnel's interface address");
        assertEquals("192.168.10.5", v4.get("dst"));
        assertEquals("10.1.2.3", v4.get("quoted_dst"), "quotes the dropped packet");
        assertEquals("True", v4.get("checksums_ok"));

        Map<String, String> v6 = result("hlim-1");
        assertEquals("site-a", v6.get("arrived_at"), v6.toString());
        assertEquals("3", v6.get("icmp_type"), "ICMPv6 time exceeded");
        assertEquals("fd00:10::5", v6.get("quoted_dst"));
        assertEquals("True", v6.get("checksums_ok"));
    }

    @Test
    void shouldProduceNothingTsharkFindsMalformed() throws Exception {
        String[] decodeAs = {"-d", "udp.port==" + peerPort + ",gre"};
        List<String> all = tshark.read(null, decodeAs);
        List<String> gre = tshark.read("gre", decodeAs);
        List<String> bad = tshark.read("_ws.malformed || _ws.expert.severity >= " + Tshark.SEVERITY_WARNING,
                decodeAs);
        assertTrue(all.size() >= 11, "captured vnetd's output: " + all);
        assertEquals(all.size(), gre.size(), "tshark dissects every packet as GRE: " + all);
        assertEquals(List.of(), bad, "malformed or erroneous packets");
    }
}
