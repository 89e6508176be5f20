package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.path.TxPort;
import dev.vnetd.dataplane.path.WorkerCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The socket handler in an EmbeddedChannel: a datagram in, the re-encapsulated datagram out, flushed per batch. */
class ListenerHandlerTest {
    @Test
    void shouldForwardADatagramAndFlushAtTheEndOfTheReadBatch() {
        TestNetwork net = new TestNetwork();
        ListenerHandler handler = new ListenerHandler(0, "gre-udp");
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        WorkerCounters counters = new WorkerCounters(net.tunnels.length);
        PacketPath path = new PacketPath(net.holder, counters,
                new TxPort[] {new ChannelTxPort(channel), null, null}, channel.alloc(), System::nanoTime, net.flows,
                System::currentTimeMillis);
        handler.path(path);
        ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[4])
                .build(channel.alloc());
        InetSocketAddress siteA = net.tunnels[TestNetwork.SITE_A].remote();

        channel.pipeline().fireChannelRead(new DatagramPacket(packet, new InetSocketAddress(0), siteA));
        assertNull(channel.readOutbound(), "nothing leaves before the batch completes");
        channel.pipeline().fireChannelReadComplete();

        DatagramPacket out = channel.readOutbound();
        assertEquals(net.tunnels[TestNetwork.DC_PROD].remote(), out.recipient());
        ByteBuf gre = out.content();
        int at = gre.readerIndex();
        try {
            assertEquals(0x0000, gre.getUnsignedShort(at), "GRE flags: no key toward dc-prod");
            assertEquals(0x0800, gre.getUnsignedShort(at + 2), "GRE protocol: IPv4");
            assertEquals(63, gre.getUnsignedByte(at + 4 + 8), "inner TTL");
            assertEquals(4 + 20 + 8 + 4, gre.readableBytes(), "GRE + IPv4 + UDP + payload");
        } finally {
            out.release();
        }
        assertEquals(1, counters.txPackets(TestNetwork.DC_PROD));
        assertFalse(channel.finish());
    }

    @Test
    void shouldCountAndReleaseAGarbageDatagram() {
        TestNetwork net = new TestNetwork();
        ListenerHandler handler = new ListenerHandler(0, "gre-udp");
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        WorkerCounters counters = new WorkerCounters(net.tunnels.length);
        handler.path(new PacketPath(net.holder, counters, new TxPort[] {new ChannelTxPort(channel), null, null},
                channel.alloc(), System::nanoTime, net.flows, System::currentTimeMillis));
        ByteBuf garbage = Unpooled.directBuffer().writeBytes(new byte[] {1, 2, 3});

        channel.pipeline().fireChannelRead(new DatagramPacket(garbage, new InetSocketAddress(0),
                net.tunnels[TestNetwork.SITE_A].remote()));
        channel.pipeline().fireChannelReadComplete();

        assertNull(channel.readOutbound());
        assertEquals(0, garbage.refCnt(), "dropped packets are released");
        assertEquals(1, counters.drops(DropReason.GRE_TRUNCATED));
        assertFalse(channel.finish());
    }

    @Test
    void shouldCountSendsRefusedAsUnreachableApartFromOtherSocketErrors() {
        Epoll.ensureAvailability(); // loads the native library NativeIoException needs
        TestNetwork net = new TestNetwork();
        ListenerHandler handler = new ListenerHandler(0, "gre-udp");
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        WorkerCounters counters = new WorkerCounters(net.tunnels.length);
        handler.path(new PacketPath(net.holder, counters, new TxPort[] {new ChannelTxPort(channel), null, null},
                channel.alloc(), System::nanoTime, net.flows, System::currentTimeMillis));

        // what epoll and io_uring raise (errno negative), then NIO, as measured through unreachable routes
        for (int errno : new int[] {-101, -113, -13, -111}) {
            channel.pipeline().fireExceptionCaught(new Errors.NativeIoException("sendToAddress(..)", errno));
        }
        channel.pipeline().fireExceptionCaught(new NoRouteToHostException("No route to host"));
        channel.pipeline().fireExceptionCaught(new PortUnreachableException("ICMP Port Unreachable"));
        channel.pipeline().fireExceptionCaught(new Errors.NativeIoException("sendToAddress(..)", -90));
        channel.pipeline().fireExceptionCaught(new SocketException("Message too long"));

        assertEquals(6, counters.drops(DropReason.TX_UNREACHABLE));
        assertEquals(2, counters.drops(DropReason.TX_FAILED), "EMSGSIZE and an unknown error");
        assertFalse(channel.finish());
    }
}
