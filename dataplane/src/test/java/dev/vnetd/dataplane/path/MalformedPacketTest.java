package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static dev.vnetd.dataplane.path.TestNetwork.RAW_SITE;
import static dev.vnetd.dataplane.path.TestNetwork.SITE_A;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every malformed packet is dropped under its own reason and nothing is sent. */
class MalformedPacketTest {
    private final TestNetwork net = new TestNetwork();

    @AfterEach
    void release() {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    private static ByteBuf valid() {
        return new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[16])
                .build(UnpooledByteBufAllocator.DEFAULT);
    }

    private void assertDropped(DropReason reason, Consumer<ByteBuf> damage) {
        ByteBuf packet = valid();
        damage.accept(packet);
        net.receive(SITE_A, packet);
        assertEquals(1, net.counters.drops(reason), reason + " counted");
        assertEquals(0, net.ports[0].sent.size(), "nothing sent for " + reason);
    }

    @Test
    void shouldDropATruncatedGreHeader() {
        assertDropped(DropReason.GRE_TRUNCATED, b -> b.writerIndex(6));
    }

    @Test
    void shouldDropAGreHeaderShorterThanItsFlagsAnnounce() {
        assertDropped(DropReason.GRE_TRUNCATED, b -> {
            b.setShort(0, GreFlyweight.FLAG_KEY | GreFlyweight.FLAG_SEQUENCE | GreFlyweight.FLAG_CHECKSUM);
            b.writerIndex(12);
        });
    }

    @Test
    void shouldDropGreVersionOne() {
        assertDropped(DropReason.GRE_BAD_VERSION, b -> b.setShort(0, GreFlyweight.FLAG_KEY | 1));
    }

    @Test
    void shouldDropGreWithRoutingPresent() {
        assertDropped(DropReason.GRE_RESERVED_BITS, b -> b.setShort(0, GreFlyweight.FLAG_KEY | GreFlyweight.FLAG_ROUTING));
    }

    @Test
    void shouldDropAWrongGreChecksum() {
        ByteBuf packet = new PacketBuilder().ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[16])
                .build(UnpooledByteBufAllocator.DEFAULT);
        ByteBuf gre = UnpooledByteBufAllocator.DEFAULT.buffer();
        gre.writeShort(GreFlyweight.FLAG_CHECKSUM | GreFlyweight.FLAG_KEY).writeShort(GreFlyweight.ETHERTYPE_IPV4)
                .writeShort(0).writeShort(0).writeInt(100).writeBytes(packet);
        packet.release();
        gre.setShort(4, InternetChecksum.compute(gre, 0, gre.readableBytes()));
        ByteBuf good = gre.copy();
        gre.setByte(gre.writerIndex() - 1, gre.getByte(gre.writerIndex() - 1) ^ 0x01);

        net.receive(SITE_A, gre);
        assertEquals(1, net.counters.drops(DropReason.GRE_BAD_CHECKSUM));
        net.receive(SITE_A, good);
        assertEquals(1, net.ports[0].sent.size(), "a GRE packet with a right checksum is forwarded");
    }

    @Test
    void shouldDropGreCarryingNeitherIpv4NorIpv6() {
        assertDropped(DropReason.GRE_UNSUPPORTED_PROTOCOL, b -> b.setShort(2, 0x6558));
    }

    @Test
    void shouldDropATruncatedInnerHeader() {
        assertDropped(DropReason.INNER_TRUNCATED, b -> b.writerIndex(8 + 19));
    }

    @Test
    void shouldDropAnInnerVersionThatContradictsGre() {
        assertDropped(DropReason.INNER_BAD_VERSION, b -> b.setShort(2, GreFlyweight.ETHERTYPE_IPV6));
    }

    @Test
    void shouldDropATotalLengthLongerThanThePacket() {
        assertDropped(DropReason.INNER_BAD_LENGTH, b -> {
            b.setShort(8 + 2, 1000);
            fixIpv4Checksum(b);
        });
    }

    @Test
    void shouldDropAHeaderLengthBelowTwentyBytes() {
        assertDropped(DropReason.INNER_BAD_LENGTH, b -> b.setByte(8, 0x44));
    }

    @Test
    void shouldDropABadInnerChecksum() {
        assertDropped(DropReason.INNER_BAD_CHECKSUM, b -> b.setByte(8 + 10, b.getByte(8 + 10) ^ 0x10));
    }

    @Test
    void shouldDropMulticastAndLoopbackDestinations() {
        assertDropped(DropReason.INNER_BAD_DESTINATION, b -> {
            b.setInt(8 + 16, 0xE000_0001);
            fixIpv4Checksum(b);
        });
    }

    @Test
    void shouldDropAnIpv6PayloadLengthThatLies() {
        ByteBuf packet = new PacketBuilder().gre(100).ip("fd00:a::5", "fd00:10::5", 64).udp(1, 2, new byte[8])
                .build(UnpooledByteBufAllocator.DEFAULT);
        packet.setShort(8 + 4, 500);
        net.receive(SITE_A, packet);
        assertEquals(1, net.counters.drops(DropReason.INNER_BAD_LENGTH));
    }

    @Test
    void shouldDropARawPacketWithATruncatedOuterHeader() {
        ByteBuf packet = UnpooledByteBufAllocator.DEFAULT.buffer().writeBytes(new byte[] {0x4F, 0, 0, 40});
        net.receive(RAW_SITE, packet);
        assertEquals(1, net.counters.drops(DropReason.OUTER_TRUNCATED));
    }

    private static void fixIpv4Checksum(ByteBuf b) {
        b.setShort(8 + 10, 0);
        b.setShort(8 + 10, InternetChecksum.compute(b, 8, 20));
    }
}
