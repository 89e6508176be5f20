package dev.vnetd.control.peers;

import dev.vnetd.dataplane.transport.TransportKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain GRE (IP protocol 47, raw sockets) through vnetd running in its own network namespace ("edge"), with scapy
 * playing a site and a data centre in a second namespace joined by a veth pair, and tshark capturing there; once on
 * epoll and once on io_uring, which both read and write the raw sockets as vnetd's own socket queues.
 */
@ParameterizedClass
@EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
class PlainGreNamespaceTest {
    @TempDir
    static Path dir;

    static Namespaces ns;
    static VnetdProcess vnetd;
    static Tshark tshark;
    static Map<String, Map<String, String>> results;

    @Parameter
    TransportKind transport;

    @BeforeParameterizedClassInvocation
    static void runPeers(TransportKind transport) throws Exception {
        Prerequisites.root();
        Prerequisites.scapy();
        Prerequisites.tshark();
        ns = Namespaces.pair("vnetd-gre", List.of("198.18.0.1/24", "2001:db8::1/64"),
                List.of("198.18.0.2/24", "198.18.0.3/24", "2001:db8::2/64"));
        Path config = dir.resolve("vnetd-" + transport.configName() + ".yaml");
        Files.writeString(config, """
                node: {name: gre-edge, workers: 2, transport: %s}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: gre, type: gre, listen: 198.18.0.1}
                  - {name: gre6, type: gre, listen: "2001:db8::1"}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site, type: gre, listener: gre, remote: 198.18.0.2, virtual_network: production, interface_address: 169.254.20.0/31}
                  - {name: dc, type: gre, listener: gre, remote: 198.18.0.3, key: 7, virtual_network: production}
                  - {name: site6, type: gre, listener: gre6, remote: "2001:db8::2", virtual_network: production}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: production, via: dc}
                  - {prefix: fd00:10::/32, virtual_network: production, via: dc}
                  - {prefix: 192.168.10.0/24, virtual_network: production, via: site}
                  - {prefix: 192.168.60.0/24, virtual_network: production, via: site6}
                """.formatted(transport.configName()));
        vnetd = VnetdProcess.start(Namespaces.exec(ns.left), config,
                dir.resolve("vnetd-" + transport.configName() + ".log"));
        tshark = Tshark.capture(ns.right, ns.rightLink, "ip proto 47 or ip6 proto 47",
                dir.resolve(transport.configName() + "-gre.pcapng"));
        String json = """
                {"carrier": "raw", "vnetd": ["198.18.0.1"], "vnetd6": ["2001:db8::1"],
                 "peers": {"site": ["198.18.0.2", 0], "dc": ["198.18.0.3", 0, 7], "site6": ["2001:db8::2", 0]},
                 "cases": [
                  {"name": "v4", "from": "site", "key": null, "src": "192.168.10.5", "dst": "10.1.2.3", "ttl": 64},
                  {"name": "v6", "from": "site", "key": null, "src": "fd00:a::5", "dst": "fd00:10::5", "ttl": 64},
                  {"name": "return", "from": "dc", "key": 7, "src": "10.1.2.3", "dst": "192.168.10.5", "ttl": 64},
                  {"name": "outer-v6-in", "from": "site6", "key": null, "src": "192.168.60.5", "dst": "10.1.2.3", "ttl": 64},
                  {"name": "outer-v6-out", "from": "dc", "key": 7, "src": "10.1.2.3", "dst": "192.168.60.5", "ttl": 9},
                  {"name": "ttl-1", "from": "site", "key": null, "src": "192.168.10.5", "dst": "10.1.2.3", "ttl": 1},
                  {"name": "unknown-key", "from": "dc", "key": 8, "src": "10.1.2.3", "dst": "192.168.10.5", "ttl": 64}
                 ]}""";
        List<String> command = new ArrayList<>(Namespaces.exec(ns.right));
        command.addAll(List.of(Prerequisites.PYTHON, PeerScript.extract("gre_peer.py", dir).toString(), json));
        try {
            results = PeerScript.run(command, 120).stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
        } finally {
            tshark.close();
        }
    }

    @AfterParameterizedClassInvocation
    static void stop() throws InterruptedException {
        VnetdProcess.stop(vnetd, ns);
    }

    private static Map<String, String> result(String name) {
        Map<String, String> r = results.get(name);
        assertTrue(r != null, "no report for " + name + ": " + results);
        return r;
    }

    @Test
    void shouldForwardPlainGreBetweenTunnels() {
        Map<String, String> v4 = result("v4");
        assertEquals("dc", v4.get("arrived_at"), v4.toString());
        assertEquals("7", v4.get("key"), "the data centre's GRE key");
        assertEquals("63", v4.get("ttl"));
        assertEquals("True", v4.get("checksums_ok"));

        Map<String, String> v6 = result("v6");
        assertEquals("dc", v6.get("arrived_at"), v6.toString());
        assertEquals("63", v6.get("ttl"));
        assertEquals("True", v6.get("checksums_ok"));

        Map<String, String> back = result("return");
        assertEquals("site", back.get("arrived_at"), back.toString());
        assertEquals("None", back.get("key"));
    }

    @Test
    void shouldCarryPlainGreOverOuterIpv6() {
        Map<String, String> in = result("outer-v6-in");
        assertEquals("dc", in.get("arrived_at"), in.toString());
        assertEquals("63", in.get("ttl"));
        Map<String, String> out = result("outer-v6-out");
        assertEquals("site6", out.get("arrived_at"), out.toString());
        assertEquals("8", out.get("ttl"));
        assertEquals("True", out.get("checksums_ok"));
    }

    @Test
    void shouldAnswerTtlOneWithTimeExceededFromTheTunnelAddress() {
        Map<String, String> r = result("ttl-1");
        assertEquals("site", r.get("arrived_at"), r.toString());
        assertEquals("11", r.get("icmp_type"));
        assertEquals("169.254.20.0", r.get("src"));
        assertEquals("True", r.get("checksums_ok"));
    }

    @Test
    void shouldDropPacketsWithAKeyNoTunnelHas() throws Exception {
        assertEquals("None", result("unknown-key").get("arrived_at"));
        assertFalse(vnetd.log().contains("Exception"), vnetd.log());
        assertTrue(vnetd.log().contains("transport=" + transport.configName()), vnetd.log());
    }

    @Test
    void shouldProduceNothingTsharkFindsMalformed() throws Exception {
        List<String> fromVnetd = tshark.read("(ip.src == 198.18.0.1 || ipv6.src == 2001:db8::1) && gre");
        List<String> bad = tshark.read("_ws.malformed || _ws.expert.severity >= " + Tshark.SEVERITY_WARNING);
        assertTrue(fromVnetd.size() >= 6, "captured vnetd's GRE: " + fromVnetd);
        assertEquals(List.of(), bad, "malformed or erroneous packets");
    }
}
