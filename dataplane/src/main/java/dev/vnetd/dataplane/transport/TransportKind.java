package dev.vnetd.dataplane.transport;

import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;

import java.net.StandardSocketOptions;
import java.util.List;

/** The Netty transports vnetd runs on. */
public enum TransportKind {
    /** Linux io_uring: batched submission and completion, fewest system calls. */
    IO_URING("io_uring"),
    /** Linux epoll: when io_uring is unavailable (old kernel, seccomp, io_uring_disabled sysctl). */
    EPOLL("epoll"),
    /** Java NIO: portable last resort; no raw sockets, so no plain GRE or plain ESP listener. */
    NIO("nio");

    /**
     * The order {@code transport: auto} tries them in. epoll first: every socket listener, UDP or raw (plain GRE and
     * ESP), reads and writes with recvmmsg and sendmmsg on both epoll and io_uring ({@link SocketQueue}), where the
     * transport only reports readiness: io_uring and epoll are within the noise of each other end to end
     * (docs/performance.md, "UDP listeners on vnetd's own sockets"), and epoll is the older, more widely allowed
     * one (seccomp profiles, io_uring_disabled). io_uring follows, then NIO.
     */
    public static final List<TransportKind> AUTO_PREFERENCE = List.of(EPOLL, IO_URING, NIO);

    private final String configName;

    TransportKind(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration ({@code node.transport}). */
    public String configName() {
        return configName;
    }

    /** The kind with this configuration name, or null ({@code auto} is resolved by {@link #choose}). */
    public static TransportKind fromConfigName(String name) {
        for (TransportKind kind : values()) {
            if (kind.configName.equals(name)) {
                return kind;
            }
        }
        return null;
    }

    /** Whether this transport works on this host. */
    public boolean isAvailable() {
        return switch (this) {
            case IO_URING -> IoUring.isAvailable();
            case EPOLL -> Epoll.isAvailable();
            case NIO -> true;
        };
    }

    /** Why this transport does not work here, or null. */
    public Throwable unavailabilityCause() {
        return switch (this) {
            case IO_URING -> IoUring.unavailabilityCause();
            case EPOLL -> Epoll.unavailabilityCause();
            case NIO -> null;
        };
    }

    /** The event loop's I/O handler. */
    public IoHandlerFactory ioHandlerFactory() {
        return switch (this) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    /** A new unbound datagram channel of the given family. */
    public DatagramChannel newDatagramChannel(SocketProtocolFamily family) {
        return switch (this) {
            case IO_URING -> new IoUringDatagramChannel(family);
            case EPOLL -> new EpollDatagramChannel(family);
            case NIO -> new NioDatagramChannel(family);
        };
    }

    /** The option that sets SO_REUSEPORT on this transport's sockets. */
    public ChannelOption<Boolean> reusePortOption() {
        return this == NIO ? NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT) : UnixChannelOption.SO_REUSEPORT;
    }

    /**
     * Whether this transport carries raw IP sockets (plain GRE and ESP listeners): epoll and io_uring, which poll
     * the sockets vnetd opens itself ({@link SocketQueue}); not NIO, which can poll only the channels it made.
     */
    public boolean supportsRawSockets() {
        return this != NIO;
    }

    /** Why {@link #supportsRawSockets()} is false, for error messages; "none" when it is true. */
    public String rawSocketLimitation() {
        return this == NIO ? "Java NIO cannot poll a socket vnetd opened itself" : "none";
    }
}
