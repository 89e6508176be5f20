package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QuicVarintTest {
    private static ByteBuf hex(String hex) {
        return Unpooled.wrappedBuffer(BigInteger.ONE.shiftLeft(hex.length() * 4).or(new BigInteger(hex, 16))
                .toByteArray(), 1, hex.length() / 2);
    }

    private static long decode(String hex) {
        ByteBuf buf = hex(hex);
        try {
            assertEquals(buf.readableBytes(), QuicVarint.lengthAt(buf, 0, buf.readableBytes()));
            return QuicVarint.get(buf, 0);
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldDecodeTheExamplesOfRfc9000AppendixA1() {
        assertEquals(151_288_809_941_952_652L, decode("c2197c5eff14e88c"));
        assertEquals(494_878_333L, decode("9d7f3e7d"));
        assertEquals(15_293L, decode("7bbd"));
        assertEquals(37L, decode("25"));
    }

    @Test
    void shouldAcceptNonMinimalEncodings() {
        // RFC 9000 A.1: "the two-byte sequence 0x40 0x25 also decodes to 37"
        assertEquals(37L, decode("4025"));
        assertEquals(37L, decode("80000025"));
        assertEquals(37L, decode("c000000000000025"));
        assertEquals(0L, decode("c000000000000000"));
    }

    @Test
    void shouldDecodeTheLargestValueOfEachLength() {
        assertEquals(63L, decode("3f"));
        assertEquals(16_383L, decode("7fff"));
        assertEquals(1_073_741_823L, decode("bfffffff"));
        assertEquals(QuicVarint.MAX_VALUE, decode("ffffffffffffffff"));
    }

    @Test
    void shouldEncodeAtTheLengthBoundaries() {
        long[] values = {0, 63, 64, 16_383, 16_384, 1_073_741_823, 1_073_741_824, QuicVarint.MAX_VALUE};
        int[] lengths = {1, 1, 2, 2, 4, 4, 8, 8};
        for (int i = 0; i < values.length; i++) {
            assertEquals(lengths[i], QuicVarint.encodedLength(values[i]), "length of " + values[i]);
            ByteBuf buf = Unpooled.buffer(8);
            QuicVarint.write(buf, values[i]);
            assertEquals(lengths[i], buf.readableBytes());
            assertEquals(values[i], QuicVarint.get(buf, 0));
            buf.release();
        }
    }

    @Test
    void shouldRefuseValuesOutsideTheRange() {
        assertThrows(IllegalArgumentException.class, () -> QuicVarint.encodedLength(QuicVarint.MAX_VALUE + 1));
        assertThrows(IllegalArgumentException.class, () -> QuicVarint.encodedLength(-1));
        ByteBuf buf = Unpooled.buffer(8);
        assertThrows(IllegalArgumentException.class, () -> QuicVarint.set(buf, 0, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> QuicVarint.set(buf, 0, 1, 3));
        buf.release();
    }

    @Test
    void shouldReportTruncatedVarints() {
        ByteBuf buf = hex("c2197c5eff14e8");
        assertEquals(-1, QuicVarint.lengthAt(buf, 0, 7));
        assertEquals(-1, QuicVarint.lengthAt(buf, 7, 7));
        assertEquals(-1, QuicVarint.lengthAt(hex("40"), 0, 1));
        buf.release();
    }

    @Property
    void shouldRoundTripEveryValueAtEveryLengthThatHoldsIt(@ForAll @LongRange(min = 0, max = (1L << 62) - 1) long v) {
        for (int length : new int[] {1, 2, 4, 8}) {
            // reference model: a value fits when it is below 2^(8 * length - 2)
            boolean fits = BigInteger.valueOf(v).bitLength() <= 8 * length - 2;
            ByteBuf buf = Unpooled.buffer(8);
            if (fits) {
                QuicVarint.set(buf, 0, v, length);
                assertEquals(length, QuicVarint.lengthAt(buf, 0, length));
                assertEquals(v, QuicVarint.get(buf, 0));
            } else {
                assertThrows(IllegalArgumentException.class, () -> QuicVarint.set(buf, 0, v, length));
            }
            buf.release();
        }
    }
}
