package dev.vnetd.control.peers;

import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.CapsuleReader;
import dev.vnetd.dataplane.masque.IpRange;
import dev.vnetd.dataplane.masque.QuicVarint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.http3.Http3Settings;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;

import java.io.File;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare CONNECT-IP client on Netty's HTTP/3 client codec that sends what the test crafts: capsule bytes as they
 * are (well-formed or not), HTTP datagrams with any context ID, the end of the stream. It reports the response
 * status, the capsules the server sends (decoded with vnetd's own {@link CapsuleReader}) and the error code of a
 * stream reset. One connection and one CONNECT-IP stream per instance, on its own event loop.
 */
final class CapsuleTestClient implements AutoCloseable {
    private static final long TIMEOUT_SECONDS = 5;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final CompletableFuture<Long> resetCode = new CompletableFuture<>();
    private final LinkedBlockingQueue<List<AssignedAddress>> assigns = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<List<IpRange>> routes = new LinkedBlockingQueue<>();
    private final Channel udp;
    private final QuicChannel quic;
    private final QuicStreamChannel stream;

    /** Connects to {@code server} trusting {@code ca} for {@code serverName} and sends CONNECT-IP with the token. */
    CapsuleTestClient(InetSocketAddress server, String serverName, File ca, String path, String token)
            throws Exception {
        QuicSslContext ssl = QuicSslContextBuilder.forClient().trustManager(ca)
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        ChannelHandler codec = Http3.newQuicClientCodecBuilder()
                .sslEngineProvider(q -> ssl.newEngine(q.alloc(), serverName, server.getPort()))
                .maxIdleTimeout(TIMEOUT_SECONDS * 2, TimeUnit.SECONDS)
                .datagram(64, 64)
                .initialMaxData(1 << 20)
                .initialMaxStreamDataBidirectionalLocal(1 << 16)
                .initialMaxStreamDataBidirectionalRemote(1 << 16)
                .initialMaxStreamDataUnidirectional(1 << 16)
                .initialMaxStreamsBidirectional(4)
                .initialMaxStreamsUnidirectional(Http3.MIN_INITIAL_MAX_STREAMS_UNIDIRECTIONAL)
                .build();
        udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        quic = QuicChannel.newBootstrap(udp)
                .handler(new Http3ClientConnectionHandler(null, null, null, new DefaultHttp3SettingsFrame(
                        Http3Settings.defaultSettings().enableH3Datagram(true)), true))
                .remoteAddress(server).connect().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        stream = Http3.newRequestStream(quic, new Stream()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        DefaultHttp3HeadersFrame request = new DefaultHttp3HeadersFrame();
        request.headers().method("CONNECT").protocol("connect-ip").scheme("https").authority(serverName).path(path)
                .add("capsule-protocol", "?1").add("authorization", "Bearer " + token);
        stream.writeAndFlush(request).sync();
    }

    /** The client's UDP address, as the server sees it. */
    InetSocketAddress localAddress() {
        return (InetSocketAddress) udp.localAddress();
    }

    /** The response status. */
    int status() throws Exception {
        return status.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Sends {@code bytes} on the request stream in one DATA frame, as they are. */
    void sendCapsuleBytes(byte[] bytes) throws Exception {
        stream.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.wrappedBuffer(bytes))).sync();
    }

    /** Ends the request stream (FIN). */
    void endStream() throws Exception {
        stream.shutdownOutput().sync();
    }

    /** Sends an HTTP datagram ({@code quarter stream ID, context ID, payload}) of this stream in a QUIC DATAGRAM. */
    void sendDatagram(long contextId, byte[] payload) throws Exception {
        ByteBuf datagram = Unpooled.buffer();
        QuicVarint.write(datagram, stream.streamId() >>> 2);
        QuicVarint.write(datagram, contextId);
        datagram.writeBytes(payload);
        quic.writeAndFlush(datagram).sync();
    }

    /** The next ADDRESS_ASSIGN from the server. */
    List<AssignedAddress> nextAddressAssign() throws InterruptedException {
        List<AssignedAddress> next = assigns.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (next == null) {
            throw new AssertionError("no ADDRESS_ASSIGN within " + TIMEOUT_SECONDS + " s");
        }
        return next;
    }

    /** The next ROUTE_ADVERTISEMENT from the server. */
    List<IpRange> nextRouteAdvertisement() throws InterruptedException {
        List<IpRange> next = routes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (next == null) {
            throw new AssertionError("no ROUTE_ADVERTISEMENT within " + TIMEOUT_SECONDS + " s");
        }
        return next;
    }

    /** The application error code of the server's RESET_STREAM on the request stream. */
    long resetCode() throws Exception {
        return resetCode.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        quic.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        udp.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    private final class Stream extends Http3RequestStreamInboundHandler implements CapsuleReader.Handler {
        private CapsuleReader reader;

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            if (!status.isDone()) {
                status.complete(Integer.parseInt(String.valueOf(frame.headers().status())));
                reader = new CapsuleReader(ctx.alloc());
            }
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            try {
                reader.read(frame.content(), this);
            } catch (CapsuleException e) {
                throw new AssertionError("the server sent a malformed capsule", e);
            } finally {
                frame.release();
            }
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause;
            while (c != null && !(c instanceof QuicStreamResetException)) {
                c = c.getCause();
            }
            if (c instanceof QuicStreamResetException reset) {
                resetCode.complete(reset.applicationProtocolCode());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (reader != null) {
                reader.close();
            }
            super.channelInactive(ctx);
        }

        @Override
        public void addressAssign(List<AssignedAddress> addresses) {
            assigns.add(addresses);
        }

        @Override
        public void addressRequest(List<AssignedAddress> addresses) {
            throw new AssertionError("a server does not request addresses");
        }

        @Override
        public void routeAdvertisement(List<IpRange> ranges) {
            routes.add(ranges);
        }
    }
}
