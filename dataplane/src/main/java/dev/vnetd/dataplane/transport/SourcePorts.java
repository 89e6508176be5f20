package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.TxPort;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * A worker's source-port sockets of one listener, used to send: the socket is chosen by the inner flow's hash, so
 * each flow leaves from one source port and the peer's receive-side scaling spreads flows over its cores (RFC 8086
 * section 3.2, flow entropy). Each socket queues and counts its own packets; a flush sends on those that have any.
 *
 * <p>A tunnel whose remote has {@linkplain #connect connected sockets} (as many as the unconnected ones, each on a
 * source port of its own and {@code connect}ed to that remote: {@link Dataplane#connectRemotes}) sends through
 * them instead, chosen by the same hash: the kernel keeps their route, and a datagram names no destination. Which
 * packets go where is decided by the packet's tunnel id and checked against the connection's remote, so a table
 * installed for an older forwarding state never sends a packet to another remote than the one it is addressed to:
 * a mismatch takes the unconnected sockets.
 *
 * <p>An ESP-in-UDP listener's port is one of these too, of one socket, its listening socket: NAT-T peers expect
 * packets from the listening port, so its connected sockets are on that port as well (one per remote per worker).
 */
final class SourcePorts implements TxPort {
    /** Connected sockets with packets queued that one flush sends; a fuller list flushes early. */
    private static final int QUEUED_CONNECTED = 2 * SocketQueue.TX_CAPACITY;
    private static final Connection[] NO_CONNECTIONS = new Connection[0];

    private final SocketQueue[] sockets;
    private long pending;
    /** By tunnel id: the connected sockets of that tunnel's remote, or null. Replaced on the worker's thread only. */
    private Connection[] connections = NO_CONNECTIONS;
    /** The connected sockets that queued a packet since the last flush, each once. */
    private final SocketQueue[] queuedConnected = new SocketQueue[QUEUED_CONNECTED];
    private int queuedCount;

    /**
     * The sockets connected to {@code remote}, one per unconnected source-port socket, in the same order.
     *
     * @param remote  the remote they are connected to
     * @param sockets one worker's sockets connected to it
     */
    record Connection(InetSocketAddress remote, SocketQueue[] sockets) {
    }

    /** Sends through {@code sockets}, picked by flow hash. */
    SourcePorts(SocketQueue... sockets) {
        if (sockets.length == 0 || sockets.length > Long.SIZE) {
            throw new IllegalArgumentException("1.." + Long.SIZE + " sockets");
        }
        this.sockets = sockets.clone();
    }

    /** Unconnected source-port sockets; each remote with a connection has as many connected ones. */
    int size() {
        return sockets.length;
    }

    /**
     * Installs the connected sockets by tunnel id (null entries: the tunnel's packets take the unconnected sockets),
     * after sending what is queued. Worker thread only, between read batches.
     */
    void connect(Connection[] byTunnel) {
        flush();
        connections = byTunnel.clone();
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
        Connection[] byTunnel = connections;
        if (tunnelId >= 0 && tunnelId < byTunnel.length) {
            Connection connection = byTunnel[tunnelId];
            if (connection != null && (connection.remote == remote || connection.remote.equals(remote))) {
                SocketQueue socket = connection.sockets[index];
                if (!socket.queued()) {
                    if (queuedCount == QUEUED_CONNECTED) {
                        flush();
                    }
                    queuedConnected[queuedCount++] = socket;
                }
                return socket.send(packet, remote, flowHash, tunnelId);
            }
        }
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
        int queued = queuedCount;
        queuedCount = 0;
        for (int i = 0; i < queued; i++) {
            queuedConnected[i].flush();
            queuedConnected[i] = null;
        }
    }
}
