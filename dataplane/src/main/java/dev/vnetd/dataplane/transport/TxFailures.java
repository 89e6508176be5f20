package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.DropReason;
import io.netty.channel.unix.Errors;

import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;

/**
 * Names the drop reason of a send the kernel failed after the path queued it: from the errno of a refused
 * {@code sendmmsg} entry ({@link SocketQueue}: UDP and raw sockets on epoll and io_uring), or from the exception a
 * Netty channel reports (UDP sockets on NIO: it reaches {@link ListenerHandler#exceptionCaught}, one per failed
 * datagram).
 *
 * <p>What the transports surface (measured on Linux 6.x, Netty 4.2, unconnected UDP sockets as vnetd uses):
 * <ul>
 *   <li>no route, an {@code unreachable} or {@code prohibit} route: every send fails at once; epoll and io_uring
 *       raise {@link Errors.NativeIoException} with the errno ({@code -101} ENETUNREACH, {@code -113} EHOSTUNREACH,
 *       {@code -13} EACCES), NIO a {@link NoRouteToHostException}, or a {@code SocketException} /
 *       {@code BindException} that says nothing more than its message;</li>
 *   <li>an ICMP port, protocol or host unreachable coming back from a peer that vanished: no failed send. Linux
 *       reports ICMP errors to unconnected sockets only with {@code IP_RECVERR} ({@code udp_err} in
 *       {@code net/ipv4/udp.c}, {@code raw_err} in {@code raw.c}), which vnetd's own sockets set: the error goes to
 *       the socket's error queue, read by {@link SocketQueue} and counted against the peer's tunnel, and the sends
 *       count as sent (the kernel took them). NIO channels see nothing; the peer's absence shows in its health
 *       checks.</li>
 * </ul>
 * ECONNREFUSED ({@code -111}, {@link PortUnreachableException}) is classified too, for a socket that does see the
 * ICMP error.
 */
final class TxFailures {
    private static final int EAGAIN = -11;
    private static final int EACCES = -13;
    private static final int ENETUNREACH = -101;
    private static final int ECONNREFUSED = -111;
    private static final int EHOSTUNREACH = -113;

    private TxFailures() {
    }

    /**
     * The drop reason of a send the kernel refused with {@code errno} (positive): {@link DropReason#TX_BUFFER_FULL}
     * for EAGAIN, {@link DropReason#TX_UNREACHABLE} for an unreachable destination, else TX_FAILED.
     */
    static DropReason reason(int errno) {
        return switch (-errno) {
            case EAGAIN -> DropReason.TX_BUFFER_FULL;
            case ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EACCES -> DropReason.TX_UNREACHABLE;
            default -> DropReason.TX_FAILED;
        };
    }

    /** {@link DropReason#TX_UNREACHABLE} for a send refused because the destination is unreachable, else TX_FAILED. */
    static DropReason reason(Throwable cause) {
        if (cause instanceof Errors.NativeIoException e) {
            int errno = e.expectedErr();
            return errno == ENETUNREACH || errno == EHOSTUNREACH || errno == ECONNREFUSED || errno == EACCES
                    ? DropReason.TX_UNREACHABLE : DropReason.TX_FAILED;
        }
        return cause instanceof NoRouteToHostException || cause instanceof PortUnreachableException
                ? DropReason.TX_UNREACHABLE : DropReason.TX_FAILED;
    }
}
