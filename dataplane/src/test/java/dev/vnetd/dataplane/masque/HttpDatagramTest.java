package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HttpDatagramTest {
    private final HttpDatagram datagram = new HttpDatagram();

    @Test
    void shouldParseTheRfc9484Section8Point1Datagram() {
        // stream 44: Quarter Stream ID 11, Context ID 0, then the IP packet (first byte 0x45)
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {0x0b, 0x00, 0x45, 0x00});
        assertEquals(HttpDatagram.OK, datagram.wrap(buf, 0, 4));
        assertEquals(11, datagram.quarterStreamId());
        assertEquals(HttpDatagram.CONTEXT_IP_PACKET, datagram.contextId());
        assertEquals(2, datagram.payloadOffset());
        assertEquals(2, datagram.payloadLength());
        buf.release();
    }

    @Test
    void shouldRefuseAMissingOrTooLargeQuarterStreamId() {
        ByteBuf empty = Unpooled.buffer(0);
        assertEquals(HttpDatagram.BAD_QUARTER_STREAM_ID, datagram.wrap(empty, 0, 0));
        ByteBuf cut = Unpooled.wrappedBuffer(new byte[] {0x40});
        assertEquals(HttpDatagram.BAD_QUARTER_STREAM_ID, datagram.wrap(cut, 0, 1));
        ByteBuf big = Unpooled.buffer(9);
        QuicVarint.set(big, 0, HttpDatagram.MAX_QUARTER_STREAM_ID + 1, 8);
        assertEquals(HttpDatagram.BAD_QUARTER_STREAM_ID, datagram.wrap(big, 0, 9));
        QuicVarint.set(big, 0, HttpDatagram.MAX_QUARTER_STREAM_ID, 8);
        assertEquals(HttpDatagram.OK, datagram.wrap(big, 0, 9));
        empty.release();
        cut.release();
        big.release();
    }

    @Test
    void shouldReportAMissingContextId() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {0x0b, 0x40});
        assertEquals(HttpDatagram.TRUNCATED_CONTEXT, datagram.wrap(buf, 0, 1));
        assertEquals(HttpDatagram.TRUNCATED_CONTEXT, datagram.wrap(buf, 0, 2));
        buf.release();
    }

    @Test
    void shouldReadANonZeroContextIdForTheCallerToDrop() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {0x0b, 0x42, 0x00, 0x45});
        assertEquals(HttpDatagram.OK, datagram.wrap(buf, 0, 4));
        assertEquals(0x200, datagram.contextId());
        buf.release();
    }

    @Property
    void shouldRoundTripTheHeaderInFrontOfAPayload(@ForAll @LongRange(min = 0, max = (1L << 62) - 4) long streamId) {
        long clientBidi = streamId & ~3L;
        int headroom = HttpDatagram.headerLength(clientBidi);
        ByteBuf buf = Unpooled.buffer(16 + 3);
        buf.setByte(16, 0x45);
        int start = HttpDatagram.writeHeader(buf, 16, clientBidi);
        assertEquals(16 - headroom, start);
        assertEquals(HttpDatagram.OK, datagram.wrap(buf, start, 17));
        assertEquals(clientBidi >>> 2, datagram.quarterStreamId());
        assertEquals(0, datagram.contextId());
        assertEquals(16, datagram.payloadOffset());
        buf.release();
    }
}
