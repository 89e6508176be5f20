package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InternetChecksumTest {
    @Property
    void shouldUpdateIncrementallyToWhatAFullRecomputationGives(@ForAll @Size(min = 20, max = 60) byte[] header,
                                                                @ForAll @IntRange(min = 0, max = 9) int word,
                                                                @ForAll @IntRange(min = 0, max = 0xFFFF) int value) {
        ByteBuf buf = Unpooled.wrappedBuffer(header.clone());
        buf.setShort(10, 0);
        int checksum = InternetChecksum.compute(buf, 0, header.length);
        buf.setShort(10, checksum);
        int at = word == 5 ? 0 : word * 2;
        int old = buf.getUnsignedShort(at);
        buf.setShort(at, value);

        int incremental = InternetChecksum.update(checksum, old, value);
        buf.setShort(10, 0);
        int full = InternetChecksum.compute(buf, 0, header.length);
        assertEquals(full == 0 ? 0xFFFF : full, incremental == 0 ? 0xFFFF : incremental, "0 and 0xFFFF are one value");
    }

    @Property
    void shouldKeepTheIpv4HeaderValidAfterTtlDecrements(@ForAll @IntRange(min = 1, max = 255) int ttl,
                                                        @ForAll int source, @ForAll int destination) {
        ByteBuf buf = Unpooled.buffer(20).writeZero(20);
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(buf, 0).versionAndHeaderLength(20).totalLength(20).ttl(ttl)
                .protocol(17).source(source).destination(destination).updateChecksum();

        ip.decrementTtl();

        assertEquals(ttl - 1, ip.ttl());
        assertEquals(0, InternetChecksum.compute(buf, 0, 20), "header still verifies");
    }

    @Property
    void shouldVerifyToZeroOverDataThatIncludesItsChecksum(@ForAll @Size(min = 2, max = 99) byte[] data) {
        ByteBuf buf = Unpooled.buffer().writeShort(0).writeBytes(data);
        buf.setShort(0, InternetChecksum.compute(buf, 0, buf.readableBytes()));
        assertEquals(0, InternetChecksum.compute(buf, 0, buf.readableBytes()));
    }
}
