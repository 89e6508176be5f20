package dev.vnetd.control.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A tshark capture around a test, and its dissection with every checksum validated. */
public final class Tshark implements AutoCloseable {
    /** Wireshark's expert severity "warning" (PI_WARN): bad checksums and malformations are at least this. */
    public static final int SEVERITY_WARNING = 0x00600000;

    /**
     * Checksums tshark verifies: IPv4 headers, TCP, and (always) ICMP and ICMPv6. Not UDP: the outer UDP checksum
     * is filled in by the kernel after capture points on loopback and veth (checksum offload), so every captured
     * outer datagram would look bad; inner UDP checksums are checked by the scapy peers instead.
     */
    private static final List<String> VALIDATE = List.of("-o", "ip.check_checksum:TRUE", "-o",
            "tcp.check_checksum:TRUE");

    private final Process process;
    private final Path file;

    private Tshark(Process process, Path file) {
        this.process = process;
        this.file = file;
    }

    /**
     * Starts capturing on {@code iface} with capture filter {@code filter} into {@code file}, optionally inside a
     * network namespace; returns once tshark says it is capturing.
     */
    public static Tshark capture(String netns, String iface, String filter, Path file)
            throws IOException, InterruptedException {
        return capture(netns, iface, filter, file, 0);
    }

    /**
     * As {@link #capture(String, String, String, Path)}, keeping only the first {@code snaplen} bytes of each packet
     * (0: whole packets); the packets' lengths are still recorded, and reading a capture of headers only is fast.
     */
    public static Tshark capture(String netns, String iface, String filter, Path file, int snaplen)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (netns != null) {
            command.addAll(List.of("ip", "netns", "exec", netns));
        }
        command.addAll(List.of("tshark", "-n", "-i", iface, "-s", Integer.toString(snaplen), "-f", filter, "-w",
                file.toString()));
        Path log = Files.createTempFile(file.getParent(), "tshark", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains("Capturing on")) {
                Thread.sleep(300);
                return new Tshark(p, file);
            }
            if (!p.isAlive()) {
                throw new AssertionError("tshark exited: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        p.destroyForcibly();
        throw new AssertionError("tshark did not start capturing: " + Files.readString(log));
    }

    /** Stops the capture, letting tshark finish the file. */
    @Override
    public void close() throws InterruptedException {
        Thread.sleep(300);
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** Lines of {@code tshark -r} with display filter {@code filter} and extra options (e.g. decode-as). */
    public List<String> read(String filter, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", file.toString()));
        command.addAll(VALIDATE);
        command.addAll(List.of(options));
        if (filter != null) {
            command.addAll(List.of("-Y", filter));
        }
        Path errors = Files.createTempFile(file.getParent(), "tshark", ".err");
        Process p = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("tshark -r failed: " + out + Files.readString(errors));
        }
        return out.lines().filter(l -> !l.isBlank()).toList();
    }
}
