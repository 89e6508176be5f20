package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.TxPort;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;

/**
 * A worker's own Netty channels for one UDP listener on NIO, used to send: the listening socket, or one of the
 * listener's source-port sockets chosen by flow hash (RFC 8086 flow entropy). Writes are queued without a flush
 * and go out in one batch when the read batch completes, or earlier when the queue reaches the channel's high-water
 * mark; a packet is dropped only when the queue stays above the mark after that flush (the socket buffer is full). Writes that fail later (the socket's error) reach {@link ListenerHandler#exceptionCaught}.
 */
final class ChannelTxPort implements TxPort {
    private final Channel[] channels;
    private long pending;

    /** Sends through {@code channels}: one channel, or the source-port channels to pick from by flow hash. */
    ChannelTxPort(Channel... channels) {
        if (channels.length == 0 || channels.length > Long.SIZE) {
            throw new IllegalArgumentException("1.." + Long.SIZE + " channels");
        }
        this.channels = channels.clone();
    }

    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
        int index = channels.length == 1 ? 0 : Integer.remainderUnsigned(flowHash, channels.length);
        Channel channel = channels[index];
        if (!channel.isWritable()) {
            // One read batch can queue more than the channel's high-water mark (64 TUN packets of 1420 bytes are
            // 90 KB, Netty's mark is 64 KiB): send what is queued now; drop only when the socket cannot take it.
            channel.flush();
            if (!channel.isWritable()) {
                packet.release();
                return false;
            }
        }
        channel.write(new DatagramPacket(packet, remote), channel.voidPromise());
        pending |= 1L << index;
        return true;
    }

    @Override
    public boolean spreadsFlows() {
        return channels.length > 1;
    }

    @Override
    public void flush() {
        long mask = pending;
        pending = 0;
        while (mask != 0) {
            int index = Long.numberOfTrailingZeros(mask);
            mask &= mask - 1;
            channels[index].flush();
        }
    }
}
