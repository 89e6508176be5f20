package dev.vnetd.control.peers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three network namespaces in a row, site-a ─ edge ─ site-b, joined by two veth pairs: the underlay a vnetd in each
 * carries tunnels over. Underlay addresses are from 198.18.0.0/15 (RFC 2544): 198.18.1.1 (site-a) ─ 198.18.1.2
 * (edge) and 198.18.2.2 (edge) ─ 198.18.2.1 (site-b). Sites cannot reach each other except through the edge: the
 * edge does not forward between its links (no IP forwarding), so traffic between the sites crosses vnetd.
 */
public final class SiteEdgeSite implements AutoCloseable {
    /** site-a's underlay address. */
    public static final String SITE_A_UNDERLAY = "198.18.1.1";
    /** The edge's underlay address toward site-a. */
    public static final String EDGE_A_UNDERLAY = "198.18.1.2";
    /** The edge's underlay address toward site-b. */
    public static final String EDGE_B_UNDERLAY = "198.18.2.2";
    /** site-b's underlay address. */
    public static final String SITE_B_UNDERLAY = "198.18.2.1";

    /** site-a's namespace. */
    public final String siteA;
    /** The edge's namespace. */
    public final String edge;
    /** site-b's namespace. */
    public final String siteB;
    /** site-a's end of its link to the edge (in {@link #siteA}). */
    public final String siteALink;
    /** site-b's end of its link to the edge (in {@link #siteB}). */
    public final String siteBLink;

    private SiteEdgeSite(String prefix, String tag) {
        siteA = prefix + "-a-" + tag;
        edge = prefix + "-e-" + tag;
        siteB = prefix + "-b-" + tag;
        siteALink = "va" + tag;
        siteBLink = "vb" + tag;
    }

    /** Creates the namespaces (named PREFIX-a-TAG, PREFIX-e-TAG, PREFIX-b-TAG) and their links. */
    public static SiteEdgeSite create(String prefix) throws IOException, InterruptedException {
        String tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
        SiteEdgeSite net = new SiteEdgeSite(prefix, tag);
        try {
            for (String ns : List.of(net.siteA, net.edge, net.siteB)) {
                Namespaces.ip("netns", "add", ns);
                Namespaces.ip("-n", ns, "link", "set", "lo", "up");
            }
            link(net.siteA, net.siteALink, SITE_A_UNDERLAY, net.edge, "ea" + tag, EDGE_A_UNDERLAY);
            link(net.siteB, net.siteBLink, SITE_B_UNDERLAY, net.edge, "eb" + tag, EDGE_B_UNDERLAY);
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    private static void link(String left, String leftLink, String leftAddress, String right, String rightLink,
                             String rightAddress) throws IOException, InterruptedException {
        Namespaces.ip("link", "add", leftLink, "netns", left, "type", "veth", "peer", "name", rightLink, "netns",
                right);
        Namespaces.ip("-n", left, "addr", "add", leftAddress + "/24", "dev", leftLink);
        Namespaces.ip("-n", right, "addr", "add", rightAddress + "/24", "dev", rightLink);
        Namespaces.ip("-n", left, "link", "set", leftLink, "up");
        Namespaces.ip("-n", right, "link", "set", rightLink, "up");
    }

    /** Runs {@code command} in namespace {@code ns}; returns its exit code and output (stdout and stderr). */
    public static Result run(String ns, long timeoutSeconds, String... command)
            throws IOException, InterruptedException {
        Process p = start(ns, command);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out);
        }
        return new Result(p.exitValue(), out);
    }

    /** Starts {@code command} in namespace {@code ns}, stderr merged into stdout. */
    public static Process start(String ns, String... command) throws IOException {
        List<String> full = new ArrayList<>(Namespaces.exec(ns));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    /** Reads {@code p}'s output until a line contains {@code expected}; fails with what it printed otherwise. */
    public static void awaitLine(Process p, String expected) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = reader.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.contains(expected)) {
                return;
            }
        }
        throw new AssertionError("no '" + expected + "' from the process:\n" + seen);
    }

    /** The number in group 1 of the last match of {@code regex} in {@code text}; fails when there is none. */
    public static long last(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        long value = -1;
        while (m.find()) {
            value = Long.parseLong(m.group(1));
        }
        assertTrue(value >= 0, "no " + regex + " in " + text);
        return value;
    }

    /**
     * Three echo replies from {@code destination} within {@code waitSeconds}: ping keeps sending until it has three,
     * since the first packets through a fresh vnetd can take most of a second (class loading, the JIT, the ciphers'
     * first use, a tunnel's session coming up).
     */
    public static void assertPings(String ns, String destination, int waitSeconds) throws Exception {
        Result r = run(ns, waitSeconds + 10, "ping", "-n", "-c", "3", "-i", "0.2", "-w", String.valueOf(waitSeconds),
                destination);
        assertEquals(0, r.exit(), r.output());
        assertTrue(last(r.output(), "(\\d+) received") >= 3, r.output());
    }

    /** A counter field of a tunnel in the admin API of the vnetd in {@code ns} (admin on 127.0.0.1:9400). */
    public static long tunnelCounter(String ns, String tunnel, String field) throws Exception {
        Result r = run(ns, 10, "curl", "-sf", "http://127.0.0.1:9400/api/v1/tunnels");
        assertEquals(0, r.exit(), r.output());
        Matcher m = Pattern.compile("\\{\"name\":\"" + Pattern.quote(tunnel) + "\"[^}]*\"" + field + "\":(\\d+)")
                .matcher(r.output());
        assertTrue(m.find(), tunnel + "." + field + " in " + r.output());
        return Long.parseLong(m.group(1));
    }

    /** Deletes the namespaces, and with them the links and any TUN device left in them. */
    @Override
    public void close() {
        for (String ns : List.of(siteA, edge, siteB)) {
            try {
                Namespaces.ip("netns", "del", ns);
            } catch (IOException e) {
                // never made
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What a command did.
     *
     * @param exit   exit code, -1 when it timed out
     * @param output what it printed
     */
    public record Result(int exit, String output) {
    }
}
