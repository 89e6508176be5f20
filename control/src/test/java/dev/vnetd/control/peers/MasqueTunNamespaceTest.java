package dev.vnetd.control.peers;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real host stacks through MASQUE ({@link SiteEdgeSite}): each site runs vnetd as its gateway in the client role (a
 * {@code masque-client} tunnel to the edge, TUN toward its own host), the edge runs vnetd in the server role (a
 * {@code masque} listener on 198.18.x.2:443, one identity per site, each assigned its site's prefixes and told the
 * whole 10.0.0.0/8 and fd00::/16). Nothing routes the sites toward the edge but what the edge advertised: the sites'
 * configurations have no route to the other site. ping (IPv4 and IPv6), a TCP transfer compared byte for byte and
 * iperf3 then run from host to host, and the edge's admin API must have counted them. site-a also runs an
 * {@code intruder} client with a wrong token, in a virtual network of its own: the edge answers it 403 and counts it,
 * and it installs nothing. Packets a site host sends from an address the edge did not assign are dropped by the edge
 * as {@code masque_spoofed_source}, and never reach the other site. Then the same traffic over GRE-in-UDP, for the
 * iperf3 figure to compare with.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasqueTunNamespaceTest {
    private static final String PYTHON = Prerequisites.PYTHON;
    private static final String SITE_A_HOST = "10.0.1.1";
    private static final String SITE_B_HOST = "10.0.2.1";
    /** An address on site-a's host the edge did not assign to site-a (it assigned 10.0.1.0/24 and 10.99.0.5/32). */
    private static final String SPOOFED_SOURCE = "10.0.3.7";
    private static final String SPOOFED_DROPS = "vnetd_drops_total{reason=\"masque_spoofed_source\"}";
    /** The sites' TUN MTU: the MASQUE tunnels' default, so hosts never send what the tunnel cannot carry. */
    private static final int MTU = 1280;

    @TempDir
    static Path dir;

    static SiteEdgeSite net;
    static final List<VnetdProcess> running = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Prerequisites.root();
        Prerequisites.openssl();
        Prerequisites.tool("iperf3", "--version", "iperf3");
        Prerequisites.tool("ping", "-V", "iputils-ping");
        Prerequisites.tool("curl", "--version", "curl");
        net = SiteEdgeSite.create("vt-masq");
        MasqueTestFiles.edgeCertificate(dir);
        MasqueTestFiles.secret(dir, "site-a.token", "site-a-token-5f1c9e");
        MasqueTestFiles.secret(dir, "site-b.token", "site-b-token-0b77d2");
        MasqueTestFiles.secret(dir, "wrong.token", "not-the-token");
        String edge = """
                node: {name: edge, workers: 2}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: masque, type: masque, listen: 0.0.0.0:443, tls: {cert: edge.pem, key: edge.key}}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site-a, type: masque, listener: masque, auth: {token_file: site-a.token},
                     virtual_network: default, assign: [10.0.1.0/24, "fd00:1::/64", 10.99.0.5/32],
                     advertise: [10.0.0.0/8, "fd00::/16"]}
                  - {name: site-b, type: masque, listener: masque, auth: {token_file: site-b.token},
                     virtual_network: default, assign: [10.0.2.0/24, "fd00:2::/64"],
                     advertise: [10.0.0.0/8, "fd00::/16"]}
                routes:
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: site-a}
                  - {prefix: 10.0.2.0/24, virtual_network: default, via: site-b}
                  - {prefix: "fd00:1::/64", virtual_network: default, via: site-a}
                  - {prefix: "fd00:2::/64", virtual_network: default, via: site-b}
                """;
        startVnetds("masque", edge, site("site-a", "10.0.1", "fd00:1::", SiteEdgeSite.EDGE_A_UNDERLAY, true),
                site("site-b", "10.0.2", "fd00:2::", SiteEdgeSite.EDGE_B_UNDERLAY, false));
    }

    /** Stops what runs (no exception or failed listener may have been logged) and starts the three vnetds. */
    private static void startVnetds(String kind, String edge, String siteA, String siteB) throws Exception {
        stopVnetds();
        String[][] vnetds = {{net.edge, "edge", edge}, {net.siteA, "site-a", siteA}, {net.siteB, "site-b", siteB}};
        for (String[] v : vnetds) {
            Path config = Files.writeString(dir.resolve(kind + "-" + v[1] + ".yaml"), v[2]);
            running.add(VnetdProcess.start(Namespaces.exec(v[0]), config, dir.resolve(kind + "-" + v[1] + ".log")));
        }
    }

    private static void stopVnetds() throws Exception {
        List<String> logs = new ArrayList<>();
        for (VnetdProcess vnetd : running) {
            logs.add(vnetd.log());
            vnetd.close();
        }
        running.clear();
        for (String log : logs) {
            assertFalse(log.contains("Exception") || log.contains("listener_failed"), log);
        }
    }


    /**
     * A site gateway: TUN toward its host, its own prefix to the host, nothing else: the rest comes from MASQUE. With
     * {@code intruder}, also a {@code masque-client} tunnel with a wrong token, alone in virtual network quarantine.
     */
    private static String site(String name, String v4, String v6, String edge, boolean intruder) {
        String quarantine = !intruder ? "" : """
                  - {name: quarantine}
                """;
        String intruderTunnel = !intruder ? "" : """
                  - {name: intruder, type: masque-client, server: "%s:443", server_name: edge.test, ca: %s,
                     auth: {token_file: wrong.token}, virtual_network: quarantine}
                """.formatted(edge, dir.resolve("edge.pem"));
        return """
                node: {name: %1$s, workers: 2}
                admin: {listen: 127.0.0.1:9400}
                virtual_networks:
                  - {name: default}
                %7$stunnels:
                  - {name: hosts, type: tun, device: vnet0, virtual_network: default, mtu: %6$d,
                     addresses: [%2$s.1/24, "%3$s1/64"], host_routes: [10.0.0.0/8, "fd00::/16"]}
                  - {name: edge, type: masque-client, server: "%4$s:443", server_name: edge.test, ca: %5$s,
                     auth: {token_file: %1$s.token}, virtual_network: default}
                %8$sroutes:
                  - {prefix: %2$s.0/24, virtual_network: default, via: hosts}
                  - {prefix: "%3$s/64", virtual_network: default, via: hosts}
                """.formatted(name, v4, v6, edge, dir.resolve("edge.pem"), MTU, quarantine, intruderTunnel);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            stopVnetds();
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    @Test
    @Order(1)
    void shouldCarryPingTcpAndIperf3BetweenSiteHostsThroughMasque() throws Exception {
        carryRealTraffic("masque");
        SiteEdgeSite.Result addresses = SiteEdgeSite.run(net.siteA, 10, "ip", "-4", "addr", "show", "dev", "vnet0");
        assertTrue(addresses.output().contains("inet 10.99.0.5/32"), "the assigned host address is on site-a's TUN: "
                + addresses.output());
    }

    /** site-a's intruder (wrong token) got 403 from the edge, which counted it; no session, nothing installed. */
    @Test
    @Order(2)
    void shouldAnswerAWrongTokenWith403AndInstallNothing() throws Exception {
        VnetdProcess siteA = running.get(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!siteA.log().contains("event=masque_refused tunnel=intruder") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(siteA.log().matches("(?s).*event=masque_refused tunnel=intruder [^\\n]*status=403.*"),
                siteA.log());
        assertTrue(metric(net.edge, "vnetd_masque_auth_failures_total{listener=\"masque\"}") >= 1,
                "the edge counted the refused client");
        assertEquals(0, metric(net.siteA, "vnetd_masque_sessions_total{listener=\"\",tunnel=\"intruder\"}"));
        SiteEdgeSite.Result routes = SiteEdgeSite.run(net.siteA, 10, "curl", "-sf",
                "http://127.0.0.1:9400/api/v1/routes?vn=quarantine");
        assertEquals(0, routes.exit(), routes.output());
        assertTrue(routes.output().contains("\"routes\":[]"), "the refused client installed nothing: "
                + routes.output());
    }

    /**
     * site-a's host sends UDP to site-b's host from {@value #SPOOFED_SOURCE}, an address on its TUN device the edge
     * did not assign: site-a's vnetd carries it into MASQUE, the edge drops and counts every one, site-b's host gets
     * none; the datagrams sent right after from the assigned 10.0.1.1 still arrive.
     */
    @Test
    @Order(3)
    void shouldDropAndCountASpoofedSourceFromASiteHost() throws Exception {
        int spoofed = 20;
        Namespaces.ip("-n", net.siteA, "addr", "add", SPOOFED_SOURCE + "/32", "dev", "vnet0");
        try {
            long before = metric(net.edge, SPOOFED_DROPS);
            Process receiver = SiteEdgeSite.start(net.siteB, PYTHON, "-u", "-c", """
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(("%s", 5002))
                    s.settimeout(10)
                    print("listening", flush=True)
                    while True:
                        data, source = s.recvfrom(2048)
                        print(source[0], data.decode(), flush=True)
                        if data == b"legit":
                            break
                    """.formatted(SITE_B_HOST));
            SiteEdgeSite.awaitLine(receiver, "listening");
            SiteEdgeSite.Result sender = SiteEdgeSite.run(net.siteA, 20, PYTHON, "-c", """
                    import socket, time
                    spoofed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    spoofed.bind(("%1$s", 0))
                    for _ in range(%3$d):
                        spoofed.sendto(b"spoofed", ("%2$s", 5002))
                    legit = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    legit.bind(("%4$s", 0))
                    for _ in range(40):
                        legit.sendto(b"legit", ("%2$s", 5002))
                        time.sleep(0.05)
                    """.formatted(SPOOFED_SOURCE, SITE_B_HOST, spoofed, SITE_A_HOST));
            assertEquals(0, sender.exit(), sender.output());
            String received = new String(receiver.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(receiver.waitFor(10, TimeUnit.SECONDS), received);
            assertTrue(received.contains(SITE_A_HOST + " legit"), "legitimate traffic still arrives: " + received);
            assertFalse(received.contains("spoofed"), "site-b's host received a spoofed datagram: " + received);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (metric(net.edge, SPOOFED_DROPS) < before + spoofed && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            long dropped = metric(net.edge, SPOOFED_DROPS) - before;
            assertTrue(dropped >= spoofed, "the edge dropped " + dropped + " as masque_spoofed_source, sent "
                    + spoofed);
        } finally {
            Namespaces.ip("-n", net.siteA, "addr", "del", SPOOFED_SOURCE + "/32", "dev", "vnet0");
        }
    }

    /**
     * The same traffic over GRE-in-UDP between the same namespaces, right after: the yardstick MASQUE's iperf3
     * figure is compared with (both printed as {@code masque-netns carrier=... iperf3_tcp_mbps=...}).
     */
    @Test
    @Order(4)
    void shouldCarryTheSameTrafficOverGreInUdpForComparison() throws Exception {
        String edge = """
                node: {name: edge, workers: 2}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: gre-udp, listen: 0.0.0.0}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site-a, type: gre-udp, listener: underlay, remote: %s, virtual_network: default, mtu: %d}
                  - {name: site-b, type: gre-udp, listener: underlay, remote: %s, virtual_network: default, mtu: %d}
                routes:
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: site-a}
                  - {prefix: 10.0.2.0/24, virtual_network: default, via: site-b}
                  - {prefix: "fd00:1::/64", virtual_network: default, via: site-a}
                  - {prefix: "fd00:2::/64", virtual_network: default, via: site-b}
                """.formatted(SiteEdgeSite.SITE_A_UNDERLAY, MTU, SiteEdgeSite.SITE_B_UNDERLAY, MTU);
        startVnetds("gre", edge, greSite("site-a", "10.0.1", "fd00:1::", SiteEdgeSite.SITE_A_UNDERLAY,
                SiteEdgeSite.EDGE_A_UNDERLAY), greSite("site-b", "10.0.2", "fd00:2::", SiteEdgeSite.SITE_B_UNDERLAY,
                SiteEdgeSite.EDGE_B_UNDERLAY));
        carryRealTraffic("gre");
    }

    /** The GRE-in-UDP site: the same TUN, and 10.0.0.0/8 and fd00::/16 routed to the edge by configuration. */
    private static String greSite(String name, String v4, String v6, String underlay, String edge) {
        return """
                node: {name: %1$s, workers: 2}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: gre-udp, listen: %4$s}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: hosts, type: tun, device: vnet0, virtual_network: default, mtu: %6$d,
                     addresses: [%2$s.1/24, "%3$s1/64"], host_routes: [10.0.0.0/8, "fd00::/16"]}
                  - {name: edge, type: gre-udp, listener: underlay, remote: %5$s, virtual_network: default}
                routes:
                  - {prefix: %2$s.0/24, virtual_network: default, via: hosts}
                  - {prefix: "%3$s/64", virtual_network: default, via: hosts}
                  - {prefix: 10.0.0.0/8, virtual_network: default, via: edge}
                  - {prefix: "fd00::/16", virtual_network: default, via: edge}
                """.formatted(name, v4, v6, underlay, edge, MTU);
    }

    private static void carryRealTraffic(String carrier) throws Exception {
        SiteEdgeSite.assertPings(net.siteA, SITE_B_HOST, 20);
        SiteEdgeSite.assertPings(net.siteB, SITE_A_HOST, 20);
        SiteEdgeSite.assertPings(net.siteA, "fd00:2::1", 20);

        byte[] sent = new byte[1 << 20];
        new Random(8).nextBytes(sent);
        Path source = Files.write(dir.resolve("sent.bin"), sent);
        Path received = dir.resolve(carrier + "-received.bin");
        Process server = SiteEdgeSite.start(net.siteB, PYTHON, "-u", "-c", """
                import socket
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("%s", 5001))
                s.listen(1)
                print("listening", flush=True)
                s.settimeout(30)
                c, _ = s.accept()
                with open("%s", "wb") as f:
                    while True:
                        data = c.recv(65536)
                        if not data:
                            break
                        f.write(data)
                print("done", flush=True)
                """.formatted(SITE_B_HOST, received));
        SiteEdgeSite.awaitLine(server, "listening");
        SiteEdgeSite.Result client = SiteEdgeSite.run(net.siteA, 40, PYTHON, "-c", """
                import socket
                s = socket.create_connection(("%s", 5001), timeout=30)
                s.sendall(open("%s", "rb").read())
                s.close()
                """.formatted(SITE_B_HOST, source));
        assertEquals(0, client.exit(), client.output());
        SiteEdgeSite.awaitLine(server, "done");
        assertArrayEquals(sent, Files.readAllBytes(received), "the bytes site-b's host received");

        long tcpBytes = iperf3(carrier);
        assertTrue(tcpBytes > 0, "iperf3 TCP received " + tcpBytes + " bytes");
        long carried = (sent.length + tcpBytes) / (MTU - 40);
        long edgeRx = SiteEdgeSite.tunnelCounter(net.edge, "site-a", "rx_packets");
        long edgeTx = SiteEdgeSite.tunnelCounter(net.edge, "site-b", "tx_packets");
        assertTrue(edgeRx >= carried && edgeTx >= carried, "the edge carried the traffic (at least " + carried
                + " packets): rx from site-a " + edgeRx + ", tx to site-b " + edgeTx);
    }

    /** iperf3 TCP from site-a's host to site-b's for 2 s; prints the rate, returns the bytes received. */
    private static long iperf3(String carrier) throws Exception {
        Process server = SiteEdgeSite.start(net.siteB, "iperf3", "-s", "-1", "-B", SITE_B_HOST, "-p", "5201");
        try {
            String[] command = {"iperf3", "-c", SITE_B_HOST, "-p", "5201", "-t", "2", "-J"};
            SiteEdgeSite.Result result = SiteEdgeSite.run(net.siteA, 30, command);
            for (int attempt = 0; attempt < 20 && result.output().contains("unable to connect"); attempt++) {
                Thread.sleep(100);
                result = SiteEdgeSite.run(net.siteA, 30, command);
            }
            assertEquals(0, result.exit(), result.output());
            long bytes = SiteEdgeSite.last(result.output(), "\"sum_received\":\\s*\\{[^}]*?\"bytes\":\\s*(\\d+)");
            Matcher rate = Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)")
                    .matcher(result.output());
            double bits = rate.find() ? Double.parseDouble(rate.group(1)) : 0;
            System.out.printf("masque-netns carrier=%s iperf3_tcp_mbps=%.1f%n", carrier, bits / 1e6);
            return bytes;
        } finally {
            server.waitFor(5, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }




    /** A series of the Prometheus text of the vnetd in {@code ns}, e.g. {@code vnetd_drops_total{reason="x"}}. */
    private static long metric(String ns, String series) throws Exception {
        SiteEdgeSite.Result r = SiteEdgeSite.run(ns, 10, "curl", "-sf", "http://127.0.0.1:9400/metrics");
        assertEquals(0, r.exit(), r.output());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+]+)$").matcher(r.output());
        assertTrue(m.find(), series + " in " + r.output());
        return (long) Double.parseDouble(m.group(1));
    }

}
