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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The admin HTTP server, on its own thread (never a dataplane worker): scrapes and probes cannot slow forwarding.
 */
public final class AdminServer implements AutoCloseable {
    /** Largest request accepted; admin requests are small. */
    private static final int MAX_REQUEST = 64 * 1024;
    /** Prometheus text exposition format. */
    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * What the endpoints answer.
     *
     * @param metrics Prometheus text of every metric
     * @param health  null when alive, else why not (for /healthz)
     * @param ready   null when ready, else why not (for /readyz)
     * @param flows   JSON listing of flows for (virtual network or null, limit); null for an unknown network
     */
    public record Endpoints(Supplier<String> metrics, Supplier<String> health, Supplier<String> ready,
                            BiFunction<String, Integer, String> flows) {
    }

    private final MultiThreadIoEventLoopGroup group;
    private final Channel channel;

    private AdminServer(MultiThreadIoEventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** Starts the server on {@code address}. */
    public static AdminServer start(InetSocketAddress address, Endpoints endpoints) throws IOException {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("vnetd-admin", true), NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new Handler(endpoints));
                    }
                });
        var future = bootstrap.bind(address).awaitUninterruptibly();
        if (!future.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("admin endpoint " + address + ": " + future.cause().getMessage(), future.cause());
        }
        return new AdminServer(group, future.channel());
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
        private final Endpoints endpoints;

        Handler(Endpoints endpoints) {
            this.endpoints = endpoints;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            String path = query.path();
            FullHttpResponse response;
            if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
                response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            } else {
                response = switch (path) {
                    case "/metrics" -> {
                        FullHttpResponse r = text(HttpResponseStatus.OK, endpoints.metrics().get());
                        r.headers().set(HttpHeaderNames.CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE);
                        yield r;
                    }
                    case "/healthz" -> probe(endpoints.health().get());
                    case "/readyz" -> probe(endpoints.ready().get());
                    case "/api/v1/flows" -> flows(query);
                    default -> text(HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz, /readyz\n");
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
                    return json(HttpResponseStatus.BAD_REQUEST,
                            "{\"error\":\"limit must be 1.." + FlowListing.MAX_LIMIT + "\"}");
                }
            }
            String body = endpoints.flows().apply(vn, limit);
            return body == null ? json(HttpResponseStatus.NOT_FOUND, "{\"error\":\"unknown virtual network\"}")
                    : json(HttpResponseStatus.OK, body);
        }

        private static String first(QueryStringDecoder query, String name) {
            var values = query.parameters().get(name);
            return values == null || values.isEmpty() ? null : values.getFirst();
        }

        private static FullHttpResponse json(HttpResponseStatus status, String body) {
            FullHttpResponse response = text(status, body + "\n");
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            return response;
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
}
