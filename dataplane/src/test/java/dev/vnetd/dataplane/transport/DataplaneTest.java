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
