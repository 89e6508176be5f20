package dev.vnetd.dataplane.transport;

import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A listener socket that is a Netty channel: a UDP socket on the NIO transport, which cannot poll a file descriptor
 * vnetd opened itself.
 *
 * @param channel the channel, registered on its worker's event loop
 */
record ChannelSocket(Channel channel) implements ListenerSocket {
    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    /** Starts reading (sockets are opened with auto-read off until the worker's path is ready). */
    void startReading() {
        channel.config().setAutoRead(true);
    }

    /** Closes the channel, waiting up to a second. */
    void close() {
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
}
