package dev.vnetd.crypto.esp;

import java.util.Locale;

/**
 * Where the cipher implementations come from. The default per transform is the faster one measured by
 * {@code bench/run.sh esp} (docs/performance.md, ESP); the setting below overrides it for every transform.
 *
 * <p>Setting: {@code vnetd.esp.provider} (system property), default {@code auto}: {@code jdk} forces the JDK's JCE
 * (AES-NI, CLMUL and vector intrinsics), {@code bc} forces Bouncy Castle's low-level engines, {@code auto} picks
 * per transform as {@link #fastest} says. Auto is the default because the measured winner differs by transform.
 */
public enum EspProvider {
    /** The JDK's JCE (SunJCE), intrinsified AES-GCM, ChaCha20-Poly1305, AES-CBC and HmacSHA256. */
    JDK("jdk"),
    /** Bouncy Castle's low-level engines: GCMBlockCipher, ChaCha20Poly1305, CBCBlockCipher with HMac. */
    BOUNCY_CASTLE("bc");

    /** The system property that overrides the provider for every transform. */
    public static final String PROPERTY = "vnetd.esp.provider";

    private final String configName;

    EspProvider(String configName) {
        this.configName = configName;
    }

    /** The name used in settings and benchmark output ({@code jdk} or {@code bc}). */
    public String configName() {
        return configName;
    }

    /**
     * The provider measured fastest for this transform (decrypt plus re-encrypt at 64, 512 and 1400 bytes, see
     * docs/performance.md, ESP): the JCE, whose intrinsics beat Bouncy Castle's pure-Java engines, wherever it
     * implements the transform.
     */
    public static EspProvider fastest(EspTransform transform) {
        return switch (transform) {
            case AES_GCM_128, AES_GCM_256, AES_GCM_128_ICV12, AES_GCM_256_ICV12, CHACHA20_POLY1305,
                 AES_CBC_HMAC_SHA256 -> JDK;
            case AES_GCM_128_ICV8, AES_GCM_256_ICV8 -> BOUNCY_CASTLE;
        };
    }

    /** Whether this provider implements the transform: the JCE's GCM takes no tag shorter than 96 bits. */
    public boolean supports(EspTransform transform) {
        return this == BOUNCY_CASTLE || transform.icvLength() >= 12;
    }

    /** This provider if it implements the transform, otherwise Bouncy Castle, which implements them all. */
    public EspProvider orFallbackFor(EspTransform transform) {
        return supports(transform) ? this : BOUNCY_CASTLE;
    }

    /**
     * The provider for a transform given a setting value: {@code auto} (or null) gives {@link #fastest}; a forced
     * provider that lacks the transform (the JCE and 8-byte GCM ICVs) gives way to Bouncy Castle.
     *
     * @throws IllegalArgumentException for anything but auto, jdk or bc
     */
    public static EspProvider resolve(String setting, EspTransform transform) {
        if (setting == null || setting.equalsIgnoreCase("auto")) {
            return fastest(transform);
        }
        String wanted = setting.toLowerCase(Locale.ROOT);
        for (EspProvider provider : values()) {
            if (provider.configName.equals(wanted)) {
                return provider.orFallbackFor(transform);
            }
        }
        throw new IllegalArgumentException(PROPERTY + " must be auto, jdk or bc, got '" + setting + "'");
    }

    EspCipher newCipher(EspTransform transform, KeyMaterial material) {
        return switch (orFallbackFor(transform)) {
            case JDK -> transform.isAead()
                    ? new JceAeadCipher(transform, material)
                    : new JceCbcHmacCipher(transform, material);
            case BOUNCY_CASTLE -> transform.isAead()
                    ? new BcAeadCipher(transform, material)
                    : new BcCbcHmacCipher(transform, material);
        };
    }
}
