package dev.vnetd.dataplane.transport.masque;

import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3SettingsFrame;
import io.netty.handler.codec.http3.Http3Settings;
import io.netty.handler.codec.quic.QuicCodecBuilder;

import java.util.concurrent.TimeUnit;

/** The QUIC transport parameters and HTTP/3 settings both MASQUE roles use. */
final class QuicSettings {
    /**
     * Idle timeout: 30 s, QUIC's usual order of magnitude; the client's keep-alive (every {@link #KEEPALIVE_SECONDS})
     * keeps NAT bindings and the connection alive when no packets flow.
     */
    static final long IDLE_TIMEOUT_SECONDS = 30;
    /** Keep-alive interval of the client: well inside both the idle timeout and common 30 s UDP NAT timeouts. */
    static final long KEEPALIVE_SECONDS = 10;
    /**
     * Largest UDP payload sent and received: 1452 bytes fill a 1500-byte IPv6 path (1500 - 40 - 8), so a
     * 1280-byte inner packet (the tunnel's default MTU) plus QUIC's short header, DATAGRAM frame and AEAD tag fits.
     */
    static final int MAX_UDP_PAYLOAD = 1452;
    /** QUIC DATAGRAM frames queued in each direction per connection (RFC 9221). */
    static final int DATAGRAM_QUEUE = 4096;
    /** Connection-level flow control window: 16 MiB; only capsules and headers use streams, datagrams do not count. */
    static final long MAX_DATA = 16L << 20;
    /** Per-stream window: 1 MiB, far above any capsule exchange. */
    static final long MAX_STREAM_DATA = 1L << 20;
    /** Concurrent bidirectional streams a peer may open: CONNECT-IP needs one per session. */
    static final long MAX_STREAMS = 16;

    private QuicSettings() {
    }

    /** Applies the transport parameters to a server or client codec builder. */
    static <B extends QuicCodecBuilder<B>> B apply(B builder) {
        return builder.maxIdleTimeout(IDLE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .maxRecvUdpPayloadSize(MAX_UDP_PAYLOAD)
                .maxSendUdpPayloadSize(MAX_UDP_PAYLOAD)
                .datagram(DATAGRAM_QUEUE, DATAGRAM_QUEUE)
                .initialMaxData(MAX_DATA)
                .initialMaxStreamDataBidirectionalLocal(MAX_STREAM_DATA)
                .initialMaxStreamDataBidirectionalRemote(MAX_STREAM_DATA)
                .initialMaxStreamDataUnidirectional(MAX_STREAM_DATA)
                .initialMaxStreamsBidirectional(MAX_STREAMS)
                .initialMaxStreamsUnidirectional(Math.max(MAX_STREAMS, Http3.MIN_INITIAL_MAX_STREAMS_UNIDIRECTIONAL));
    }

    /** HTTP/3 SETTINGS: extended CONNECT (RFC 9220) and HTTP datagrams (RFC 9297). */
    static Http3SettingsFrame settings() {
        return new DefaultHttp3SettingsFrame(Http3Settings.defaultSettings().enableConnectProtocol(true)
                .enableH3Datagram(true));
    }
}
