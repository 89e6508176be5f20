package dev.vnetd.control.peers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The files a MASQUE test's edge and clients read: the edge's self-signed TLS certificate for {@code edge.test}
 * (made with openssl) and secrets that vnetd accepts only when they are owner-only.
 */
final class MasqueTestFiles {
    private MasqueTestFiles() {
    }

    /**
     * Writes {@code edge.pem} and the owner-only {@code edge.key} into {@code dir}: an EC P-256 certificate for
     * {@code edge.test}, valid a day, that the clients trust as their {@code ca}.
     */
    static void edgeCertificate(Path dir) throws Exception {
        Prerequisites.openssl();
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("edge.key").toString(), "-out",
                dir.resolve("edge.pem").toString(), "-days", "1", "-subj", "/CN=edge.test", "-addext",
                "subjectAltName=DNS:edge.test").redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        assertTrue(openssl.waitFor(30, TimeUnit.SECONDS) && openssl.exitValue() == 0, "openssl failed");
        secret(dir, "edge.key", null);
    }

    /** Makes {@code dir/name} owner-only, first writing {@code content} and a newline into it unless null. */
    static void secret(Path dir, String name, String content) throws Exception {
        Path file = dir.resolve(name);
        if (content != null) {
            Files.writeString(file, content + "\n");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
