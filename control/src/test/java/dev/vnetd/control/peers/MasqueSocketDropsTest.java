package dev.vnetd.control.peers;

import dev.vnetd.control.Daemon;
import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.transport.Dataplane;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A MASQUE listener's QUIC socket is one of vnetd's sockets like any other: it gets the dataplane's
 * {@link Dataplane#SOCKET_BUFFER} receive buffer, and the QUIC packets the kernel drops at it when its worker falls
 * behind count in {@code vnetd_socket_receive_drops_total{listener="masque"}} (the soak found both missing: the
 * socket had the kernel's 208 KiB default and the metric stayed 0 while the kernel dropped).
 *
 * <pre>
 *  sender ── 12 000 x 1 200 B ──▶ QUIC socket of the masque listener   (its only worker blocked: nothing is read)
 *                                  queued: at least the 4 MiB buffer's worth; the rest dropped, and counted
 * </pre>
 */
class MasqueSocketDropsTest {
    private static final int DATAGRAMS = 12_000;
    private static final int SIZE = 1_200;
    /** A generous upper bound of the kernel's memory charge (truesize) for one 1 200-byte loopback datagram. */
    private static final int TRUESIZE_BOUND = 4_608;

    @TempDir
    Path dir;

    @Test
    void shouldGiveAMasqueListenersSocketTheDataplaneBufferAndCountItsKernelDrops() throws Exception {
        MasqueTestFiles.edgeCertificate(dir);
        MasqueTestFiles.secret(dir, "site.token", "masque-socket-drops-token");
        int quic = FreePort.udp("127.0.0.1");
        Path config = dir.resolve("edge.yaml");
        Files.writeString(config, """
                node: {name: edge, workers: 1}
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: masque, type: masque, listen: 127.0.0.1:%d, tls: {cert: edge.pem, key: edge.key}}
                  - {name: gre, type: gre-udp, listen: 127.0.0.1:%d, source_ports: 0}
                virtual_networks:
                  - {name: default}
                tunnels:
                  - {name: site, type: masque, listener: masque, auth: {token_file: site.token},
                     virtual_network: default, assign: [10.1.0.0/16]}
                """.formatted(FreePort.tcp(), quic, FreePort.udp("127.0.0.1")));
        CountDownLatch release = new CountDownLatch(1);
        try (Daemon edge = Daemon.start(ConfigLoader.load(config));
             DatagramChannel sender = DatagramChannel.open()) {
            int masque = listenerId(edge, "masque");
            int gre = listenerId(edge, "gre");
            CountDownLatch blocked = new CountDownLatch(1);
            edge.dataplane().loop(0).execute(() -> {
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            blocked.await();
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", quic);
            ByteBuffer datagram = ByteBuffer.allocate(SIZE);
            for (int i = 0; i < DATAGRAMS; i++) {
                sender.send(datagram.rewind(), target);
            }
            Thread.sleep(300); // loopback delivers in softirq: let the last datagrams land or drop

            long dropped = edge.dataplane().socketReceiveDrops(masque);
            long buffer = 2L * Math.min(Dataplane.SOCKET_BUFFER, rmemMax()); // the kernel doubles SO_RCVBUF
            release.countDown();
            assertTrue(dropped > 0, "12 000 datagrams of 1 200 bytes overflow the socket: drops counted");
            assertTrue(DATAGRAMS - dropped >= buffer / TRUESIZE_BOUND,
                    "queued " + (DATAGRAMS - dropped) + ": the socket holds the dataplane's buffer");
            assertEquals(0, edge.dataplane().socketReceiveDrops(gre), "the GRE listener's sockets dropped nothing");
        } finally {
            release.countDown();
        }
    }

    private static int listenerId(Daemon daemon, String name) {
        return daemon.stateHolder().get().liveListeners().stream().filter(l -> l.name().equals(name))
                .mapToInt(Listener::id).findFirst().orElseThrow();
    }

    /** The largest SO_RCVBUF an unprivileged socket may ask for. */
    private static long rmemMax() throws Exception {
        return Long.parseLong(Files.readString(Path.of("/proc/sys/net/core/rmem_max")).strip());
    }
}
