package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

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
