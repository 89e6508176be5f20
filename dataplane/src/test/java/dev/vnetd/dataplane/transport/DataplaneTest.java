package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.path.WorkerCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real sockets on loopback, on every transport: a GRE-in-UDP packet in, the re-encapsulated packet out. */
class DataplaneTest {
    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void shouldForwardThroughRealSocketsOnEveryTransport(TransportKind kind) throws Exception {
        assertTrue(kind.isAvailable(), kind + " unavailable: " + kind.unavailabilityCause());
        TestNetwork net = new TestNetwork();
        InetSocketAddress vnetd = new InetSocketAddress(net.tunnels[0].listener().address().getAddress(), 47540);
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             DatagramChannel dc = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.3", 4754));
             Dataplane dataplane = Dataplane.start(TestNetwork.withUdpPort(net, 47540), 2, kind, 16, net.flows)) {
            assertNull(dataplane.listenerErrors()[0]);
            ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                    .udp(1000, 2000, new byte[100]).build(UnpooledByteBufAllocator.DEFAULT);
            site.send(packet.nioBuffer(), vnetd);
            packet.release();

            dc.socket().setSoTimeout(5000);
            ByteBuffer received = ByteBuffer.allocate(2048);
            dc.configureBlocking(true);
            try {
                dc.socket().receive(new java.net.DatagramPacket(received.array(), received.capacity()));
            } catch (SocketTimeoutException e) {
                throw new AssertionError("nothing forwarded on " + kind + "; drops: " + drops(dataplane), e);
            }
            ByteBuf out = Unpooled.wrappedBuffer(received);
            assertEquals(GreFlyweight.ETHERTYPE_IPV4, out.getUnsignedShort(2));
            assertEquals(63, new Ipv4Flyweight().wrap(out, 4).ttl());
        }
    }

    /**
     * A closed listener's port is free at once: on io_uring an armed poll holds the socket until it is cancelled,
     * and a socket left bound with SO_REUSEPORT took datagrams meant for the next listener on that port. Checked by
     * binding the port without SO_REUSEPORT, after a reload closes the listener and after the dataplane closes,
     * each after a datagram was read (so the poll was re-armed).
     */
    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void shouldReleaseListenerPortWhenClosed(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        for (int round = 0; round < 5; round++) {
            int port;
            try (Dataplane dataplane = Dataplane.start(TestNetwork.withUdpPort(net, 0), 2, kind, 16, net.flows)) {
                port = forwardOne(dataplane);
                dataplane.closeListener(0);
                assertPortFree(kind, port, "closeListener");
            }
            try (Dataplane dataplane = Dataplane.start(TestNetwork.withUdpPort(net, port), 2, kind, 16, net.flows)) {
                assertNull(dataplane.listenerErrors()[0]);
                forwardOne(dataplane);
            }
            assertPortFree(kind, port, "close");
        }
    }

    /** Sends a datagram that is no GRE packet to listener 0, waits until a worker dropped it; returns the port. */
    private static int forwardOne(Dataplane dataplane) throws Exception {
        InetSocketAddress local = dataplane.sockets(0).getFirst().localAddress();
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0))) {
            site.send(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), local);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (allDrops(dataplane) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(allDrops(dataplane) > 0, "the datagram was not read: " + drops(dataplane));
        return local.getPort();
    }

    /**
     * Binds {@code port} without SO_REUSEPORT. On NIO the JDK closes a channel registered with a selector only at
     * that selector's next select, one worker iteration after the close returned: retried for up to a second there.
     * vnetd's own sockets (epoll, io_uring) must be free at once.
     */
    private static void assertPortFree(TransportKind kind, int port, String after) throws Exception {
        long deadline = System.nanoTime() + (kind == TransportKind.NIO ? 1_000_000_000L : 0L);
        while (true) {
            try (DatagramChannel probe = DatagramChannel.open()) {
                probe.bind(new InetSocketAddress("127.0.0.1", port));
                return;
            } catch (java.net.BindException e) {
                if (System.nanoTime() >= deadline) {
                    throw new AssertionError("port " + port + " still bound after " + after + " on " + kind, e);
                }
                Thread.sleep(5);
            }
        }
    }

    private static long allDrops(Dataplane dataplane) {
        return Arrays.stream(DropReason.values()).mapToLong(r -> total(dataplane.counters(), r)).sum();
    }

    private static String drops(Dataplane dataplane) {
        StringBuilder s = new StringBuilder();
        for (DropReason reason : DropReason.values()) {
            long n = Arrays.stream(dataplane.counters()).mapToLong(c -> c.drops(reason)).sum();
            if (n > 0) {
                s.append(reason).append('=').append(n).append(' ');
            }
        }
        long rx = Arrays.stream(dataplane.counters()).mapToLong(c -> c.rxPackets(0)).sum();
        return s + "rx(site-a)=" + rx;
    }

    static long total(WorkerCounters[] counters, DropReason reason) {
        return Arrays.stream(counters).mapToLong(c -> c.drops(reason)).sum();
    }
}
