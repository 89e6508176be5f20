package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.dataplane.path.TestNetwork;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Inner ICMP and ICMPv6 packets (echo, errors, anything) in a well-formed GRE header from one of the tunnels: besides
 * the accounting of every packet, vnetd sends at most one ICMP error per packet and never answers an ICMP error with
 * one (RFC 1812 4.3.2.7, RFC 4443 2.4 e). Whether the packet is an ICMP error is decided here independently, walking
 * IPv6 extension headers. Input: byte 0 picks the tunnel, the rest is the inner IP packet. Corpus:
 * {@code IcmpFuzzTestInputs/}.
 */
class IcmpFuzzTest {
    private static final int[] SENDERS = {TestNetwork.SITE_A, TestNetwork.V6_SITE, TestNetwork.DC_PROD,
        TestNetwork.SITE_B};
    private static final PathHarness HARNESS = new PathHarness();

    private static final int PROTO_ICMP = 1;
    private static final int PROTO_ICMPV6 = 58;
    private static final int HOP_BY_HOP = 0;
    private static final int ROUTING = 43;
    private static final int FRAGMENT = 44;
    private static final int AUTHENTICATION = 51;
    private static final int DESTINATION_OPTIONS = 60;
    private static final int IPV6_HEADER_LENGTH = 40;
    private static final int ICMP_HEADER_LENGTH = 8;

    @FuzzTest(maxDuration = "10s")
    void shouldNeverAnswerAnIcmpErrorWithAnError(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int sender = SENDERS[(input[0] & 0xFF) % SENDERS.length];
        byte[] inner = Arrays.copyOfRange(input, 1, input.length);
        try {
            PathHarness.Outcome outcome = HARNESS.receiveFrom(sender, HARNESS.greFor(sender, inner));
            if (isIcmpError(inner)) {
                assertEquals(0, outcome.icmpErrors(), "an ICMP error was answered with an ICMP error");
            }
        } finally {
            HARNESS.releaseSent();
        }
    }

    /**
     * Whether the packet is, unambiguously, an ICMP or ICMPv6 error message (first fragment or unfragmented) with its
     * whole 8-byte header within the bytes its length field declares.
     */
    static boolean isIcmpError(byte[] p) {
        if (p.length >= 20 && (p[0] & 0xF0) == 0x40) {
            int end = Math.min(p.length, (p[2] & 0xFF) << 8 | (p[3] & 0xFF));
            int headerLength = (p[0] & 0x0F) * 4;
            boolean firstFragment = ((p[6] & 0x1F) << 8 | (p[7] & 0xFF)) == 0;
            if ((p[9] & 0xFF) != PROTO_ICMP || !firstFragment || headerLength < 20
                    || headerLength + ICMP_HEADER_LENGTH > end) {
                return false;
            }
            int type = p[headerLength] & 0xFF;
            return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
        }
        if (p.length < IPV6_HEADER_LENGTH || (p[0] & 0xF0) != 0x60) {
            return false;
        }
        int end = Math.min(p.length, IPV6_HEADER_LENGTH + ((p[4] & 0xFF) << 8 | (p[5] & 0xFF)));
        int next = p[6] & 0xFF;
        int at = IPV6_HEADER_LENGTH;
        while (at + 8 <= end) {
            switch (next) {
                case HOP_BY_HOP, ROUTING, DESTINATION_OPTIONS -> {
                    next = p[at] & 0xFF;
                    at += ((p[at + 1] & 0xFF) + 1) * 8;
                }
                case FRAGMENT -> {
                    if (((p[at + 2] & 0xFF) << 5 | (p[at + 3] & 0xF8) >>> 3) != 0) {
                        return false;
                    }
                    next = p[at] & 0xFF;
                    at += 8;
                }
                case AUTHENTICATION -> {
                    next = p[at] & 0xFF;
                    at += ((p[at + 1] & 0xFF) + 2) * 4;
                }
                default -> {
                    return next == PROTO_ICMPV6 && (p[at] & 0xFF) < 128;
                }
            }
        }
        return false;
    }
}
