package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.TxPort;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * A worker's source-port sockets of one listener, used to send: the socket is chosen by the inner flow's hash, so
 * each flow leaves from one source port and the peer's receive-side scaling spreads flows over its cores (RFC 8086
 * section 3.2, flow entropy). Each socket queues and counts its own packets; a flush sends on those that have any.
 */
final class SourcePorts implements TxPort {
    private final SocketQueue[] sockets;
    private long pending;

    /** Sends through {@code sockets}, picked by flow hash. */
    SourcePorts(SocketQueue... sockets) {
        if (sockets.length == 0 || sockets.length > Long.SIZE) {
            throw new IllegalArgumentException("1.." + Long.SIZE + " sockets");
        }
        this.sockets = sockets.clone();
    }

    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
        int index = Integer.remainderUnsigned(flowHash, sockets.length);
        pending |= 1L << index;
        return sockets[index].send(packet, remote, flowHash);
    }

    @Override
    public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash, int tunnelId) {
        int index = Integer.remainderUnsigned(flowHash, sockets.length);
        pending |= 1L << index;
        return sockets[index].send(packet, remote, flowHash, tunnelId);
    }

    @Override
    public boolean spreadsFlows() {
        return sockets.length > 1;
    }

    @Override
    public boolean countsSends() {
        return true;
    }

    @Override
    public void flush() {
        long mask = pending;
        pending = 0;
        while (mask != 0) {
            int index = Long.numberOfTrailingZeros(mask);
            mask &= mask - 1;
            sockets[index].flush();
        }
    }
}
