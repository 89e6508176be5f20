package dev.vnetd.dataplane.fuzz;

import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.TestNetwork;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed seed corpora reach what their fuzz targets check, so that a regression run is not vacuous: packets
 * forwarded and dropped for many reasons, ICMP errors generated and ICMP errors received, ARR port translation.
 */
class SeedCorpusReachTest {
    @Test
    void shouldForwardAndDropForManyReasonsFromTheGreInUdpSeeds() throws Exception {
        PathHarness harness = new PathHarness();
        int forwarded = 0;
        int[] senderIds = {TestNetwork.SITE_A, TestNetwork.SITE_B, TestNetwork.DC_PROD, TestNetwork.DC_STAGING,
            TestNetwork.INTERNET, TestNetwork.V6_SITE};
        for (byte[] seed : seeds("GreInUdpFuzzTestInputs/shouldForwardOrCountEveryDatagram")) {
            int sender = senderIds[(seed[0] & 0xFF) % senderIds.length];
            forwarded += harness.receiveFrom(sender, Arrays.copyOfRange(seed, 1, seed.length)).forwarded().size();
            harness.releaseSent();
        }
        assertTrue(forwarded >= 10, "seeds forwarded: " + forwarded);
        assertTrue(reasons(harness) >= 4, "drop reasons reached: " + reasons(harness));
    }

    @Test
    void shouldGenerateAndReceiveIcmpErrorsFromTheIcmpSeeds() throws Exception {
        PathHarness harness = new PathHarness();
        int errorsReceived = 0;
        int[] senderIds = {TestNetwork.SITE_A, TestNetwork.V6_SITE, TestNetwork.DC_PROD, TestNetwork.SITE_B};
        for (byte[] seed : seeds("IcmpFuzzTestInputs/shouldNeverAnswerAnIcmpErrorWithAnError")) {
            int sender = senderIds[(seed[0] & 0xFF) % senderIds.length];
            byte[] inner = Arrays.copyOfRange(seed, 1, seed.length);
            errorsReceived += IcmpFuzzTest.isIcmpError(inner) ? 1 : 0;
            harness.receiveFrom(sender, harness.greFor(sender, inner));
            harness.releaseSent();
        }
        assertTrue(errorsReceived >= 5, "ICMP errors among the seeds: " + errorsReceived);
        assertTrue(harness.counters.icmpErrorsSent() >= 3, "ICMP errors sent: " + harness.counters.icmpErrorsSent());
    }

    @Test
    void shouldTranslatePortsFromTheTcpSeeds() throws Exception {
        TcpArrFuzzTest target = new TcpArrFuzzTest();
        for (byte[] seed : seeds("TcpArrFuzzTestInputs/shouldTranslatePortsAndKeepChecksumsValid")) {
            target.shouldTranslatePortsAndKeepChecksumsValid(seed);
        }
        assertTrue(TcpArrFuzzTest.portTranslations() > 0, "ARR translated no port");
    }

    @Test
    void shouldClampMssesFromTheMssSeeds() throws Exception {
        MssClampFuzzTest target = new MssClampFuzzTest();
        for (byte[] seed : seeds("MssClampFuzzTestInputs/shouldClampOnlyTheMssAndKeepTheChecksumValid")) {
            target.shouldClampOnlyTheMssAndKeepTheChecksumValid(seed);
        }
        assertTrue(MssClampFuzzTest.clampedThroughThePath() >= 3, "SYNs clamped: "
                + MssClampFuzzTest.clampedThroughThePath());
    }

    private static int reasons(PathHarness harness) {
        int reached = 0;
        for (DropReason reason : DropReason.values()) {
            reached += harness.counters.drops(reason) > 0 ? 1 : 0;
        }
        return reached;
    }

    private static List<byte[]> seeds(String directory) throws IOException, URISyntaxException {
        URL url = SeedCorpusReachTest.class.getResource(directory);
        assertNotNull(url, directory);
        List<byte[]> seeds = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            for (Path file : files.sorted().toList()) {
                seeds.add(Files.readAllBytes(file));
            }
        }
        assertTrue(seeds.size() >= 10, directory + " holds " + seeds.size() + " seeds");
        return seeds;
    }
}
