package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.dataplane.path.TestNetwork;

import java.util.Arrays;

/**
 * A GRE-in-UDP datagram through the whole path (GRE decap, tunnel lookup, inner IPv4 or IPv6, ARR flow lookup, route,
 * TTL, MTU, ICMP errors, encap). Input: byte 0 picks the sending tunnel (site-a and v6-site have ARR, v6-site sends
 * over IPv6), the rest is the UDP payload. Passes when nothing escapes, nothing leaks and the packet is forwarded or
 * dropped under one counted reason. Corpus: {@code GreInUdpFuzzTestInputs/}, seeded by {@code bench/fuzz-seeds.py}.
 */
class GreInUdpFuzzTest {
    private static final int[] SENDERS = {TestNetwork.SITE_A, TestNetwork.SITE_B, TestNetwork.DC_PROD,
        TestNetwork.DC_STAGING, TestNetwork.INTERNET, TestNetwork.V6_SITE};
    private static final PathHarness HARNESS = new PathHarness();

    @FuzzTest(maxDuration = "10s")
    void shouldForwardOrCountEveryDatagram(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int sender = SENDERS[(input[0] & 0xFF) % SENDERS.length];
        try {
            HARNESS.receiveFrom(sender, Arrays.copyOfRange(input, 1, input.length));
        } finally {
            HARNESS.releaseSent();
        }
    }
}
