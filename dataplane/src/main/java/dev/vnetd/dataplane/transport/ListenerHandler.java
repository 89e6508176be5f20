package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.PacketPath;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 1 of the path for the sockets that are Netty channels: the handler on a worker's sockets of a UDP listener on
 * NIO (the listening socket and its source-port sockets; on epoll and io_uring every socket listener, UDP or raw,
 * is a {@link SocketQueue}). Each datagram goes to the worker's {@link PacketPath}; the end of a
 * read batch flushes what the batch queued for sending. Shared only among channels of one worker, so always called
 * from one thread.
 */
@ChannelHandler.Sharable
final class ListenerHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerHandler.class);
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final int listenerId;
    private final String listenerName;
    private volatile PacketPath path;
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long suppressed;

    ListenerHandler(int listenerId, String listenerName) {
        this.listenerId = listenerId;
        this.listenerName = listenerName;
    }

    /** Sets the worker's path; called before the channel starts reading. */
    void path(PacketPath path) {
        this.path = path;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        DatagramPacket datagram = (DatagramPacket) msg;
        path.receive(listenerId, datagram.content(), datagram.sender());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        path.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        DropReason reason = TxFailures.reason(cause);
        path.counters().drop(reason);
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            LOG.warn("event=socket_error listener={} reason={} error=\"{}\" suppressed={}", listenerName,
                    reason.metricName(), cause.toString(), suppressed);
            lastLogNanos = now;
            suppressed = 0;
        } else {
            suppressed++;
        }
    }
}
