package dev.vnetd.dataplane.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's receive-buffer drops of a real socket nobody reads: every datagram sent is either queued in the
 * buffer or counted by {@link SocketDrops}, and only toward the socket's own listener.
 */
class SocketDropsTest {
    private static final int DATAGRAMS = 2_000;
    private static final int SIZE = 1_000;

    @Test
    void shouldCountTheDatagramsTheKernelDroppedAtAFullReceiveBuffer() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (DatagramChannel sender = DatagramChannel.open()) {
            Channel socket = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.SO_RCVBUF, 64 * 1024)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            SocketDrops drops = new SocketDrops();
            drops.add(3, socket);
            InetSocketAddress target = (InetSocketAddress) socket.localAddress();
            for (int i = 0; i < DATAGRAMS; i++) {
                sender.send(ByteBuffer.allocate(SIZE), target);
            }

            Thread.sleep(300); // loopback delivers in softirq: let the last datagrams land or drop
            long queued = queuedDatagrams(socket);
            long dropped = drops.drops(3);
            assertTrue(dropped > 0, "a 64 KiB buffer cannot hold 2 MB");
            assertEquals(DATAGRAMS, dropped + queued, "every datagram queued or counted as dropped");
            assertEquals(0, drops.drops(4), "another listener's sockets are not this one's");
            socket.close().sync();
        } finally {
            group.shutdownGracefully().sync();
        }
    }

    /** Reads what the socket queued, without Netty: the datagrams the kernel kept. */
    private static long queuedDatagrams(Channel socket) throws Exception {
        long[] count = new long[1];
        socket.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                count[0]++;
                ReferenceCountUtil.release(msg);
            }
        });
        socket.config().setAutoRead(true);
        long last = -1;
        while (count[0] != last) {
            last = count[0];
            Thread.sleep(200);
        }
        return count[0];
    }
}
