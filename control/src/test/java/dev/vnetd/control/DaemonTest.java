package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(Daemon daemon, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + daemon.adminAddress().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Path config(int udpPort) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, """
                node: {name: metrics-test, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v}
                  - {name: dc, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: dc}
                """.formatted(FreePort.tcp(), udpPort, FreePort.udp("127.0.0.3")));
        return file;
    }

    @Test
    void shouldServeMetricsHealthAndReadiness() throws Exception {
        int port = FreePort.udp("127.0.0.1");
        try (Daemon daemon = Daemon.start(ConfigLoader.load(config(port)));
             DatagramChannel site = DatagramChannel.open(StandardProtocolFamily.INET)
                     .bind(new InetSocketAddress("127.0.0.2", 0))) {
            ByteBuf good = new PacketBuilder().gre(-1).ip("192.168.1.1", "10.1.1.1", 64).udp(1, 2, new byte[10])
                    .build(UnpooledByteBufAllocator.DEFAULT);
            ByteBuf badVersion = new PacketBuilder().gre(-1).ip("192.168.1.1", "10.1.1.1", 64)
                    .udp(1, 2, new byte[10]).build(UnpooledByteBufAllocator.DEFAULT);
            badVersion.setByte(1, 1);
            site.send(good.nioBuffer(), new InetSocketAddress("127.0.0.1", port));
            site.send(badVersion.nioBuffer(), new InetSocketAddress("127.0.0.1", port));
            good.release();
            badVersion.release();

            System.gc();
            String metrics = "";
            // A sent packet counts once sendmmsg returns, at the end of its read batch: wait for both counters.
            for (int i = 0; i < 100 && !(metrics.contains("vnetd_drops_total{reason=\"gre_bad_version\"} 1.0")
                    && metrics.contains("vnetd_tx_packets_total{listener=\"gre-udp\",tunnel=\"dc\"} 1.0")); i++) {
                Thread.sleep(50);
                metrics = get(daemon, "/metrics").body();
            }
            assertTrue(metrics.contains("vnetd_drops_total{reason=\"gre_bad_version\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_rx_packets_total{listener=\"gre-udp\",tunnel=\"site\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_tx_packets_total{listener=\"gre-udp\",tunnel=\"dc\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_tx_bytes_total{listener=\"gre-udp\",tunnel=\"dc\"}"), metrics);
            assertTrue(metrics.contains("vnetd_build_info{"), metrics);
            assertTrue(metrics.contains("vnetd_admin_unauthorized_total 0.0"), metrics);
            assertTrue(metrics.contains("vnetd_tunnel_state{tunnel=\"dc\"} 1.0"), metrics);
            assertTrue(metrics.contains("vnetd_listener_up{listener=\"gre-udp\",type=\"gre-udp\"} 1.0"), metrics);
            assertTrue(metrics.contains("jvm_memory_used_bytes"), metrics);
            assertEquals(200, get(daemon, "/healthz").statusCode());
            assertEquals(200, get(daemon, "/readyz").statusCode());
            assertEquals(404, get(daemon, "/nope").statusCode());
        }
    }

    @Test
    void shouldReportNotReadyWhenAListenerCannotBind() throws Exception {
        try (DatagramSocket squatter = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            try (Daemon daemon = Daemon.start(ConfigLoader.load(config(squatter.getLocalPort())))) {
                HttpResponse<String> ready = get(daemon, "/readyz");
                assertEquals(503, ready.statusCode());
                assertTrue(ready.body().contains("listener gre-udp: bind"), ready.body());
                assertEquals(200, get(daemon, "/healthz").statusCode(), "the daemon itself is alive");
                assertTrue(daemon.scrape().contains("vnetd_listener_up{listener=\"gre-udp\",type=\"gre-udp\"} 0.0"));
            }
        }
    }
}
