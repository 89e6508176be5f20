package dev.vnetd.control.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Random ESP keying material for tests, written as key files with mode 0600 as vnetd demands. */
public final class EspKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private EspKeys() {
    }

    /** Hex of {@code length} random bytes. */
    public static String randomHex(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Writes {@code hex} to {@code file} with mode 0600 and returns the file. */
    public static Path write(Path file, String hex) throws IOException {
        Files.writeString(file, hex + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Key material length of a transform: key and salt (AEAD) or AES-128 key and HMAC-SHA-256 key (CBC). */
    public static int materialLength(String transform) {
        return switch (transform) {
            case "aes-gcm-128" -> 20;
            case "aes-cbc-hmac-sha256" -> 48;
            default -> 36;
        };
    }

    /**
     * tshark's {@code -o uat:esp_sa:...} entry for an AES-GCM SA with a 16-byte ICV (tshark 4.0 has AES-GCM and
     * AES-CBC with HMAC-SHA-256-128, no ChaCha20-Poly1305): the key file's hex, key then salt, is what it wants.
     */
    public static String tsharkGcmSa(String source, String destination, int spi, String keyHex) {
        return "uat:esp_sa:\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x%s\","
                .formatted(source, destination, spi, keyHex) + "\"NULL\",\"\"";
    }
}
