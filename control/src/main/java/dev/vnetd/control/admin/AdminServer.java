package dev.vnetd.control.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The admin HTTP server, on its own thread (never a dataplane worker): scrapes and probes cannot slow forwarding.
 */
public final class AdminServer implements AutoCloseable {
    private static final RefusalLog UNAUTHORIZED_LOG = new RefusalLog();

    /** Largest request accepted; admin requests are small. */
    private static final int MAX_REQUEST = 64 * 1024;
    /** Prometheus text exposition format. */
    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final MultiThreadIoEventLoopGroup group;
    private final Channel channel;
    private final LongAdder unauthorized;

    private AdminServer(MultiThreadIoEventLoopGroup group, Channel channel, LongAdder unauthorized) {
        this.group = group;
        this.channel = channel;
        this.unauthorized = unauthorized;
    }

    /** Starts the server on {@code address} without a token (loopback only: the configuration enforces it). */
    public static AdminServer start(InetSocketAddress address, AdminApi api) throws IOException {
        return start(address, api, null);
    }

    /**
     * Starts the server on {@code address}. With a {@code token}, every request except {@code /healthz} and
     * {@code /readyz} must carry {@code Authorization: Bearer TOKEN}; others get 401 and are counted.
     */
    public static AdminServer start(InetSocketAddress address, AdminApi api, AdminToken token) throws IOException {
        LongAdder unauthorized = new LongAdder();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("vnetd-admin", true), NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new Handler(api, token, unauthorized));
                    }
                });
        var future = bootstrap.bind(address).awaitUninterruptibly();
        if (!future.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("admin endpoint " + address + ": " + future.cause().getMessage(), future.cause());
        }
        return new AdminServer(group, future.channel(), unauthorized);
    }

    /** Requests refused for a missing or wrong token so far. */
    public long unauthorizedRequests() {
        return unauthorized.sum();
    }

    /** The bound address (its port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final AdminApi api;
        private final AdminToken token;
        private final LongAdder unauthorized;

        Handler(AdminApi api, AdminToken token, LongAdder unauthorized) {
            this.api = api;
            this.token = token;
            this.unauthorized = unauthorized;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            String path = query.path();
            FullHttpResponse response;
            boolean probe = path.equals("/healthz") || path.equals("/readyz");
            if (token != null && !probe
                    && !token.matchesAuthorization(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
                unauthorized.increment();
                UNAUTHORIZED_LOG.refused(ctx.channel().remoteAddress(), path);
                response = text(HttpResponseStatus.UNAUTHORIZED, "unauthorized: send Authorization: Bearer TOKEN\n");
                response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"vnetd\"");
            } else if (request.method().equals(HttpMethod.POST) && path.equals("/api/v1/reload")) {
                response = respond(api.reload(textFormat(query)));
            } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
                response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            } else {
                response = switch (path) {
                    case "/metrics" -> {
                        FullHttpResponse r = text(HttpResponseStatus.OK, api.metrics());
                        r.headers().set(HttpHeaderNames.CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE);
                        yield r;
                    }
                    case "/healthz" -> probe(api.health());
                    case "/readyz" -> probe(api.ready());
                    case "/api/v1/tunnels" -> respond(api.tunnels(textFormat(query)));
                    case "/api/v1/routes" -> respond(api.routes(first(query, "vn"), textFormat(query)));
                    case "/api/v1/virtual-networks" -> respond(api.virtualNetworks(textFormat(query)));
                    case "/api/v1/flows" -> flows(query);
                    case "/api/v1/stat" -> respond(api.stat());
                    default -> text(HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz, /readyz, "
                            + "/api/v1/tunnels, /api/v1/routes?vn=, /api/v1/virtual-networks, /api/v1/flows, "
                            + "/api/v1/stat\n");
                };
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setContentLength(response, response.content().readableBytes());
            if (request.method().equals(HttpMethod.HEAD)) {
                response.content().clear();
            }
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private FullHttpResponse flows(QueryStringDecoder query) {
            String vn = first(query, "vn");
            String limitText = first(query, "limit");
            int limit = FlowListing.DEFAULT_LIMIT;
            if (limitText != null) {
                try {
                    limit = Integer.parseInt(limitText);
                } catch (NumberFormatException e) {
                    limit = -1;
                }
                if (limit < 1 || limit > FlowListing.MAX_LIMIT) {
                    return respond(AdminApi.Response.error(400, "limit must be 1.." + FlowListing.MAX_LIMIT));
                }
            }
            return respond(api.flows(vn, limit, textFormat(query)));
        }

        private static boolean textFormat(QueryStringDecoder query) {
            return "text".equals(first(query, "format"));
        }

        private static FullHttpResponse respond(AdminApi.Response answer) {
            FullHttpResponse response = text(HttpResponseStatus.valueOf(answer.status()),
                    answer.body().endsWith("\n") ? answer.body() : answer.body() + "\n");
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
            return response;
        }

        private static String first(QueryStringDecoder query, String name) {
            var values = query.parameters().get(name);
            return values == null || values.isEmpty() ? null : values.getFirst();
        }

        private static FullHttpResponse probe(String problem) {
            return problem == null ? text(HttpResponseStatus.OK, "ok\n")
                    : text(HttpResponseStatus.SERVICE_UNAVAILABLE, problem + "\n");
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body) {
            ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            return response;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Logs refused requests, at most one line per {@link #INTERVAL_NANOS} with the number suppressed since (never
     * the header that was sent, which could be a mistyped real token).
     */
    private static final class RefusalLog {
        private static final long INTERVAL_NANOS = 10_000_000_000L;
        private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
        private long lastNanos = System.nanoTime() - INTERVAL_NANOS;
        private long suppressed;

        synchronized void refused(SocketAddress remote, String path) {
            long now = System.nanoTime();
            if (now - lastNanos < INTERVAL_NANOS) {
                suppressed++;
                return;
            }
            LOG.warn("event=admin_unauthorized remote={} path={} suppressed={}", remote, path, suppressed);
            lastNanos = now;
            suppressed = 0;
        }
    }
}
