package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;

/**
 * Reads the capsules of one CONNECT-IP request stream from its DATA, however the sender split them into frames:
 * 1. accumulate until a capsule is whole  2. ADDRESS_ASSIGN, ADDRESS_REQUEST, ROUTE_ADVERTISEMENT decoded and handed
 * to the {@link Handler}  3. every other type (DATAGRAM capsules too: vnetd sends and expects QUIC datagrams) skipped
 * without being buffered, as RFC 9297 section 3.2 requires for unknown types  4. at the end of the stream, a capsule
 * cut short is malformed (H3_DATAGRAM_ERROR). Sans-IO and single-threaded: the stream's event loop feeds it.
 */
public final class CapsuleReader implements AutoCloseable {
    /**
     * Longest ADDRESS_ASSIGN, ADDRESS_REQUEST or ROUTE_ADVERTISEMENT value buffered: 64 KiB holds 1927 IPv6 ranges,
     * far more than any site advertises, and bounds what a peer can make vnetd hold per stream.
     */
    public static final int MAX_CAPSULE_LENGTH = 65_536;

    /** What the reader found. */
    public interface Handler {
        /** An ADDRESS_ASSIGN capsule's addresses. */
        void addressAssign(List<AssignedAddress> addresses);

        /** An ADDRESS_REQUEST capsule's addresses. */
        void addressRequest(List<AssignedAddress> addresses);

        /** A ROUTE_ADVERTISEMENT capsule's ranges. */
        void routeAdvertisement(List<IpRange> ranges);
    }

    private final Capsule capsule = new Capsule();
    private final ByteBuf pending;
    private long skipRemaining;
    private long skipped;

    /** A reader that buffers partial capsules in a buffer from {@code alloc}. */
    public CapsuleReader(ByteBufAllocator alloc) {
        this.pending = alloc.heapBuffer(256);
    }

    /**
     * Reads the readable bytes of {@code data} (not released: the caller owns it), handing every whole capsule to
     * {@code handler}. Throws when a capsule is malformed; the stream must then be reset with the exception's code.
     */
    public void read(ByteBuf data, Handler handler) throws CapsuleException {
        int from = data.readerIndex();
        int to = data.writerIndex();
        if (skipRemaining > 0) {
            int skip = (int) Math.min(skipRemaining, to - from);
            skipRemaining -= skip;
            from += skip;
        }
        if (from == to) {
            return;
        }
        pending.writeBytes(data, from, to - from);
        while (pending.isReadable() && skipRemaining == 0) {
            int start = pending.readerIndex();
            int end = pending.writerIndex();
            int result = capsule.wrap(pending, start, end);
            if (result == Capsule.INCOMPLETE && !headerRead(start, end)) {
                break;
            }
            long type = capsule.type();
            boolean known = type == Capsule.ADDRESS_ASSIGN || type == Capsule.ADDRESS_REQUEST
                    || type == Capsule.ROUTE_ADVERTISEMENT;
            if (!known) {
                long available = end - capsule.valueOffset();
                long consumed = Math.min(available, capsule.length());
                skipRemaining = capsule.length() - consumed;
                pending.readerIndex(capsule.valueOffset() + (int) consumed);
                skipped++;
                continue;
            }
            if (capsule.length() > MAX_CAPSULE_LENGTH) {
                throw new CapsuleException(CapsuleException.H3_EXCESSIVE_LOAD, "capsule of type " + type + " is "
                        + capsule.length() + " bytes, more than " + MAX_CAPSULE_LENGTH);
            }
            if (result == Capsule.INCOMPLETE) {
                break;
            }
            dispatch(type, capsule.valueOffset(), capsule.end(), handler);
            pending.readerIndex(capsule.end());
        }
        pending.discardReadBytes();
    }

    private boolean headerRead(int start, int end) {
        int typeLength = QuicVarint.lengthAt(pending, start, end);
        return typeLength >= 0 && QuicVarint.lengthAt(pending, start + typeLength, end) >= 0;
    }

    private void dispatch(long type, int offset, int end, Handler handler) throws CapsuleException {
        if (type == Capsule.ADDRESS_ASSIGN) {
            handler.addressAssign(IpCapsules.decodeAddressAssign(pending, offset, end));
        } else if (type == Capsule.ADDRESS_REQUEST) {
            handler.addressRequest(IpCapsules.decodeAddressRequest(pending, offset, end));
        } else {
            handler.routeAdvertisement(IpCapsules.decodeRouteAdvertisement(pending, offset, end));
        }
    }

    /** The stream ended: throws when a capsule was cut short (RFC 9297 section 3.3: the message is malformed). */
    public void end() throws CapsuleException {
        if (pending.isReadable() || skipRemaining > 0) {
            throw new CapsuleException(CapsuleException.H3_DATAGRAM_ERROR, "stream ended inside a capsule");
        }
    }

    /** Capsules of types other than the three CONNECT-IP ones, skipped so far. */
    public long skipped() {
        return skipped;
    }

    /** Releases the buffer of partial capsules. */
    @Override
    public void close() {
        pending.release();
    }
}
