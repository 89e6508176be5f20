package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.transport.ListenerSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reload through the CLI and the admin API against a running daemon: routes change, tunnels and virtual networks come
 * and go, bad files change nothing.
 */
class ReloaderTest {
    @TempDir
    Path dir;

    private int port;
    private int dcPort;

    private String config(String routeVia, String extraTunnel) throws Exception {
        return """
                node: {name: reload-test, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v, arr: true}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v}
                  - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%3$d, virtual_network: v}
                %s
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: %s}
                """.formatted(adminPort, port, dcPort, extraTunnel, routeVia);
    }

    private int adminPort;

    private static String run(int exitExpected, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        assertEquals(exitExpected, exit, out + "" + err);
        return out.toString() + err;
    }

    private static boolean arrives(DatagramSocket dc) throws Exception {
        try {
            dc.receive(new DatagramPacket(new byte[2048], 2048));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    private void send(DatagramSocket site, int sport) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(-1).ip("192.168.1.5", "10.1.1.1", 64).udp(sport, 80, new byte[8])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        site.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port)));
    }

    @Test
    void shouldApplyRouteChangesAndAddedAndRemovedTunnelsAndRefuseBrokenFiles() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config("dc1", ""));
        String admin = "127.0.0.1:" + adminPort;
        try (Daemon daemon = Daemon.start(ConfigLoader.load(file));
             DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dc2 = new DatagramSocket(new InetSocketAddress("127.0.0.4", dcPort));
             DatagramSocket dc9 = new DatagramSocket(new InetSocketAddress("127.0.0.9", dcPort))) {
            dc9.setSoTimeout(2000);
            dc1.setSoTimeout(2000);
            dc2.setSoTimeout(300);
            send(site, 1000);
            assertTrue(arrives(dc1), "before the reload the route leads to dc1");

            Files.writeString(file, config("dc2", ""));
            assertEquals("reloaded", run(0, "reload", "--admin", admin).strip());
            dc2.setSoTimeout(2000);
            send(site, 2000);
            assertTrue(arrives(dc2), "a new flow follows the new route");
            send(site, 1000);
            assertTrue(arrives(dc1), "an existing ARR flow keeps its pinned next hop across the reload");

            Files.writeString(file, config("dc3", ""));
            String broken = run(1, "reload", "--admin", admin);
            assertTrue(broken.contains("vnetd.yaml:13:5: route 10.0.0.0/8 goes via unknown tunnel 'dc3'"), broken);
            assertTrue(broken.contains("goes via unknown tunnel 'dc3'"), broken);
            send(site, 3000);
            assertTrue(arrives(dc2), "a failed reload changes nothing");

            String dc9Tunnel = "  - {name: dc9, type: gre-udp, listener: gre-udp, remote: 127.0.0.9:" + dcPort
                    + ", virtual_network: v}";
            Files.writeString(file, config("dc9", dc9Tunnel));
            assertEquals("reloaded", run(0, "reload", "--admin", admin).strip(), "adding a tunnel applies in place");
            send(site, 4000);
            assertTrue(arrives(dc9), "the added tunnel carries the new route's traffic");
            // The worker counts a packet as sent once sendmmsg returns, which can be after dc9 already has it.
            String dc9Tx = "vnetd_tx_packets_total{listener=\"gre-udp\",tunnel=\"dc9\"}";
            awaitSample(daemon, dc9Tx, 1, "and has its metrics");

            Files.writeString(file, config("dc2", ""));
            assertEquals("reloaded", run(0, "reload", "--admin", admin).strip(), "removing a tunnel applies in place");
            assertEquals(null, daemon.stateHolder().get().tunnel("dc9"));
            assertFalse(daemon.scrape().contains("tunnel=\"dc9\""), "a removed tunnel's metrics are removed");

            String metrics = daemon.scrape();
            assertTrue(metrics.contains("vnetd_config_reloads_total{result=\"success\"} 3.0"), metrics);
            assertTrue(metrics.contains("vnetd_config_reloads_total{result=\"failure\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_config_last_reload_success_timestamp_seconds"), metrics);
        }
    }

    @Test
    void shouldAddAVirtualNetworkWithItsTunnelsAndRoutesInPlace() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        String added = """
                  - {name: site-w, type: gre-udp, listener: gre-udp, remote: 127.0.0.5, virtual_network: w}
                  - {name: dc-w, type: gre-udp, listener: gre-udp, remote: 127.0.0.6:%d, virtual_network: w,
                     interface_address: 169.254.60.0/31, health_check: {rate: low}}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: w, via: dc-w}
                virtual_networks:
                  - {name: w}
                """.formatted(dcPort);
        Path file = dir.resolve("vnetd.yaml");
        Path extra = dir.resolve("extra.yaml");
        Files.writeString(file, config("dc1", "") + "include: extra.yaml\n");
        Files.writeString(extra, "routes: []\n");
        try (DatagramSocket dcW = new DatagramSocket(new InetSocketAddress("127.0.0.6", dcPort));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket siteW = new DatagramSocket(new InetSocketAddress("127.0.0.5", 0));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dcW.setSoTimeout(2000);
            dc1.setSoTimeout(2000);
            Files.writeString(extra, "tunnels:\n" + added);
            assertTrue(daemon.reload().success(), "a virtual network, two tunnels and a route added");

            send(siteW, 5000);
            byte[] buffer = new byte[2048];
            boolean udp = false;
            for (int i = 0; i < 5 && !udp; i++) {
                dcW.receive(new DatagramPacket(buffer, buffer.length));
                udp = buffer[4 + 9] == 17;
            }
            assertTrue(udp, "the added site reaches the added data centre in its own network (past its probes)");
            String metrics = daemon.scrape();
            assertTrue(metrics.contains("vnetd_routes{family=\"ipv4\",virtual_network=\"w\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_flows{vn=\"w\"}"), metrics);
            assertTrue(metrics.contains("vnetd_tunnel_state{tunnel=\"dc-w\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_tunnel_probes_total{result=\"success\",tunnel=\"dc-w\"}")
                    || metrics.contains("vnetd_tunnel_probes_total{result=\"failure\",tunnel=\"dc-w\"}"),
                    "the added tunnel's health check runs: " + metrics);
            assertEquals(0, daemon.stateHolder().get().virtualNetwork("v").id(), "running ids are kept");
            assertEquals(1, daemon.stateHolder().get().virtualNetwork("w").id(), "added ones take the next");
            assertEquals(3, daemon.stateHolder().get().tunnel("site-w").id());
        }
    }

    private void send(DatagramSocket from, String source, String destination, int sport, int dport)
            throws Exception {
        ByteBuf packet = new PacketBuilder().gre(-1).ip(source, destination, 64).udp(sport, dport, new byte[8])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        from.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port)));
    }

    /** The value of the Prometheus sample {@code series} (name and labels), 0 when absent. */
    private static double sample(Daemon daemon, String series) {
        for (String line : daemon.scrape().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        return 0;
    }

    private static void awaitDrops(Daemon daemon, String reason, double atLeast) throws InterruptedException {
        awaitSample(daemon, "vnetd_drops_total{reason=\"" + reason + "\"}", atLeast, reason);
    }

    /** Waits up to 2 s for {@code series} to reach {@code expected}, then asserts it equals it. */
    private static void awaitSample(Daemon daemon, String series, double expected, String message)
            throws InterruptedException {
        for (int i = 0; i < 100 && sample(daemon, series) < expected; i++) {
            Thread.sleep(20);
        }
        assertEquals(expected, sample(daemon, series), message);
    }

    @Test
    void shouldRemoveATunnelDroppingItsPacketsAndItsFlowsRepliesWhileTheOthersFlow() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        String site2 = "  - {name: site2, type: gre-udp, listener: gre-udp, remote: 127.0.0.5:" + dcPort
                + ", virtual_network: v, arr: true}";
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config("dc1", site2));
        try (DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket other = new DatagramSocket(new InetSocketAddress("127.0.0.5", dcPort));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            other.setSoTimeout(2000);
            send(site, "192.168.1.5", "10.1.1.1", 1000, 80);
            send(other, "192.168.1.6", "10.1.1.1", 2000, 80);
            assertTrue(arrives(dc1) && arrives(dc1), "both sites open a flow to dc1");
            assertEquals(2, daemon.flows().liveFlows());
            int siteId = daemon.stateHolder().get().tunnel("site").id();

            Files.writeString(file, config("dc1", site2).replace("  - {name: site, type", "  # {name: site, type"));
            assertTrue(daemon.reload().success(), "removing the tunnel 'site' applies in place");

            send(site, "192.168.1.5", "10.1.1.1", 1000, 80);
            awaitDrops(daemon, "unknown_tunnel", 1);
            send(dc1, "10.1.1.1", "192.168.1.5", 80, 1000);
            awaitDrops(daemon, "tunnel_removed", 1);
            send(other, "192.168.1.6", "10.1.1.1", 2000, 80);
            assertTrue(arrives(dc1), "the other site's flow keeps flowing");
            send(dc1, "10.1.1.1", "192.168.1.6", 80, 2000);
            assertTrue(arrives(other), "and its replies return through it (ARR)");
            for (int i = 0; i < 150 && daemon.flows().liveFlows() > 1; i++) {
                Thread.sleep(20);
            }
            assertEquals(1, daemon.flows().liveFlows(), "the sweeper removes the removed tunnel's flow only");
            String tunnels = run(0, "tunnels", "--json", "--admin", "127.0.0.1:" + adminPort);
            assertFalse(tunnels.contains("\"site\""), tunnels);
            assertTrue(tunnels.contains("\"site2\""), tunnels);
            assertFalse(daemon.scrape().contains("tunnel=\"site\""), "its per-tunnel metrics are removed");

            Files.writeString(file, config("dc1", site2));
            assertTrue(daemon.reload().success(), "the name can come back");
            assertEquals(4, daemon.stateHolder().get().tunnel("site").id(), "as a new tunnel: ids are never reused");
            assertTrue(daemon.stateHolder().get().retiredTunnel(siteId));
            send(site, "192.168.1.5", "10.1.1.1", 3000, 80);
            assertTrue(arrives(dc1), "and forwards again");
            assertEquals(1.0, sample(daemon, "vnetd_rx_packets_total{listener=\"gre-udp\",tunnel=\"site\"}"),
                    "with counters of its own, starting afresh");
        }
    }

    @Test
    void shouldRouteAPinnedFlowAgainWhenItsNextHopIsRemoved() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, config("dc1", ""));
        try (DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dc2 = new DatagramSocket(new InetSocketAddress("127.0.0.4", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            dc2.setSoTimeout(2000);
            send(site, 1000);
            assertTrue(arrives(dc1), "the flow is pinned to dc1");

            Files.writeString(file, config("dc2", "").replace("  - {name: dc1, type", "  # {name: dc1, type"));
            assertTrue(daemon.reload().success(), "dc1 removed, the route now via dc2");
            send(site, 1000);
            assertTrue(arrives(dc2), "the pinned flow's next packet is routed again, to dc2");
            assertEquals(0, sample(daemon, "vnetd_drops_total{reason=\"tunnel_removed\"}"));
            assertEquals(1, daemon.flows().liveFlows(), "the flow itself survives, re-pinned");
        }
    }

    @Test
    void shouldRemoveAVirtualNetworkWithItsTunnelsAndRoutes() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        adminPort = FreePort.tcp();
        String network = """
                  - {name: site-w, type: gre-udp, listener: gre-udp, remote: 127.0.0.5, virtual_network: w}
                  - {name: dc-w, type: gre-udp, listener: gre-udp, remote: 127.0.0.6:%d, virtual_network: w}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: w, via: dc-w}
                virtual_networks:
                  - {name: w}
                """.formatted(dcPort);
        Path file = dir.resolve("vnetd.yaml");
        Path extra = dir.resolve("extra.yaml");
        Files.writeString(file, config("dc1", "") + "include: extra.yaml\n");
        Files.writeString(extra, "tunnels:\n" + network);
        try (DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket siteW = new DatagramSocket(new InetSocketAddress("127.0.0.5", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dcW = new DatagramSocket(new InetSocketAddress("127.0.0.6", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            dcW.setSoTimeout(2000);
            send(siteW, 5000);
            assertTrue(arrives(dcW), "w forwards before the reload");

            Files.writeString(extra, "routes: []\n");
            assertTrue(daemon.reload().success(), "removing a virtual network with its tunnels applies in place");
            assertEquals(null, daemon.stateHolder().get().virtualNetwork("w"));
            assertEquals(2, daemon.stateHolder().get().virtualNetworks().length, "w stays as a retired entry");
            assertEquals(0, daemon.stateHolder().get().virtualNetworks()[1].ipv4().size(), "without its routes");
            send(siteW, 5001);
            awaitDrops(daemon, "unknown_tunnel", 1);
            send(site, 6000);
            assertTrue(arrives(dc1), "v keeps forwarding");
            String metrics = daemon.scrape();
            assertFalse(metrics.contains("virtual_network=\"w\"") || metrics.contains("vn=\"w\""), metrics);
        }
    }

    private static String listenerConfig(int admin, int port, int dcPort, String listener, String tunnel) {
        return """
                node: {name: listener-test, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                %s
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v}
                %s
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: dc1}
                """.formatted(admin, port, listener, dcPort, tunnel);
    }

    private static String second(int port) {
        return "  - {name: second, type: gre-udp, listen: 127.0.0.1:" + port + ", source_ports: 0}";
    }

    private static final String SITE_B = "  - {name: site-b, type: gre-udp, listener: second, remote: 127.0.0.7,"
            + " virtual_network: v}";

    private static void sendTo(DatagramSocket from, int port, int sport) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(-1).ip("192.168.1.5", "10.1.1.1", 64).udp(sport, 80, new byte[8])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        from.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port)));
    }

    /** Whether nothing is bound to 127.0.0.1:{@code port} any more (binding without SO_REUSEPORT succeeds). */
    private static boolean free(int port) {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
            return probe.isBound();
        } catch (java.net.SocketException e) {
            return false;
        }
    }

    private static List<Integer> localPorts(List<ListenerSocket> sockets) {
        return sockets.stream().map(s -> s.localAddress().getPort()).toList();
    }

    @Test
    void shouldAddChangeAndRemoveAListenerWhileTheUnchangedOneKeepsItsSockets() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        int admin = FreePort.tcp();
        int port2 = FreePort.udp("127.0.0.1");
        int port3 = FreePort.udp("127.0.0.1");
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, listenerConfig(admin, port, dcPort, "", ""));
        try (DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket siteB = new DatagramSocket(new InetSocketAddress("127.0.0.7", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            List<ListenerSocket> kept = daemon.dataplane().sockets(0);
            assertEquals(List.of(port, port), localPorts(kept), "one socket per worker");

            Files.writeString(file, listenerConfig(admin, port, dcPort, second(port2), SITE_B));
            assertTrue(daemon.reload().success(), "adding a listener applies in place");
            assertEquals(List.of(port2, port2), localPorts(daemon.dataplane().sockets(1)), "open on every worker");
            sendTo(siteB, port2, 1000);
            assertTrue(arrives(dc1), "a site reaches vnetd through the added listener");
            assertTrue(daemon.scrape().contains("vnetd_listener_up{listener=\"second\",type=\"gre-udp\"} 1.0"));

            Files.writeString(file, listenerConfig(admin, port, dcPort, second(port3), SITE_B));
            assertTrue(daemon.reload().success(), "changing a listener's port applies in place");
            assertTrue(free(port2), "the old port is closed");
            sendTo(siteB, port3, 1001);
            assertTrue(arrives(dc1), "and the tunnel on it arrives on the new port");
            assertEquals(2, daemon.stateHolder().get().tunnel("site-b").listener().id(), "a changed listener's new id");

            Files.writeString(file, listenerConfig(admin, port, dcPort, "", ""));
            assertTrue(daemon.reload().success(), "removing a listener with its tunnel applies in place");
            assertTrue(free(port3), "its port is closed");
            assertFalse(daemon.scrape().contains("listener=\"second\""), "its metrics are gone");

            assertEquals(kept, daemon.dataplane().sockets(0), "the unchanged listener kept its sockets throughout");
            assertTrue(kept.stream().allMatch(ListenerSocket::isOpen));
            sendTo(site, port, 1002);
            assertTrue(arrives(dc1), "and forwards");
        }
    }

    private String connectedConfig(int admin, String connectedRemotes, String dc1) {
        return """
                node: {name: reload-test, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 2%s}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v, arr: true}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: %s:%d, virtual_network: v}
                  - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%5$d, virtual_network: v}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: dc1}
                """.formatted(admin, port, connectedRemotes, dc1, dcPort);
    }

    /** The local ports of those of {@code sockets} connected to {@code host}:dcPort. */
    private List<Integer> portsConnectedTo(List<ListenerSocket> sockets, String host) {
        InetSocketAddress remote = new InetSocketAddress(host, dcPort);
        return sockets.stream().filter(s -> remote.equals(s.connectedTo())).map(s -> s.localAddress().getPort())
                .toList();
    }

    /** The source port of the next datagram {@code dc} receives. */
    private static int sourcePortOfNext(DatagramSocket dc) throws Exception {
        DatagramPacket datagram = new DatagramPacket(new byte[2048], 2048);
        dc.receive(datagram);
        return datagram.getPort();
    }

    /**
     * Sockets connected to the tunnels' remotes follow each reload: a readdressed tunnel's packets leave from
     * sockets connected to its new remote, those of remotes no tunnel has any more are closed, connected_remotes
     * changes in place (the listener keeps its sockets) and 0 closes them all.
     */
    @Test
    void shouldConnectTheRemotesOfEachReloadedConfigurationAndCloseTheRest() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        int admin = FreePort.tcp();
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, connectedConfig(admin, "", "127.0.0.3"));
        try (DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dc9 = new DatagramSocket(new InetSocketAddress("127.0.0.9", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            dc9.setSoTimeout(2000);
            List<ListenerSocket> listening = daemon.dataplane().sockets(0);
            List<ListenerSocket> first = daemon.dataplane().connectedSockets(0);
            assertEquals(6, first.size(), "three remotes (127.0.0.2, .3, .4), two source ports, one worker");
            assertTrue(daemon.scrape().contains("vnetd_listener_connected_remotes{listener=\"gre-udp\"} 3.0"));
            send(site, 1000);
            assertTrue(portsConnectedTo(first, "127.0.0.3").contains(sourcePortOfNext(dc1)),
                    "dc1's packets leave from a socket connected to it");

            Files.writeString(file, connectedConfig(admin, ", connected_remotes: 2", "127.0.0.9"));
            assertTrue(daemon.reload().success());
            List<ListenerSocket> second = daemon.dataplane().connectedSockets(0);
            assertEquals(4, second.size(), "the first two remotes by tunnel: site's and dc1's new one");
            assertEquals(2, portsConnectedTo(second, "127.0.0.9").size());
            assertTrue(daemon.scrape().contains("vnetd_listener_connected_remotes{listener=\"gre-udp\"} 2.0"));
            assertEquals(4, first.stream().filter(s -> !s.isOpen()).count(), "those to .3 and .4 are closed");
            send(site, 1001);
            assertTrue(portsConnectedTo(second, "127.0.0.9").contains(sourcePortOfNext(dc9)),
                    "the readdressed tunnel's packets leave from a socket connected to its new remote");

            Files.writeString(file, connectedConfig(admin, ", connected_remotes: 0", "127.0.0.9"));
            assertTrue(daemon.reload().success());
            assertEquals(List.of(), daemon.dataplane().connectedSockets(0));
            assertTrue(daemon.scrape().contains("vnetd_listener_connected_remotes{listener=\"gre-udp\"} 0.0"));
            assertTrue(second.stream().noneMatch(ListenerSocket::isOpen));
            send(site, 1002);
            int from = sourcePortOfNext(dc9);
            assertTrue(localPorts(daemon.dataplane().sockets(0)).contains(from), "sent from an unconnected socket");
            assertEquals(listening, daemon.dataplane().sockets(0), "the listener kept its sockets throughout");
        }
    }

    @Test
    void shouldFailAndChangeNothingWhenAnAddedListenerCannotBind() throws Exception {
        port = FreePort.udp("127.0.0.1");
        dcPort = FreePort.udp("127.0.0.3");
        int admin = FreePort.tcp();
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, listenerConfig(admin, port, dcPort, "", ""));
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             Daemon daemon = Daemon.start(ConfigLoader.load(file))) {
            dc1.setSoTimeout(2000);
            var before = daemon.stateHolder().get();
            List<ListenerSocket> kept = daemon.dataplane().sockets(0);
            Files.writeString(file, listenerConfig(admin, port, dcPort, second(taken.getLocalPort()), SITE_B));

            Reloader.Result result = daemon.reload();

            assertFalse(result.success());
            assertTrue(result.errors().getFirst().startsWith("listener 'second' (/127.0.0.1:" + taken.getLocalPort()
                    + ") cannot be opened: bind"), result.errors().toString());
            assertSame(before, daemon.stateHolder().get(), "the running state is untouched");
            assertEquals(List.of(), daemon.dataplane().sockets(1), "nothing stays open");
            assertEquals(kept, daemon.dataplane().sockets(0));
            assertTrue(daemon.scrape().contains("vnetd_config_reloads_total{result=\"failure\"} 1.0"));
            sendTo(site, port, 1000);
            assertTrue(arrives(dc1), "the running listener forwards on");

            taken.close();
            assertTrue(daemon.reload().success(), "the same file applies once the port is free");
            assertEquals(1, daemon.stateHolder().get().tunnel("site-b").listener().id(), "id 1 was never published");
        }
    }

    @Test
    void shouldRefuseToChangeATunAttachmentsDeviceInPlace() throws Exception {
        String running = """
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: hosts, type: tun, device: vnet0, virtual_network: default, addresses: [10.0.1.1/24]}
                routes:
                  - {prefix: 10.0.1.0/24, virtual_network: default, via: hosts}
                """;
        var before = ConfigLoader.parse("a.yaml", running, null);

        assertEquals(java.util.List.of(), Reloader.changesNeedingRestart(before, ConfigLoader.parse("b.yaml",
                running.replace("10.0.1.0/24, virtual_network", "10.0.0.0/8, virtual_network"), null)),
                "routes via an attachment reload");
        assertEquals(java.util.List.of("tunnel 'hosts' changed its tun device, addresses, host routes or MTU, or "
                        + "became or stopped being a tun attachment: that needs a restart"),
                Reloader.changesNeedingRestart(before, ConfigLoader.parse("c.yaml",
                        running.replace("10.0.1.1/24]", "10.0.1.1/24], mtu: 1400"), null)));
        assertEquals(java.util.List.of("tun attachment 'more' is new: adding a tun attachment (a device to open) "
                        + "needs a restart"),
                Reloader.changesNeedingRestart(before, ConfigLoader.parse("d.yaml", running.replace("routes:",
                        "  - {name: more, type: tun, device: vnet1, virtual_network: default, addresses: [10.0.2.1/24]}"
                                + "\nroutes:"), null)));
    }
}
