package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.transport.Dataplane;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.net.Inet4Address;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@code masque} listener: a QUIC server (TLS 1.3, ALPN h3) with HTTP/3, extended CONNECT and HTTP datagrams, on
 * one UDP socket owned by one worker, so every connection, stream and datagram of the listener runs on that
 * worker's thread and enters its packet path. A CONNECT request with {@code :protocol connect-ip} on a path of the
 * URI template, from a known identity (bearer token or client certificate), becomes a session of that identity's
 * tunnel ({@link MasqueServerStream}).
 */
public final class MasqueServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MasqueServer.class);

    private final Channel channel;
    private final ChannelGroup connections;
    private final AtomicLong authFailures;
    private final AtomicLong sessionsOpened;
    private final AtomicLong streamResets;

    private MasqueServer(Channel channel, ChannelGroup connections, AtomicLong authFailures,
                         AtomicLong sessionsOpened, AtomicLong streamResets) {
        this.channel = channel;
        this.connections = connections;
        this.authFailures = authFailures;
        this.sessionsOpened = sessionsOpened;
        this.streamResets = streamResets;
    }

    /**
     * Opens {@code listener} on worker {@code worker} of {@code dataplane}.
     *
     * @param certFile   the server's certificate chain, PEM
     * @param keyFile    its private key, PEM (PKCS#8)
     * @param template   the CONNECT-IP URI template requests must match
     * @param identities the clients accepted, one per {@code masque} tunnel of the listener
     */
    public static MasqueServer start(Dataplane dataplane, ForwardingStateHolder holder, Listener listener, int worker,
                                     File certFile, File keyFile, MasqueUriTemplate template,
                                     List<MasqueIdentity> identities) throws IOException, InterruptedException {
        boolean wantsCertificates = identities.stream()
                .anyMatch(i -> i.certSha256() != null || i.certSubject() != null);
        QuicSslContextBuilder ssl = QuicSslContextBuilder.forServer(keyFile, null, certFile)
                .applicationProtocols(Http3.supportedApplicationProtocols());
        if (wantsCertificates) {
            // any certificate is accepted by TLS: the identity is its fingerprint or subject, matched per request
            ssl.clientAuth(ClientAuth.OPTIONAL).trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        QuicSslContext context = ssl.build();
        EventLoop loop = dataplane.loop(worker);
        AtomicLong authFailures = new AtomicLong();
        AtomicLong sessionsOpened = new AtomicLong();
        AtomicLong streamResets = new AtomicLong();
        ChannelGroup connections = new DefaultChannelGroup(loop);
        MasqueServerStream.Shared shared = new MasqueServerStream.Shared(holder, dataplane.masqueSessions(),
                template, List.copyOf(identities), authFailures, sessionsOpened, streamResets, listener.name());
        ChannelHandler codec = QuicSettings.apply(Http3.newQuicServerCodecBuilder())
                .sslContext(context)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel connection) {
                        connections.add(connection);
                        MasqueDatagramHandler datagrams = new MasqueDatagramHandler(dataplane.path(worker));
                        connection.pipeline().addLast(datagrams);
                        connection.pipeline().addLast(new Http3ServerConnectionHandler(
                                new ChannelInitializer<QuicStreamChannel>() {
                                    @Override
                                    protected void initChannel(QuicStreamChannel stream) {
                                        stream.pipeline().addLast(new MasqueServerStream(shared, datagrams));
                                    }
                                }, null, null, QuicSettings.settings(), true));
                    }
                })
                .build();
        SocketProtocolFamily family = listener.address().getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        var future = new Bootstrap().group(loop)
                .channelFactory(() -> dataplane.transport().newDatagramChannel(family))
                .option(ChannelOption.SO_RCVBUF, Dataplane.SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, Dataplane.SOCKET_BUFFER)
                .handler(codec)
                .bind(listener.address()).await();
        if (!future.isSuccess()) {
            throw new IOException("bind " + listener.address() + ": " + future.cause().getMessage(), future.cause());
        }
        dataplane.watchSocketDrops(listener.id(), future.channel());
        LOG.info("event=masque_listening listener={} address={} worker={} identities={}", listener.name(),
                future.channel().localAddress(), worker, identities.size());
        return new MasqueServer(future.channel(), connections, authFailures, sessionsOpened, streamResets);
    }

    /** Requests refused because no identity matched (answered 403). */
    public long authFailures() {
        return authFailures.get();
    }

    /** Sessions established since start. */
    public long sessionsOpened() {
        return sessionsOpened.get();
    }

    /**
     * CONNECT-IP streams reset because of a malformed capsule (or a stream ended inside one), with the error code
     * RFC 9297 section 3.3 and RFC 9484 section 4.7 name: H3_DATAGRAM_ERROR, H3_GENERAL_PROTOCOL_ERROR.
     */
    public long streamResets() {
        return streamResets.get();
    }

    /** Closes the connections (their streams end, releasing what they hold), then the socket. */
    @Override
    public void close() {
        connections.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
}
