package dev.vnetd.crypto.esp;

import java.util.Locale;

/**
 * The ESP transforms vnetd speaks, with their wire sizes and the layout of their keying material as IKEv2 and Linux
 * xfrm lay it out.
 *
 * <table>
 * <caption>Transforms</caption>
 * <tr><th>name</th><th>IV</th><th>block</th><th>ICV</th><th>key material</th><th>spec</th></tr>
 * <tr><td>aes-gcm-128</td><td>8</td><td>4</td><td>16</td><td>16 key + 4 salt</td><td>RFC 4106</td></tr>
 * <tr><td>aes-gcm-256</td><td>8</td><td>4</td><td>16</td><td>32 key + 4 salt</td><td>RFC 4106</td></tr>
 * <tr><td>aes-gcm-128-icv12, -icv8</td><td>8</td><td>4</td><td>12, 8</td><td>16 key + 4 salt</td>
 *     <td>RFC 4106</td></tr>
 * <tr><td>aes-gcm-256-icv12, -icv8</td><td>8</td><td>4</td><td>12, 8</td><td>32 key + 4 salt</td>
 *     <td>RFC 4106</td></tr>
 * <tr><td>chacha20-poly1305</td><td>8</td><td>4</td><td>16</td><td>32 key + 4 salt</td><td>RFC 7634</td></tr>
 * <tr><td>aes-cbc-hmac-sha256</td><td>16</td><td>16</td><td>16</td><td>16/24/32 key + 32 HMAC key</td>
 *     <td>RFC 3602, RFC 4868</td></tr>
 * </table>
 */
public enum EspTransform {
    /** AES-GCM with a 128-bit key and a 16-byte ICV (RFC 4106). */
    AES_GCM_128("aes-gcm-128", 8, 4, 16, "16-byte key + 4-byte salt", 20),
    /** AES-GCM with a 256-bit key and a 16-byte ICV (RFC 4106). */
    AES_GCM_256("aes-gcm-256", 8, 4, 16, "32-byte key + 4-byte salt", 36),
    /** AES-GCM with a 128-bit key and a 12-byte ICV (RFC 4106, IKEv2 ENCR_AES_GCM_12). */
    AES_GCM_128_ICV12("aes-gcm-128-icv12", 8, 4, 12, "16-byte key + 4-byte salt", 20),
    /** AES-GCM with a 256-bit key and a 12-byte ICV (RFC 4106, IKEv2 ENCR_AES_GCM_12). */
    AES_GCM_256_ICV12("aes-gcm-256-icv12", 8, 4, 12, "32-byte key + 4-byte salt", 36),
    /** AES-GCM with a 128-bit key and an 8-byte ICV (RFC 4106, IKEv2 ENCR_AES_GCM_8); Bouncy Castle only. */
    AES_GCM_128_ICV8("aes-gcm-128-icv8", 8, 4, 8, "16-byte key + 4-byte salt", 20),
    /** AES-GCM with a 256-bit key and an 8-byte ICV (RFC 4106, IKEv2 ENCR_AES_GCM_8); Bouncy Castle only. */
    AES_GCM_256_ICV8("aes-gcm-256-icv8", 8, 4, 8, "32-byte key + 4-byte salt", 36),
    /** ChaCha20-Poly1305 (RFC 7634). */
    CHACHA20_POLY1305("chacha20-poly1305", 8, 4, 16, "32-byte key + 4-byte salt", 36),
    /** AES-CBC (RFC 3602) with HMAC-SHA-256 truncated to 128 bits (RFC 4868), for older peers. */
    AES_CBC_HMAC_SHA256("aes-cbc-hmac-sha256", 16, 16, 16,
            "16, 24 or 32-byte AES key + 32-byte HMAC-SHA-256 key", 48, 56, 64);

    /** Length of the salt that follows the key for the AEAD transforms (RFC 4106 8.1, RFC 7634 2). */
    public static final int SALT_LENGTH = 4;
    /** Length of the HMAC-SHA-256 integrity key (RFC 4868 2.1.1). */
    public static final int HMAC_KEY_LENGTH = 32;

    private final String configName;
    private final int ivLength;
    private final int blockSize;
    private final int icvLength;
    private final String materialDescription;
    private final int[] materialLengths;

    EspTransform(String configName, int ivLength, int blockSize, int icvLength, String materialDescription,
                 int... materialLengths) {
        this.configName = configName;
        this.ivLength = ivLength;
        this.blockSize = blockSize;
        this.icvLength = icvLength;
        this.materialDescription = materialDescription;
        this.materialLengths = materialLengths;
    }

    /** The name used in YAML ({@code transform: aes-gcm-128}). */
    public String configName() {
        return configName;
    }

    /** Bytes of explicit IV after the ESP header. */
    public int ivLength() {
        return ivLength;
    }

    /** Payload, pad length and next header together are a multiple of this (4 for the AEADs, RFC 4303 2.4). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes of integrity check value at the end of the packet. */
    public int icvLength() {
        return icvLength;
    }

    /** True for AES-GCM and ChaCha20-Poly1305. */
    public boolean isAead() {
        return this != AES_CBC_HMAC_SHA256;
    }

    /** The shortest keying material accepted, in bytes (AES-128 for AES-CBC). */
    public int minimumMaterialLength() {
        return materialLengths[0];
    }

    /** What the key file must hold, for error messages (never the key itself). */
    public String materialDescription() {
        return materialDescription;
    }

    /** Whether keying material of this many bytes fits the transform. */
    public boolean acceptsMaterialLength(int length) {
        for (int accepted : materialLengths) {
            if (accepted == length) {
                return true;
            }
        }
        return false;
    }

    /** The accepted material lengths in bytes, e.g. "20" or "48, 56 or 64", for error messages. */
    public String materialLengths() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < materialLengths.length; i++) {
            if (i > 0) {
                text.append(i == materialLengths.length - 1 ? " or " : ", ");
            }
            text.append(materialLengths[i]);
        }
        return text.toString();
    }

    /**
     * The transform with this YAML name.
     *
     * @throws IllegalArgumentException naming the accepted values when none matches
     */
    public static EspTransform fromConfigName(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        for (EspTransform transform : values()) {
            if (transform.configName.equals(wanted)) {
                return transform;
            }
        }
        throw new IllegalArgumentException("unknown ESP transform '" + name + "', expected aes-gcm-128, aes-gcm-256,"
                + " chacha20-poly1305, aes-cbc-hmac-sha256 or aes-gcm-128/256-icv12/-icv8");
    }
}
