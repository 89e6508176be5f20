package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.path.MssClamp;
import dev.vnetd.dataplane.path.TcpSegments;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TCP option walker of MSS clamping, on hostile segments (any data offset, option kinds and lengths, truncation):
 * clamped directly, the walker finds the MSS where the reference model does, changes no byte but the MSS value and
 * the checksum, never raises the MSS, and keeps the TCP checksum valid; sent through the path from site-a (clamp
 * 1200) to dc-prod ({@code auto}, MTU 1400), every forwarded packet keeps valid checksums and every packet is
 * forwarded or counted as a drop. Input: bytes 0-1 the clamp for the direct call, byte 2 bit 0 the family, the rest
 * the TCP segment; the IP header and a valid TCP checksum are made here. Corpus: {@code MssClampFuzzTestInputs/}.
 */
class MssClampFuzzTest {
    private static final PathHarness HARNESS = clamping(new PathHarness());
    private static final byte[] SITE = {(byte) 192, (byte) 168, 10, 5};
    private static final byte[] SERVER = {10, 1, 2, 3};
    private static final int MAX_SEGMENT = 1300;

    @FuzzTest(maxDuration = "10s")
    void shouldClampOnlyTheMssAndKeepTheChecksumValid(byte[] input) {
        if (input.length < 3) {
            return;
        }
        int max = (input[0] & 0xFF) << 8 | input[1] & 0xFF;
        boolean ipv6 = (input[2] & 1) != 0;
        byte[] segment = Arrays.copyOfRange(input, 3, Math.min(input.length, MAX_SEGMENT));
        clampDirectly(segment, max, ipv6);
        try {
            PathHarness.Outcome outcome = HARNESS.receiveFrom(TestNetwork.SITE_A,
                    HARNESS.greFor(TestNetwork.SITE_A, TcpArrFuzzTest.ipv4(SITE, SERVER, segment)));
            if (segment.length >= 18) {
                outcome.forwarded().forEach(PathHarness::assertChecksumsValid);
            }
        } finally {
            HARNESS.releaseSent();
        }
    }

    private static void clampDirectly(byte[] segment, int max, boolean ipv6) {
        ByteBuf packet = withIpHeader(segment, ipv6);
        int tcp = ipv6 ? 40 : 20;
        byte[] before = new byte[packet.readableBytes()];
        packet.getBytes(0, before);
        int dataOffset = segment.length > 12 ? (segment[12] & 0xF0) >>> 2 : 0;
        boolean headerFits = dataOffset >= 20 && dataOffset <= segment.length;
        int expected = headerFits ? TcpSegments.referenceMssOffset(Arrays.copyOfRange(segment, 20, dataOffset)) : -1;
        int at = MssClamp.findMss(packet, tcp, segment.length);
        assertEquals(expected < 0 ? -1 : tcp + 20 + expected, at, "MSS found where the reference finds it");

        boolean clamped = MssClamp.clamp(packet, tcp, segment.length, max);

        int original = at < 0 ? -1 : (before[at] & 0xFF) << 8 | before[at + 1] & 0xFF;
        assertEquals(at >= 0 && original > max, clamped);
        for (int i = 0; i < before.length; i++) {
            boolean mss = at >= 0 && (i == at || i == at + 1);
            boolean checksum = i == tcp + 16 || i == tcp + 17;
            if (!mss && !checksum) {
                assertEquals(before[i], packet.getByte(i), "byte " + i);
            }
        }
        if (at >= 0) {
            assertEquals(Math.min(original, max), packet.getUnsignedShort(at));
        }
        if (segment.length >= 18) {
            assertTrue(TcpSegments.tcpChecksumValid(packet, 0), "TCP checksum");
        }
    }

    /** {@code segment} behind an IPv4 or IPv6 header, with a valid TCP checksum when the segment has room for one. */
    private static ByteBuf withIpHeader(byte[] segment, boolean ipv6) {
        int ip = ipv6 ? 40 : 20;
        ByteBuf buf = Unpooled.buffer(ip + segment.length).writeZero(ip).writeBytes(segment);
        if (ipv6) {
            buf.setInt(0, 0x6000_0000);
            buf.setShort(4, segment.length);
            buf.setByte(6, 6);
            buf.setLong(8, 0xFD00_0000_0000_0000L);
            buf.setLong(16, 5);
            buf.setLong(24, 0xFD00_0010_0000_0000L);
            buf.setLong(32, 3);
        } else {
            buf.setByte(0, 0x45);
            buf.setShort(2, ip + segment.length);
            buf.setByte(9, 6);
            buf.setBytes(12, SITE);
            buf.setBytes(16, SERVER);
        }
        if (segment.length >= 18) {
            buf.setShort(ip + 16, 0);
            buf.setShort(ip + 16, InternetChecksum.finish(
                    TcpSegments.pseudoHeaderSum(buf, ipv6, segment.length)
                            + InternetChecksum.sum(buf, ip, segment.length)));
        }
        return buf;
    }

    /** The harness with site-a clamping to 1200 and dc-prod to {@code auto}. */
    private static PathHarness clamping(PathHarness harness) {
        ForwardingState s = harness.net.holder.get();
        Tunnel[] tunnels = s.tunnels().clone();
        tunnels[TestNetwork.SITE_A] = TcpSegments.withMssClamp(tunnels[TestNetwork.SITE_A], 1200);
        tunnels[TestNetwork.DC_PROD] = TcpSegments.withMssClamp(tunnels[TestNetwork.DC_PROD], Tunnel.MSS_CLAMP_AUTO);
        harness.net.holder.publish(new ForwardingState(s.listeners(), tunnels, s.virtualNetworks(),
                new TunnelIndex(tunnels), s.health()));
        return harness;
    }

    /** SYNs clamped so far by this target's path. */
    static long clampedThroughThePath() {
        return HARNESS.counters.mssClampedTotal();
    }
}
