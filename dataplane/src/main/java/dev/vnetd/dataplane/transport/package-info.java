/**
 * Sockets and event loops: Netty event loops on epoll or io_uring (NIO as the portable fallback), one socket per
 * worker and listener with SO_REUSEPORT. UDP listeners are vnetd's own sockets opened through the FFM API and read
 * and written in batches ({@link dev.vnetd.dataplane.transport.UdpSocketQueue}: recvmmsg, sendmmsg); raw IP sockets
 * for plain GRE and ESP, and every socket on NIO, are Netty channels whose handler hands each received datagram to
 * the worker's {@link dev.vnetd.dataplane.path.PacketPath}; TUN attachments are device queues
 * ({@link dev.vnetd.dataplane.transport.TunQueue}).
 */
package dev.vnetd.dataplane.transport;
