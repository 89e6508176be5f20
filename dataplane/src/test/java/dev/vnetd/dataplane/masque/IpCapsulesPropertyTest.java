package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.From;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Encode then decode gives the same values; a range's covering prefixes are exactly its addresses. */
class IpCapsulesPropertyTest {
    @Provide
    Arbitrary<Cidr> prefixes() {
        return Combinators.combine(Arbitraries.bytes().array(byte[].class).ofSize(16), Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 128)).as((bytes, v6, length) -> {
                    int bits = v6 ? 128 : 32;
                    int len = length % (bits + 1);
                    BigInteger value = new BigInteger(1, bytes).shiftRight(128 - bits);
                    BigInteger network = value.shiftRight(bits - len).shiftLeft(bits - len);
                    return new Cidr(address(network, bits), len);
                });
    }

    private static InetAddress address(BigInteger value, int bits) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[bits / 8];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        try {
            return InetAddress.getByAddress(out);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CapsuleReaderTest.Recorder readBack(ByteBuf capsules) throws CapsuleException {
        CapsuleReaderTest.Recorder recorder = new CapsuleReaderTest.Recorder();
        try (CapsuleReader reader = new CapsuleReader(UnpooledByteBufAllocator.DEFAULT)) {
            reader.read(capsules, recorder);
            reader.end();
        } finally {
            capsules.release();
        }
        return recorder;
    }

    @Property(tries = 200)
    void shouldRoundTripAddressAssign(@ForAll @Size(max = 8) List<@From("prefixes") Cidr> prefixes,
                                      @ForAll @IntRange(min = 0, max = 100_000) int firstId) throws Exception {
        List<AssignedAddress> addresses = new ArrayList<>();
        for (int i = 0; i < prefixes.size(); i++) {
            addresses.add(new AssignedAddress(firstId + i, prefixes.get(i).address(), prefixes.get(i).length()));
        }
        ByteBuf out = Unpooled.buffer();
        IpCapsules.encodeAddressAssign(out, addresses);
        assertEquals(addresses, readBack(out).assigned);
    }

    @Property(tries = 200)
    void shouldRoundTripSortedRouteAdvertisements(@ForAll @Size(max = 8) List<@From("prefixes") Cidr> prefixes)
            throws Exception {
        // ranges of distinct protocols never overlap each other, so any set of prefixes is valid once sorted
        List<IpRange> ranges = new ArrayList<>();
        for (int i = 0; i < prefixes.size(); i++) {
            IpRange r = prefixes.get(i).toRange();
            ranges.add(new IpRange(r.start(), r.end(), i));
        }
        ranges = IpCapsules.sorted(ranges);
        ByteBuf out = Unpooled.buffer();
        IpCapsules.encodeRouteAdvertisement(out, ranges);
        assertEquals(ranges, readBack(out).routes);
    }

    @Property(tries = 300)
    void shouldCoverARangeWithExactlyItsAddresses(@ForAll("prefixes") Cidr a, @ForAll("prefixes") Cidr b) {
        if (a.ipv6() != b.ipv6()) {
            return;
        }
        BigInteger x = new BigInteger(1, a.address().getAddress());
        BigInteger y = new BigInteger(1, b.address().getAddress());
        BigInteger start = x.min(y);
        BigInteger end = x.max(y);
        int bits = a.ipv6() ? 128 : 32;
        List<Cidr> cover = Cidr.cover(new IpRange(address(start, bits), address(end, bits), 0));
        // reference model: the prefixes, in order, tile [start, end] without gap or overlap
        BigInteger next = start;
        for (Cidr c : cover) {
            BigInteger first = new BigInteger(1, c.address().getAddress());
            assertEquals(next, first);
            next = first.add(BigInteger.ONE.shiftLeft(bits - c.length()));
        }
        assertEquals(end.add(BigInteger.ONE), next);
    }
}
