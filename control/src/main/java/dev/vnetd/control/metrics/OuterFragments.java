package dev.vnetd.control.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fragmentation and reassembly of outer packets, made visible. vnetd's listeners are kernel UDP and raw IP sockets, and the kernel
 * reassembles fragmented datagrams before any socket sees them (ip_defrag / ipv6_frag_rcv run in the IP receive
 * path, ahead of UDP and raw delivery), so vnetd never holds a fragment itself. The kernel bounds that work in
 * memory and time by sysctls ({@link #SYSCTLS}: reassembly memory above {@code ipfrag_high_thresh} drops new
 * fragments, incomplete datagrams are dropped after {@code ipfrag_time} seconds), and counts it in
 * {@code /proc/net/snmp} and {@code /proc/net/snmp6} of the network namespace. These are exported as
 * {@code vnetd_outer_reassembly_total{family="ipv4|ipv6",result="requested|ok|failed|timeout"}}:
 * <ul>
 *   <li>{@code requested} (ReasmReqds): fragments received that needed reassembly;</li>
 *   <li>{@code ok} (ReasmOKs): datagrams reassembled;</li>
 *   <li>{@code failed} (ReasmFails): reassembly failures of any kind (timeout, memory limit, overlap), counted
 *       per datagram or fragment as the kernel sees them;</li>
 *   <li>{@code timeout} (ReasmTimeout): incomplete datagrams dropped when {@code ipfrag_time} ran out.</li>
 * </ul>
 * The other way, outer packets vnetd sends that the kernel had to fragment (an inner packet without DF that fits the
 * tunnel MTU but not the outgoing link, see {@code OuterFragmentation}) are exported as
 * {@code vnetd_outer_fragmentation_total{family,result="fragmented|fragments|failed"}} (FragOKs: datagrams
 * fragmented, FragCreates: fragments made, FragFails: datagrams that needed fragmenting and could not be): a rising
 * {@code fragmented} says a tunnel MTU is larger than the path carries.
 *
 * <p>All count the whole network namespace, not only vnetd's sockets: run vnetd in its own namespace, or read them
 * as an upper bound.
 */
public final class OuterFragments {
    /** The sysctls that bound reassembly, under /proc/sys. */
    public static final List<String> SYSCTLS = List.of("net/ipv4/ipfrag_high_thresh", "net/ipv4/ipfrag_low_thresh",
            "net/ipv4/ipfrag_time", "net/ipv6/ip6frag_high_thresh", "net/ipv6/ip6frag_low_thresh",
            "net/ipv6/ip6frag_time");
    /**
     * Reassembly memory above which vnetd warns at start, in bytes: 64 MiB, sixteen times the kernel's 4 MiB
     * default; more lets a fragment flood hold that much kernel memory per namespace.
     */
    public static final long HIGH_THRESH_WARNING = 64L << 20;
    /** Reassembly timeout above which vnetd warns at start, in seconds: the IPv6 default of 60 (RFC 8200 4.5). */
    public static final long TIME_WARNING = 60;

    /** The counter results, with their names in /proc/net/snmp (IPv4) and /proc/net/snmp6 (IPv6, "Ip6" prefix). */
    private static final String[][] RESULTS = {{"requested", "ReasmReqds"}, {"ok", "ReasmOKs"},
        {"failed", "ReasmFails"}, {"timeout", "ReasmTimeout"}};
    /** The fragmentation counter results and their names, as {@link #RESULTS}. */
    private static final String[][] FRAGMENTATION = {{"fragmented", "FragOKs"}, {"fragments", "FragCreates"},
        {"failed", "FragFails"}};
    private static final Logger LOG = LoggerFactory.getLogger(OuterFragments.class);

    private final Path snmp;
    private final Path snmp6;

    /** Counters read from {@code procNet}/snmp and {@code procNet}/snmp6 ({@code /proc/net} on Linux). */
    public OuterFragments(Path procNet) {
        this.snmp = procNet.resolve("snmp");
        this.snmp6 = procNet.resolve("snmp6");
    }

    /**
     * Registers {@code vnetd_outer_reassembly_total{family,result}} and {@code vnetd_outer_fragmentation_total{family,
     * result}} in {@code registry}; each scrape reads the files again. The meters read through the registry itself (Micrometer holds its objects weakly, and the
     * registry lives as long as its meters), their functions holding this reader.
     */
    public void register(MeterRegistry registry) {
        for (String[] result : RESULTS) {
            String field = result[1];
            FunctionCounter.builder("vnetd.outer.reassembly", registry, r -> ipv4().getOrDefault(field, 0L))
                    .description("outer fragment reassembly by the kernel, from /proc/net/snmp")
                    .tags("family", "ipv4", "result", result[0])
                    .register(registry);
            FunctionCounter.builder("vnetd.outer.reassembly", registry, r -> ipv6().getOrDefault("Ip6" + field, 0L))
                    .description("outer fragment reassembly by the kernel, from /proc/net/snmp6")
                    .tags("family", "ipv6", "result", result[0])
                    .register(registry);
        }
        for (String[] result : FRAGMENTATION) {
            String field = result[1];
            FunctionCounter.builder("vnetd.outer.fragmentation", registry, r -> ipv4().getOrDefault(field, 0L))
                    .description("outer packets the kernel fragmented on sending, from /proc/net/snmp")
                    .tags("family", "ipv4", "result", result[0])
                    .register(registry);
            FunctionCounter.builder("vnetd.outer.fragmentation", registry, r -> ipv6().getOrDefault("Ip6" + field, 0L))
                    .description("outer packets the kernel fragmented on sending, from /proc/net/snmp6")
                    .tags("family", "ipv6", "result", result[0])
                    .register(registry);
        }
    }

    /** The IPv4 "Ip:" counters of /proc/net/snmp by name; empty when it cannot be read. */
    public Map<String, Long> ipv4() {
        Map<String, Long> values = new HashMap<>();
        List<String> lines = lines(snmp);
        for (int i = 0; i + 1 < lines.size(); i++) {
            String[] names = lines.get(i).trim().split("\\s+");
            String[] numbers = lines.get(i + 1).trim().split("\\s+");
            if (names[0].equals("Ip:") && numbers[0].equals("Ip:") && names.length == numbers.length) {
                for (int j = 1; j < names.length; j++) {
                    values.put(names[j], parse(numbers[j]));
                }
                break;
            }
        }
        return values;
    }

    /** The counters of /proc/net/snmp6 by name; empty when it cannot be read. */
    public Map<String, Long> ipv6() {
        Map<String, Long> values = new HashMap<>();
        for (String line : lines(snmp6)) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 2) {
                values.put(fields[0], parse(fields[1]));
            }
        }
        return values;
    }

    /**
     * Reads the reassembly sysctls under {@code procSys} ({@code /proc/sys}) and logs them in one line, with a
     * warning when they allow more memory or time than {@link #HIGH_THRESH_WARNING} and {@link #TIME_WARNING}.
     * Returns the values read, by sysctl path (absent when unreadable).
     */
    public static Map<String, Long> checkLimits(Path procSys) {
        Map<String, Long> values = new HashMap<>();
        StringBuilder line = new StringBuilder("event=outer_reassembly_limits");
        for (String sysctl : SYSCTLS) {
            List<String> content = lines(procSys.resolve(sysctl));
            String name = sysctl.replace('/', '.');
            if (content.isEmpty()) {
                line.append(' ').append(name).append("=unreadable");
                continue;
            }
            long value = parse(content.getFirst().trim());
            values.put(sysctl, value);
            line.append(' ').append(name).append('=').append(value);
        }
        boolean loose = values.getOrDefault("net/ipv4/ipfrag_high_thresh", 0L) > HIGH_THRESH_WARNING
                || values.getOrDefault("net/ipv6/ip6frag_high_thresh", 0L) > HIGH_THRESH_WARNING
                || values.getOrDefault("net/ipv4/ipfrag_time", 0L) > TIME_WARNING
                || values.getOrDefault("net/ipv6/ip6frag_time", 0L) > TIME_WARNING;
        if (loose) {
            LOG.warn("{} warning=\"a fragment flood may hold more than {} MiB or {} s of reassembly; see "
                    + "docs/operations.md\"", line, HIGH_THRESH_WARNING >> 20, TIME_WARNING);
        } else {
            LOG.info("{}", line);
        }
        return values;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long parse(String number) {
        try {
            return Long.parseLong(number);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
