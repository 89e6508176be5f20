package dev.vnetd.dataplane.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A raw GRE packet as the raw socket delivers it: outer IPv4 header, GRE header, inner packet. The tunnel is found by
 * the outer source address (raw-site is 127.0.0.6). Passes when nothing escapes, nothing leaks and the packet is
 * forwarded or dropped under one counted reason. Corpus: {@code RawGreFuzzTestInputs/}.
 */
class RawGreFuzzTest {
    private static final PathHarness HARNESS = new PathHarness();
    private static final InetSocketAddress RAW_SITE = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.6"), 0);

    @FuzzTest(maxDuration = "10s")
    void shouldForwardOrCountEveryRawPacket(byte[] input) {
        try {
            HARNESS.receive(PathHarness.RAW_LISTENER, RAW_SITE, input);
        } finally {
            HARNESS.releaseSent();
        }
    }
}
