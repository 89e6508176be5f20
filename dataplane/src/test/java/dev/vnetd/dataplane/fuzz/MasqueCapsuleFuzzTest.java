package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.dataplane.masque.AssignedAddress;
import dev.vnetd.dataplane.masque.CapsuleException;
import dev.vnetd.dataplane.masque.CapsuleReader;
import dev.vnetd.dataplane.masque.HttpDatagram;
import dev.vnetd.dataplane.masque.IpCapsules;
import dev.vnetd.dataplane.masque.IpRange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CONNECT-IP request stream's bytes, split into reads where the input says, through {@link CapsuleReader}: it
 * either reads every capsule or refuses the stream with one of the three error codes, never throws anything else,
 * and what it decodes encodes back to capsules that decode to the same values. The same bytes as a QUIC datagram
 * through {@link HttpDatagram} never throw. Input: byte 0 is the read size (1-256), the rest the stream. Corpus:
 * {@code MasqueCapsuleFuzzTestInputs/}.
 */
class MasqueCapsuleFuzzTest {
    private static final Set<Long> CODES = Set.of(CapsuleException.H3_DATAGRAM_ERROR,
            CapsuleException.H3_GENERAL_PROTOCOL_ERROR, CapsuleException.H3_EXCESSIVE_LOAD);

    @FuzzTest(maxDuration = "10s")
    void shouldReadOrRefuseEveryCapsuleStream(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int chunk = (input[0] & 0xFF) + 1;
        ByteBuf stream = Unpooled.wrappedBuffer(input, 1, input.length - 1);
        new HttpDatagram().wrap(stream, stream.readerIndex(), stream.writerIndex());
        Collector first = new Collector();
        try (CapsuleReader reader = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT)) {
            for (int i = 1; i < input.length; i += chunk) {
                ByteBuf read = Unpooled.wrappedBuffer(input, i, Math.min(chunk, input.length - i));
                reader.read(read, first);
            }
            reader.end();
        } catch (CapsuleException e) {
            assertTrue(CODES.contains(e.errorCode()), "unexpected code " + e.errorCode());
            return;
        }
        ByteBuf again = Unpooled.buffer();
        for (List<AssignedAddress> a : first.assigned) {
            IpCapsules.encodeAddressAssign(again, a);
        }
        for (List<AssignedAddress> r : first.requested) {
            IpCapsules.encodeAddressRequest(again, r);
        }
        for (List<IpRange> r : first.routes) {
            IpCapsules.encodeRouteAdvertisement(again, r);
        }
        Collector second = new Collector();
        try (CapsuleReader reader = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT)) {
            reader.read(again, second);
            reader.end();
        } catch (CapsuleException e) {
            throw new AssertionError("re-encoded capsules refused", e);
        }
        assertEquals(first.assigned, second.assigned);
        assertEquals(first.requested, second.requested);
        assertEquals(first.routes, second.routes);
    }

    private static final class Collector implements CapsuleReader.Handler {
        final List<List<AssignedAddress>> assigned = new ArrayList<>();
        final List<List<AssignedAddress>> requested = new ArrayList<>();
        final List<List<IpRange>> routes = new ArrayList<>();

        @Override
        public void addressAssign(List<AssignedAddress> addresses) {
            assigned.add(addresses);
        }

        @Override
        public void addressRequest(List<AssignedAddress> addresses) {
            requested.add(addresses);
        }

        @Override
        public void routeAdvertisement(List<IpRange> ranges) {
            routes.add(ranges);
        }
    }
}
