package dev.vnetd.dataplane.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The datagram sockets of every transport, IPv4 and IPv6, leave DF off so that the kernel fragments them. */
class OuterFragmentationTest {
    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void shouldTurnOffPathMtuDiscoveryOnEveryTransport(TransportKind kind) throws Exception {
        assertTrue(kind.isAvailable(), kind + " unavailable: " + kind.unavailabilityCause());
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, kind.ioHandlerFactory());
        try {
            for (String address : new String[] {"127.0.0.1", "::1"}) {
                SocketProtocolFamily family = address.contains(":") ? SocketProtocolFamily.INET6
                        : SocketProtocolFamily.INET;
                Bootstrap bootstrap = OuterFragmentation.allow(new Bootstrap(), kind, family).group(group)
                        .channelFactory(() -> kind.newDatagramChannel(family))
                        .handler(new ChannelInboundHandlerAdapter());
                Channel channel = bootstrap.bind(new InetSocketAddress(InetAddress.ofLiteral(address), 0)).sync()
                        .channel();
                try {
                    if (kind == TransportKind.NIO) {
                        assertEquals(false, channel.config().getOption(OuterFragmentation.NIO_DONT_FRAGMENT));
                    } else {
                        assertEquals(OuterFragmentation.PMTUDISC_DONT,
                                channel.config().getOption(OuterFragmentation.IP_MTU_DISCOVER_OPTION), address);
                        if (family == SocketProtocolFamily.INET6) {
                            assertEquals(OuterFragmentation.PMTUDISC_DONT,
                                    channel.config().getOption(OuterFragmentation.IPV6_MTU_DISCOVER_OPTION));
                        }
                    }
                } finally {
                    channel.close().sync();
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
