package dev.vnetd.control.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The bearer token that guards the admin API when it listens beyond loopback. Only its SHA-256 digest is kept, and
 * presented tokens are compared digest to digest with {@link MessageDigest#isEqual} (constant time, and the same
 * for every length), so neither timing nor a heap dump tells the token. {@link #toString()} never shows it.
 */
public final class AdminToken {
    /** Shortest token accepted: 16 characters of a random token are at least 64 bits even in hex. */
    public static final int MIN_LENGTH = 16;
    private static final String BEARER = "Bearer ";

    private final byte[] digest;

    private AdminToken(byte[] digest) {
        this.digest = digest;
    }

    /** The token {@code text} (already stripped of surrounding whitespace). */
    public static AdminToken of(String text) {
        return new AdminToken(sha256(text));
    }

    /** Whether an {@code Authorization} header value (may be null) is {@code Bearer} and this token. */
    public boolean matchesAuthorization(String header) {
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return false;
        }
        return MessageDigest.isEqual(digest, sha256(header.substring(BEARER.length()).strip()));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Same token; compared in constant time (a reload compares the admin settings). */
    @Override
    public boolean equals(Object o) {
        return o instanceof AdminToken other && MessageDigest.isEqual(digest, other.digest);
    }

    @Override
    public int hashCode() {
        return 0;
    }

    @Override
    public String toString() {
        return "AdminToken[redacted]";
    }
}
