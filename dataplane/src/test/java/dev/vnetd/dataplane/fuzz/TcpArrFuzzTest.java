package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.dataplane.path.TestNetwork;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;

import static dev.vnetd.dataplane.packet.InternetChecksum.compute;
import static dev.vnetd.dataplane.packet.InternetChecksum.finish;
import static dev.vnetd.dataplane.packet.InternetChecksum.sum;

/**
 * TCP segments (any flags, options, data offset, payload) through ARR: the same segment from site-a and then from
 * v6-site (both ARR, one 5-tuple: the second gets a translated source port), then the reply from dc-prod, which is
 * translated back. Input: byte 0 is the number of segments to send (1 to 3), the rest the TCP segment; the IPv4
 * header (192.168.10.5 to 10.1.2.3) and a valid TCP checksum are made here. Besides the accounting of every packet,
 * every forwarded packet must carry valid IPv4 and TCP checksums after port translation. Corpus:
 * {@code TcpArrFuzzTestInputs/}.
 */
class TcpArrFuzzTest {
    private static final PathHarness HARNESS = new PathHarness();
    private static final byte[] SITE = {(byte) 192, (byte) 168, 10, 5};
    private static final byte[] SERVER = {10, 1, 2, 3};
    private static final int IPV4_HEADER_LENGTH = 20;
    private static final int TCP_CHECKSUM_OFFSET = 16;
    private static final int MAX_SEGMENT = 1400;

    @FuzzTest(maxDuration = "10s")
    void shouldTranslatePortsAndKeepChecksumsValid(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int sends = 1 + (input[0] & 0xFF) % 3;
        byte[] segment = Arrays.copyOfRange(input, 1, Math.min(input.length, MAX_SEGMENT));
        boolean checksummed = segment.length >= TCP_CHECKSUM_OFFSET + 2;
        try {
            check(checksummed, HARNESS.receiveFrom(TestNetwork.SITE_A, HARNESS.greFor(TestNetwork.SITE_A,
                    ipv4(SITE, SERVER, segment))));
            if (sends > 1) {
                check(checksummed, HARNESS.receiveFrom(TestNetwork.V6_SITE, HARNESS.greFor(TestNetwork.V6_SITE,
                        ipv4(SITE, SERVER, segment))));
            }
            if (sends > 2 && segment.length >= 4) {
                byte[] reply = segment.clone();
                System.arraycopy(segment, 0, reply, 2, 2);
                System.arraycopy(segment, 2, reply, 0, 2);
                check(checksummed, HARNESS.receiveFrom(TestNetwork.DC_PROD, HARNESS.greFor(TestNetwork.DC_PROD,
                        ipv4(SERVER, SITE, reply))));
            }
        } finally {
            HARNESS.releaseSent();
        }
    }

    /** ARR port translations made so far by this target's path. */
    static long portTranslations() {
        return HARNESS.counters.portTranslations();
    }

    private static void check(boolean checksummed, PathHarness.Outcome outcome) {
        if (checksummed) {
            outcome.forwarded().forEach(PathHarness::assertChecksumsValid);
        }
    }

    /** An IPv4 packet carrying {@code segment} as TCP, with valid header and TCP checksums. */
    static byte[] ipv4(byte[] source, byte[] destination, byte[] segment) {
        byte[] packet = new byte[IPV4_HEADER_LENGTH + segment.length];
        packet[0] = 0x45;
        packet[2] = (byte) (packet.length >>> 8);
        packet[3] = (byte) packet.length;
        packet[6] = 0x40;
        packet[8] = 64;
        packet[9] = 6;
        System.arraycopy(source, 0, packet, 12, 4);
        System.arraycopy(destination, 0, packet, 16, 4);
        System.arraycopy(segment, 0, packet, IPV4_HEADER_LENGTH, segment.length);
        ByteBuf buf = Unpooled.wrappedBuffer(packet);
        buf.setShort(10, compute(buf, 0, IPV4_HEADER_LENGTH));
        if (segment.length >= TCP_CHECKSUM_OFFSET + 2) {
            int at = IPV4_HEADER_LENGTH + TCP_CHECKSUM_OFFSET;
            buf.setShort(at, 0);
            buf.setShort(at, finish(sum(buf, 12, 8) + 6 + segment.length
                    + sum(buf, IPV4_HEADER_LENGTH, segment.length)));
        }
        return packet;
    }
}
