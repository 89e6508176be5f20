package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Automatic Return Routing end to end, with scapy playing three sites that all use 10.0.1.5 and a data centre:
 * replies reach the site that opened each flow, not the one the FIB names; a site without ARR gets the FIB's
 * answer; flows survive a restart of vnetd when the flow table is persisted.
 */
class ArrPeerTest {
    @TempDir
    static Path dir;

    static Path config;
    static int port;
    static int peerPort;
    static Map<String, Map<String, String>> results;
    static Map<String, Map<String, String>> afterRestart;
    static String metrics;
    static String flowsJson;

    @BeforeAll
    static void runPeers() throws Exception {
        Prerequisites.scapy();
        port = FreePort.udp("127.0.0.1");
        peerPort = FreePort.udp("127.0.0.2");
        config = dir.resolve("vnetd.yaml");
        Files.writeString(config, """
                node: {name: arr-test, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                flow_table: {capacity: 65536, persist: flows.bin, timeouts: {udp: 5m}}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                virtual_networks:
                  - {name: production}
                tunnels:
                  - {name: site-a, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:%3$d, key: 1, virtual_network: production, arr: true}
                  - {name: site-b, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:%3$d, key: 2, virtual_network: production, arr: true}
                  - {name: site-c, type: gre-udp, listener: gre-udp, remote: 127.0.0.2:%3$d, key: 3, virtual_network: production, arr: false}
                  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%3$d, virtual_network: production}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: production, via: dc}
                  - {prefix: 10.0.1.0/24, virtual_network: production, via: site-a}
                """.formatted(FreePort.tcp(), port, peerPort));
        try (Daemon daemon = Daemon.start(ConfigLoader.load(config))) {
            results = play(String.join(",\n",
                    kase("a-open", "site-a", 1, "10.0.1.5", "10.9.9.9", "udp", 1000, 53),
                    kase("b-open", "site-b", 2, "10.0.1.5", "10.9.9.9", "udp", 2000, 53),
                    kase("c-open", "site-c", 3, "10.0.1.5", "10.9.9.9", "udp", 3000, 53),
                    kase("b-ping", "site-b", 2, "10.0.1.5", "10.9.9.9", "icmp", 77, 0),
                    kase("b-syn", "site-b", 2, "10.0.1.5", "10.9.9.9", "tcp", 4000, 443),
                    kase("a-reply", "dc", null, "10.9.9.9", "10.0.1.5", "udp", 53, 1000),
                    kase("b-reply", "dc", null, "10.9.9.9", "10.0.1.5", "udp", 53, 2000),
                    kase("c-reply", "dc", null, "10.9.9.9", "10.0.1.5", "udp", 53, 3000),
                    kase("b-pong", "dc", null, "10.9.9.9", "10.0.1.5", "icmp-reply", 77, 0),
                    kase("b-synack", "dc", null, "10.9.9.9", "10.0.1.5", "tcp-synack", 443, 4000),
                    kase("stranger", "dc", null, "10.9.9.9", "10.0.1.5", "udp", 53, 9999),
                    kase("same-a", "site-a", 1, "10.0.1.7", "10.9.9.9", "udp", 5000, 53),
                    kase("same-b", "site-b", 2, "10.0.1.7", "10.9.9.9", "udp", 5000, 53),
                    kase("same-reply-a", "dc", null, "10.9.9.9", "10.0.1.7", "udp", 53, 5000),
                    kase("same-reply-b", "dc", null, "10.9.9.9", "10.0.1.7", "udp", 53, "\"$same-b.sport\"")));
            metrics = daemon.scrape();
            flowsJson = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + daemon.adminAddress().getPort() + "/api/v1/flows?vn=production&limit=10")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
        try (Daemon restarted = Daemon.start(ConfigLoader.load(config))) {
            afterRestart = play(kase("b-reply-after-restart", "dc", null, "10.9.9.9", "10.0.1.5", "udp", 53, 2000));
        }
    }

    private static Map<String, Map<String, String>> play(String cases) throws Exception {
        String json = """
                {"carrier": "udp", "vnetd": ["127.0.0.1", %d],
                 "peers": {"site-a": ["127.0.0.2", %2$d, 1], "site-b": ["127.0.0.2", %2$d, 2],
                           "site-c": ["127.0.0.2", %2$d, 3], "dc": ["127.0.0.3", %2$d]},
                 "cases": [%3$s]}""".formatted(port, peerPort, cases);
        Path script = PeerScript.extract("gre_peer.py", dir);
        List<Map<String, String>> lines = PeerScript.run(List.of(Prerequisites.PYTHON, script.toString(), json), 120);
        return lines.stream().collect(Collectors.toMap(m -> m.get("case"), m -> m));
    }

    private static String kase(String name, String from, Integer key, String src, String dst, String l4, int sport,
                               Object dport) {
        return """
                {"name": "%s", "from": "%s", "key": %s, "src": "%s", "dst": "%s", "ttl": 64, "l4": "%s",
                 "sport": %d, "dport": %s}""".formatted(name, from, key == null ? "null" : key, src, dst, l4, sport,
                dport);
    }

    private static void assertArrived(Map<String, Map<String, String>> all, String name, String at) {
        Map<String, String> r = all.get(name);
        assertTrue(r != null, "no report for " + name + ": " + all);
        assertEquals(at, r.get("arrived_at"), name + ": " + r);
        assertEquals("True", r.get("checksums_ok"), name + ": " + r);
    }

    @Test
    void shouldSendEachReplyToTheSiteThatOpenedItsFlow() {
        assertArrived(results, "a-open", "dc");
        assertArrived(results, "b-open", "dc");
        assertArrived(results, "a-reply", "site-a");
        assertArrived(results, "b-reply", "site-b");
        assertEquals("2", results.get("b-reply").get("key"), "site-b's GRE key, though the FIB names site-a");
    }

    @Test
    void shouldTranslateTheSourcePortWhenTwoSitesSendTheSameFiveTuple() {
        assertArrived(results, "same-a", "dc");
        assertArrived(results, "same-b", "dc");
        assertEquals("5000", results.get("same-a").get("sport"), "the first site keeps its port");
        int translated = Integer.parseInt(results.get("same-b").get("sport"));
        assertTrue(translated >= 49152, "the second site's port is translated: " + translated);
        assertArrived(results, "same-reply-a", "site-a");
        assertEquals("5000", results.get("same-reply-a").get("dport"));
        assertArrived(results, "same-reply-b", "site-b");
        assertEquals("5000", results.get("same-reply-b").get("dport"), "the site sees its own port again");
        assertTrue(metrics.contains("vnetd_arr_port_translations_total 1.0"), metrics);
    }

    @Test
    void shouldFollowFlowsOfIcmpEchoAndTcp() {
        assertArrived(results, "b-ping", "dc");
        assertArrived(results, "b-pong", "site-b");
        assertArrived(results, "b-syn", "dc");
        assertArrived(results, "b-synack", "site-b");
    }

    @Test
    void shouldLeaveTrafficOfSitesWithoutArrToTheFib() {
        assertArrived(results, "c-open", "dc");
        assertArrived(results, "c-reply", "site-a");
        assertArrived(results, "stranger", "site-a");
    }

    @Test
    void shouldKeepFlowsAcrossARestartWithAPersistedTable() {
        assertArrived(afterRestart, "b-reply-after-restart", "site-b");
    }

    @Test
    void shouldListFlowsThroughTheAdminApi() {
        assertTrue(flowsJson.contains("\"count\":6"), flowsJson);
        assertTrue(flowsJson.contains("\"src\":\"10.0.1.5\",\"dst\":\"10.9.9.9\",\"sport\":2000,\"dport\":53,"
                + "\"origin_tunnel\":\"site-b\",\"egress_tunnel\":\"dc\",\"original_port\":-1,\"replied\":true,"
                + "\"tcp_state\":\"none\",\"packets_from_origin\":1,"), flowsJson);
    }

    @Test
    void shouldCountFlowsAndReturns() {
        assertTrue(metrics.contains("vnetd_arr_returns_total{tunnel=\"site-b\"} 4.0"), metrics);
        assertTrue(metrics.contains("vnetd_arr_returns_total{tunnel=\"site-a\"} 2.0"), metrics);
        assertTrue(metrics.contains("vnetd_flow_inserts_total 6.0"), metrics);
        assertTrue(metrics.contains("vnetd_flow_table_capacity 65536.0"), metrics);
    }
}
