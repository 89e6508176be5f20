package dev.vnetd.control.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces a test creates and removes itself: two hosts joined by a veth pair. Traffic never leaves
 * them. Addresses are from 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32 (documentation), used only
 * inside these namespaces.
 */
public final class Namespaces implements AutoCloseable {
    /** Name of the first namespace. */
    public final String left;
    /** Name of the second namespace. */
    public final String right;
    /** The veth end in {@link #left}. */
    public final String leftLink;
    /** The veth end in {@link #right}. */
    public final String rightLink;

    private Namespaces(String left, String right, String leftLink, String rightLink) {
        this.left = left;
        this.right = right;
        this.leftLink = leftLink;
        this.rightLink = rightLink;
    }

    /**
     * Creates two namespaces joined by a veth pair, with the given addresses (CIDR, IPv4 or IPv6) on each end.
     */
    public static Namespaces pair(String prefix, List<String> leftAddresses, List<String> rightAddresses)
            throws IOException, InterruptedException {
        String tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
        Namespaces ns = new Namespaces(prefix + "-l-" + tag, prefix + "-r-" + tag, "vl" + tag, "vr" + tag);
        try {
            ip("netns", "add", ns.left);
            ip("netns", "add", ns.right);
            ip("link", "add", ns.leftLink, "netns", ns.left, "type", "veth", "peer", "name", ns.rightLink, "netns",
                    ns.right);
            for (String a : leftAddresses) {
                ip("-n", ns.left, "addr", "add", a, "dev", ns.leftLink, "nodad");
            }
            for (String a : rightAddresses) {
                ip("-n", ns.right, "addr", "add", a, "dev", ns.rightLink, "nodad");
            }
            for (String n : List.of(ns.left, ns.right)) {
                ip("-n", n, "link", "set", "lo", "up");
            }
            ip("-n", ns.left, "link", "set", ns.leftLink, "up");
            ip("-n", ns.right, "link", "set", ns.rightLink, "up");
        } catch (IOException | RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /** Runs {@code ip ARGS}; fails with its output when it fails. */
    public static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + ": " + out);
        }
    }

    /** The command prefix that runs something inside namespace {@code name}. */
    public static List<String> exec(String name) {
        return List.of("ip", "netns", "exec", name);
    }

    /** Deletes both namespaces (and with them the veth pair). */
    @Override
    public void close() {
        for (String n : List.of(left, right)) {
            try {
                ip("netns", "del", n);
            } catch (IOException e) {
                // already gone, or never made
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
