package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over a CONNECT-IP HTTP/3 datagram, the payload of a QUIC DATAGRAM frame:
 *
 * <pre>
 *  HTTP/3 Datagram {                       RFC 9297 section 2.1
 *    Quarter Stream ID (i),                request stream ID / 4, at most 2^60 - 1
 *    HTTP Datagram Payload {               RFC 9484 section 6
 *      Context ID (i),                     0: the payload is a full IP packet
 *      Payload (..),
 *    },
 *  }
 * </pre>
 *
 * {@link #wrap} reads the two varints without allocating; the payload stays where it is in the buffer, so the IP
 * packet enters the packet path in place. {@link #writeHeader} writes the header in front of a packet for sending.
 * Not thread-safe: one instance per worker.
 */
public final class HttpDatagram {
    /** Largest Quarter Stream ID: client-initiated bidirectional stream IDs are below 2^62 (RFC 9297 2.1). */
    public static final long MAX_QUARTER_STREAM_ID = (1L << 60) - 1;
    /** The context ID of a full IP packet (RFC 9484 section 6). */
    public static final long CONTEXT_IP_PACKET = 0;

    /** {@link #wrap} result: the header parsed, the payload is at {@link #payloadOffset()}. */
    public static final int OK = 0;
    /**
     * {@link #wrap} result: too short for the Quarter Stream ID, or it exceeds 2^60 - 1; RFC 9297 section 2.1 makes
     * both an HTTP/3 connection error of type H3_DATAGRAM_ERROR.
     */
    public static final int BAD_QUARTER_STREAM_ID = 1;
    /** {@link #wrap} result: the Context ID is missing or truncated; the datagram is dropped. */
    public static final int TRUNCATED_CONTEXT = 2;

    private long quarterStreamId;
    private long contextId;
    private int payloadOffset;
    private int end;

    /** Parses the datagram at [{@code offset}, {@code end}) of {@code buf}; returns {@link #OK} or why not. */
    public int wrap(ByteBuf buf, int offset, int end) {
        int qsidLength = QuicVarint.lengthAt(buf, offset, end);
        if (qsidLength < 0) {
            return BAD_QUARTER_STREAM_ID;
        }
        quarterStreamId = QuicVarint.get(buf, offset);
        if (quarterStreamId > MAX_QUARTER_STREAM_ID) {
            return BAD_QUARTER_STREAM_ID;
        }
        int contextOffset = offset + qsidLength;
        int contextLength = QuicVarint.lengthAt(buf, contextOffset, end);
        if (contextLength < 0) {
            return TRUNCATED_CONTEXT;
        }
        contextId = QuicVarint.get(buf, contextOffset);
        payloadOffset = contextOffset + contextLength;
        this.end = end;
        return OK;
    }

    /** The request stream this datagram belongs to, divided by four. */
    public long quarterStreamId() {
        return quarterStreamId;
    }

    /** The CONNECT-IP context; {@link #CONTEXT_IP_PACKET} for an IP packet. */
    public long contextId() {
        return contextId;
    }

    /** Index of the payload (the IP packet for context 0). */
    public int payloadOffset() {
        return payloadOffset;
    }

    /** Bytes of payload. */
    public int payloadLength() {
        return end - payloadOffset;
    }

    /** Bytes of header a datagram of stream {@code streamId} with context 0 needs. */
    public static int headerLength(long streamId) {
        return QuicVarint.encodedLength(streamId >>> 2) + 1;
    }

    /**
     * Writes the header of an IP packet (context 0) for request stream {@code streamId} so that it ends at
     * {@code payloadOffset}; returns the index it starts at. The caller has checked that
     * {@link #headerLength(long)} bytes are free before the payload.
     */
    public static int writeHeader(ByteBuf buf, int payloadOffset, long streamId) {
        int start = payloadOffset - headerLength(streamId);
        int qsidLength = QuicVarint.set(buf, start, streamId >>> 2);
        buf.setByte(start + qsidLength, (int) CONTEXT_IP_PACKET);
        return start;
    }
}
