package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.CapsuleReader;
import dev.vnetd.dataplane.masque.Cidr;
import dev.vnetd.dataplane.masque.IpCapsules;
import dev.vnetd.dataplane.masque.IpRange;
import dev.vnetd.dataplane.masque.MasqueUriTemplate;
import dev.vnetd.dataplane.masque.SourceFilter;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicStreamChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server side of one CONNECT-IP request stream: 1. extended CONNECT with {@code :protocol connect-ip} (RFC 9220;
 * anything else 400) on a path of the URI template (else 404)  2. the identity, by {@code Authorization: Bearer}
 * token or TLS client certificate (none: 403, counted)  3. 200 with {@code capsule-protocol: ?1}, then ADDRESS_ASSIGN
 * (the tunnel's {@code assign}, unsolicited: request ID 0) and ROUTE_ADVERTISEMENT (its {@code advertise})
 * 4. the session is registered: its datagrams enter the path, packets routed to its tunnel leave through it
 * 5. capsules from the client are read (ADDRESS_REQUEST answered with the assigned addresses); a malformed one
 * resets the stream with its error code  6. the stream's end ends the session. On the connection's event loop.
 */
final class MasqueServerStream extends Http3RequestStreamInboundHandler implements CapsuleReader.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(MasqueServerStream.class);
    private static final String BEARER = "Bearer ";

    /** What every stream of a listener shares. */
    record Shared(ForwardingStateHolder holder, MasqueSessions sessions, MasqueUriTemplate template,
                  List<MasqueIdentity> identities, AtomicLong authFailures, AtomicLong sessionsOpened,
                  AtomicLong streamResets, String listener) {
    }

    private final Shared shared;
    private final MasqueDatagramHandler datagrams;
    private ChannelHandlerContext ctx;
    private CapsuleReader reader;
    private MasqueSession session;
    private MasqueIdentity identity;

    MasqueServerStream(Shared shared, MasqueDatagramHandler datagrams) {
        this.shared = shared;
        this.datagrams = datagrams;
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        if (reader != null) {
            return; // trailers: nothing in them for CONNECT-IP
        }
        Http3Headers h = frame.headers();
        CharSequence protocol = h.get(Http3Headers.PseudoHeaderName.PROTOCOL.value());
        if (!"CONNECT".contentEquals(String.valueOf(h.method())) || protocol == null
                || !"connect-ip".contentEquals(protocol)) {
            respond(ctx, "400", true);
            return;
        }
        if (h.path() == null || !shared.template().matches(h.path())) {
            respond(ctx, "404", true);
            return;
        }
        QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
        identity = authenticate(stream, h.get("authorization"));
        if (identity == null) {
            shared.authFailures().incrementAndGet();
            LOG.warn("event=masque_auth_failed listener={} remote={}", shared.listener(), stream.parent()
                    .remoteSocketAddress());
            respond(ctx, "403", true);
            return;
        }
        Tunnel tunnel = shared.holder().get().tunnel(identity.tunnel());
        if (tunnel == null) {
            respond(ctx, "503", true);
            return;
        }
        this.ctx = ctx;
        reader = new CapsuleReader(ctx.alloc());
        session = new MasqueSession(tunnel.id(), tunnel.name(), stream.parent(), stream.streamId(),
                new SourceFilter(identity.assign()), MasqueSessions.HANDOFF_CAPACITY);
        MasqueSession replaced = shared.sessions().register(session);
        if (replaced != null) {
            replaced.close();
        }
        datagrams.add(session);
        shared.sessionsOpened().incrementAndGet();
        respond(ctx, "200", false);
        ByteBuf capsules = ctx.alloc().buffer();
        IpCapsules.encodeAddressAssign(capsules, assigned(0, identity.assign()));
        IpCapsules.encodeRouteAdvertisement(capsules,
                IpCapsules.sorted(identity.advertise().stream().map(Cidr::toRange).toList()));
        ctx.writeAndFlush(new DefaultHttp3DataFrame(capsules));
        LOG.info("event=masque_session_opened listener={} tunnel={} remote={} stream={} assign={} advertise={}",
                shared.listener(), tunnel.name(), stream.parent().remoteSocketAddress(), stream.streamId(),
                identity.assign(), identity.advertise());
    }

    private MasqueIdentity authenticate(QuicStreamChannel stream, CharSequence authorization) {
        if (authorization != null && authorization.toString().startsWith(BEARER)) {
            byte[] token = authorization.toString().substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8);
            for (MasqueIdentity i : shared.identities()) {
                if (i.matchesToken(token)) {
                    return i;
                }
            }
        }
        X509Certificate certificate = peerCertificate(stream);
        if (certificate != null) {
            byte[] sha256 = sha256(certificate);
            String subject = certificate.getSubjectX500Principal().getName();
            for (MasqueIdentity i : shared.identities()) {
                if (i.matchesCertificate(sha256, subject)) {
                    return i;
                }
            }
        }
        return null;
    }

    private static X509Certificate peerCertificate(QuicStreamChannel stream) {
        try {
            Certificate[] chain = stream.parent().sslEngine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private static byte[] sha256(X509Certificate certificate) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return null;
        }
    }

    private static List<AssignedAddress> assigned(long requestId, List<Cidr> prefixes) {
        return prefixes.stream().map(p -> new AssignedAddress(requestId, p.address(), p.length())).toList();
    }

    private static void respond(ChannelHandlerContext ctx, String status, boolean end) {
        DefaultHttp3HeadersFrame headers = new DefaultHttp3HeadersFrame();
        headers.headers().status(status);
        if (!end) {
            headers.headers().add("capsule-protocol", "?1");
            ctx.writeAndFlush(headers);
        } else {
            ctx.writeAndFlush(headers).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        try {
            if (reader != null) {
                reader.read(frame.content(), this);
            }
        } catch (CapsuleException e) {
            reset(ctx, e);
        } finally {
            frame.release();
        }
    }

    private void reset(ChannelHandlerContext ctx, CapsuleException e) {
        shared.streamResets().incrementAndGet();
        LOG.warn("event=masque_stream_reset listener={} tunnel={} code=0x{} reason=\"{}\"", shared.listener(),
                identity == null ? "-" : identity.tunnel(), Long.toHexString(e.errorCode()), e.getMessage());
        endSession();
        ((QuicStreamChannel) ctx.channel()).shutdown((int) e.errorCode()).addListener(f -> ctx.close());
    }

    @Override
    protected void channelInputClosed(ChannelHandlerContext ctx) {
        if (reader != null) {
            try {
                reader.end();
            } catch (CapsuleException e) {
                reset(ctx, e);
                return;
            }
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        endSession();
        if (reader != null) {
            reader.close();
            reader = null;
        }
        super.channelInactive(ctx);
    }

    private void endSession() {
        if (session != null) {
            session.close();
            shared.sessions().unregister(session);
            datagrams.remove(session);
            LOG.info("event=masque_session_closed listener={} tunnel={}", shared.listener(), session.tunnelName());
            session = null;
        }
    }

    @Override
    public void addressAssign(List<AssignedAddress> addresses) {
        LOG.debug("event=masque_client_address_assign_ignored tunnel={} addresses={}", identity.tunnel(), addresses);
    }

    /** Answers each request with the assigned prefix of its family, or the all-zero "none" of RFC 9484 4.7.1. */
    @Override
    public void addressRequest(List<AssignedAddress> requests) {
        List<AssignedAddress> answers = new ArrayList<>();
        for (AssignedAddress request : requests) {
            Cidr match = identity.assign().stream().filter(c -> c.ipv6() == request.ipv6()).findFirst().orElse(null);
            answers.add(match != null ? new AssignedAddress(request.requestId(), match.address(), match.length())
                    : new AssignedAddress(request.requestId(), zero(request.ipv6()), request.ipv6() ? 128 : 32));
        }
        ByteBuf capsule = ctx.alloc().buffer();
        IpCapsules.encodeAddressAssign(capsule, answers);
        ctx.writeAndFlush(new DefaultHttp3DataFrame(capsule));
    }

    private static InetAddress zero(boolean ipv6) {
        try {
            return InetAddress.getByAddress(new byte[ipv6 ? 16 : 4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void routeAdvertisement(List<IpRange> ranges) {
        LOG.debug("event=masque_client_routes_ignored tunnel={} ranges={}", identity.tunnel(), ranges);
    }
}
