package dev.vnetd.dataplane.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import jdk.net.ExtendedSocketOptions;

/**
 * Lets the kernel fragment vnetd's outer packets. An inner packet without Don't Fragment that fits the tunnel MTU but
 * not, once encapsulated, the outer link must still arrive: the outer packet is fragmented (RFC 4459 discusses the
 * choice), as Linux's own GRE tunnels do with {@code nopmtudisc}. Linux sockets default to {@code IP_PMTUDISC_WANT},
 * which sets DF on every outer packet that fits the route's MTU as the kernel knows it, so a smaller link further along
 * the path drops it and the inner sender, who never set DF, gets nothing it can act on. With {@code IP_PMTUDISC_DONT}
 * (and {@code IPV6_PMTUDISC_DONT}) outer packets leave without DF, larger ones are fragmented by the kernel at the
 * outgoing link, and the peer's kernel reassembles them before its socket sees the datagram.
 *
 * <p>The inner packets that carry DF are dealt with before encapsulation: one larger than the tunnel MTU gets ICMP
 * Fragmentation Needed or Packet Too Big with the tunnel MTU (PacketPath), so the tunnel MTU is the PMTU the inner
 * hosts learn, and outer fragmentation only happens where the operator configured a tunnel MTU above the path's.
 */
public final class OuterFragmentation {
    /** {@code SOL_IP}. */
    static final int SOL_IP = 0;
    /** {@code SOL_IPV6}. */
    static final int SOL_IPV6 = 41;
    /** {@code IP_MTU_DISCOVER} (linux/in.h). */
    static final int IP_MTU_DISCOVER = 10;
    /** {@code IPV6_MTU_DISCOVER} (linux/in6.h). */
    static final int IPV6_MTU_DISCOVER = 23;
    /** {@code IP_PMTUDISC_DONT} and {@code IPV6_PMTUDISC_DONT}: never set DF, fragment at the outgoing link. */
    static final int PMTUDISC_DONT = 0;

    /** The IPv4 option on epoll and io_uring sockets; also applies to the IPv4 traffic of a dual-stack socket. */
    static final IntegerUnixChannelOption IP_MTU_DISCOVER_OPTION =
            new IntegerUnixChannelOption("IP_MTU_DISCOVER", SOL_IP, IP_MTU_DISCOVER);
    /** The IPv6 option on epoll and io_uring sockets. */
    static final IntegerUnixChannelOption IPV6_MTU_DISCOVER_OPTION =
            new IntegerUnixChannelOption("IPV6_MTU_DISCOVER", SOL_IPV6, IPV6_MTU_DISCOVER);
    /** On NIO, the JDK maps {@code IP_DONTFRAGMENT=false} to {@code IP_PMTUDISC_DONT} (and its IPv6 twin). */
    static final ChannelOption<Boolean> NIO_DONT_FRAGMENT = NioChannelOption.of(ExtendedSocketOptions.IP_DONTFRAGMENT);

    private OuterFragmentation() {
    }

    /** Adds the options that turn off DF and path MTU discovery on a datagram socket of {@code family}. */
    static Bootstrap allow(Bootstrap bootstrap, TransportKind transport, SocketProtocolFamily family) {
        if (transport == TransportKind.NIO) {
            return bootstrap.option(NIO_DONT_FRAGMENT, false);
        }
        bootstrap.option(IP_MTU_DISCOVER_OPTION, PMTUDISC_DONT);
        return family == SocketProtocolFamily.INET6 ? bootstrap.option(IPV6_MTU_DISCOVER_OPTION, PMTUDISC_DONT)
                : bootstrap;
    }
}
