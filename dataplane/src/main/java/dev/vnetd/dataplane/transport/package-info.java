/**
 * Sockets and event loops: Netty event loops on epoll or io_uring (NIO as the portable fallback), one socket per
 * worker and listener (SO_REUSEPORT for UDP, a BPF share for raw IP sockets). On epoll and io_uring, UDP listeners
 * and the raw IP sockets of plain GRE and ESP are vnetd's own sockets opened through the FFM API and read and
 * written in batches ({@link dev.vnetd.dataplane.transport.SocketQueue}: recvmmsg, sendmmsg, the error queue); on
 * NIO, UDP sockets are Netty channels whose handler hands each received datagram to the worker's
 * {@link dev.vnetd.dataplane.path.PacketPath}; TUN attachments are device queues
 * ({@link dev.vnetd.dataplane.transport.TunQueue}).
 */
package dev.vnetd.dataplane.transport;
