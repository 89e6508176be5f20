package dev.vnetd.dataplane.transport;

import dev.vnetd.dataplane.path.DropReason;
import io.netty.channel.unix.Errors;

import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;

/**
 * Names the drop reason of a send the kernel failed after the path queued it: from the errno of a refused
 * {@code sendmmsg} entry ({@link UdpSocketQueue}), or from the exception a Netty channel reports (raw and NIO
 * sockets: it reaches {@link ListenerHandler#exceptionCaught}, one per failed datagram).
 *
 * <p>What the transports surface (measured on Linux 6.x, Netty 4.2, unconnected UDP sockets as vnetd uses):
 * <ul>
 *   <li>no route, an {@code unreachable} or {@code prohibit} route: every send fails at once; epoll and io_uring
 *       raise {@link Errors.NativeIoException} with the errno ({@code -101} ENETUNREACH, {@code -113} EHOSTUNREACH,
 *       {@code -13} EACCES), NIO a {@link NoRouteToHostException}, or a {@code SocketException} /
 *       {@code BindException} that says nothing more than its message;</li>
 *   <li>an ICMP port or host unreachable coming back from a peer that vanished: nothing at all. Linux reports ICMP
 *       errors only to connected sockets or sockets with {@code IP_RECVERR} ({@code udp_err} in
 *       {@code net/ipv4/udp.c}); vnetd's sockets are neither, so the sends count as sent and the peer's absence
 *       shows in its health checks, not here. ({@code IP_RECVERR} would need the error queue drained with
 *       {@code MSG_ERRQUEUE}, which Netty does not do: the queued errors would eat the receive buffer.)</li>
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
