package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over one capsule of the capsule protocol (RFC 9297 section 3.2), the framing of a CONNECT-IP request
 * stream's DATA once the 2xx response is sent:
 *
 * <pre>
 *  Capsule {
 *    Capsule Type (i),
 *    Capsule Length (i),
 *    Capsule Value (..),      Capsule Length bytes
 *  }
 * </pre>
 *
 * A capsule may be split over several DATA frames and several reads; {@link #wrap} tells whether the whole of it is
 * there yet. Not thread-safe.
 */
public final class Capsule {
    /** DATAGRAM capsule (RFC 9297 section 3.5): an HTTP datagram sent on the stream instead of a QUIC datagram. */
    public static final long DATAGRAM = 0x00;
    /** ADDRESS_ASSIGN (RFC 9484 section 4.7.1). */
    public static final long ADDRESS_ASSIGN = 0x01;
    /** ADDRESS_REQUEST (RFC 9484 section 4.7.2). */
    public static final long ADDRESS_REQUEST = 0x02;
    /** ROUTE_ADVERTISEMENT (RFC 9484 section 4.7.3). */
    public static final long ROUTE_ADVERTISEMENT = 0x03;
    /**
     * A type reserved for greasing (RFC 9297 section 5.4: 0x29 * N + 0x17, here N = 0), which a peer skips as
     * unknown: vnetd's client sends it empty as its keep-alive, an ack-eliciting write that restarts QUIC's idle
     * timer on both ends (QUIC has no keep-alive of its own in Netty's codec).
     */
    public static final long KEEPALIVE = 0x17;

    /** {@link #wrap} result: the whole capsule is in the buffer. */
    public static final int COMPLETE = 0;
    /** {@link #wrap} result: more bytes are needed (for the header or the value). */
    public static final int INCOMPLETE = 1;

    private long type;
    private long length;
    private int valueOffset;

    /**
     * Reads the capsule header at [{@code offset}, {@code end}): {@link #COMPLETE} when the value is there too,
     * otherwise {@link #INCOMPLETE} (then only {@link #type()} and {@link #length()} may be valid, once the header
     * is).
     */
    public int wrap(ByteBuf buf, int offset, int end) {
        int typeLength = QuicVarint.lengthAt(buf, offset, end);
        if (typeLength < 0) {
            return INCOMPLETE;
        }
        int lengthOffset = offset + typeLength;
        int lengthLength = QuicVarint.lengthAt(buf, lengthOffset, end);
        if (lengthLength < 0) {
            return INCOMPLETE;
        }
        type = QuicVarint.get(buf, offset);
        length = QuicVarint.get(buf, lengthOffset);
        valueOffset = lengthOffset + lengthLength;
        return length <= end - valueOffset ? COMPLETE : INCOMPLETE;
    }

    /** Capsule Type. */
    public long type() {
        return type;
    }

    /** Capsule Length: bytes of value. */
    public long length() {
        return length;
    }

    /** Index of the value. */
    public int valueOffset() {
        return valueOffset;
    }

    /** Index just past the value (valid when {@link #COMPLETE}). */
    public int end() {
        return valueOffset + (int) length;
    }

    /** Appends a capsule header for a value of {@code length} bytes at the writer index. */
    public static void writeHeader(ByteBuf out, long type, long length) {
        QuicVarint.write(out, type);
        QuicVarint.write(out, length);
    }
}
