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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain ESP (IP protocol 50, raw sockets) through vnetd running in its own network namespace ("edge"), with scapy's
 * ESP playing one site per transform (and one over outer IPv6) in a second namespace joined by a veth pair, and
 * tshark capturing there; once on epoll and once on io_uring, which both read and write the raw sockets as vnetd's
 * own socket queues.
 */
@ParameterizedClass
@EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
class PlainEspNamespaceTest {
    @TempDir
    static Path dir;

    static Namespaces ns;
    static VnetdProcess vnetd;
    static Tshark tshark;
    static Map<String, Map<String, String>> results;
    static final Map<String, String[]> KEYS = new LinkedHashMap<>();

    @Parameter
    TransportKind transport;

    @BeforeParameterizedClassInvocation
    static void runPeers(TransportKind transport) throws Exception {
        Prerequisites.root();
        Prerequisites.scapy();
        Prerequisites.tshark();
        ns = Namespaces.pair("vnetd-esp", List.of("198.18.0.1/24", "2001:db8::1/64"),
                List.of("198.18.0.2/24", "198.18.0.3/24", "198.18.0.4/24", "198.18.0.5/24", "2001:db8::2/64"));
        StringBuilder tunnels = new StringBuilder();
        StringBuilder routes = new StringBuilder();
        List<String> peers = new ArrayList<>();
        for (int i = 0; i < EspInUdpPeerTest.TRANSFORMS.size(); i++) {
            String transform = EspInUdpPeerTest.TRANSFORMS.get(i);
            String site = EspInUdpPeerTest.SITES.get(i);
            String address = "198.18.0." + (i + 2);
            String in = EspKeys.randomHex(EspKeys.materialLength(transform));
            String out = EspKeys.randomHex(EspKeys.materialLength(transform));
            EspKeys.write(dir.resolve(site + ".in"), in);
            EspKeys.write(dir.resolve(site + ".out"), out);
            KEYS.put(site, new String[] {transform, Integer.toString(0x3001 + i), in, Integer.toString(0x4001 + i),
                out});
            tunnels.append("""
                      - name: %s
                        type: esp
                        listener: esp
                        remote: %s
                        virtual_network: production
                        sa: {transform: %s, inbound: {spi: %d, key_file: %1$s.in},
                             outbound: {spi: %d, key_file: %1$s.out}, esn: true}
                    """.formatted(site, address, transform, 0x3001 + i, 0x4001 + i));
            routes.append("  - {prefix: 10.%d.0.0/16, virtual_network: production, via: %s}\n".formatted(i + 1,
                    site));
            peers.add("""
                    "%s": {"addr": "%s", "kind": "esp", "transform": "%s", "esn": true,
                     "to_vnetd": {"spi": %d, "key": "%s"}, "from_vnetd": {"spi": %d, "key": "%s"}}"""
                    .formatted(site, address, transform, 0x3001 + i, in, 0x4001 + i, out));
        }
        String v6In = EspKeys.randomHex(20);
        String v6Out = EspKeys.randomHex(20);
        EspKeys.write(dir.resolve("site-v6.in"), v6In);
        EspKeys.write(dir.resolve("site-v6.out"), v6Out);
        KEYS.put("site-v6", new String[] {"aes-gcm-128", Integer.toString(0x3006), v6In, Integer.toString(0x4006),
            v6Out});
        tunnels.append("""
                  - name: site-v6
                    type: esp
                    listener: esp6
                    remote: "2001:db8::2"
                    virtual_network: production
                    sa: {transform: aes-gcm-128, inbound: {spi: 0x3006, key_file: site-v6.in},
                         outbound: {spi: 0x4006, key_file: site-v6.out}}
                """);
        peers.add("""
                "site-v6": {"addr": "2001:db8::2", "kind": "esp", "transform": "aes-gcm-128", "esn": true,
                 "to_vnetd": {"spi": %d, "key": "%s"}, "from_vnetd": {"spi": %d, "key": "%s"}}"""
                .formatted(0x3006, v6In, 0x4006, v6Out));
        Path config = dir.resolve("vnetd-" + transport.configName() + ".yaml");
        Files.writeString(config, """
                node: {name: esp-edge, workers: 2, transport: %s}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: esp, type: esp, listen: 198.18.0.1}
                  - {name: esp6, type: esp, listen: "2001:db8::1"}
                virtual_networks:
                  - {name: production}
                tunnels:
                %sroutes:
                %s  - {prefix: fd00:1::/32, virtual_network: production, via: site-gcm128}
                  - {prefix: 10.6.0.0/16, virtual_network: production, via: site-v6}
                """.formatted(transport.configName(), tunnels, routes));
        vnetd = VnetdProcess.start(Namespaces.exec(ns.left), config,
                dir.resolve("vnetd-" + transport.configName() + ".log"));
        tshark = Tshark.capture(ns.right, ns.rightLink, "ip proto 50 or ip6 proto 50",
                dir.resolve(transport.configName() + "-esp.pcapng"));
        String json = """
                {"carrier": "raw", "vnetd": ["198.18.0.1"], "vnetd6": ["2001:db8::1"], "peers": {%s},
                 "cases": [
                  {"name": "gcm128-to-gcm256", "from": "site-gcm128", "src": "192.168.1.5", "dst": "10.2.0.5", "ttl": 64},
                  {"name": "gcm256-to-chacha", "from": "site-gcm256", "src": "192.168.2.5", "dst": "10.3.0.5", "ttl": 64},
                  {"name": "chacha-to-cbc", "from": "site-chacha", "src": "192.168.3.5", "dst": "10.4.0.5", "ttl": 64, "l4": "tcp"},
                  {"name": "cbc-to-gcm128", "from": "site-cbc", "src": "192.168.4.5", "dst": "10.1.0.5", "ttl": 64},
                  {"name": "inner-v6", "from": "site-gcm256", "src": "fd00:2::5", "dst": "fd00:1::5", "ttl": 64},
                  {"name": "outer-v6-in", "from": "site-v6", "src": "192.168.6.5", "dst": "10.2.0.6", "ttl": 64},
                  {"name": "outer-v6-out", "from": "site-gcm256", "src": "192.168.2.5", "dst": "10.6.0.1", "ttl": 64},
                  {"name": "ttl-1", "from": "site-chacha", "src": "192.168.3.5", "dst": "10.1.0.5", "ttl": 1},
                  {"name": "replayed", "from": "site-gcm128", "src": "192.168.1.5", "dst": "10.2.0.5", "ttl": 64, "seq": 1, "wait": 0.5},
                  {"name": "still-works", "from": "site-gcm128", "src": "192.168.1.5", "dst": "10.2.0.5", "ttl": 64}
                 ]}""".formatted(String.join(",\n", peers));
        List<String> command = new ArrayList<>(Namespaces.exec(ns.right));
        command.addAll(List.of(Prerequisites.PYTHON, PeerScript.extract("esp_peer.py", dir).toString(), json));
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

    private static void assertForwarded(String name, String at, String ttl) {
        Map<String, String> r = results.get(name);
        assertTrue(r != null, "no report for " + name + ": " + results);
        assertEquals(at, r.get("arrived_at"), name + ": " + r);
        assertEquals("True", r.get("decrypted"), name + " scapy decrypted it: " + r);
        assertEquals(KEYS.get(at)[3], r.get("spi"), name + ": " + r);
        assertEquals(ttl, r.get("ttl"), name + ": " + r);
        assertEquals("True", r.get("checksums_ok"), name + ": " + r);
    }

    @Test
    void shouldDecryptRouteAndReencryptPlainEspForEveryTransform() {
        assertForwarded("gcm128-to-gcm256", "site-gcm256", "63");
        assertForwarded("gcm256-to-chacha", "site-chacha", "63");
        assertForwarded("chacha-to-cbc", "site-cbc", "63");
        assertForwarded("cbc-to-gcm128", "site-gcm128", "63");
        assertForwarded("inner-v6", "site-gcm128", "63");
    }

    @Test
    void shouldCarryPlainEspOverOuterIpv6() {
        assertForwarded("outer-v6-in", "site-gcm256", "63");
        assertForwarded("outer-v6-out", "site-v6", "63");
    }

    @Test
    void shouldAnswerTtlOneWithTimeExceededThroughTheIngressSa() {
        Map<String, String> r = results.get("ttl-1");
        assertEquals("site-chacha", r.get("arrived_at"), r.toString());
        assertEquals("True", r.get("decrypted"), r.toString());
        assertEquals("11", r.get("icmp_type"), r.toString());
    }

    @Test
    void shouldDropAReplayAndKeepTheSaWorking() throws Exception {
        assertEquals("None", results.get("replayed").get("arrived_at"), results.toString());
        assertForwarded("still-works", "site-gcm256", "63");
        assertFalse(vnetd.log().contains("Exception"), vnetd.log());
        assertTrue(vnetd.log().contains("transport=" + transport.configName()), vnetd.log());
    }

    @Test
    void shouldProduceEspThatTsharkDecryptsWithoutErrors() throws Exception {
        String[] gcm = KEYS.get("site-gcm128");
        String sa = EspKeys.tsharkGcmSa("198.18.0.1", "198.18.0.2", Integer.parseInt(gcm[3]), gcm[4]);
        String[] options = {"-o", "esp.enable_encryption_decode:TRUE", "-o", sa};
        List<String> fromVnetd = tshark.read("(ip.src == 198.18.0.1 || ipv6.src == 2001:db8::1) && esp", options);
        List<String> toGcm = tshark.read("esp.spi == " + Integer.parseInt(gcm[3]), options);
        List<String> decoded = tshark.read("esp.spi == " + Integer.parseInt(gcm[3]) + " && udp.dstport == 40001",
                options);
        List<String> bad = tshark.read("(ip.src == 198.18.0.1 || ipv6.src == 2001:db8::1) && (_ws.malformed"
                + " || _ws.expert.severity >= " + Tshark.SEVERITY_WARNING + ")", options);
        assertTrue(fromVnetd.size() >= 6, "captured vnetd's ESP: " + fromVnetd);
        assertEquals(2, toGcm.size(), "cbc-to-gcm128 and inner-v6: " + fromVnetd);
        assertEquals(toGcm, decoded, "tshark decrypts vnetd's AES-GCM-128 and dissects the inner UDP");
        assertEquals(List.of(), bad, "malformed or erroneous packets from vnetd (the peer's own replay is flagged)");
    }
}
