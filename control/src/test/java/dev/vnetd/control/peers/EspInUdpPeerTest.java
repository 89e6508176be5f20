package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.WorkerCounters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ESP-in-UDP (RFC 3948) through a running vnetd on loopback, against scapy's own ESP
 * ({@code scapy.layers.ipsec.SecurityAssociation}) as the sites: one site per transform, packets routed from each
 * ESP tunnel into the next, from ESP into GRE-in-UDP and back, over outer IPv4 and IPv6, inner IPv4 and IPv6. Then
 * forged, replayed and malformed packets, each dropped under its own reason while the SA keeps working, and tshark
 * decoding vnetd's ESP with the SAs it is given.
 */
class EspInUdpPeerTest {
    static final List<String> TRANSFORMS = List.of("aes-gcm-128", "aes-gcm-256", "chacha20-poly1305",
            "aes-cbc-hmac-sha256");
    /** Site name, its address and the /16 routed to it, per transform. */
    static final List<String> SITES = List.of("site-gcm128", "site-gcm256", "site-chacha", "site-cbc");

    @TempDir
    static Path dir;

    static Daemon daemon;
    static int peerPort;
    static Map<String, Map<String, String>> results;
    static Map<String, String[]> keys = new LinkedHashMap<>();
    static Tshark tshark;
    static Map<DropReason, Long> dropsBefore;

    @BeforeAll
    static void runPeers() throws Exception {
        Prerequisites.scapy();
        Prerequisites.tshark();
        int port = FreePort.udp("127.0.0.1");
        int port6 = FreePort.udp("::1");
        int grePort = FreePort.udp("127.0.0.1");
        peerPort = FreePort.udp("127.0.0.2");
        int grePeerPort = FreePort.udp("127.0.0.6");
        StringBuilder tunnels = new StringBuilder();
        StringBuilder routes = new StringBuilder();
        StringBuilder peers = new StringBuilder();
        for (int i = 0; i < SITES.size(); i++) {
            String site = SITES.get(i);
            String address = "127.0.0." + (i + 2);
            tunnels.append(espTunnel(site, "esp-udp", address + ":" + peerPort, TRANSFORMS.get(i), 0x1001 + i,
                    0x2001 + i));
            routes.append("  - {prefix: 10.%d.0.0/16, virtual_network: production, via: %s}\n".formatted(i + 1,
                    site));
            peers.append(espPeer(site, address, peerPort, TRANSFORMS.get(i))).append(",\n");
        }
        tunnels.append(espTunnel("site-v6", "esp-udp6", "\"[::1]:" + peerPort + "\"", "aes-gcm-128", 0x1006,
                0x2006));
        peers.append(espPeer("site-v6", "::1", peerPort, "aes-gcm-128")).append(",\n");
        peers.append("\"dc\": {\"addr\": \"127.0.0.6\", \"port\": %d, \"kind\": \"gre\"}".formatted(grePeerPort));
        String yaml = """
                node: {name: esp-peer-test, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: esp-udp, type: esp-udp, listen: 127.0.0.1:%d}
                  - {name: esp-udp6, type: esp-udp, listen: "[::1]:%d"}
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                virtual_networks:
                  - {name: production}
                tunnels:
                %s  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.6:%d, virtual_network: production}
                routes:
                %s  - {prefix: fd00:1::/32, virtual_network: production, via: site-gcm128}
                  - {prefix: 10.6.0.0/16, virtual_network: production, via: site-v6}
                  - {prefix: 10.100.0.0/16, virtual_network: production, via: dc}
                """.formatted(FreePort.tcp(), port, port6, grePort, tunnels, grePeerPort, routes);
        Path config = dir.resolve("vnetd.yaml");
        Files.writeString(config, yaml);
        daemon = Daemon.start(ConfigLoader.load(config));

        List<String> cases = new ArrayList<>(List.of(
                kase("gcm128-to-gcm256", "site-gcm128", "192.168.1.5", "10.2.0.5", 64, "udp", null),
                kase("gcm256-to-chacha", "site-gcm256", "192.168.2.5", "10.3.0.5", 64, "udp", null),
                kase("chacha-to-cbc", "site-chacha", "192.168.3.5", "10.4.0.5", 64, "tcp", null),
                kase("cbc-to-gcm128", "site-cbc", "192.168.4.5", "10.1.0.5", 64, "udp", null),
                kase("inner-v6", "site-chacha", "fd00:3::5", "fd00:1::5", 64, "tcp", null),
                kase("esp-to-gre", "site-gcm128", "192.168.1.5", "10.100.0.5", 64, "udp", null),
                kase("gre-to-chacha", "dc", "10.100.0.5", "10.3.0.7", 64, "udp", null),
                kase("gre-to-cbc", "dc", "10.100.0.5", "10.4.0.7", 64, "icmp", null),
                kase("outer-v6-in", "site-v6", "192.168.6.5", "10.2.0.9", 64, "udp", null),
                kase("outer-v6-out", "dc", "10.100.0.5", "10.6.0.1", 64, "udp", null),
                kase("ttl-1", "site-gcm256", "192.168.2.5", "10.1.0.5", 1, "udp", null)));
        cases.addAll(List.of(
                drop("replayed", "site-gcm128", "\"seq\": 1"),
                drop("icv", "site-gcm128", "\"tamper\": \"icv\""),
                drop("ciphertext", "site-gcm256", "\"tamper\": \"ciphertext\""),
                drop("padding", "site-gcm128", "\"tamper\": \"padding\""),
                drop("unknown-spi", "site-chacha", "\"tamper\": \"spi\""),
                drop("ike", "site-cbc", "\"tamper\": \"marker\""),
                drop("keepalive", "site-cbc", "\"tamper\": \"keepalive\""),
                drop("wrong-source", "site-gcm128", "\"tamper\": \"wrong-source\""),
                kase("still-works", "site-gcm128", "192.168.1.5", "10.2.0.5", 64, "udp", null),
                kase("far-ahead", "site-chacha", "192.168.3.5", "10.2.0.5", 64, "udp", "\"seq\": 5000"),
                drop("outside-window", "site-chacha", "\"seq\": 3"),
                kase("chacha-still-works", "site-chacha", "192.168.3.5", "10.2.0.5", 64, "udp", null),
                kase("cbc-still-works", "site-cbc", "192.168.4.5", "10.2.0.5", 64, "udp", null)));
        String json = """
                {"carrier": "udp", "vnetd": ["127.0.0.1", %d], "vnetd6": ["::1", %d], "vnetd_gre": ["127.0.0.1", %d],
                 "peers": {%s}, "cases": [%s]}""".formatted(port, port6, grePort, peers, String.join(",\n", cases));
        tshark = Tshark.capture(null, "lo", "udp dst port " + peerPort, dir.resolve("vnetd.pcapng"));
        dropsBefore = drops();
        List<Map<String, String>> lines;
        try {
            lines = PeerScript.run(List.of(Prerequisites.PYTHON, PeerScript.extract("esp_peer.py", dir).toString(),
                    json), 120);
        } finally {
            tshark.close();
        }
        results = lines.stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
    }

    private static String espTunnel(String name, String listener, String remote, String transform, int inSpi,
                                    int outSpi) throws Exception {
        String in = EspKeys.randomHex(EspKeys.materialLength(transform));
        String out = EspKeys.randomHex(EspKeys.materialLength(transform));
        EspKeys.write(dir.resolve(name + ".in"), in);
        EspKeys.write(dir.resolve(name + ".out"), out);
        keys.put(name, new String[] {transform, Integer.toString(inSpi), in, Integer.toString(outSpi), out});
        return """
                  - name: %s
                    type: esp-udp
                    listener: %s
                    remote: %s
                    virtual_network: production
                    sa:
                      transform: %s
                      inbound: {spi: 0x%x, key_file: %1$s.in}
                      outbound: {spi: 0x%x, key_file: %1$s.out}
                      esn: %b
                """.formatted(name, listener, remote, transform, inSpi, outSpi, esn(transform));
    }

    private static String espPeer(String name, String address, int port, String transform) {
        String[] k = keys.get(name);
        return """
                "%s": {"addr": "%s", "port": %d, "kind": "esp", "transform": "%s", "esn": %s,
                 "to_vnetd": {"spi": %s, "key": "%s"}, "from_vnetd": {"spi": %s, "key": "%s"}}"""
                .formatted(name, address, port, transform, esn(transform), k[1], k[2], k[3], k[4]);
    }

    /**
     * ESN everywhere but ChaCha20-Poly1305, which keeps 32-bit sequence numbers for the outside-window case: with ESN
     * a number far left of the window is read as the next 2^32 epoch (RFC 4303 Appendix A) and fails the ICV instead.
     * AES-CBC + HMAC runs with ESN: scapy's HMAC then covers the high half as RFC 4303 2.2.1 says (scapy_esn.py).
     */
    private static boolean esn(String transform) {
        return !transform.equals("chacha20-poly1305");
    }

    private static String kase(String name, String from, String src, String dst, int ttl, String l4, String extra) {
        return """
                {"name": "%s", "from": "%s", "src": "%s", "dst": "%s", "ttl": %d, "l4": "%s"%s}"""
                .formatted(name, from, src, dst, ttl, l4, extra == null ? "" : ", " + extra);
    }

    private static String drop(String name, String from, String extra) {
        int site = SITES.indexOf(from) + 1;
        return kase(name, from, "192.168." + site + ".5", "10.2.0.5", 64, "udp", extra + ", \"wait\": 0.3");
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static Map<DropReason, Long> drops() {
        Map<DropReason, Long> sums = new LinkedHashMap<>();
        for (DropReason reason : DropReason.values()) {
            long sum = 0;
            for (WorkerCounters c : daemon.dataplane().counters()) {
                sum += c.drops(reason);
            }
            sums.put(reason, sum);
        }
        return sums;
    }

    private static long dropped(DropReason reason) {
        return drops().get(reason) - dropsBefore.get(reason);
    }

    private static Map<String, String> result(String name) {
        Map<String, String> r = results.get(name);
        assertNotNull(r, "no report for " + name + ": " + results);
        return r;
    }

    private static void assertForwarded(String name, String at, String ttl) {
        Map<String, String> r = result(name);
        assertEquals(at, r.get("arrived_at"), name + ": " + r);
        assertEquals(ttl, r.get("ttl"), name + " TTL/hop limit decremented: " + r);
        assertEquals("True", r.get("checksums_ok"), name + " checksums: " + r);
        if (at.startsWith("site")) {
            assertEquals("True", r.get("decrypted"), name + " scapy decrypted it: " + r);
            assertEquals(keys.get(at)[3], r.get("spi"), name + " sent with the outbound SPI: " + r);
        }
    }

    @Test
    void shouldDecryptRouteAndReencryptBetweenEveryTransform() {
        assertForwarded("gcm128-to-gcm256", "site-gcm256", "63");
        assertForwarded("gcm256-to-chacha", "site-chacha", "63");
        assertForwarded("chacha-to-cbc", "site-cbc", "63");
        assertForwarded("cbc-to-gcm128", "site-gcm128", "63");
    }

    @Test
    void shouldCarryInnerIpv6() {
        assertForwarded("inner-v6", "site-gcm128", "63");
    }

    @Test
    void shouldForwardBetweenEspAndGre() {
        assertForwarded("esp-to-gre", "dc", "63");
        assertForwarded("gre-to-chacha", "site-chacha", "63");
        assertForwarded("gre-to-cbc", "site-cbc", "63");
    }

    @Test
    void shouldCarryEspOverOuterIpv6() {
        assertForwarded("outer-v6-in", "site-gcm256", "63");
        assertForwarded("outer-v6-out", "site-v6", "63");
    }

    @Test
    void shouldSendTimeExceededBackThroughTheIngressSaEncrypted() {
        Map<String, String> r = result("ttl-1");
        assertEquals("site-gcm256", r.get("arrived_at"), r.toString());
        assertEquals("True", r.get("decrypted"), r.toString());
        assertEquals("11", r.get("icmp_type"), "ICMP time exceeded: " + r);
        assertEquals("10.1.0.5", r.get("quoted_dst"), r.toString());
        assertEquals("True", r.get("checksums_ok"), r.toString());
    }

    /**
     * The window test runs on the ChaCha20-Poly1305 tunnel, the one without ESN: with ESN a sequence number far left
     * of the window is read as the next 2^32 epoch (RFC 4303 Appendix A) and then fails the ICV instead.
     */
    @Test
    void shouldDropEachBadPacketUnderItsOwnReasonAndKeepTheSaWorking() {
        for (String name : List.of("replayed", "icv", "ciphertext", "padding", "unknown-spi", "ike", "keepalive",
                "wrong-source", "outside-window")) {
            assertEquals("None", result(name).get("arrived_at"), name + " must not be forwarded");
        }
        Map<DropReason, Long> expected = new LinkedHashMap<>();
        expected.put(DropReason.ESP_REPLAYED, 1L);
        expected.put(DropReason.ESP_ICV_FAILED, 2L);
        expected.put(DropReason.ESP_BAD_PADDING, 1L);
        expected.put(DropReason.ESP_UNKNOWN_SPI, 1L);
        expected.put(DropReason.ESP_IKE_MESSAGE, 1L);
        expected.put(DropReason.ESP_NAT_KEEPALIVE, 1L);
        expected.put(DropReason.ESP_WRONG_REMOTE, 1L);
        expected.put(DropReason.ESP_OUTSIDE_WINDOW, 1L);
        Map<DropReason, Long> actual = new LinkedHashMap<>();
        for (DropReason reason : DropReason.values()) {
            if (dropped(reason) != 0 || expected.containsKey(reason)) {
                actual.put(reason, dropped(reason));
            }
        }
        actual.remove(DropReason.TTL_EXCEEDED);
        assertEquals(expected, actual, "one drop per bad packet (ICV: a flipped ICV bit and a flipped ciphertext"
                + " bit), nothing else dropped");
        assertForwarded("still-works", "site-gcm256", "63");
        assertForwarded("far-ahead", "site-gcm256", "63");
        assertForwarded("chacha-still-works", "site-gcm256", "63");
        assertForwarded("cbc-still-works", "site-gcm256", "63");
        String metrics = daemon.scrape();
        assertTrue(metrics.contains("vnetd_drops_total{reason=\"esp_replayed\"} 1"), metrics);
    }

    @Test
    void shouldNeverPutKeysInLogsOrMetrics() {
        String metrics = daemon.scrape();
        for (String[] k : keys.values()) {
            assertFalse(metrics.contains(k[2]) || metrics.contains(k[4]), "key material in /metrics");
        }
        assertFalse(daemon.stateHolder().get().toString().contains(keys.get("site-gcm128")[2]));
    }

    @Test
    void shouldProduceEspThatTsharkDecryptsWithoutErrors() throws Exception {
        String[] gcm = keys.get("site-gcm128");
        String sas = EspKeys.tsharkGcmSa("127.0.0.1", "127.0.0.2", Integer.parseInt(gcm[3]), gcm[4]);
        String[] options = {"-d", "udp.port==" + peerPort + ",udpencap", "-o", "esp.enable_encryption_decode:TRUE",
            "-o", sas};
        String gcmSpi = "esp.spi == " + Integer.parseInt(gcm[3]);
        List<String> all = tshark.read(null, options);
        List<String> gcmPackets = tshark.read(gcmSpi, options);
        List<String> decoded = tshark.read(gcmSpi + " && (udp.dstport == 40001 || tcp.dstport == 443 || icmp)",
                options);
        List<String> bad = tshark.read("_ws.malformed || _ws.expert.severity >= " + Tshark.SEVERITY_WARNING,
                options);
        assertTrue(all.size() >= 10, "captured vnetd's ESP: " + all);
        assertTrue(gcmPackets.size() >= 2, "packets to site-gcm128: " + all);
        assertEquals(gcmPackets, decoded, "tshark decrypts every AES-GCM-128 packet and dissects the inner one");
        assertEquals(List.of(), bad, "malformed or erroneous packets");
    }
}
