package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;
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

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Flyweights wrapped in a located buffer ({@code wrap(memory, offset, end)}) against the same flyweights wrapped with
 * the buffer itself ({@code wrap(buf, offset, end)}, which {@link HeaderMemoryTest} checks against Netty's accessors):
 * same values or the same exceptions, same bytes written, over every kind of buffer and every offset and end.
 */
class PacketMemoryTest {
    @Provide
    Arbitrary<Integer> kinds() {
        return Arbitraries.integers().between(0, 3);
    }

    @Property(tries = 300)
    void shouldReadWhatAWrapOfTheBufferReads(@ForAll @Size(min = 0, max = 80) byte[] bytes, @ForAll("kinds") int kind,
                                             @ForAll @IntRange(min = 0, max = 80) int offsetSeed,
                                             @ForAll @IntRange(min = 0, max = 80) int endSeed) {
        ByteBuf buf = HeaderMemoryTest.buffer(kind, bytes);
        try {
            int offset = offsetSeed % (bytes.length + 1);
            int end = offset + endSeed % (bytes.length - offset + 1);
            PacketMemory memory = new PacketMemory().locate(buf);
            Ipv4Flyweight ipv4 = new Ipv4Flyweight().wrap(memory, offset, end);
            Ipv4Flyweight ipv4Reference = new Ipv4Flyweight().wrap(buf, offset, end);
            assertSameReads(ipv4Reference, ipv4, List.of(Ipv4Flyweight::version, Ipv4Flyweight::headerLength,
                    Ipv4Flyweight::totalLength, Ipv4Flyweight::flagsAndFragmentOffset, Ipv4Flyweight::ttl,
                    Ipv4Flyweight::protocol, Ipv4Flyweight::checksum, Ipv4Flyweight::source,
                    Ipv4Flyweight::destination, Ipv4Flyweight::checksumValid));
            Ipv6Flyweight ipv6 = new Ipv6Flyweight().wrap(memory, offset, end);
            Ipv6Flyweight ipv6Reference = new Ipv6Flyweight().wrap(buf, offset, end);
            assertSameReads(ipv6Reference, ipv6, List.of(Ipv6Flyweight::version, Ipv6Flyweight::payloadLength,
                    Ipv6Flyweight::nextHeader, Ipv6Flyweight::hopLimit, Ipv6Flyweight::sourceHigh,
                    Ipv6Flyweight::sourceLow, Ipv6Flyweight::destinationHigh, Ipv6Flyweight::destinationLow));
            L4Flyweight l4 = new L4Flyweight().wrap(memory, offset, end);
            L4Flyweight l4Reference = new L4Flyweight().wrap(buf, offset, end);
            assertSameReads(l4Reference, l4, List.of(L4Flyweight::sourcePort, L4Flyweight::destinationPort,
                    L4Flyweight::tcpFlags, L4Flyweight::icmpType, L4Flyweight::icmpIdentifier));
            GreFlyweight gre = new GreFlyweight().wrap(memory, offset, end);
            GreFlyweight greReference = new GreFlyweight().wrap(buf, offset, end);
            assertSameReads(greReference, gre, List.of(GreFlyweight::flags, GreFlyweight::protocolType,
                    GreFlyweight::key));
        } finally {
            buf.release();
        }
    }

    @Property(tries = 200)
    void shouldWriteWhatAWrapOfTheBufferWrites(@ForAll @Size(min = 40, max = 60) byte[] bytes,
                                               @ForAll("kinds") int kind, @ForAll @IntRange(min = 0, max = 255) int ttl,
                                               @ForAll int key, @ForAll @IntRange(min = 0, max = 0xFFFF) int word) {
        ByteBuf buf = HeaderMemoryTest.buffer(kind, bytes);
        ByteBuf reference = HeaderMemoryTest.buffer(kind, bytes);
        try {
            int end = bytes.length;
            PacketMemory memory = new PacketMemory().locate(buf);
            new Ipv4Flyweight().wrap(memory, 0, end).ttl(ttl);
            new Ipv4Flyweight().wrap(reference, 0, end).ttl(ttl);
            new Ipv4Flyweight().wrap(memory, 0, end).decrementTtl();
            new Ipv4Flyweight().wrap(reference, 0, end).decrementTtl();
            new Ipv6Flyweight().wrap(memory, 0, end).hopLimit(ttl);
            new Ipv6Flyweight().wrap(reference, 0, end).hopLimit(ttl);
            new GreFlyweight().wrap(memory, 20, end).flags(GreFlyweight.FLAG_KEY | word & GreFlyweight.FLAG_CHECKSUM)
                    .protocolType(word).key(key);
            new GreFlyweight().wrap(reference, 20, end).flags(GreFlyweight.FLAG_KEY | word & GreFlyweight.FLAG_CHECKSUM)
                    .protocolType(word).key(key);

            assertArrayEquals(bytes(reference), bytes(buf));
        } finally {
            buf.release();
            reference.release();
        }
    }

    /**
     * A word read through the located memory gives what Netty's {@code getInt} / {@code getLong} at that offset give,
     * or throws what they throw: from memory when the word lies inside the packet and the buffer, through the buffer
     * otherwise.
     */
    @Property(tries = 300)
    void shouldReadWordsAsNettysAccessorsDo(@ForAll @Size(min = 0, max = 40) byte[] bytes, @ForAll("kinds") int kind,
                                            @ForAll @IntRange(min = 0, max = 40) int offsetSeed,
                                            @ForAll @IntRange(min = 0, max = 40) int endSeed) {
        ByteBuf buf = HeaderMemoryTest.buffer(kind, bytes);
        try {
            int offset = offsetSeed % (bytes.length + 1);
            int end = offset + endSeed % (bytes.length - offset + 1);
            PacketMemory memory = new PacketMemory().locate(buf);
            assertSameReads(buf, memory, List.of(b -> b.getInt(offset)), List.of(m -> m.s32(offset, end)));
            assertSameReads(buf, memory, List.of(b -> b.getLong(offset)), List.of(m -> m.s64(offset, end)));
        } finally {
            buf.release();
        }
    }

    /**
     * A word written through the located memory leaves the bytes Netty's {@code setInt} / {@code setLong} leave,
     * whether the word lies inside the packet (from memory) or crosses its end (through the buffer).
     */
    @Property(tries = 200)
    void shouldWriteWordsAsNettysAccessorsDo(@ForAll @Size(min = 8, max = 40) byte[] bytes, @ForAll("kinds") int kind,
                                             @ForAll @IntRange(min = 0, max = 40) int offsetSeed, @ForAll long value) {
        ByteBuf buf = HeaderMemoryTest.buffer(kind, bytes);
        ByteBuf reference = HeaderMemoryTest.buffer(kind, bytes);
        try {
            int offset = offsetSeed % (bytes.length - 7);
            PacketMemory memory = new PacketMemory().locate(buf);
            // the packet's end somewhere around the word: inside it from memory, across it through Netty's setter
            memory.s32(offset, offset + (int) (value & 7), (int) value);
            reference.setInt(offset, (int) value);
            assertArrayEquals(bytes(reference), bytes(buf));
            memory.s64(offset, offset + (int) (value >>> 8 & 15), value);
            reference.setLong(offset, value);
            assertArrayEquals(bytes(reference), bytes(buf));
        } finally {
            buf.release();
            reference.release();
        }
    }

    @Test
    void shouldDecrementTheTtlWithTheChecksumOfAFullRecompute() {
        for (int ttl = 1; ttl <= 255; ttl++) {
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(20).writeZero(20);
            Ipv4Flyweight reference = new Ipv4Flyweight().wrap(buf, 0).versionAndHeaderLength(20).totalLength(20)
                    .ttl(ttl).protocol(17).source(0x0A000001).destination(0xC0A80A05 + ttl).updateChecksum();
            new Ipv4Flyweight().wrap(new PacketMemory().locate(buf), 0, 20).decrementTtl();

            assertEquals(ttl - 1, reference.ttl());
            assertEquals(true, reference.checksumValid(), "ttl " + ttl);
            buf.release();
        }
    }

    @Test
    void shouldLeaveAReleasedBufferToNettysAccessors() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64);
        buf.release();
        PacketMemory memory = new PacketMemory().locate(buf);

        assertThrows(IllegalReferenceCountException.class, () -> new Ipv4Flyweight().wrap(memory, 0, 64).ttl());
        assertThrows(IllegalReferenceCountException.class, () -> new GreFlyweight().wrap(memory, 0, 64).flags());
    }

    /**
     * A memory and its flyweights reused from packet to packet (they keep the buffer reference they have when it does
     * not change) read each packet's own bytes: another buffer, the same one again, and a heap buffer whose array
     * was replaced by a capacity change.
     */
    @Test
    void shouldReadEachPacketWhenReusedAcrossBuffers() {
        ByteBuf first = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64).setShort(2, 0x0800);
        ByteBuf second = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64).setShort(2, 0x86DD);
        ByteBuf heap = Unpooled.buffer(8).writeZero(8).setShort(2, 0x6558);
        PacketMemory memory = new PacketMemory();
        GreFlyweight gre = new GreFlyweight();

        assertEquals(0x0800, gre.wrap(memory.locate(first), 0, 64).protocolType());
        assertEquals(0x86DD, gre.wrap(memory.locate(second), 0, 64).protocolType());
        assertEquals(0x0800, gre.wrap(memory.locate(first), 0, 64).protocolType());
        assertEquals(0x6558, gre.wrap(memory.locate(heap), 0, 8).protocolType());
        heap.capacity(4096).setShort(2, 0x88BE);
        assertEquals(0x88BE, gre.wrap(memory.locate(heap), 0, 8).protocolType());
        first.release();
        second.release();
        heap.release();
    }

    /**
     * A socket reader's address for its slot's buffer stands in for asking the buffer: the same reads, the same
     * bounds; 0 asks; and a heap buffer located in between (an array base) does not stay for the next direct one.
     */
    @Test
    void shouldTakeTheAddressTheBuffersHolderGives() {
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64).setShort(2, 0x0800);
        ByteBuf heap = Unpooled.buffer(8).writeZero(8).setShort(2, 0x6558);
        PacketMemory memory = new PacketMemory();
        GreFlyweight gre = new GreFlyweight();

        assertEquals(0x0800, gre.wrap(memory.locate(direct, direct.memoryAddress()), 0, 64).protocolType());
        assertEquals(direct.memoryAddress() + 2, memory.address(2, 10, GreFlyweight.BASE_LENGTH));
        assertEquals(HeaderMemory.NONE, memory.address(0, direct.capacity() + 1, GreFlyweight.BASE_LENGTH),
                "beyond capacity");
        assertEquals(0x6558, gre.wrap(memory.locate(heap, HeaderMemory.NONE), 0, 8).protocolType(), "0: asked");
        assertEquals(0x0800, gre.wrap(memory.locate(direct, direct.memoryAddress()), 0, 64).protocolType(),
                "the heap buffer's array is not kept as the base");
        direct.release();
        heap.release();
    }

    @Test
    void shouldCheckEachHeaderAgainstThePacketAndTheBuffer() {
        ByteBuf buf = Unpooled.directBuffer(16).writeZero(16);
        PacketMemory memory = new PacketMemory().locate(buf);

        assertEquals(buf.memoryAddress() + 2, memory.address(2, 10, GreFlyweight.BASE_LENGTH));
        assertEquals(HeaderMemory.NONE, memory.address(0, 3, GreFlyweight.BASE_LENGTH), "truncated");
        assertEquals(HeaderMemory.NONE, memory.address(0, 17, GreFlyweight.BASE_LENGTH), "beyond capacity");
        assertEquals(HeaderMemory.NONE, memory.address(-1, 8, GreFlyweight.BASE_LENGTH), "before the buffer");
        buf.release();
    }

    private static <T> void assertSameReads(T reference, T candidate, List<Function<T, Object>> fields) {
        assertSameReads(reference, candidate, fields, fields);
    }

    /** Each of {@code candidates}, applied to {@code candidate}, gives what the same position of {@code reads} does. */
    private static <R, C> void assertSameReads(R reference, C candidate, List<Function<R, Object>> reads,
                                               List<Function<C, Object>> candidates) {
        for (int i = 0; i < reads.size(); i++) {
            Function<C, Object> read = candidates.get(i);
            Object expected;
            try {
                expected = reads.get(i).apply(reference);
            } catch (RuntimeException e) {
                assertThrows(e.getClass(), () -> read.apply(candidate));
                continue;
            }
            assertEquals(expected, read.apply(candidate));
        }
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }
}
