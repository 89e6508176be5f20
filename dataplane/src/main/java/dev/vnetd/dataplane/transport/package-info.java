/**
 * Sockets and event loops: the Netty io_uring transport (epoll, then NIO, as fallbacks), one socket per worker
 * and listener with SO_REUSEPORT, raw IP sockets for plain GRE opened through the FFM API, and the handler that
 * hands each received datagram to the worker's {@link dev.vnetd.dataplane.path.PacketPath}.
 */
package dev.vnetd.dataplane.transport;
