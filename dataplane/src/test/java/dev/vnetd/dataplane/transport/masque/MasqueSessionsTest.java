package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.HttpDatagram;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.MasqueEgress;
import dev.vnetd.dataplane.path.WorkerCounters;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MasqueSessionsTest {
    private static final Listener LISTENER = new Listener(0, "masque", ListenerType.MASQUE,
            new InetSocketAddress("127.0.0.1", 443), 0);
    private static final Tunnel TUNNEL = new Tunnel(0, "laptop", LISTENER, new InetSocketAddress("0.0.0.0", 0), -1,
            0, 1280, false, 0, 0, 0);

    private final MasqueSessions sessions = new MasqueSessions(4);
    private final MasqueEgress egress = sessions.egress();
    private final WorkerCounters counters = new WorkerCounters(4);

    private static ByteBuf packet(int headroom) {
        ByteBuf buf = Unpooled.buffer(headroom + 20);
        buf.writerIndex(headroom);
        buf.writeByte(0x45).writeZero(19);
        return buf;
    }

    @Test
    void shouldFrameInPlaceAndWriteOnTheOwnLoopUntilTheFlush() {
        EmbeddedChannel connection = new EmbeddedChannel();
        sessions.register(new MasqueSession(0, "laptop", connection, 44, null, 8));
        ByteBuf buf = packet(4);
        assertTrue(egress.send(TUNNEL, buf, 4, 20, counters));
        assertNull(connection.readOutbound(), "nothing leaves before the flush");
        egress.flush();
        ByteBuf datagram = connection.readOutbound();
        assertSame(buf, datagram, "framed in place, in the receive buffer");
        assertEquals(2, datagram.readerIndex());
        assertEquals(11, datagram.getByte(2), "Quarter Stream ID of stream 44");
        assertEquals(0, datagram.getByte(3), "context ID 0");
        assertEquals(0x45, datagram.getByte(4) & 0xFF, "the IP packet");
        datagram.release();
        assertFalse(connection.finish());
    }

    @Test
    void shouldCopyWhenThereIsNoHeadroom() {
        EmbeddedChannel connection = new EmbeddedChannel();
        sessions.register(new MasqueSession(0, "laptop", connection, 1L << 20, null, 8));
        ByteBuf buf = packet(0);
        assertTrue(egress.send(TUNNEL, buf, 0, 20, counters));
        egress.flush();
        ByteBuf datagram = connection.readOutbound();
        assertEquals(0, buf.refCnt(), "the receive buffer was released after the copy");
        HttpDatagram header = new HttpDatagram();
        assertEquals(HttpDatagram.OK, header.wrap(datagram, datagram.readerIndex(), datagram.writerIndex()));
        assertEquals(1L << 18, header.quarterStreamId());
        assertEquals(20, header.payloadLength());
        datagram.release();
        assertFalse(connection.finish());
    }

    @Test
    void shouldDropAndCountWithoutASession() {
        ByteBuf buf = packet(4);
        assertFalse(egress.send(TUNNEL, buf, 4, 20, counters));
        assertEquals(0, buf.refCnt());
        assertEquals(1, counters.drops(DropReason.MASQUE_NO_SESSION));
    }

    @Test
    void shouldHandPacketsToTheOwnerLoopAndDropThemWhenItsQueueIsFull() throws Exception {
        MultiThreadIoEventLoopGroup owner = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        LocalAddress address = new LocalAddress("masque-sessions-test");
        CountDownLatch delivered = new CountDownLatch(4);
        Channel server = new ServerBootstrap().group(owner).channel(LocalServerChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync().channel();
        // the connection's writes end here, on the owner's thread: what the QUIC channel would send
        Channel connection = new Bootstrap().group(owner).channel(LocalChannel.class)
                .handler(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                        assertTrue(ctx.channel().eventLoop().inEventLoop());
                        ReferenceCountUtil.release(msg);
                        delivered.countDown();
                    }
                }).connect(address).sync().channel();
        try {
            MasqueSession session = new MasqueSession(0, "laptop", connection, 0, null, 4);
            sessions.register(session);
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            owner.next().execute(() -> {
                blocked.countDown();
                await(release);
            });
            assertTrue(blocked.await(5, TimeUnit.SECONDS));
            for (int i = 0; i < 6; i++) {
                egress.send(TUNNEL, packet(4), 4, 20, counters);
            }
            assertEquals(2, counters.drops(DropReason.MASQUE_HANDOFF_FULL), "a queue of 4 takes 4 of 6");
            assertEquals(4, sessions.handoffs());
            release.countDown();
            assertTrue(delivered.await(5, TimeUnit.SECONDS), "the owner wrote what was queued");
        } finally {
            connection.close().sync();
            server.close().sync();
            owner.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
