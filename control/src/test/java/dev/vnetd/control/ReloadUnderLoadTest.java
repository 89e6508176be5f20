package dev.vnetd.control;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.peers.FreePort;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 20 reloads that move 10.0.0.0/8 between two data centres while packets flow: every packet sent is received at
 * one of them, and each reload took effect (both received traffic). The sender is paced (about 10 000 packets a
 * second) so that loopback socket buffers do not overflow on a host with cores to spare; on a starved one the kernel
 * counts what a full receive buffer dropped, and those drops are part of the sum (never vnetd's own drops).
 */
class ReloadUnderLoadTest {
    private static final int PACKETS = 20_000;
    private static final int RELOADS = 20;

    @TempDir
    Path dir;

    @Test
    void shouldLoseNoPacketAcrossTwentyReloads() throws Exception {
        int port = FreePort.udp("127.0.0.1");
        int dcPort = FreePort.udp("127.0.0.3");
        String template = """
                node: {name: reload-load, workers: 2}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: gre-udp, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: v}
                tunnels:
                  - {name: site, type: gre-udp, listener: gre-udp, remote: 127.0.0.2, virtual_network: v}
                  - {name: dc1, type: gre-udp, listener: gre-udp, remote: 127.0.0.3:%d, virtual_network: v}
                  - {name: dc2, type: gre-udp, listener: gre-udp, remote: 127.0.0.4:%3$d, virtual_network: v}
                routes:
                  - {prefix: 10.0.0.0/8, virtual_network: v, via: VIA}
                """.formatted(FreePort.tcp(), port, dcPort);
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, template.replace("VIA", "dc1"));
        AtomicLong dc1Received = new AtomicLong();
        AtomicLong dc2Received = new AtomicLong();
        try (Daemon daemon = Daemon.start(ConfigLoader.load(file));
             DatagramSocket site = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
             DatagramSocket dc1 = new DatagramSocket(new InetSocketAddress("127.0.0.3", dcPort));
             DatagramSocket dc2 = new DatagramSocket(new InetSocketAddress("127.0.0.4", dcPort))) {
            dc1.setReceiveBufferSize(4 << 20);
            dc2.setReceiveBufferSize(4 << 20);
            Thread r1 = receiver(dc1, dc1Received);
            Thread r2 = receiver(dc2, dc2Received);
            ByteBuf packet = new PacketBuilder().gre(-1).ip("192.168.1.5", "10.1.1.1", 64).udp(1000, 80, new byte[64])
                    .build(UnpooledByteBufAllocator.DEFAULT);
            byte[] bytes = new byte[packet.readableBytes()];
            packet.getBytes(0, bytes);
            packet.release();
            DatagramPacket datagram = new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", port));
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < PACKETS; i++) {
                        site.send(datagram);
                        LockSupport.parkNanos(100_000);
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int reload = 1; reload <= RELOADS && sender.isAlive(); reload++) {
                Thread.sleep(50);
                Files.writeString(file, template.replace("VIA", reload % 2 == 0 ? "dc1" : "dc2"));
                assertTrue(daemon.reload().success(), "reload " + reload);
            }
            sender.join();
            r1.join();
            r2.join();
            long drops = daemon.scrape().lines().filter(l -> l.startsWith("vnetd_drops_total{"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).mapToLong(d -> (long) d)
                    .sum();
            assertEquals(0, drops, "vnetd dropped nothing");
            // On a host loaded far beyond its cores the kernel may drop at a full socket receive buffer (vnetd's
            // listener sockets or the data centres'); those drops are counted per socket, and every packet must be
            // received or one of them. A packet a reload lost would be in neither.
            long kernelDrops = udpReceiveDrops(port) + udpReceiveDrops(dcPort);
            assertEquals(PACKETS, dc1Received.get() + dc2Received.get() + kernelDrops,
                    "every packet arrived or was dropped by a full socket buffer: dc1 " + dc1Received + ", dc2 "
                            + dc2Received + ", kernel receive-buffer drops " + kernelDrops);
            assertTrue(kernelDrops <= PACKETS / 10, "the kernel dropped " + kernelDrops + ": the test was starved");
            assertTrue(dc1Received.get() > 0 && dc2Received.get() > 0, "the reloads moved the traffic");
            assertTrue(daemon.scrape().contains("vnetd_config_reloads_total{result=\"success\"} " + RELOADS + ".0"));
        }
    }

    /**
     * The receive-buffer drops of every IPv4 UDP socket bound to local port {@code port} in this network namespace:
     * the last column of /proc/net/udp.
     */
    private static long udpReceiveDrops(int port) throws java.io.IOException {
        String hexPort = ":%04X".formatted(port);
        return Files.readAllLines(Path.of("/proc/net/udp")).stream().skip(1)
                .map(line -> line.trim().split("\\s+"))
                .filter(fields -> fields[1].endsWith(hexPort))
                .mapToLong(fields -> Long.parseLong(fields[fields.length - 1]))
                .sum();
    }

    private static Thread receiver(DatagramSocket socket, AtomicLong count) throws Exception {
        socket.setSoTimeout(3000);
        return Thread.ofPlatform().start(() -> {
            byte[] buffer = new byte[2048];
            try {
                while (true) {
                    socket.receive(new DatagramPacket(buffer, buffer.length));
                    count.incrementAndGet();
                }
            } catch (SocketTimeoutException e) {
                // quiet for 3 s: the sender is done
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
