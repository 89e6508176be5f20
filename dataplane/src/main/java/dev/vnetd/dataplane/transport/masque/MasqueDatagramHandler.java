package dev.vnetd.dataplane.transport.masque;

import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.HttpDatagram;
import dev.vnetd.dataplane.masque.SourceFilter;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.PacketPath;
import dev.vnetd.dataplane.path.WorkerCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/**
 * Step 1-2 of the path for MASQUE: the first handler of a QUIC connection's pipeline takes its QUIC DATAGRAM frames
 * (the other messages, new streams, pass on to the HTTP/3 handler): 1. the HTTP/3 datagram header: a Quarter Stream
 * ID too large or missing closes the connection with H3_DATAGRAM_ERROR (RFC 9297 2.1)  2. the session of that
 * stream, else dropped  3. context 0 only  4. the source must be one the client was assigned  5. the worker's path,
 * in place. At the end of a read batch the path flushes. A datagram the connection refuses to send (larger than the
 * path allows, or the connection closed) comes back here as an exception and is counted as {@code tx_failed}; one
 * that finds quiche's DATAGRAM send queue still full after Netty has sent what congestion control allows is
 * discarded by Netty's QUIC channel (4.2.18, {@code QuicheQuicChannel.doWrite}) with its write reported as a success,
 * so it reaches no counter here: the peer's rx falls short of this side's tx (bench/soak.sh's {@code quic_lost}).
 * Runs on the connection's event loop, which is the worker whose path it feeds.
 */
final class MasqueDatagramHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(MasqueDatagramHandler.class);
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final PacketPath path;
    private final WorkerCounters counters;
    private final HttpDatagram datagram = new HttpDatagram();
    private MasqueSession[] sessions = new MasqueSession[0];
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long suppressed;

    MasqueDatagramHandler(PacketPath path) {
        this.path = path;
        this.counters = path.counters();
    }

    /** Adds a session of this connection; on its loop. */
    void add(MasqueSession session) {
        sessions = Arrays.copyOf(sessions, sessions.length + 1);
        sessions[sessions.length - 1] = session;
    }

    /** Removes a session of this connection; on its loop. */
    void remove(MasqueSession session) {
        sessions = Arrays.stream(sessions).filter(s -> s != session).toArray(MasqueSession[]::new);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int result = datagram.wrap(buf, start, end);
        if (result == HttpDatagram.BAD_QUARTER_STREAM_ID) {
            drop(buf, DropReason.MASQUE_BAD_DATAGRAM);
            ((QuicChannel) ctx.channel()).close(true, (int) CapsuleException.H3_DATAGRAM_ERROR, Unpooled.EMPTY_BUFFER);
            return;
        }
        MasqueSession session = result == HttpDatagram.OK ? find(datagram.quarterStreamId()) : null;
        if (session == null) {
            drop(buf, DropReason.MASQUE_BAD_DATAGRAM);
            return;
        }
        if (datagram.contextId() != HttpDatagram.CONTEXT_IP_PACKET) {
            drop(buf, DropReason.MASQUE_UNKNOWN_CONTEXT);
            return;
        }
        int payload = datagram.payloadOffset();
        SourceFilter sources = session.sources();
        if (sources != null && !sources.allows(buf, payload, end - payload)) {
            drop(buf, DropReason.MASQUE_SPOOFED_SOURCE);
            return;
        }
        path.receiveMasque(session.tunnelId(), buf, payload, end, end - start);
    }

    private MasqueSession find(long quarterStreamId) {
        for (MasqueSession s : sessions) {
            if (s.streamId() >>> 2 == quarterStreamId && s.open()) {
                return s;
            }
        }
        return null;
    }

    private void drop(ByteBuf buf, DropReason reason) {
        counters.drop(reason);
        buf.release();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        counters.drop(DropReason.TX_FAILED);
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            LOG.warn("event=masque_send_failed remote={} error=\"{}\" suppressed={}", ctx.channel().remoteAddress(),
                    cause.toString(), suppressed);
            lastLogNanos = now;
            suppressed = 0;
        } else {
            suppressed++;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        path.flush();
        ctx.fireChannelReadComplete();
    }
}
