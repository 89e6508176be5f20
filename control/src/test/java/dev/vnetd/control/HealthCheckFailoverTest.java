package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import dev.vnetd.dataplane.packet.InternetChecksum;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health-check test: two data centres behind GRE-in-UDP tunnels, a route through "primary" (priority
 * 100) with "backup" (200) behind it, both health-checked at the high rate ("primary" with request probes, "backup"
 * with reply probes). The far ends are real UDP peers on loopback that decapsulate, answer probes as a router would
 * (an echo request gets an echo reply; an echo reply addressed back to vnetd is routed back unchanged) and count
 * the data packets they receive. When primary stops answering it must go down within about a second and traffic
 * must move to backup; when it answers again it comes back through degraded (traffic stays on backup) and, once its
 * failures leave the degraded window (3 s here instead of five minutes), healthy, and traffic returns.
 */
class HealthCheckFailoverTest {
    private static final long DEGRADED_WINDOW_MILLIS = 3_000;

    @TempDir
    Path dir;

    /** A data centre's tunnel endpoint: answers probes while {@link #answering}, counts data packets. */
    static final class FarEnd implements AutoCloseable {
        final DatagramSocket socket;
        final AtomicLong data = new AtomicLong();
        final AtomicLong probesAnswered = new AtomicLong();
        volatile boolean answering = true;
        private final Thread thread;

        FarEnd(String address, int port) throws SocketException {
            socket = new DatagramSocket(new InetSocketAddress(address, port));
            thread = Thread.ofPlatform().daemon().start(this::run);
        }

        private void run() {
            byte[] buffer = new byte[2048];
            try {
                while (true) {
                    DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                    socket.receive(in);
                    handle(in);
                }
            } catch (IOException closed) {
                // the test closed the socket
            }
        }

        private void handle(DatagramPacket in) throws IOException {
            ByteBuf gre = Unpooled.wrappedBuffer(in.getData(), 0, in.getLength());
            int ip = 4;
            int protocol = gre.getUnsignedByte(ip + 9);
            int icmp = ip + (gre.getUnsignedByte(ip) & 0x0F) * 4;
            int type = protocol == 1 ? gre.getUnsignedByte(icmp) : -1;
            if (type != 0 && type != 8) {
                data.incrementAndGet();
                return;
            }
            if (!answering) {
                return;
            }
            if (type == 8) {
                int source = gre.getInt(ip + 12);
                gre.setInt(ip + 12, gre.getInt(ip + 16));
                gre.setInt(ip + 16, source);
                gre.setByte(icmp, 0);
                gre.setShort(icmp + 2, 0);
                gre.setShort(icmp + 2, InternetChecksum.compute(gre, icmp, gre.getUnsignedShort(ip + 2) + ip - icmp));
            }
            probesAnswered.incrementAndGet();
            socket.send(new DatagramPacket(in.getData(), in.getLength(), in.getSocketAddress()));
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join();
        }
    }

    @Test
    void shouldFailOverToTheBackupWithinAboutASecondAndComeBackThroughDegraded() throws Exception {
        int port = FreePort.udp("127.0.0.1");
        int dcPort = FreePort.udp("127.0.0.3");
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, """
                node: {name: health-failover, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v}
                  - {name: primary, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v,
                     interface_address: 169.254.30.0/31, health_check: {type: request, rate: high}}
                  - {name: backup, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%3$d, virtual_network: v,
                     interface_address: 169.254.30.2/31, health_check: {type: reply, rate: high}}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: primary, priority: 100}
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: backup, priority: 200}
                """.formatted(FreePort.tcp(), port, dcPort));
        ByteBuf packet = new PacketBuilder().gre(-1).ip("192.168.1.5", "10.1.1.1", 64).udp(1000, 80, new byte[32])
                .build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = new byte[packet.readableBytes()];
        packet.getBytes(0, bytes);
        packet.release();
        DatagramPacket datagram = new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port));
        try (FarEnd primary = new FarEnd("127.0.0.3", dcPort);
             FarEnd backup = new FarEnd("127.0.0.4", dcPort);
             DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             Daemon daemon = Daemon.start(ConfigLoader.load(file), DEGRADED_WINDOW_MILLIS)) {
            int primaryId = daemon.stateHolder().get().tunnel("primary").id();
            int backupId = daemon.stateHolder().get().tunnel("backup").id();
            BooleanSupplier probed = () -> primary.probesAnswered.get() > 3 && backup.probesAnswered.get() > 3;
            assertTrue(waitFor(probed, 5000), "both far ends answer probes");
            // a cold JVM on a loaded machine can miss the 300 ms timeout of the first probes; that heals within the
            // degraded window, and the test starts from there
            assertTrue(waitFor(() -> state(daemon, primaryId) == TunnelHealth.HEALTHY
                    && state(daemon, backupId) == TunnelHealth.HEALTHY, DEGRADED_WINDOW_MILLIS + 5000), "both healthy");
            double backupFailuresAtStart = counter(daemon.scrape(),
                    "vnetd_tunnel_probes_total{result=\"failure\",tunnel=\"backup\"}");
            sendAndExpect(site, datagram, primary, "both healthy: primary carries the traffic");

            primary.answering = false;
            long stopped = System.nanoTime();
            assertTrue(waitFor(() -> state(daemon, primaryId) == TunnelHealth.DOWN, 5000), "primary goes down");
            long downAfterMillis = (System.nanoTime() - stopped) / 1_000_000;
            // the exact bound (1 s plus two ticks) is TunnelProberTest's, on a fake clock; here the threads of a
            // loaded machine add their scheduling delays
            assertTrue(downAfterMillis < 2500, "down " + downAfterMillis + " ms after the far end stopped answering");
            assertTrue(daemon.scrape().contains("vnetd_tunnel_state{tunnel=\"primary\"} 0.0"));
            sendAndExpect(site, datagram, backup, "primary down: traffic moved to backup");

            primary.answering = true;
            assertTrue(waitFor(() -> state(daemon, primaryId) != TunnelHealth.DOWN, 5000), "primary recovers");
            assertEquals(TunnelHealth.DEGRADED, state(daemon, primaryId), "recovery passes through degraded");
            assertTrue(daemon.scrape().contains("vnetd_tunnel_state{tunnel=\"primary\"} 0.5"));
            sendAndExpect(site, datagram, backup, "primary degraded (500100) still loses to backup (200)");

            assertTrue(waitFor(() -> state(daemon, primaryId) == TunnelHealth.HEALTHY, DEGRADED_WINDOW_MILLIS + 5000),
                    "healthy once the failures left the degraded window");
            sendAndExpect(site, datagram, primary, "healthy again: traffic back on primary");

            String metrics = daemon.scrape();
            assertTrue(metrics.contains("vnetd_tunnel_state{tunnel=\"primary\"} 1.0"), metrics);
            assertTrue(counter(metrics, "vnetd_tunnel_probes_total{result=\"failure\",tunnel=\"primary\"}") >= 3,
                    metrics);
            assertTrue(counter(metrics, "vnetd_tunnel_probes_total{result=\"success\",tunnel=\"backup\"}") > 0,
                    metrics);
            assertEquals(backupFailuresAtStart,
                    counter(metrics, "vnetd_tunnel_probes_total{result=\"failure\",tunnel=\"backup\"}"),
                    "backup answered every probe while primary failed and recovered");
            assertTrue(metrics.contains("vnetd_drops_total{reason=\"no_route\"} 0.0"),
                    "probe replies were consumed, never routed");
            String tunnels = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + daemon.adminAddress().getPort() + "/api/v1/tunnels")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(tunnels.contains("\"name\":\"primary\""), tunnels);
            assertTrue(tunnels.contains("\"state\":\"healthy\",\"rx_packets\""), tunnels);
            assertTrue(tunnels.contains("\"health_check\":{\"type\":\"request\",\"local\":\"169.254.30.0\","
                    + "\"target\":\"169.254.30.1\",\"rate\":\"high\",\"probes_success\":"), tunnels);
            assertTrue(tunnels.contains("\"health_check\":null"), "site has no check: " + tunnels);
        }
    }

    private static int state(Daemon daemon, int tunnel) {
        return daemon.stateHolder().get().health().state(tunnel);
    }

    /** Sends 20 data packets; all of them must reach {@code expected}. */
    private static void sendAndExpect(DatagramSocket site, DatagramPacket datagram, FarEnd expected, String why)
            throws Exception {
        long before = expected.data.get();
        for (int i = 0; i < 20; i++) {
            site.send(datagram);
        }
        assertTrue(waitFor(() -> expected.data.get() == before + 20, 3000), why + ": " + (expected.data.get() - before)
                + " of 20 arrived");
    }

    private static double counter(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    private static boolean waitFor(BooleanSupplier condition, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }
}
