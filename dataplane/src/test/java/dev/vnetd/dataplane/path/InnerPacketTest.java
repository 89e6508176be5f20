package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.packet.L4Flyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.packet.PacketMemory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InnerPacketTest {
    private final InnerPacket packet = new InnerPacket();

    @Test
    void shouldAllowAnErrorAboutEchoRequestsAndUdp() {
        assertTrue(parse(new PacketBuilder().ip("192.168.10.5", "10.1.2.3", 64).icmpEcho(1, 1, new byte[8]))
                .mayTriggerIcmpError());
        assertTrue(parse(new PacketBuilder().ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[8]))
                .mayTriggerIcmpError());
        assertTrue(parse(new PacketBuilder().ip("fd00::5", "fd00:10::3", 64).icmpEcho(1, 1, new byte[8]))
                .mayTriggerIcmpError());
    }

    @Test
    void shouldNeverAllowAnErrorAboutAnIcmpv4Error() {
        for (int type : new int[] {3, 4, 5, 11, 12}) {
            ByteBuf buf = build(new PacketBuilder().ip("192.168.10.5", "10.1.2.3", 64).icmpEcho(1, 1, new byte[8]));
            buf.setByte(20, type);
            assertFalse(parse(buf).mayTriggerIcmpError(), "ICMP type " + type);
        }
    }

    @Test
    void shouldNeverAllowAnErrorAboutAnIcmpv6Error() {
        for (int type = 0; type < 128; type += 1) {
            ByteBuf buf = build(new PacketBuilder().ip("fd00::5", "fd00:10::3", 64).icmpEcho(1, 1, new byte[8]));
            buf.setByte(40, type);
            assertFalse(parse(buf).mayTriggerIcmpError(), "ICMPv6 type " + type);
        }
    }

    @Test
    void shouldNeverAllowAnErrorAboutANonFirstFragmentOrFromAMulticastSource() {
        ByteBuf fragment = build(new PacketBuilder().ip("192.168.10.5", "10.1.2.3", 64).udp(1, 2, new byte[8]));
        fragment.setShort(6, 185);
        fragment.setShort(10, 0);
        fragment.setShort(10, InternetChecksum.compute(fragment, 0, 20));
        assertFalse(parse(fragment).mayTriggerIcmpError(), "fragment offset 185");

        assertFalse(parse(new PacketBuilder().ip("224.0.0.5", "10.1.2.3", 64).udp(1, 2, new byte[8]))
                .mayTriggerIcmpError(), "multicast source");
        assertFalse(parse(new PacketBuilder().ip("ff02::1", "fd00:10::3", 64).udp(1, 2, new byte[8]))
                .mayTriggerIcmpError(), "IPv6 multicast source");
    }

    @Test
    void shouldExposeTheTransportHeaderItFound() {
        ByteBuf buf = TcpSegments.packet("fd00::5", "fd00:10::3", TcpSegments.SYN, TcpSegments.linuxSynOptions(1440),
                0);
        InnerPacket parsed = parse(buf);

        assertEquals(40, parsed.transportOffset());
        assertEquals(40, parsed.transportLength(), "20-byte TCP header and 20 bytes of options");
        assertEquals(TcpSegments.SYN, parsed.tcpFlags());
    }

    /**
     * The header words the parser reads (three for IPv4, five for IPv6, one or two for the transport) give the fields
     * and the verdicts each header's flyweight gives, over random headers: options or none (half without, the
     * three-word checksum), checksum right or not, lengths in and out of range, first fragments mostly, ICMP (echo
     * types often) / TCP / UDP / GRE payloads, heap and direct buffers, the packet at an offset with other bytes
     * after its end.
     */
    @Property(tries = 500)
    void shouldReadTheIpv4HeaderAsItsFlyweightsDo(@ForAll @Size(min = 20, max = 90) byte[] bytes,
                                                  @ForAll @IntRange(min = 0, max = 15) int ihlSeed,
                                                  @ForAll @IntRange(min = 0, max = 3) int protocolChoice,
                                                  @ForAll @IntRange(min = 0, max = 3) int icmpChoice,
                                                  @ForAll boolean fullLength, @ForAll boolean goodChecksum,
                                                  @ForAll boolean fragment, @ForAll @IntRange(min = 0, max = 7) int lead,
                                                  @ForAll @IntRange(min = 0, max = 7) int tail,
                                                  @ForAll boolean direct) {
        int ihl = ihlSeed < 6 ? 5 : ihlSeed;
        bytes[0] = (byte) (0x40 | ihl);
        if (fullLength) {
            bytes[2] = (byte) (bytes.length >>> 8);
            bytes[3] = (byte) bytes.length;
        }
        if (!fragment) {
            bytes[6] &= (byte) 0xE0; // the flags kept, fragment offset 0
            bytes[7] = 0;
        }
        int protocol = new int[] {1, 6, 17, 47}[protocolChoice];
        bytes[9] = (byte) protocol;
        bytes[16] = (byte) (1 + (bytes[16] & 0x7F) % 126); // a destination the path would forward, mostly
        int headerLength = ihl * 4;
        if (protocol == 1 && headerLength < bytes.length && icmpChoice < 3) {
            bytes[headerLength] = (byte) new int[] {8, 0, 3}[icmpChoice];
        }
        ByteBuf buf = placed(bytes, lead, tail, direct);
        int end = lead + bytes.length;
        if (goodChecksum && headerLength <= bytes.length) {
            buf.setShort(lead + 10, 0).setShort(lead + 10, InternetChecksum.compute(buf, lead, headerLength));
        }
        try {
            Ipv4Flyweight ipv4 = new Ipv4Flyweight().wrap(buf, lead, end);
            boolean valid = headerLength >= 20 && ipv4.totalLength() >= headerLength
                    && ipv4.totalLength() <= bytes.length && ipv4.checksumValid();
            assertEquals(valid, packet.parse(buf, lead, end, false), "accepted");
            if (!valid) {
                return;
            }
            assertEquals(ipv4.totalLength(), packet.length());
            assertEquals(ipv4.ttl(), packet.ttl());
            assertEquals(ipv4.protocol(), packet.protocol());
            assertEquals(ipv4.source(), packet.source4());
            assertEquals(ipv4.destination(), packet.destination4());
            assertEquals(ipv4.dontFragment(), packet.dontFragment());
            if (ipv4.isNonFirstFragment()) {
                assertEquals(0, packet.sourcePort() | packet.destinationPort() | packet.tcpFlags(), "no transport");
                assertEquals(-1, packet.icmpType(), "no transport");
            } else {
                assertSameTransport(buf, lead + headerLength, lead + ipv4.totalLength(), protocol,
                        Ipv4Flyweight.PROTO_ICMP);
            }
        } finally {
            buf.release();
        }
    }

    @Property(tries = 300)
    void shouldReadTheIpv6HeaderAsItsFlyweightDoes(@ForAll @Size(min = 40, max = 90) byte[] bytes,
                                                   @ForAll @IntRange(min = 0, max = 2) int protocolChoice,
                                                   @ForAll @IntRange(min = 0, max = 3) int icmpChoice,
                                                   @ForAll boolean fullLength,
                                                   @ForAll @IntRange(min = 0, max = 7) int lead,
                                                   @ForAll @IntRange(min = 0, max = 7) int tail,
                                                   @ForAll boolean direct) {
        bytes[0] = (byte) (0x60 | bytes[0] & 0x0F);
        if (fullLength) {
            bytes[4] = (byte) ((bytes.length - 40) >>> 8);
            bytes[5] = (byte) (bytes.length - 40);
        }
        int protocol = new int[] {58, 6, 17}[protocolChoice];
        bytes[6] = (byte) protocol;
        bytes[24] = (byte) 0xFD; // a unicast destination
        if (protocol == 58 && bytes.length > 40 && icmpChoice < 3) {
            bytes[40] = (byte) new int[] {128, 129, 1}[icmpChoice];
        }
        ByteBuf buf = placed(bytes, lead, tail, direct);
        int end = lead + bytes.length;
        try {
            Ipv6Flyweight ipv6 = new Ipv6Flyweight().wrap(buf, lead, end);
            boolean valid = 40 + ipv6.payloadLength() <= bytes.length;
            assertEquals(valid, packet.parse(buf, lead, end, true), "accepted");
            if (!valid) {
                return;
            }
            assertEquals(40 + ipv6.payloadLength(), packet.length());
            assertEquals(ipv6.hopLimit(), packet.ttl());
            assertEquals(ipv6.nextHeader(), packet.protocol());
            assertEquals(ipv6.sourceHigh(), packet.sourceHigh());
            assertEquals(ipv6.sourceLow(), packet.sourceLow());
            assertEquals(ipv6.destinationHigh(), packet.destinationHigh());
            assertEquals(ipv6.destinationLow(), packet.destinationLow());
            assertSameTransport(buf, lead + 40, lead + 40 + ipv6.payloadLength(), protocol,
                    Ipv4Flyweight.PROTO_ICMPV6);
        } finally {
            buf.release();
        }
    }

    /**
     * {@code bytes} in a buffer after {@code lead} bytes and before {@code tail} more (0x5A: what a read past the
     * packet's end would see), on the heap or in native memory.
     */
    private static ByteBuf placed(byte[] bytes, int lead, int tail, boolean direct) {
        byte[] all = new byte[lead + bytes.length + tail];
        Arrays.fill(all, (byte) 0x5A);
        System.arraycopy(bytes, 0, all, lead, bytes.length);
        return direct ? PooledByteBufAllocator.DEFAULT.directBuffer(all.length).writeBytes(all)
                : Unpooled.wrappedBuffer(all);
    }

    /** Decrementing in memory gives the TTL one less and a header that still verifies; IPv6's hop limit likewise. */
    @Property(tries = 200)
    void shouldDecrementTheTtlAsTheFlyweightsDo(@ForAll @IntRange(min = 2, max = 255) int ttl, @ForAll int source,
                                                @ForAll boolean direct) {
        ByteBuf v4 = build(new PacketBuilder().ip("10.0.0.1", "192.0.2.9", ttl).udp(1, 2, new byte[8]));
        v4.setInt(12, source).setShort(10, 0).setShort(10, InternetChecksum.compute(v4, 0, 20));
        ByteBuf v6 = build(new PacketBuilder().ip("fd00::1", "fd00::2", ttl).udp(1, 2, new byte[8]));
        for (ByteBuf built : new ByteBuf[] {v4, v6}) {
            ByteBuf buf = direct ? PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(built.duplicate())
                    : built.copy();
            ByteBuf reference = built.copy();
            boolean ipv6 = built == v6;
            assertTrue(packet.parse(buf, 0, buf.writerIndex(), ipv6));
            packet.decrementTtl(new PacketMemory().locate(buf));
            if (ipv6) {
                new Ipv6Flyweight().wrap(reference, 0).hopLimit(ttl - 1);
            } else {
                new Ipv4Flyweight().wrap(reference, 0).decrementTtl();
            }
            assertEquals(reference, buf);
            assertTrue(ipv6 || new Ipv4Flyweight().wrap(buf, 0, buf.writerIndex()).checksumValid());
            buf.release();
            reference.release();
            built.release();
        }
    }

    /** The ports, TCP flags and ICMP type and identifier the parse took, against the transport flyweight's reads. */
    private void assertSameTransport(ByteBuf buf, int at, int end, int protocol, int icmpProtocol) {
        int available = end - at;
        int type = available >= 1 && protocol == icmpProtocol ? buf.getUnsignedByte(at) : -1;
        assertEquals(type, packet.icmpType(), "ICMP type");
        boolean echo = type == 8 || type == 0 && icmpProtocol == Ipv4Flyweight.PROTO_ICMP || type == 128 || type == 129;
        L4Flyweight l4 = new L4Flyweight().wrap(buf, at, end);
        boolean ports = available >= L4Flyweight.MIN_LENGTH
                && (protocol == Ipv4Flyweight.PROTO_TCP || protocol == Ipv4Flyweight.PROTO_UDP);
        int sourcePort = ports ? l4.sourcePort() : echo && available >= L4Flyweight.MIN_LENGTH ? l4.icmpIdentifier() : 0;
        assertEquals(sourcePort, packet.sourcePort(), "source port or echo identifier");
        assertEquals(ports ? l4.destinationPort() : 0, packet.destinationPort(), "destination port");
        boolean flags = ports && protocol == Ipv4Flyweight.PROTO_TCP && available > L4Flyweight.TCP_FLAGS_OFFSET;
        assertEquals(flags ? l4.tcpFlags() : 0, packet.tcpFlags(), "TCP flags");
    }

    private InnerPacket parse(PacketBuilder builder) {
        return parse(build(builder));
    }

    private static ByteBuf build(PacketBuilder builder) {
        return builder.build(UnpooledByteBufAllocator.DEFAULT);
    }

    private InnerPacket parse(ByteBuf buf) {
        boolean ipv6 = (buf.getUnsignedByte(0) >>> 4) == 6;
        assertTrue(packet.parse(buf, 0, buf.writerIndex(), ipv6), "parses");
        buf.release();
        return packet;
    }
}
