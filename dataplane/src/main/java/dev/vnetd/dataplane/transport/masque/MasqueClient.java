package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.Capsule;
import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.CapsuleReader;
import dev.vnetd.dataplane.masque.IpRange;
import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.transport.Dataplane;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client side of a {@code masque-client} tunnel: 1. a QUIC connection from its own UDP socket, on one worker's
 * event loop, to {@code server} with SNI {@code serverName}, the certificate checked against {@code ca} (or the
 * JDK's trust store) and the name, presenting a client certificate when it has one  2. an extended CONNECT
 * ({@code :protocol connect-ip}, the template's path with target and protocol {@code *}, {@code Authorization:
 * Bearer} when it has a token)  3. on 200 the session is registered, and the
 * ADDRESS_ASSIGN and ROUTE_ADVERTISEMENT capsules go to the {@link MasqueClientListener}, and every
 * {@link QuicSettings#KEEPALIVE_SECONDS} an empty {@link Capsule#KEEPALIVE} capsule keeps the connection from idling
 * out (and NAT bindings open) when no packets flow  4. when the connection or
 * the stream ends, or the attempt fails, it tries again after a backoff that doubles from 1 s to 30 s and starts
 * over after a session that came up.
 */
public final class MasqueClient implements AutoCloseable {
    /** First reconnect delay. */
    public static final long FIRST_BACKOFF_MILLIS = 1_000;
    /** Longest reconnect delay: 30 s keeps a dead server's load low and a recovered one reached soon. */
    public static final long MAX_BACKOFF_MILLIS = 30_000;

    private static final Logger LOG = LoggerFactory.getLogger(MasqueClient.class);

    private final Dataplane dataplane;
    private final ForwardingStateHolder holder;
    private final String tunnelName;
    private final int worker;
    private final EventLoop loop;
    private final InetSocketAddress server;
    private final String serverName;
    private final byte[] token;
    private final String path;
    private final QuicSslContext ssl;
    private final MasqueClientListener listener;
    private final AtomicLong sessionsOpened = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    private volatile boolean closed;
    private volatile int lastStatus;
    private long backoffMillis = FIRST_BACKOFF_MILLIS;
    private Channel udp;
    private QuicChannel quic;

    private MasqueClient(Dataplane dataplane, ForwardingStateHolder holder, String tunnelName, int worker,
                         InetSocketAddress server, String serverName, byte[] token, MasqueUriTemplate template,
                         File ca, File clientCert, File clientKey, MasqueClientListener listener) {
        this.dataplane = dataplane;
        this.holder = holder;
        this.tunnelName = tunnelName;
        this.worker = worker;
        this.loop = dataplane.loop(worker);
        this.server = server;
        this.serverName = serverName;
        this.token = token == null ? null : token.clone();
        this.path = template.anyTargetPath();
        this.listener = listener;
        QuicSslContextBuilder builder = QuicSslContextBuilder.forClient()
                .applicationProtocols(Http3.supportedApplicationProtocols())
                .endpointIdentificationAlgorithm("HTTPS");
        if (ca != null) {
            builder.trustManager(ca);
        }
        if (clientCert != null) {
            builder.keyManager(clientKey, null, clientCert);
        }
        this.ssl = builder.build();
    }

    /**
     * Starts connecting tunnel {@code tunnelName} from worker {@code worker}; returns at once, the connection comes
     * up (and comes back) in the background.
     *
     * @param token      the bearer token sent in {@code Authorization}, or null to send none
     * @param ca         the PEM certificates to trust, or null for the JDK's trust store
     * @param clientCert the client certificate chain presented in the TLS handshake (PEM), or null for none
     * @param clientKey  its private key (PEM, PKCS#8); null exactly when {@code clientCert} is
     */
    public static MasqueClient start(Dataplane dataplane, ForwardingStateHolder holder, String tunnelName, int worker,
                                     InetSocketAddress server, String serverName, byte[] token,
                                     MasqueUriTemplate template, File ca, File clientCert, File clientKey,
                                     MasqueClientListener listener) {
        MasqueClient client = new MasqueClient(dataplane, holder, tunnelName, worker, server, serverName, token,
                template, ca, clientCert, clientKey, listener);
        client.loop.execute(client::connect);
        return client;
    }

    private void connect() {
        if (closed) {
            return;
        }
        // the engine gets the server name as its peer host: SNI and the certificate's name check use it
        ChannelHandler codec = QuicSettings.apply(Http3.newQuicClientCodecBuilder())
                .sslEngineProvider(q -> ssl.newEngine(q.alloc(), serverName, server.getPort()))
                .build();
        SocketProtocolFamily family = server.getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
        new Bootstrap().group(loop)
                .channelFactory(() -> dataplane.transport().newDatagramChannel(family))
                .option(ChannelOption.SO_RCVBUF, Dataplane.SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, Dataplane.SOCKET_BUFFER)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(codec, new SocketErrors());
                    }
                })
                .bind(new InetSocketAddress(family == SocketProtocolFamily.INET ? "0.0.0.0" : "::", 0))
                .addListener(bound -> {
                    if (!bound.isSuccess()) {
                        failed("bind", bound.cause());
                        return;
                    }
                    udp = ((ChannelFuture) bound).channel();
                    Tunnel tunnel = holder.get().tunnel(tunnelName);
                    if (tunnel != null) {
                        dataplane.watchSocketDrops(tunnel.listener().id(), udp);
                    }
                    MasqueDatagramHandler datagrams = new MasqueDatagramHandler(dataplane.path(worker));
                    QuicChannel.newBootstrap(udp)
                            .handler(new ChannelInitializer<QuicChannel>() {
                                @Override
                                protected void initChannel(QuicChannel ch) {
                                    ch.pipeline().addLast(datagrams);
                                    ch.pipeline().addLast(new Http3ClientConnectionHandler(null, null, null,
                                            QuicSettings.settings(), true));
                                }
                            })
                            .remoteAddress(server)
                            .connect()
                            .addListener(connected -> {
                                if (!connected.isSuccess()) {
                                    failed("quic", connected.cause());
                                    return;
                                }
                                quic = (QuicChannel) connected.getNow();
                                Channel socket = udp;
                                quic.closeFuture().addListener(f -> socket.close());
                                openStream(quic, datagrams);
                            });
                });
    }

    private void openStream(QuicChannel quic, MasqueDatagramHandler datagrams) {
        Http3.newRequestStream(quic, new Stream(datagrams)).addListener(opened -> {
            if (!opened.isSuccess()) {
                quic.close();
                failed("stream", opened.cause());
                return;
            }
            QuicStreamChannel stream = (QuicStreamChannel) opened.getNow();
            DefaultHttp3HeadersFrame request = new DefaultHttp3HeadersFrame();
            request.headers().method("CONNECT").protocol("connect-ip").scheme("https").authority(serverName)
                    .path(path).add("capsule-protocol", "?1");
            if (token != null) {
                request.headers().add("authorization", "Bearer " + new String(token, StandardCharsets.UTF_8));
            }
            stream.writeAndFlush(request);
            stream.closeFuture().addListener(f -> quic.close());
            quic.closeFuture().addListener(f -> retry());
        });
    }

    private void failed(String stage, Throwable cause) {
        connectFailures.incrementAndGet();
        LOG.warn("event=masque_connect_failed tunnel={} server={} stage={} error=\"{}\" retry_ms={}", tunnelName,
                server, stage, cause, backoffMillis);
        if (udp != null) {
            udp.close();
        }
        retry();
    }

    private void retry() {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /** Sessions that came up so far. */
    public long sessionsOpened() {
        return sessionsOpened.get();
    }

    /** Attempts that failed before a response (bind, handshake, stream). */
    public long connectFailures() {
        return connectFailures.get();
    }

    /** The status of the last response to the CONNECT request, 0 before any. */
    public int lastStatus() {
        return lastStatus;
    }

    /** Stops reconnecting and closes the connection (its streams end first, releasing what they hold). */
    @Override
    public void close() {
        closed = true;
        loop.submit(() -> {
            if (quic != null) {
                quic.close();
            }
            if (udp != null) {
                udp.close();
            }
        }).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /**
     * The end of the client socket's pipeline: a read that races the socket's close (the connection ended) is not
     * an error; anything else is logged.
     */
    private final class SocketErrors extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof ClosedChannelException)) {
                LOG.warn("event=masque_socket_error tunnel={} error=\"{}\"", tunnelName, cause.toString());
            }
        }
    }

    /** The CONNECT-IP request stream. */
    private final class Stream extends Http3RequestStreamInboundHandler implements CapsuleReader.Handler {
        private final MasqueDatagramHandler datagrams;
        private CapsuleReader reader;
        private MasqueSession session;
        private ScheduledFuture<?> keepAlive;

        Stream(MasqueDatagramHandler datagrams) {
            this.datagrams = datagrams;
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            if (reader != null) {
                return;
            }
            Http3Headers headers = frame.headers();
            CharSequence statusText = headers.status();
            int status = statusText == null ? 0 : Integer.parseInt(statusText.toString());
            if (status < 200 || status > 299) {
                lastStatus = status;
                LOG.warn("event=masque_refused tunnel={} server={} status={} retry_ms={}", tunnelName, server,
                        status, backoffMillis);
                ctx.close();
                return;
            }
            Tunnel tunnel = holder.get().tunnel(tunnelName);
            QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
            reader = new CapsuleReader(ctx.alloc());
            session = new MasqueSession(tunnel.id(), tunnelName, stream.parent(), stream.streamId(), null,
                    MasqueSessions.HANDOFF_CAPACITY);
            MasqueSession replaced = dataplane.masqueSessions().register(session);
            if (replaced != null) {
                replaced.close();
            }
            datagrams.add(session);
            keepAlive = ctx.executor().scheduleAtFixedRate(() -> sendKeepAlive(ctx), QuicSettings.KEEPALIVE_SECONDS,
                    QuicSettings.KEEPALIVE_SECONDS, TimeUnit.SECONDS);
            sessionsOpened.incrementAndGet();
            // after the session counts: a reader that sees a 2xx status also sees the session
            lastStatus = status;
            backoffMillis = FIRST_BACKOFF_MILLIS;
            LOG.info("event=masque_session_opened tunnel={} server={} stream={}", tunnelName, server,
                    stream.streamId());
        }

        /** Writes an empty {@link Capsule#KEEPALIVE} capsule on the request stream; on the stream's loop. */
        private void sendKeepAlive(ChannelHandlerContext ctx) {
            ByteBuf capsule = ctx.alloc().buffer(2);
            Capsule.writeHeader(capsule, Capsule.KEEPALIVE, 0);
            ctx.writeAndFlush(new DefaultHttp3DataFrame(capsule));
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            try {
                if (reader != null) {
                    reader.read(frame.content(), this);
                }
            } catch (CapsuleException e) {
                LOG.warn("event=masque_stream_reset tunnel={} code=0x{} reason=\"{}\"", tunnelName,
                        Long.toHexString(e.errorCode()), e.getMessage());
                ((QuicStreamChannel) ctx.channel()).shutdown((int) e.errorCode()).addListener(f -> ctx.close());
            } finally {
                frame.release();
            }
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (keepAlive != null) {
                keepAlive.cancel(false);
                keepAlive = null;
            }
            if (session != null) {
                session.close();
                dataplane.masqueSessions().unregister(session);
                datagrams.remove(session);
                session = null;
                listener.sessionLost(tunnelName);
                LOG.info("event=masque_session_closed tunnel={} server={}", tunnelName, server);
            }
            if (reader != null) {
                reader.close();
                reader = null;
            }
            super.channelInactive(ctx);
        }

        @Override
        public void addressAssign(List<AssignedAddress> addresses) {
            listener.addressesAssigned(tunnelName, addresses);
        }

        @Override
        public void addressRequest(List<AssignedAddress> addresses) {
            LOG.debug("event=masque_server_address_request_ignored tunnel={} addresses={}", tunnelName, addresses);
        }

        @Override
        public void routeAdvertisement(List<IpRange> ranges) {
            listener.routesAdvertised(tunnelName, ranges);
        }
    }
}
