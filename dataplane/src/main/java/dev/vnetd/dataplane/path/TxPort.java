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
     * {@code remote}; {@code flowHash} picks the source port where the carrier has flow entropy (GRE-in-UDP), and
     * is 0 from a path when this port does not {@link #spreadsFlows() spread flows}.
     * Takes ownership of the buffer, accepted or not. Returns false when the socket refused it.
     */
    boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash);

    /**
     * Queues {@code packet} for tunnel {@code tunnelId}, as {@link #send(ByteBuf, InetSocketAddress, int)}; a port
     * that {@link #countsSends() counts its sends} needs the tunnel to count the packet once the kernel decided.
     */
    default boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash, int tunnelId) {
        return send(packet, remote, flowHash);
    }

    /**
     * Whether this port counts each packet itself when the kernel takes or refuses it at {@link #flush()}: as tx
     * of its tunnel, or as a drop with the reason, never both. Then the path counts neither; otherwise the path
     * counts tx when {@code send} returns true and a drop when it returns false.
     */
    default boolean countsSends() {
        return false;
    }

    /**
     * Whether {@code send} reads its {@code flowHash}: a port of several sockets or channels that spreads flows
     * over them. The path computes a packet's flow hash only for a port that does (or for a route of several
     * next hops); any other port is given 0.
     */
    default boolean spreadsFlows() {
        return false;
    }

    /** Sends what is queued. */
    void flush();
}
