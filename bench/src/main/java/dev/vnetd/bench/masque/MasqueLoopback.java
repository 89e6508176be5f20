package dev.vnetd.bench.masque;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.WorkerCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two vnetd daemons on loopback, a site and an edge, joined both by GRE-in-UDP and by MASQUE (QUIC, TLS 1.3,
 * HTTP/3 datagrams); a sender blasts GRE-in-UDP packets into the site toward the data centre behind the edge, once
 * for a prefix routed over GRE and once for a prefix the edge advertised over MASQUE, and a receiver at the data
 * centre counts what arrives. Same sender, same daemons, same run: the ratio is what MASQUE's QUIC costs against
 * GRE.
 *
 * <pre>
 *  sender 127.0.0.2 ─GRE─▶ site vnetd ─┬─ GRE-in-UDP ──────────▶ edge vnetd ─GRE─▶ receiver 127.0.0.3
 *                                      └─ MASQUE (QUIC) ────────▶
 * </pre>
 *
 * Usage: {@code MasqueLoopback SECONDS SIZE}; each carrier runs {@value #WARM_UP_SECONDS} s unreported first, then
 * SECONDS measured; prints one line per carrier. Needs openssl for the certificate.
 */
public final class MasqueLoopback {
    /** Seconds each carrier runs first, unreported, so both daemons' paths are compiled before measuring. */
    private static final int WARM_UP_SECONDS = 3;

    private MasqueLoopback() {
    }

    /** Runs the measurement. */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 1200;
        Path dir = Files.createTempDirectory("vnetd-masque-e2e");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("edge.key").toString(), "-out",
                dir.resolve("edge.pem").toString(), "-days", "1", "-subj", "/CN=edge.test", "-addext",
                "subjectAltName=DNS:edge.test").redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        if (!openssl.waitFor(30, TimeUnit.SECONDS) || openssl.exitValue() != 0) {
            throw new IllegalStateException("openssl failed");
        }
        Files.writeString(dir.resolve("site.token"), "loopback-token-0123456789\n");
        for (String secret : new String[] {"edge.key", "site.token"}) {
            Files.setPosixFilePermissions(dir.resolve(secret), PosixFilePermissions.fromString("rw-------"));
        }
        try (DatagramChannel sender = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             DatagramChannel receiver = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.3", 0))) {
            receiver.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            int edgeGre = freePort();
            int siteGre = freePort();
            int edgeQuic = freePort();
            Path edgeConfig = dir.resolve("edge.yaml");
            Files.writeString(edgeConfig, """
                    node: {name: edge, workers: 1}
                    admin: {listen: 127.0.0.1:%d}
                    listeners:
                      - {name: gre, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                      - {name: masque, type: masque, listen: 127.0.0.1:%d, tls: {cert: edge.pem, key: edge.key}}
                    virtual_networks:
                      - {name: default}
                    tunnels:
                      - {name: dc, type: gre-udp, listener: gre, remote: 127.0.0.3:%d, virtual_network: default}
                      - {name: site-gre, type: gre-udp, listener: gre, remote: 127.0.0.1:%d, virtual_network: default}
                      - {name: site-masque, type: masque, listener: masque, auth: {token_file: site.token},
                         virtual_network: default, assign: [10.1.0.0/16], advertise: [10.200.0.0/16]}
                    routes:
                      - {prefix: 10.200.0.0/15, virtual_network: default, via: dc}
                    """.formatted(freeTcpPort(), edgeGre, edgeQuic, ((InetSocketAddress) receiver.getLocalAddress())
                    .getPort(), siteGre));
            Path siteConfig = dir.resolve("site.yaml");
            Files.writeString(siteConfig, """
                    node: {name: site, workers: 1}
                    admin: {listen: 127.0.0.1:%d}
                    listeners:
                      - {name: gre, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                    virtual_networks:
                      - {name: default}
                    tunnels:
                      - {name: lan, type: gre-udp, listener: gre, remote: 127.0.0.2:%d, virtual_network: default}
                      - {name: edge-gre, type: gre-udp, listener: gre, remote: 127.0.0.1:%d, virtual_network: default}
                      - {name: edge-masque, type: masque-client, server: 127.0.0.1:%d, server_name: edge.test,
                         ca: edge.pem, auth: {token_file: site.token}, virtual_network: default}
                    routes:
                      - {prefix: 10.201.0.0/16, virtual_network: default, via: edge-gre}
                    """.formatted(freeTcpPort(), siteGre, ((InetSocketAddress) sender.getLocalAddress()).getPort(),
                    edgeGre, edgeQuic));
            try (Daemon edge = Daemon.start(ConfigLoader.load(edgeConfig));
                 Daemon site = Daemon.start(ConfigLoader.load(siteConfig))) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (site.masque().client("edge-masque").sessionsOpened() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                Thread.sleep(500);
                InetSocketAddress target = new InetSocketAddress("127.0.0.1", siteGre);
                for (boolean warmUp : new boolean[] {true, false}) {
                    for (String carrier : new String[] {"gre", "masque"}) {
                        String destination = carrier.equals("gre") ? "10.201.0.7" : "10.200.0.7";
                        measure(carrier, size, warmUp ? WARM_UP_SECONDS : seconds, sender, receiver, target,
                                destination, site, warmUp);
                    }
                }
            }
        }
    }

    private static void measure(String carrier, int size, int seconds, DatagramChannel sender,
                                DatagramChannel receiver, InetSocketAddress target, String destination, Daemon site,
                                boolean warmUp) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(-1).ip("10.1.0.5", destination, 64)
                .udp(40000, 443, new byte[size - 28]).build(UnpooledByteBufAllocator.DEFAULT);
        ByteBuffer datagram = ByteBuffer.wrap(ByteBufUtil.getBytes(packet));
        packet.release();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong received = new AtomicLong();
        receiver.socket().setSoTimeout(100);
        Thread counter = new Thread(() -> {
            byte[] in = new byte[2048];
            DatagramPacket p = new DatagramPacket(in, in.length);
            while (running.get()) {
                try {
                    receiver.socket().receive(p);
                    received.incrementAndGet();
                } catch (SocketTimeoutException e) {
                    // nothing this 100 ms: look at the running flag again
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }, "masque-e2e-receiver");
        counter.start();
        long sent = 0;
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            datagram.rewind();
            sent += sender.send(datagram, target) > 0 ? 1 : 0;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        Thread.sleep(200);
        running.set(false);
        counter.join();
        long got = received.get();
        if (warmUp) {
            return;
        }
        System.out.printf("masque-e2e carrier=%s size=%d sent_pps=%.0f delivered_pps=%.0f gbps=%.3f"
                        + " delivered_share=%.3f site_tx_failed=%d no_session=%d%n", carrier, size, sent / elapsed,
                got / elapsed, got * size * 8 / elapsed / 1e9, sent == 0 ? 0.0 : (double) got / sent,
                drops(site, DropReason.TX_FAILED), drops(site, DropReason.MASQUE_NO_SESSION));
    }

    private static long drops(Daemon daemon, DropReason reason) {
        long total = 0;
        for (WorkerCounters c : daemon.dataplane().counters()) {
            total += c.drops(reason);
        }
        return total;
    }

    private static int freePort() throws IOException {
        try (DatagramChannel probe = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1,
                InetAddress.getByName("127.0.0.1"))) {
            return probe.getLocalPort();
        }
    }
}
