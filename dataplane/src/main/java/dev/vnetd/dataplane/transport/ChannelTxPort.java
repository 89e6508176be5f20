package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.TxPort;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;

/**
 * A worker's own channel for one listener, used to send: writes are queued without a flush and go out in one
 * batch when the read batch completes. Writes that fail later (the socket's error) reach
 * {@link ListenerHandler#exceptionCaught}.
 */
final class ChannelTxPort implements TxPort {
    private final Channel channel;

    ChannelTxPort(Channel channel) {
        this.channel = channel;
    }

    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote) {
        if (!channel.isWritable()) {
            packet.release();
            return false;
        }
        channel.write(new DatagramPacket(packet, remote), channel.voidPromise());
        return true;
    }

    @Override
    public void flush() {
        channel.flush();
    }
}
