package dev.vnetd.control.peers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs fault_peer.py in a namespace and reads its report: what each phase sent and what the alive sink received,
 * and vnetd's counters ({@code metrics}); plus the slow link of the socket-fault tests.
 */
final class FaultPeer {
    private FaultPeer() {
    }

    /**
     * What fault_peer.py reported, by case ({@code metrics}, {@code kernel}, one per phase); numbers read as longs,
     * 0 when absent.
     */
    record Report(Map<String, Map<String, String>> byCase) {
        /** vnetd's counter {@code name} ("vnetd_drops_total.tx_buffer_full", "vnetd_tx_packets_total.dc-alive"). */
        long metric(String name) {
            return field("metrics", name);
        }

        /** Field {@code name} of case {@code phase}. */
        long field(String phase, String name) {
            return Long.parseLong(byCase.get(phase).getOrDefault(name, "0"));
        }

        @Override
        public String toString() {
            return byCase.toString();
        }
    }

    /**
     * Puts a token bucket on the left namespace's veth (20 Mbit/s, a 256 MB queue): it holds what vnetd sends across
     * until the sending socket's buffer is full, a peer too slow for its traffic.
     */
    static void throttleLeftLink(Namespaces ns) throws Exception {
        List<String> tc = new ArrayList<>(Namespaces.exec(ns.left));
        tc.addAll(List.of("tc", "qdisc", "add", "dev", ns.leftLink, "root", "tbf", "rate", "20mbit", "burst", "64kb",
                "limit", "256mb"));
        Process shaper = new ProcessBuilder(tc).redirectErrorStream(true).start();
        assertEquals(0, shaper.waitFor(), new String(shaper.getInputStream().readAllBytes()));
    }

    /** Runs fault_peer.py with {@code spec} in the left namespace (where vnetd and its admin port are). */
    static Report run(Namespaces ns, Path dir, String spec) throws Exception {
        List<String> command = new ArrayList<>(Namespaces.exec(ns.left));
        command.addAll(List.of(Prerequisites.PYTHON, PeerScript.extract("fault_peer.py", dir).toString(), spec));
        return new Report(PeerScript.run(command, 120).stream()
                .collect(Collectors.toMap(m -> m.get("case"), m -> m)));
    }
}
