package dev.vnetd.dataplane.transport;

import java.net.InetSocketAddress;

/**
 * One socket a listener has open on one worker: its listening socket, one of its source-port sockets, or one of
 * its sockets connected to a remote. A handle for tests and diagnostics ({@link Dataplane#sockets},
 * {@link Dataplane#connectedSockets}); the same socket is the same object for as long as it is
 * open, so a reload that keeps a listener keeps these handles.
 */
public sealed interface ListenerSocket permits ChannelSocket, SocketQueue {
    /** The address the socket is bound to. */
    InetSocketAddress localAddress();

    /** Whether the socket is still open. */
    boolean isOpen();

    /** The one remote the socket is {@code connect}ed to and sends to, or null: it sends to any. */
    default InetSocketAddress connectedTo() {
        return null;
    }
}
