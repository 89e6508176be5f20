package dev.vnetd.dataplane.path;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * A worker's own socket for one listener: the last stage of the path. Packets are queued, and the socket is flushed
 * once per read batch, so one system call carries many packets.
 */
public interface TxPort {
    /**
     * Queues {@code packet} (readable bytes: the datagram payload, or the IP payload for raw listeners) to
     * {@code remote}; {@code flowHash} picks the source port where the carrier has flow entropy (GRE-in-UDP).
     * Takes ownership of the buffer, accepted or not. Returns false when the socket refused it.
     */
    boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash);

    /** Sends what is queued. */
    void flush();
}
