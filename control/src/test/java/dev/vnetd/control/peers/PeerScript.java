package dev.vnetd.control.peers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a peer script from src/test/resources/peers and reads its key=value report lines. */
public final class PeerScript {
    private PeerScript() {
    }

    /** What every peer script imports. */
    private static final String COMMON = "/peers/peer_common.py";
    /** RFC 4303 ESN handling for scapy's ESP HMAC, from the crypto module's test-jar (its scapy peer uses it too). */
    private static final String SCAPY_ESN = "/dev/vnetd/crypto/esp/scapy_esn.py";

    /** Copies the script, and the modules the scripts share, to {@code dir}; returns the script's path. */
    public static Path extract(String name, Path dir) throws IOException {
        Path script = copy("/peers/" + name, dir);
        copy(COMMON, dir);
        copy(SCAPY_ESN, dir);
        return script;
    }

    private static Path copy(String resource, Path dir) throws IOException {
        Path target = dir.resolve(resource.substring(resource.lastIndexOf('/') + 1));
        if (Files.exists(target)) {
            return target;
        }
        try (InputStream in = PeerScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no peer script " + resource);
            }
            Files.copy(in, target);
        }
        return target;
    }

    /**
     * Runs {@code command} (e.g. python and a script, possibly behind {@code ip netns exec}) and returns one map per
     * report line; fails with the script's output when it exits non-zero.
     */
    public static List<Map<String, String>> run(List<String> command, long timeoutSeconds)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("peer timed out: " + command);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("peer failed (exit " + p.exitValue() + "): " + command + "\n" + text);
        }
        List<Map<String, String>> results = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("case=")) {
                continue;
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (String field : line.trim().split(" ")) {
                int eq = field.indexOf('=');
                fields.put(field.substring(0, eq), field.substring(eq + 1));
            }
            results.add(fields);
        }
        return results;
    }
}
