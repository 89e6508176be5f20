package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CapsuleReaderTest {
    /** RFC 9484 section 8.1, client: ADDRESS_REQUEST (Request ID 1, IPv4, 0.0.0.0/32). */
    static final String EXAMPLE_ADDRESS_REQUEST = "0207" + "01" + "04" + "00000000" + "20";
    /** RFC 9484 section 8.1, proxy: ADDRESS_ASSIGN (Request ID 1, IPv4, 192.0.2.11/32). */
    static final String EXAMPLE_ADDRESS_ASSIGN = "0107" + "01" + "04" + "c000020b" + "20";
    /** RFC 9484 section 8.1, proxy: ROUTE_ADVERTISEMENT (IPv4, 0.0.0.0 to 255.255.255.255, any protocol). */
    static final String EXAMPLE_ROUTE_ADVERTISEMENT = "030a" + "04" + "00000000" + "ffffffff" + "00";

    private final CapsuleReader reader = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT);
    private final Recorder recorder = new Recorder();

    @AfterEach
    void release() {
        reader.close();
    }

    static final class Recorder implements CapsuleReader.Handler {
        final List<AssignedAddress> assigned = new ArrayList<>();
        final List<AssignedAddress> requested = new ArrayList<>();
        final List<IpRange> routes = new ArrayList<>();
        int capsules;

        @Override
        public void addressAssign(List<AssignedAddress> addresses) {
            assigned.addAll(addresses);
            capsules++;
        }

        @Override
        public void addressRequest(List<AssignedAddress> addresses) {
            requested.addAll(addresses);
            capsules++;
        }

        @Override
        public void routeAdvertisement(List<IpRange> ranges) {
            routes.addAll(ranges);
            capsules++;
        }
    }

    private void feed(String hex) throws CapsuleException {
        ByteBuf data = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
        try {
            reader.read(data, recorder);
        } finally {
            data.release();
        }
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void shouldReadTheRfc9484Section8Point1Capsules() throws Exception {
        feed(EXAMPLE_ADDRESS_REQUEST + EXAMPLE_ADDRESS_ASSIGN + EXAMPLE_ROUTE_ADVERTISEMENT);
        reader.end();
        assertEquals(List.of(new AssignedAddress(1, ip("0.0.0.0"), 32)), recorder.requested);
        assertEquals(List.of(new AssignedAddress(1, ip("192.0.2.11"), 32)), recorder.assigned);
        assertEquals(List.of(new IpRange(ip("0.0.0.0"), ip("255.255.255.255"), 0)), recorder.routes);
    }

    @Test
    void shouldEncodeTheRfc9484Section8Point1CapsulesByteForByte() throws Exception {
        ByteBuf out = Unpooled.buffer();
        IpCapsules.encodeAddressRequest(out, List.of(new AssignedAddress(1, ip("0.0.0.0"), 32)));
        IpCapsules.encodeAddressAssign(out, List.of(new AssignedAddress(1, ip("192.0.2.11"), 32)));
        IpCapsules.encodeRouteAdvertisement(out, List.of(new IpRange(ip("0.0.0.0"), ip("255.255.255.255"), 0)));
        assertEquals(EXAMPLE_ADDRESS_REQUEST + EXAMPLE_ADDRESS_ASSIGN + EXAMPLE_ROUTE_ADVERTISEMENT,
                ByteBufUtil.hexDump(out));
        out.release();
    }

    @Test
    void shouldReadCapsulesSplitAtEveryByte() throws Exception {
        String all = EXAMPLE_ADDRESS_ASSIGN + EXAMPLE_ROUTE_ADVERTISEMENT;
        for (int i = 0; i < all.length(); i += 2) {
            feed(all.substring(i, i + 2));
        }
        reader.end();
        assertEquals(2, recorder.capsules);
    }

    @Test
    void shouldSkipUnknownCapsuleTypesWithoutBufferingThem() throws Exception {
        // type 0x29 (reserved for greasing, RFC 9297 5.4), 3 bytes; then a DATAGRAM capsule; then ADDRESS_ASSIGN
        feed("2903aabb");
        feed("cc" + "0002" + "0000" + EXAMPLE_ADDRESS_ASSIGN);
        reader.end();
        assertEquals(2, reader.skipped());
        assertEquals(1, recorder.assigned.size());
    }

    @Test
    void shouldSkipTheClientKeepAliveCapsuleAsAnUnknownType() throws Exception {
        ByteBuf keepAlive = Unpooled.buffer();
        Capsule.writeHeader(keepAlive, Capsule.KEEPALIVE, 0);
        assertEquals("1700", ByteBufUtil.hexDump(keepAlive));
        keepAlive.release();
        feed("1700" + EXAMPLE_ADDRESS_ASSIGN + "1700");
        reader.end();
        assertEquals(2, reader.skipped());
        assertEquals(1, recorder.capsules);
    }

    @Test
    void shouldSkipAnUnknownCapsuleLongerThanTheLimit() throws Exception {
        // type 0x17, length 100000 (4-byte varint 0x800186a0), sent in two reads
        feed("17" + "800186a0" + "00".repeat(50_000));
        feed("00".repeat(50_000) + EXAMPLE_ADDRESS_ASSIGN);
        reader.end();
        assertEquals(1, recorder.assigned.size());
    }

    @Test
    void shouldResetWithDatagramErrorWhenTheStreamEndsInsideACapsule() throws Exception {
        feed(EXAMPLE_ADDRESS_ASSIGN.substring(0, 10));
        CapsuleException e = assertThrows(CapsuleException.class, reader::end);
        assertEquals(CapsuleException.H3_DATAGRAM_ERROR, e.errorCode());
    }

    @Test
    void shouldResetWithDatagramErrorWhenTheStreamEndsInsideASkippedCapsule() throws Exception {
        feed("2903aa");
        assertEquals(CapsuleException.H3_DATAGRAM_ERROR, assertThrows(CapsuleException.class, reader::end)
                .errorCode());
    }

    @Test
    void shouldEndCleanlyAfterWholeCapsules() throws Exception {
        feed(EXAMPLE_ROUTE_ADVERTISEMENT);
        assertDoesNotThrow(reader::end);
    }

    @Test
    void shouldRefuseMalformedAddressCapsulesWithDatagramError() {
        String[] malformed = {
            "0107" + "01" + "05" + "c000020b" + "20",       // IP version 5
            "0106" + "01" + "04" + "c000020b",              // prefix length missing: value ends early
            "0107" + "01" + "04" + "c000020b" + "21",       // prefix length 33 for IPv4
            "0107" + "01" + "04" + "c000020b" + "18",       // 192.0.2.11/24: host bits set
            "0200",                                         // empty ADDRESS_REQUEST
            "0207" + "00" + "04" + "00000000" + "20",       // request ID 0 in a request
            "0101" + "40",                                  // request ID varint cut by the capsule length
        };
        for (String hex : malformed) {
            CapsuleReader fresh = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT);
            ByteBuf data = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
            CapsuleException e = assertThrows(CapsuleException.class, () -> fresh.read(data, recorder), hex);
            assertEquals(CapsuleException.H3_DATAGRAM_ERROR, e.errorCode(), hex);
            data.release();
            fresh.close();
        }
    }

    @Test
    void shouldRefuseRoutesOutOfOrderWithGeneralProtocolError() {
        String[] broken = {
            "030a" + "04" + "0a000005" + "0a000001" + "00",                                     // start after end
            "0314" + "04" + "0a000100" + "0a0001ff" + "00" + "04" + "0a000000" + "0a0000ff" + "00", // descending
            "0314" + "04" + "0a000000" + "0a0001ff" + "00" + "04" + "0a000100" + "0a0002ff" + "00", // overlapping
            "0314" + "04" + "0a000000" + "0a0000ff" + "11" + "04" + "0a000100" + "0a0001ff" + "06", // protocol order
        };
        for (String hex : broken) {
            CapsuleReader fresh = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT);
            ByteBuf data = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
            CapsuleException e = assertThrows(CapsuleException.class, () -> fresh.read(data, recorder), hex);
            assertEquals(CapsuleException.H3_GENERAL_PROTOCOL_ERROR, e.errorCode(), hex);
            data.release();
            fresh.close();
        }
    }

    @Test
    void shouldAcceptOrderedRangesOfBothFamiliesAndProtocols() throws Exception {
        ByteBuf out = Unpooled.buffer();
        List<IpRange> ranges = IpCapsules.sorted(List.of(
                new IpRange(ip("2001:db8::"), ip("2001:db8::ffff"), 0),
                new IpRange(ip("10.0.1.0"), ip("10.0.1.255"), 0),
                new IpRange(ip("10.0.0.0"), ip("10.0.0.255"), 0),
                new IpRange(ip("10.0.0.0"), ip("10.255.255.255"), 17)));
        IpCapsules.encodeRouteAdvertisement(out, ranges);
        reader.read(out, recorder);
        out.release();
        assertEquals(ranges, recorder.routes);
    }

    @Test
    void shouldRefuseAnAddressCapsuleLongerThanTheLimit() {
        ByteBuf data = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump("01" + "80020000"));
        CapsuleException e = assertThrows(CapsuleException.class, () -> reader.read(data, recorder));
        assertEquals(CapsuleException.H3_EXCESSIVE_LOAD, e.errorCode());
        data.release();
    }
}
