package dev.vnetd.control.peers;

import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real traffic between real host stacks through three vnetds ({@link SiteEdgeSite}): each site runs vnetd as its
 * gateway, with a TUN attachment toward its own host stack and a tunnel to the edge; the edge vnetd routes between
 * the two site tunnels. ping, a TCP transfer whose bytes are compared, and iperf3 TCP and UDP then run from host to
 * host (ping over IPv4 and IPv6), over GRE-in-UDP and over ESP-in-UDP (AES-GCM-128), and the edge's admin API must
 * have counted them, so the test cannot pass by bypassing vnetd. Then overlapping site prefixes with Automatic
 * Return Routing, and path MTU discovery through the tunnels. Inner addresses 10.0.0.0/8 and fd00::/16 exist only
 * inside the namespaces.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TunGatewayNamespaceTest {
    private static final String PYTHON = Prerequisites.PYTHON;
    private static final String SITE_A_HOST = "10.0.1.1";
    private static final String SITE_B_HOST = "10.0.2.1";
    private static final String DC_HOST = "10.0.9.1";
    /** The sites' TUN device MTU (the default). */
    private static final int TUN_MTU = 1420;
    /** site-a's tunnel to the edge carries at most this in the GRE scenario: less than its TUN MTU (1420). */
    private static final int SITE_A_TO_EDGE_MTU = 1350;
    /** The edge's tunnel to site-b carries at most this: less again. */
    private static final int EDGE_TO_B_MTU = 1300;

    @TempDir
    static Path dir;

    static SiteEdgeSite net;
    static final List<VnetdProcess> running = new ArrayList<>();
    /** Which configurations run: tests of one kind share the vnetds. */
    static String scenario;

    @BeforeAll
    static void createNamespaces() throws Exception {
        Prerequisites.root();
        Prerequisites.tool("iperf3", "--version", "iperf3");
        Prerequisites.tool("ping", "-V", "iputils-ping");
        Prerequisites.tool("curl", "--version", "curl");
        net = SiteEdgeSite.create("vt-tun");
    }

    @AfterAll
    static void deleteNamespaces() throws Exception {
        try {
            stopVnetds();
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    /** Stops the running vnetds; none may have logged an exception or a failed listener (TUN included). */
    private static void stopVnetds() throws Exception {
        List<String> logs = new ArrayList<>();
        for (VnetdProcess vnetd : running) {
            logs.add(vnetd.log());
            vnetd.close();
        }
        running.clear();
        scenario = null;
        for (String log : logs) {
            assertFalse(log.contains("Exception") || log.contains("listener_failed"), log);
        }
    }

    @Test
    @Order(1)
    void shouldAnswerPingsLargerThanATunnelMtuWithFragmentationNeededFromTheSiteAndFromTheEdge() throws Exception {
        startGre();
        SiteEdgeSite.assertPings(net.siteA, SITE_B_HOST, 10);
        SiteEdgeSite.Result atSite = SiteEdgeSite.run(net.siteA, 10, "ping", "-n", "-c", "1", "-W", "2", "-M", "do",
                "-s", Integer.toString(SITE_A_TO_EDGE_MTU + 50 - 28), SITE_B_HOST);
        assertTrue(atSite.output().contains("From " + SITE_A_HOST + " icmp_seq=1 Frag needed and DF set (mtu = "
                + SITE_A_TO_EDGE_MTU + ")"), "site-a's vnetd, from its TUN address: " + atSite.output());
        SiteEdgeSite.Result atEdge = SiteEdgeSite.run(net.siteA, 10, "ping", "-n", "-c", "1", "-W", "2", "-M", "do",
                "-s", Integer.toString(SITE_A_TO_EDGE_MTU - 28), SITE_B_HOST);
        assertTrue(atEdge.output().contains("From 192.0.0.8 icmp_seq=1 Frag needed and DF set (mtu = "
                + EDGE_TO_B_MTU + ")"), "the edge's vnetd, from RFC 7600's dummy address: " + atEdge.output());
        SiteEdgeSite.Result fits = SiteEdgeSite.run(net.siteA, 10, "ping", "-n", "-c", "1", "-w", "10", "-M", "do",
                "-s", Integer.toString(EDGE_TO_B_MTU - 28), SITE_B_HOST);
        assertEquals(0, fits.exit(), fits.output());
        assertTrue(SiteEdgeSite.tunnelCounter(net.edge, "site-a", "rx_packets") > 0);
    }

    @Test
    @Order(2)
    void shouldCarryPingTcpAndIperf3BetweenSiteHostsOverGreInUdpThroughTheEdge() throws Exception {
        startGre();
        carryRealTraffic();
    }

    @Test
    @Order(3)
    void shouldCarryPingTcpAndIperf3BetweenSiteHostsOverEspInUdpThroughTheEdge() throws Exception {
        startEsp();
        carryRealTraffic();
    }

    @Test
    @Order(4)
    void shouldReturnEachOverlappingSiteItsOwnRepliesFromTheDataCentre() throws Exception {
        startOverlap();
        Process echo = SiteEdgeSite.start(net.edge, PYTHON, "-u", "-c", """
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("%s", 7000))
                print("listening", flush=True)
                s.settimeout(20)
                while True:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
                """.formatted(DC_HOST));
        try {
            SiteEdgeSite.awaitLine(echo, "listening");
            String client = """
                    import socket, sys
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(("%s", 40000))
                    s.settimeout(0.5)
                    for attempt in range(10):
                        s.sendto(sys.argv[1].encode(), ("%s", 7000))
                        try:
                            print(s.recvfrom(2048)[0].decode(), flush=True)
                            break
                        except socket.timeout:
                            pass
                    """.formatted(SITE_A_HOST, DC_HOST);
            var fromA = CompletableFuture.supplyAsync(() -> runQuietly(net.siteA, PYTHON, "-c", client, "from-a"));
            var fromB = CompletableFuture.supplyAsync(() -> runQuietly(net.siteB, PYTHON, "-c", client, "from-b"));
            assertEquals("from-a", fromA.get(20, TimeUnit.SECONDS).output().strip(), "site-a's own reply");
            assertEquals("from-b", fromB.get(20, TimeUnit.SECONDS).output().strip(), "site-b's own reply");
        } finally {
            echo.destroyForcibly();
        }
        var pingA = CompletableFuture.supplyAsync(() -> runQuietly(net.siteA, "ping", "-n", "-c", "3", "-i", "0.2",
                "-w", "10", DC_HOST));
        var pingB = CompletableFuture.supplyAsync(() -> runQuietly(net.siteB, "ping", "-n", "-c", "3", "-i", "0.2",
                "-w", "10", DC_HOST));
        assertEquals(0, pingA.get(20, TimeUnit.SECONDS).exit(), pingA.get().output());
        assertEquals(0, pingB.get(20, TimeUnit.SECONDS).exit(), pingB.get().output());
        assertTrue(SiteEdgeSite.tunnelCounter(net.edge, "site-a", "arr_returns") >= 4,
                "replies to site-a went back by ARR");
        assertTrue(SiteEdgeSite.tunnelCounter(net.edge, "site-b", "arr_returns") >= 4,
                "replies to site-b went back by ARR");
    }

    /** ping both ways, a TCP transfer compared byte for byte, iperf3 TCP and UDP; the edge counted all of it. */
    private static void carryRealTraffic() throws Exception {
        SiteEdgeSite.assertPings(net.siteA, SITE_B_HOST, 10);
        SiteEdgeSite.assertPings(net.siteB, SITE_A_HOST, 10);
        SiteEdgeSite.assertPings(net.siteA, "fd00:2::1", 10);
        SiteEdgeSite.assertPings(net.siteB, "fd00:1::1", 10);

        byte[] sent = new byte[1 << 20];
        new Random(6).nextBytes(sent);
        Path source = Files.write(dir.resolve("sent.bin"), sent);
        Path received = dir.resolve("received.bin");
        Files.deleteIfExists(received);
        Process server = SiteEdgeSite.start(net.siteB, PYTHON, "-u", "-c", """
                import socket
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("%s", 5001))
                s.listen(1)
                print("listening", flush=True)
                s.settimeout(20)
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
        SiteEdgeSite.Result client = SiteEdgeSite.run(net.siteA, 30, PYTHON, "-c", """
                import socket
                s = socket.create_connection(("%s", 5001), timeout=20)
                s.sendall(open("%s", "rb").read())
                s.close()
                """.formatted(SITE_B_HOST, source));
        assertEquals(0, client.exit(), client.output());
        SiteEdgeSite.awaitLine(server, "done");
        assertArrayEquals(sent, Files.readAllBytes(received), "the bytes site-b's host received");

        long tcpBytes = iperf3(false);
        assertTrue(tcpBytes > 0, "iperf3 TCP received " + tcpBytes + " bytes");
        long udpPackets = iperf3(true);
        assertTrue(udpPackets > 0, "iperf3 UDP received " + udpPackets + " packets");

        // each TCP segment carries at most MTU - 40 bytes: this many packets at least crossed the edge
        long carried = sent.length / (TUN_MTU - 40) + tcpBytes / (TUN_MTU - 40) + udpPackets;
        long edgeRx = SiteEdgeSite.tunnelCounter(net.edge, "site-a", "rx_packets");
        long edgeTx = SiteEdgeSite.tunnelCounter(net.edge, "site-b", "tx_packets");
        assertTrue(edgeRx >= carried && edgeTx >= carried, "the edge carried the traffic (at least " + carried
                + " packets): rx from site-a " + edgeRx + ", tx to site-b " + edgeTx);
    }

    /** Runs an iperf3 test from site-a to site-b's host; returns the bytes (TCP) or packets (UDP) received. */
    private static long iperf3(boolean udp) throws Exception {
        Process server = SiteEdgeSite.start(net.siteB, "iperf3", "-s", "-1", "-B", SITE_B_HOST, "-p", "5201");
        try {
            List<String> command = new ArrayList<>(List.of("iperf3", "-c", SITE_B_HOST, "-p", "5201", "-t", "2",
                    "-J"));
            if (udp) {
                command.addAll(List.of("-u", "-b", "20M", "-l", "1200"));
            }
            SiteEdgeSite.Result result = SiteEdgeSite.run(net.siteA, 30, command.toArray(String[]::new));
            for (int attempt = 0; attempt < 20 && result.output().contains("unable to connect"); attempt++) {
                Thread.sleep(100);
                result = SiteEdgeSite.run(net.siteA, 30, command.toArray(String[]::new));
            }
            assertEquals(0, result.exit(), result.output());
            if (udp) {
                long packets = SiteEdgeSite.last(result.output(), "\"sum\":\\s*\\{[^}]*?\"packets\":\\s*(\\d+)");
                long lost = SiteEdgeSite.last(result.output(), "\"sum\":\\s*\\{[^}]*?\"lost_packets\":\\s*(\\d+)");
                return packets - lost;
            }
            return SiteEdgeSite.last(result.output(), "\"sum_received\":\\s*\\{[^}]*?\"bytes\":\\s*(\\d+)");
        } finally {
            server.waitFor(5, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }





    private static SiteEdgeSite.Result runQuietly(String ns, String... command) {
        try {
            return SiteEdgeSite.run(ns, 20, command);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void startGre() throws Exception {
        if ("gre".equals(scenario)) {
            return;
        }
        start("gre", siteConfig("site-a", SiteEdgeSite.SITE_A_UNDERLAY, "10.0.1", "10.0.2",
                        greTunnel(SiteEdgeSite.EDGE_A_UNDERLAY, SITE_A_TO_EDGE_MTU)),
                siteConfig("site-b", SiteEdgeSite.SITE_B_UNDERLAY, "10.0.2", "10.0.1",
                        greTunnel(SiteEdgeSite.EDGE_B_UNDERLAY, 0)),
                edgeConfig(false, greTunnel(SiteEdgeSite.SITE_A_UNDERLAY, 0),
                        greTunnel(SiteEdgeSite.SITE_B_UNDERLAY, EDGE_TO_B_MTU)));
    }

    private static void startEsp() throws Exception {
        if ("esp".equals(scenario)) {
            return;
        }
        String[] keys = new String[4];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = EspKeys.write(dir.resolve("esp-" + i + ".key"), EspKeys.randomHex(20)).toString();
        }
        start("esp", siteConfig("site-a", SiteEdgeSite.SITE_A_UNDERLAY, "10.0.1", "10.0.2",
                        espTunnel(SiteEdgeSite.EDGE_A_UNDERLAY, 0x2001, keys[1], 0x1001, keys[0])),
                siteConfig("site-b", SiteEdgeSite.SITE_B_UNDERLAY, "10.0.2", "10.0.1",
                        espTunnel(SiteEdgeSite.EDGE_B_UNDERLAY, 0x2002, keys[3], 0x1002, keys[2])),
                edgeConfig(false, espTunnel(SiteEdgeSite.SITE_A_UNDERLAY, 0x1001, keys[0], 0x2001, keys[1]),
                        espTunnel(SiteEdgeSite.SITE_B_UNDERLAY, 0x1002, keys[2], 0x2002, keys[3])));
    }

    private static void startOverlap() throws Exception {
        if ("overlap".equals(scenario)) {
            return;
        }
        start("overlap", siteConfig("site-a", SiteEdgeSite.SITE_A_UNDERLAY, "10.0.1", "10.0.9",
                        greTunnel(SiteEdgeSite.EDGE_A_UNDERLAY, 0)),
                siteConfig("site-b", SiteEdgeSite.SITE_B_UNDERLAY, "10.0.1", "10.0.9",
                        greTunnel(SiteEdgeSite.EDGE_B_UNDERLAY, 0)),
                edgeConfig(true, greTunnel(SiteEdgeSite.SITE_A_UNDERLAY, 0),
                        greTunnel(SiteEdgeSite.SITE_B_UNDERLAY, 0)));
    }

    /**
     * A site gateway: TUN toward its host ({@code own}.1/24), everything in {@code remote}.0/24 to the edge. site-b
     * runs on io_uring where this kernel has it (the TUN queues are then io_uring handles), site-a on auto (epoll).
     */
    private static String siteConfig(String name, String underlay, String own, String remote, String tunnel) {
        String transport = name.equals("site-b") && IoUring.isAvailable() ? "io_uring" : "auto";
        return """
                node: {name: %s, workers: 2, transport: %s}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: %s, listen: %s}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - name: hosts
                    type: tun
                    device: vnet0
                    virtual_network: default
                    addresses: [%s.1/24, "%s1/64"]
                    host_routes: [%s.0/24, "%s/64"]
                  - {name: edge, %s}
                routes:
                  - {prefix: %s.0/24, virtual_network: default, via: hosts}
                  - {prefix: "%s/64", virtual_network: default, via: hosts}
                  - {prefix: %s.0/24, virtual_network: default, via: edge}
                  - {prefix: "%s/64", virtual_network: default, via: edge}
                """.formatted(name, transport, carrier(tunnel), underlay, own, ipv6(own), remote, ipv6(remote),
                tunnel, own, ipv6(own), remote, ipv6(remote));
    }

    /**
     * The edge: a tunnel to each site; with {@code overlap} both sites use 10.0.1.0/24, so nothing routes to them:
     * replies from the data centre (a TUN attachment, the edge's own host stack at 10.0.9.1) go back by ARR.
     */
    private static String edgeConfig(boolean overlap, String toA, String toB) {
        String dc = overlap ? """
                  - {name: dc, type: tun, device: vnet9, virtual_network: default, addresses: [10.0.9.1/24],
                     host_routes: [10.0.1.0/24]}
                """ : "";
        String routes = overlap ? """
                  - {prefix: 10.0.9.0/24, virtual_network: default, via: dc}
                """ : """
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: site-a}
                  - {prefix: 10.0.2.0/24, virtual_network: default, via: site-b}
                  - {prefix: "fd00:1::/64", virtual_network: default, via: site-a}
                  - {prefix: "fd00:2::/64", virtual_network: default, via: site-b}
                """;
        return """
                node: {name: edge, workers: 2, transport: auto}
                admin: {listen: 127.0.0.1:9400}
                listeners:
                  - {name: underlay, type: %s, listen: 0.0.0.0}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site-a, arr: %s, %s}
                  - {name: site-b, arr: %s, %s}
                """.formatted(carrier(toA), overlap, toA, overlap, toB) + dc + "routes:\n" + routes;
    }

    /** The IPv6 prefix of a site's hosts beside its IPv4 one: 10.0.N → fd00:N:: (a /64). */
    private static String ipv6(String ipv4Prefix) {
        return "fd00:" + ipv4Prefix.substring(ipv4Prefix.lastIndexOf('.') + 1) + "::";
    }

    private static String carrier(String tunnel) {
        return tunnel.contains("esp-udp") ? "esp-udp" : "gre-udp";
    }

    /** The flow-style fields of a GRE-in-UDP tunnel to {@code remote}; MTU 0 for the default. */
    private static String greTunnel(String remote, int mtu) {
        return "type: gre-udp, listener: underlay, remote: " + remote + ", virtual_network: default"
                + (mtu == 0 ? "" : ", mtu: " + mtu);
    }

    /** The flow-style fields of an ESP-in-UDP AES-GCM-128 tunnel to {@code remote} with the given SAs. */
    private static String espTunnel(String remote, int inboundSpi, String inboundKey, int outboundSpi,
                                    String outboundKey) {
        return ("type: esp-udp, listener: underlay, remote: %s, virtual_network: default, sa: {transform: "
                + "aes-gcm-128, inbound: {spi: 0x%08x, key_file: %s}, outbound: {spi: 0x%08x, key_file: %s}}")
                .formatted(remote, inboundSpi, inboundKey, outboundSpi, outboundKey);
    }

    /** Stops what runs and starts the vnetds of site-a, site-b and the edge of {@code name}, in parallel. */
    private static void start(String name, String siteA, String siteB, String edge) throws Exception {
        stopVnetds();
        String[][] configs = {{net.siteA, "site-a", siteA}, {net.siteB, "site-b", siteB}, {net.edge, "edge", edge}};
        List<CompletableFuture<VnetdProcess>> starting = new ArrayList<>();
        for (String[] c : configs) {
            Path config = Files.writeString(dir.resolve(c[1] + ".yaml"), c[2]);
            starting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return VnetdProcess.start(Namespaces.exec(c[0]), config, dir.resolve(c[1] + ".log"));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<VnetdProcess> f : starting) {
            running.add(f.get(90, TimeUnit.SECONDS));
        }
        scenario = name;
    }
}
