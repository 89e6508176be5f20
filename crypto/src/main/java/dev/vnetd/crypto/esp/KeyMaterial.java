package dev.vnetd.crypto.esp;

import java.util.Arrays;

/**
 * The keying material of one SA as IKEv2 and Linux xfrm lay it out: for AES-GCM and ChaCha20-Poly1305 the key then
 * the 4-byte salt (RFC 4106 8.1, RFC 7634 2); for AES-CBC with HMAC-SHA-256 the encryption key then the 32-byte
 * integrity key. Never printed: {@link #toString()} names only the transform and the length.
 *
 * <p>Key file syntax, parsed by {@link #parseHex}: hex digits, optionally prefixed by {@code 0x}; whitespace and
 * {@code :} between digit pairs are ignored; {@code #} starts a comment that runs to the end of the line.
 */
public final class KeyMaterial {
    private final EspTransform transform;
    private final byte[] bytes;

    private KeyMaterial(EspTransform transform, byte[] bytes) {
        this.transform = transform;
        this.bytes = bytes;
    }

    /**
     * Material from raw bytes (copied).
     *
     * @throws IllegalArgumentException when the length does not fit the transform (the message has no key bytes)
     */
    public static KeyMaterial of(EspTransform transform, byte[] bytes) {
        if (!transform.acceptsMaterialLength(bytes.length)) {
            throw new IllegalArgumentException(lengthMessage(transform, bytes.length));
        }
        return new KeyMaterial(transform, bytes.clone());
    }

    /**
     * Parses key file text.
     *
     * @throws KeyMaterialException with line and column of the first problem; messages never echo key characters
     */
    public static KeyMaterial parseHex(CharSequence text, EspTransform transform) throws KeyMaterialException {
        byte[] out = new byte[text.length() / 2 + 1];
        int count = 0;
        int line = 1;
        int column = 0;
        int firstLine = 0;
        int firstColumn = 0;
        int pendingNibble = -1;
        int pendingLine = 0;
        int pendingColumn = 0;
        boolean inComment = false;
        boolean sawDigits = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            column++;
            if (c == '\n') {
                line++;
                column = 0;
                inComment = false;
                continue;
            }
            if (inComment) {
                continue;
            }
            if (c == '#') {
                inComment = true;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == ':') {
                if (pendingNibble >= 0 && c != ':') {
                    throw new KeyMaterialException(pendingLine, pendingColumn, "hex digits must come in pairs");
                }
                continue;
            }
            if (c == '0' && !sawDigits && pendingNibble < 0 && i + 1 < text.length()
                    && (text.charAt(i + 1) == 'x' || text.charAt(i + 1) == 'X')) {
                i++;
                column++;
                sawDigits = true;
                continue;
            }
            int nibble = Character.digit(c, 16);
            if (nibble < 0 || c > 'f') {
                throw new KeyMaterialException(line, column, "not a hex digit (key files hold hex, '#' comments)");
            }
            if (!sawDigits) {
                firstLine = line;
                firstColumn = column;
            }
            sawDigits = true;
            if (pendingNibble < 0) {
                pendingNibble = nibble;
                pendingLine = line;
                pendingColumn = column;
            } else {
                out[count++] = (byte) (pendingNibble << 4 | nibble);
                pendingNibble = -1;
            }
        }
        if (pendingNibble >= 0) {
            Arrays.fill(out, (byte) 0);
            throw new KeyMaterialException(pendingLine, pendingColumn, "odd number of hex digits");
        }
        if (!transform.acceptsMaterialLength(count)) {
            Arrays.fill(out, (byte) 0);
            throw new KeyMaterialException(Math.max(firstLine, 1), Math.max(firstColumn, 1),
                    lengthMessage(transform, count));
        }
        byte[] material = Arrays.copyOf(out, count);
        Arrays.fill(out, (byte) 0);
        return new KeyMaterial(transform, material);
    }

    private static String lengthMessage(EspTransform transform, int length) {
        return "key material is " + length + " bytes, " + transform.configName() + " needs "
                + transform.materialLengths() + " (" + transform.materialDescription() + ")";
    }

    /** The transform this material is for. */
    public EspTransform transform() {
        return transform;
    }

    /** Length in bytes. */
    public int length() {
        return bytes.length;
    }

    /** The cipher key: all but the salt (AEAD) or all but the HMAC key (AES-CBC). A copy. */
    byte[] cipherKey() {
        int tail = transform.isAead() ? EspTransform.SALT_LENGTH : EspTransform.HMAC_KEY_LENGTH;
        return Arrays.copyOf(bytes, bytes.length - tail);
    }

    /** The 4-byte salt of an AEAD transform. A copy. */
    byte[] salt() {
        return Arrays.copyOfRange(bytes, bytes.length - EspTransform.SALT_LENGTH, bytes.length);
    }

    /** The 32-byte HMAC key of AES-CBC-HMAC-SHA-256. A copy. */
    byte[] integrityKey() {
        return Arrays.copyOfRange(bytes, bytes.length - EspTransform.HMAC_KEY_LENGTH, bytes.length);
    }

    /** An independent copy, so an SA keeps its keys when the caller destroys its own. */
    KeyMaterial copy() {
        return new KeyMaterial(transform, bytes.clone());
    }

    /**
     * Whether {@code other} holds the same transform and key bytes (compared in constant time), e.g. to keep an SA
     * whose configuration a reload did not change.
     */
    public boolean sameAs(KeyMaterial other) {
        return other != null && transform == other.transform
                && java.security.MessageDigest.isEqual(bytes, other.bytes);
    }

    /** Overwrites the material with zeros; SAs built earlier keep their own copies. */
    public void destroy() {
        Arrays.fill(bytes, (byte) 0);
    }

    @Override
    public String toString() {
        return "KeyMaterial[" + transform.configName() + ", " + bytes.length + " bytes, redacted]";
    }
}
