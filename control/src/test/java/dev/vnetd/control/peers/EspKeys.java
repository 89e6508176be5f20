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
}
