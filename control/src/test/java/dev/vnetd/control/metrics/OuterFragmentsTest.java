package dev.vnetd.control.metrics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OuterFragmentsTest {
    @TempDir
    Path dir;

    @Test
    void shouldExportTheKernelsReassemblyCountersOfBothFamilies() throws Exception {
        Files.writeString(dir.resolve("snmp"), """
                Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos \
                InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails \
                FragOKs FragFails FragCreates OutTransmits
                Ip: 2 64 100 0 0 0 0 0 100 90 0 0 3 40 7 5 11 1 22 90
                Icmp: InMsgs InErrors
                Icmp: 1 0
                """);
        Files.writeString(dir.resolve("snmp6"), """
                Ip6InReceives                   \t12
                Ip6ReasmTimeout                 \t1
                Ip6ReasmReqds                   \t9
                Ip6ReasmOKs                     \t2
                Ip6ReasmFails                   \t1
                Ip6FragOKs                      \t4
                Ip6FragFails                    \t0
                Ip6FragCreates                  \t8
                """);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        new OuterFragments(dir).register(registry);

        assertEquals(40, count(registry, "ipv4", "requested"));
        assertEquals(7, count(registry, "ipv4", "ok"));
        assertEquals(5, count(registry, "ipv4", "failed"));
        assertEquals(3, count(registry, "ipv4", "timeout"));
        assertEquals(9, count(registry, "ipv6", "requested"));
        assertEquals(2, count(registry, "ipv6", "ok"));
        assertEquals(1, count(registry, "ipv6", "failed"));
        assertEquals(1, count(registry, "ipv6", "timeout"));
        assertEquals(11, fragmentation(registry, "ipv4", "fragmented"));
        assertEquals(22, fragmentation(registry, "ipv4", "fragments"));
        assertEquals(1, fragmentation(registry, "ipv4", "failed"));
        assertEquals(4, fragmentation(registry, "ipv6", "fragmented"));
        assertEquals(8, fragmentation(registry, "ipv6", "fragments"));
    }

    @Test
    void shouldReadZeroWhenTheFilesAreMissing() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        new OuterFragments(dir.resolve("absent")).register(registry);

        assertEquals(0, count(registry, "ipv4", "requested"));
        assertEquals(0, count(registry, "ipv6", "timeout"));
    }

    @Test
    void shouldReadTheSysctlsThatBoundReassembly() throws Exception {
        Files.createDirectories(dir.resolve("net/ipv4"));
        Files.writeString(dir.resolve("net/ipv4/ipfrag_high_thresh"), "4194304\n");
        Files.writeString(dir.resolve("net/ipv4/ipfrag_time"), "30\n");

        Map<String, Long> limits = OuterFragments.checkLimits(dir);

        assertEquals(4194304L, limits.get("net/ipv4/ipfrag_high_thresh"));
        assertEquals(30L, limits.get("net/ipv4/ipfrag_time"));
        assertTrue(!limits.containsKey("net/ipv6/ip6frag_time"), "unreadable sysctls are left out");
    }

    @Test
    void shouldReadThisHostsSysctlsWhenItIsLinux() {
        if (Files.isDirectory(Path.of("/proc/sys/net/ipv4"))) {
            assertTrue(OuterFragments.checkLimits(Path.of("/proc/sys")).get("net/ipv4/ipfrag_time") > 0);
        }
    }

    private static double fragmentation(SimpleMeterRegistry registry, String family, String result) {
        return registry.get("vnetd.outer.fragmentation").tags("family", family, "result", result).functionCounter()
                .count();
    }

    private static double count(SimpleMeterRegistry registry, String family, String result) {
        return registry.get("vnetd.outer.reassembly").tags("family", family, "result", result).functionCounter()
                .count();
    }
}
