package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The flyweights wrapped with a packet's end ({@code wrap(buf, offset, end)}, fields from memory) against the same
 * flyweights wrapped without it ({@code wrap(buf, offset)}, Netty's checked accessors: the reference), over every
 * kind of buffer the path sees (heap with an array offset, unpooled and pooled direct, composite) and every length
 * from empty to whole, truncated headers included.
 */
class HeaderMemoryTest {
    /** Buffer kinds: heap slice of a larger array, unpooled direct, pooled direct, composite of two heap parts. */
    static ByteBuf buffer(int kind, byte[] bytes) {
        return switch (kind) {
            case 0 -> {
                byte[] larger = new byte[bytes.length + 7];
                System.arraycopy(bytes, 0, larger, 3, bytes.length);
                yield Unpooled.wrappedBuffer(larger, 3, bytes.length);
            }
            case 1 -> Unpooled.directBuffer(bytes.length).writeBytes(bytes);
            case 2 -> PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            default -> {
                CompositeByteBuf composite = Unpooled.compositeBuffer();
                int half = bytes.length / 2;
                composite.addComponent(true, Unpooled.wrappedBuffer(bytes, 0, half).copy());
                composite.addComponent(true, Unpooled.wrappedBuffer(bytes, half, bytes.length - half).copy());
                yield composite;
            }
        };
    }

    @Provide
    Arbitrary<Integer> kinds() {
        return Arbitraries.integers().between(0, 3);
    }

    @Property(tries = 300)
    void shouldReadWhatTheCheckedAccessorsReadOrThrowWhereTheyThrow(
            @ForAll @Size(min = 0, max = 80) byte[] bytes, @ForAll("kinds") int kind,
            @ForAll @IntRange(min = 0, max = 80) int offsetSeed, @ForAll @IntRange(min = 0, max = 80) int endSeed) {
        ByteBuf buf = buffer(kind, bytes);
        try {
            int offset = offsetSeed % (bytes.length + 1);
            int end = offset + endSeed % (bytes.length - offset + 1);
            Ipv4Flyweight ipv4 = new Ipv4Flyweight().wrap(buf, offset, end);
            Ipv4Flyweight ipv4Reference = new Ipv4Flyweight().wrap(buf, offset);
            assertSame(() -> ipv4Reference.version(), () -> ipv4.version());
            assertSame(() -> ipv4Reference.headerLength(), () -> ipv4.headerLength());
            assertSame(() -> ipv4Reference.totalLength(), () -> ipv4.totalLength());
            assertSame(() -> ipv4Reference.flagsAndFragmentOffset(), () -> ipv4.flagsAndFragmentOffset());
            assertSame(() -> ipv4Reference.ttl(), () -> ipv4.ttl());
            assertSame(() -> ipv4Reference.protocol(), () -> ipv4.protocol());
            assertSame(() -> ipv4Reference.checksum(), () -> ipv4.checksum());
            assertSame(() -> ipv4Reference.source(), () -> ipv4.source());
            assertSame(() -> ipv4Reference.destination(), () -> ipv4.destination());
            assertSame(() -> ipv4Reference.checksumValid(), () -> ipv4.checksumValid());
            Ipv6Flyweight ipv6 = new Ipv6Flyweight().wrap(buf, offset, end);
            Ipv6Flyweight ipv6Reference = new Ipv6Flyweight().wrap(buf, offset);
            assertSame(() -> ipv6Reference.version(), () -> ipv6.version());
            assertSame(() -> ipv6Reference.payloadLength(), () -> ipv6.payloadLength());
            assertSame(() -> ipv6Reference.nextHeader(), () -> ipv6.nextHeader());
            assertSame(() -> ipv6Reference.hopLimit(), () -> ipv6.hopLimit());
            assertSame(() -> ipv6Reference.sourceHigh(), () -> ipv6.sourceHigh());
            assertSame(() -> ipv6Reference.sourceLow(), () -> ipv6.sourceLow());
            assertSame(() -> ipv6Reference.destinationHigh(), () -> ipv6.destinationHigh());
            assertSame(() -> ipv6Reference.destinationLow(), () -> ipv6.destinationLow());
            L4Flyweight l4 = new L4Flyweight().wrap(buf, offset, end);
            L4Flyweight l4Reference = new L4Flyweight().wrap(buf, offset);
            assertSame(() -> l4Reference.sourcePort(), () -> l4.sourcePort());
            assertSame(() -> l4Reference.destinationPort(), () -> l4.destinationPort());
            assertSame(() -> l4Reference.tcpFlags(), () -> l4.tcpFlags());
            assertSame(() -> l4Reference.icmpType(), () -> l4.icmpType());
            assertSame(() -> l4Reference.icmpIdentifier(), () -> l4.icmpIdentifier());
            GreFlyweight gre = new GreFlyweight().wrap(buf, offset, end);
            GreFlyweight greReference = new GreFlyweight().wrap(buf, offset);
            assertSame(() -> greReference.flags(), () -> gre.flags());
            assertSame(() -> greReference.protocolType(), () -> gre.protocolType());
            assertSame(() -> greReference.key(), () -> gre.key());
        } finally {
            buf.release();
        }
    }

    @Property(tries = 200)
    void shouldWriteWhatTheCheckedAccessorsWrite(@ForAll @Size(min = 40, max = 60) byte[] bytes,
                                                 @ForAll("kinds") int kind, @ForAll @IntRange(min = 1, max = 255) int ttl,
                                                 @ForAll int key, @ForAll @IntRange(min = 0, max = 0xFFFF) int word) {
        ByteBuf buf = buffer(kind, bytes);
        ByteBuf reference = Unpooled.wrappedBuffer(bytes.clone());
        try {
            int end = bytes.length;
            new Ipv4Flyweight().wrap(buf, 0, end).ttl(ttl);
            new Ipv4Flyweight().wrap(reference, 0).ttl(ttl);
            new Ipv4Flyweight().wrap(buf, 0, end).decrementTtl();
            new Ipv4Flyweight().wrap(reference, 0).decrementTtl();
            new Ipv6Flyweight().wrap(buf, 0, end).hopLimit(ttl);
            new Ipv6Flyweight().wrap(reference, 0).hopLimit(ttl);
            new GreFlyweight().wrap(buf, 20, end).flags(GreFlyweight.FLAG_KEY | word & GreFlyweight.FLAG_CHECKSUM)
                    .protocolType(word).key(key);
            new GreFlyweight().wrap(reference, 20).flags(GreFlyweight.FLAG_KEY | word & GreFlyweight.FLAG_CHECKSUM)
                    .protocolType(word).key(key);

            assertArrayEquals(bytes(reference), bytes(buf));
        } finally {
            buf.release();
            reference.release();
        }
    }

    @Property(tries = 300)
    void shouldVerifyTheHeaderChecksumAsTheCheckedAccessorsDo(@ForAll @Size(min = 60, max = 60) byte[] bytes,
                                                              @ForAll("kinds") int kind,
                                                              @ForAll @IntRange(min = 5, max = 15) int words,
                                                              @ForAll @IntRange(min = -1, max = 479) int flippedBit) {
        bytes[0] = (byte) (0x40 | words);
        ByteBuf valid = Unpooled.wrappedBuffer(bytes);
        new Ipv4Flyweight().wrap(valid, 0).updateChecksum();
        if (flippedBit >= 0) {
            // a header with one bit wrong, the header length kept: the sum must catch it
            int bit = 8 + flippedBit % (words * 32 - 8);
            bytes[bit / 8] ^= (byte) (0x80 >>> bit % 8);
        }
        ByteBuf buf = buffer(kind, bytes);
        try {
            boolean expected = new Ipv4Flyweight().wrap(valid, 0).checksumValid();
            assertEquals(flippedBit < 0, expected, "the reference");
            assertEquals(expected, new Ipv4Flyweight().wrap(buf, 0, bytes.length).checksumValid());
            assertEquals(expected, new Ipv4Flyweight().wrap(new PacketMemory().locate(buf), 0, bytes.length)
                    .checksumValid());
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldThrowOnAReleasedBufferAsNettyDoes() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64);
        buf.release();

        assertThrows(IllegalReferenceCountException.class, () -> new Ipv4Flyweight().wrap(buf, 0, 64).ttl());
        assertThrows(IllegalReferenceCountException.class, () -> new GreFlyweight().wrap(buf, 0, 64).flags());
    }

    @Test
    void shouldReadTheKeyOnlyFromInsideThePacket() {
        ByteBuf buf = Unpooled.directBuffer(16).writeShort(GreFlyweight.FLAG_KEY).writeShort(0x0800).writeInt(42)
                .writeInt(7);

        assertEquals(42, new GreFlyweight().wrap(buf, 0, 8).key(), "the key inside the packet");
        assertEquals(42, new GreFlyweight().wrap(buf, 0, 6).key(), "past the packet's end: Netty's accessor decides");
        assertNotEquals(HeaderMemory.NONE, HeaderMemory.locate(buf, 0, 8, GreFlyweight.BASE_LENGTH));
        assertEquals(HeaderMemory.NONE, HeaderMemory.locate(buf, 0, 3, GreFlyweight.BASE_LENGTH), "truncated");
        assertEquals(HeaderMemory.NONE, HeaderMemory.locate(buf, 0, 17, GreFlyweight.BASE_LENGTH), "beyond capacity");
        assertEquals(HeaderMemory.NONE, HeaderMemory.locate(buf, -1, 8, GreFlyweight.BASE_LENGTH), "before the buffer");
        buf.release();
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }

    /** Both give the same value, or both throw the same kind of exception. */
    private static void assertSame(Read reference, Read candidate) {
        Object expected;
        try {
            expected = reference.read();
        } catch (RuntimeException e) {
            assertThrows(e.getClass(), candidate::read);
            return;
        }
        assertEquals(expected, candidate.read());
    }

    @FunctionalInterface
    private interface Read {
        Object read();
    }
}
