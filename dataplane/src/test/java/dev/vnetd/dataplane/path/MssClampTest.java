package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.vnetd.dataplane.path.TestNetwork.DC_PROD;
import static dev.vnetd.dataplane.path.TestNetwork.SITE_A;
import static dev.vnetd.dataplane.path.TestNetwork.V6_SITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MssClampTest {
    private static final int TCP = 20;
    private final TestNetwork net = new TestNetwork();

    @AfterEach
    void releaseSent() {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    @Test
    void shouldLowerTheMssOfAnIpv4SynAndKeepTheChecksumValid() {
        ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1460), 0);

        assertTrue(MssClamp.clamp(packet, TCP, packet.readableBytes() - TCP, 1360));

        assertEquals(1360, packet.getUnsignedShort(TCP + 22), "MSS value");
        assertTrue(TcpSegments.tcpChecksumValid(packet, 0));
    }

    @Test
    void shouldNeverRaiseTheMss() {
        ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1200), 0);
        byte[] before = bytes(packet);

        assertFalse(MssClamp.clamp(packet, TCP, packet.readableBytes() - TCP, 1360));

        assertArrayEquals(before, bytes(packet));
    }

    @Test
    void shouldAddNoMssToASynWithoutOne() {
        ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                new byte[] {1, 1, 4, 2}, 0);
        byte[] before = bytes(packet);

        assertFalse(MssClamp.clamp(packet, TCP, packet.readableBytes() - TCP, 1360));

        assertArrayEquals(before, bytes(packet));
    }

    @Test
    void shouldClampAnMssAtAnOddOffsetOfTheSegment() {
        ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                new byte[] {1, 2, 4, 0x05, (byte) 0xB4, 1, 1, 0}, 0);

        assertEquals(TCP + 23, MssClamp.findMss(packet, TCP, packet.readableBytes() - TCP));
        assertTrue(MssClamp.clamp(packet, TCP, packet.readableBytes() - TCP, 1000));

        assertEquals(1000, packet.getUnsignedShort(TCP + 23));
        assertTrue(TcpSegments.tcpChecksumValid(packet, 0));
    }

    @Test
    void shouldStopAtEndOfOptionListAndAtLyingLengths() {
        byte[][] hostile = {
            {0, 2, 4, 5, (byte) 0xB4, 0, 0, 0},
            {8, 0, 2, 4, 5, (byte) 0xB4, 0, 0},
            {8, 1, 2, 4, 5, (byte) 0xB4, 0, 0},
            {8, 12, 2, 4, 5, (byte) 0xB4, 0, 0},
            {2, 3, 5, (byte) 0xB4},
            {1, 1, 1, 2},
        };
        for (byte[] options : hostile) {
            ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN, options, 0);
            assertEquals(-1, MssClamp.findMss(packet, TCP, packet.readableBytes() - TCP), "options " + hex(options));
        }
    }

    @Test
    void shouldLeaveAHeaderWhoseDataOffsetLiesAlone() {
        ByteBuf packet = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1460), 0);
        int available = packet.readableBytes() - TCP;

        packet.setByte(TCP + 12, 0xF0);
        assertEquals(-1, MssClamp.findMss(packet, TCP, available), "60-byte header in 40 bytes");
        packet.setByte(TCP + 12, 0x40);
        assertEquals(-1, MssClamp.findMss(packet, TCP, available), "16-byte header");
        assertEquals(-1, MssClamp.findMss(packet, TCP, 19), "truncated segment");
    }

    @Test
    void shouldClampAutoToTheMtuLessTheHeadersOfEachFamily() {
        Tunnel auto = TcpSegments.withMssClamp(net.tunnels[DC_PROD], Tunnel.MSS_CLAMP_AUTO);
        Tunnel fixed = TcpSegments.withMssClamp(net.tunnels[DC_PROD], 1200);

        assertEquals(1400 - 40, MssClamp.limit(auto, false));
        assertEquals(1400 - 60, MssClamp.limit(auto, true));
        assertEquals(1200, MssClamp.limit(fixed, true));
        assertEquals(Integer.MAX_VALUE, MssClamp.limit(net.tunnels[DC_PROD], false), "no mss_clamp");
    }

    @Test
    void shouldClampTheSynOnTheWayOutAndTheSynAckOnTheWayBack() {
        clamp(DC_PROD, Tunnel.MSS_CLAMP_AUTO);

        net.receive(SITE_A, gre(100, TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1460), 0)));
        ByteBuf syn = onlySent(DC_PROD);
        assertEquals(1360, syn.getUnsignedShort(syn.readerIndex() + 4 + 20 + 22), "SYN MSS: dc-prod MTU 1400 - 40");
        assertTrue(TcpSegments.tcpChecksumValid(syn, syn.readerIndex() + 4));
        net.ports[0].releaseAll();

        net.receive(DC_PROD, gre(-1, TcpSegments.packet("10.1.2.3", "192.168.10.5", 443, 40000,
                TcpSegments.SYN | TcpSegments.ACK, TcpSegments.linuxSynOptions(8960), 0)));
        ByteBuf back = onlySent(SITE_A);
        assertEquals(1360, back.getUnsignedShort(back.readerIndex() + 8 + 20 + 22), "SYN-ACK MSS, ARR return");
        assertTrue(TcpSegments.tcpChecksumValid(back, back.readerIndex() + 8));
        assertEquals(2, net.counters.mssClampedTotal());
    }

    @Test
    void shouldClampIpv6SynsToTheMtuLessSixty() {
        clamp(V6_SITE, Tunnel.MSS_CLAMP_AUTO);

        net.receive(V6_SITE, gre(-1, TcpSegments.packet("fd00:20::5", "fd00:10::3", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1440), 0)));

        ByteBuf syn = onlySent(DC_PROD);
        assertEquals(1476 - 60, syn.getUnsignedShort(syn.readerIndex() + 4 + 40 + 22), "v6-site MTU 1476 - 60");
        assertTrue(TcpSegments.tcpChecksumValid(syn, syn.readerIndex() + 4));
        assertEquals(1, net.counters.mssClampedTotal());
    }

    @Test
    void shouldLeaveSegmentsOtherThanSynAloneAndSynsOfTunnelsWithoutClamp() {
        clamp(DC_PROD, 1000);
        ByteBuf ack = TcpSegments.packet("192.168.10.5", "10.1.2.3", TcpSegments.ACK,
                TcpSegments.linuxSynOptions(1460), 0);
        byte[] before = bytes(ack);
        net.receive(SITE_A, gre(100, ack));
        ByteBuf out = onlySent(DC_PROD);
        assertEquals(1460, out.getUnsignedShort(out.readerIndex() + 4 + 20 + 22), "a bare ACK keeps its bytes");
        assertEquals(before.length, out.readableBytes() - 4);
        net.ports[0].releaseAll();

        clamp(DC_PROD, Tunnel.MSS_CLAMP_OFF);
        net.receive(SITE_A, gre(100, TcpSegments.packet("192.168.10.5", "10.1.2.4", TcpSegments.SYN,
                TcpSegments.linuxSynOptions(1460), 0)));
        ByteBuf syn = onlySent(DC_PROD);
        assertEquals(1460, syn.getUnsignedShort(syn.readerIndex() + 4 + 20 + 22));
        assertEquals(0, net.counters.mssClampedTotal());
    }

    @Property
    void shouldClampOnlyTheMssAsTheReferenceWalkFindsIt(@ForAll("options") byte[] options,
                                                       @ForAll @IntRange(min = 0, max = 0xFFFF) int max,
                                                       @ForAll boolean ipv6) {
        ByteBuf packet = TcpSegments.packet(ipv6 ? "fd00::1" : "192.168.10.5", ipv6 ? "fd00::2" : "10.1.2.3",
                TcpSegments.SYN, options, 3);
        int tcp = ipv6 ? 40 : 20;
        byte[] before = bytes(packet);
        int expectedAt = TcpSegments.referenceMssOffset(options);
        int original = expectedAt < 0 ? -1 : (options[expectedAt] & 0xFF) << 8 | options[expectedAt + 1] & 0xFF;

        boolean clamped = MssClamp.clamp(packet, tcp, packet.readableBytes() - tcp, max);

        assertEquals(expectedAt >= 0 && original > max, clamped);
        byte[] after = bytes(packet);
        for (int i = 0; i < after.length; i++) {
            boolean mss = expectedAt >= 0 && (i == tcp + 20 + expectedAt || i == tcp + 20 + expectedAt + 1);
            boolean checksum = i == tcp + 16 || i == tcp + 17;
            if (!mss && !checksum) {
                assertEquals(before[i], after[i], "byte " + i + " changed");
            }
        }
        if (expectedAt >= 0) {
            assertEquals(Math.min(original, max), packet.getUnsignedShort(tcp + 20 + expectedAt));
        }
        assertTrue(TcpSegments.tcpChecksumValid(packet, 0), "checksum");
    }

    @Property
    void shouldNeverReadBeyondTheBytesItIsGiven(@ForAll @Size(max = 80) byte[] segment,
                                               @ForAll @IntRange(min = 0, max = 0xFFFF) int max) {
        ByteBuf exact = Unpooled.wrappedBuffer(segment);
        MssClamp.clamp(exact, 0, segment.length, max);
    }

    @Provide
    Arbitrary<byte[]> options() {
        Arbitrary<byte[]> token = Arbitraries.oneOf(
                Arbitraries.just(new byte[] {0}),
                Arbitraries.just(new byte[] {1}),
                Arbitraries.integers().between(0, 0xFFFF)
                        .map(m -> new byte[] {2, 4, (byte) (m.intValue() >>> 8), m.byteValue()}),
                Arbitraries.integers().between(0, 6).map(l -> new byte[] {2, l.byteValue(), 5, (byte) 0xB4}),
                Arbitraries.bytes().array(byte[].class).ofMinSize(2).ofMaxSize(10)
                        .map(b -> b.length < 2 ? b : withLength(b)),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(6));
        return token.list().ofMaxSize(12).map(MssClampTest::concatPadded);
    }

    private static byte[] withLength(byte[] b) {
        byte[] copy = b.clone();
        copy[0] = (byte) (3 + (copy[0] & 0x7F) % 30);
        return copy;
    }

    private static byte[] concatPadded(List<byte[]> tokens) {
        List<Byte> all = new ArrayList<>();
        for (byte[] t : tokens) {
            for (byte b : t) {
                if (all.size() < 40) {
                    all.add(b);
                }
            }
        }
        while (all.size() % 4 != 0) {
            all.add((byte) 0);
        }
        byte[] out = new byte[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    private void clamp(int tunnel, int mssClamp) {
        ForwardingState s = net.holder.get();
        Tunnel[] tunnels = s.tunnels().clone();
        tunnels[tunnel] = TcpSegments.withMssClamp(tunnels[tunnel], mssClamp);
        net.holder.publish(new ForwardingState(s.listeners(), tunnels, s.virtualNetworks(), new TunnelIndex(tunnels),
                s.health()));
    }

    /** The packet behind a GRE header with {@code key} (-1 for none). */
    private static ByteBuf gre(long key, ByteBuf inner) {
        boolean ipv6 = (inner.getUnsignedByte(0) >>> 4) == 6;
        ByteBuf out = Unpooled.buffer();
        out.writeShort(key >= 0 ? 0x2000 : 0).writeShort(ipv6 ? 0x86DD : 0x0800);
        if (key >= 0) {
            out.writeInt((int) key);
        }
        out.writeBytes(inner);
        inner.release();
        return out;
    }

    private ByteBuf onlySent(int tunnel) {
        TestNetwork.CapturingTxPort port = net.ports[net.tunnels[tunnel].listener().id()];
        assertEquals(1, port.sent.size(), "packets sent on " + net.tunnels[tunnel].name() + "'s listener");
        assertEquals(net.tunnels[tunnel].remote(), port.sent.getFirst().remote());
        return port.sent.getFirst().packet();
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }

    private static String hex(byte[] b) {
        return ByteBufUtil.hexDump(b);
    }
}
