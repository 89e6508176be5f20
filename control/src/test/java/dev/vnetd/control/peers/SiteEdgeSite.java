package dev.vnetd.control.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

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
