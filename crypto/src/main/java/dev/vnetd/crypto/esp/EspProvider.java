package dev.vnetd.crypto.esp;

import java.util.Locale;

/**
 * Where the cipher implementations come from. The default per transform is the fastest one measured by
 * {@code bench/run.sh esp} (docs/performance.md, ESP); the setting below overrides it for every transform.
 *
 * <p>Setting: {@code vnetd.esp.provider} (system property), default {@code auto}: {@code openssl} forces OpenSSL's
 * libcrypto (libcrypto.so.3 through the FFM API; an error when it cannot be loaded), {@code jdk} forces the JDK's JCE
 * (AES-NI, CLMUL and vector intrinsics), {@code bc} forces Bouncy Castle's low-level engines, {@code auto} picks per
 * transform as {@link #fastest} says: OpenSSL when libcrypto loaded, else the JCE. Auto is the default so that a host
 * without libssl3 still runs, on the JCE.
 */
public enum EspProvider {
    /** The JDK's JCE (SunJCE), intrinsified AES-GCM, ChaCha20-Poly1305, AES-CBC and HmacSHA256. */
    JDK("jdk"),
    /** Bouncy Castle's low-level engines: GCMBlockCipher, ChaCha20Poly1305, CBCBlockCipher with HMac. */
    BOUNCY_CASTLE("bc"),
    /** OpenSSL 3's libcrypto through FFM downcalls: EVP AES-GCM, ChaCha20-Poly1305, AES-CBC and HMAC_CTX. */
    OPENSSL("openssl");

    /** The system property that overrides the provider for every transform. */
    public static final String PROPERTY = "vnetd.esp.provider";

    private final String configName;

    EspProvider(String configName) {
        this.configName = configName;
    }

    /** The name used in settings and benchmark output ({@code jdk}, {@code bc} or {@code openssl}). */
    public String configName() {
        return configName;
    }

    /**
     * The provider measured fastest for this transform (decrypt plus re-encrypt at 64, 512 and 1400 bytes, see
     * docs/performance.md, ESP): OpenSSL for every transform when libcrypto loaded: it allocates nothing per packet
     * where the JCE allocates 2 to 4.4 KB, runs at least as fast as the JCE for the AEADs (ChaCha20-Poly1305 clearly
     * faster), and is the only fast provider of the 8-byte GCM ICVs. Without it the JCE wherever it implements the
     * transform, Bouncy Castle for the 8-byte GCM ICVs the JCE lacks.
     */
    public static EspProvider fastest(EspTransform transform) {
        if (LibCrypto.available()) {
            return OPENSSL;
        }
        return switch (transform) {
            case AES_GCM_128, AES_GCM_256, AES_GCM_128_ICV12, AES_GCM_256_ICV12, CHACHA20_POLY1305,
                 AES_CBC_HMAC_SHA256 -> JDK;
            case AES_GCM_128_ICV8, AES_GCM_256_ICV8 -> BOUNCY_CASTLE;
        };
    }

    /** Whether OpenSSL's libcrypto loaded on this host (it is looked up once, on first use). */
    public static boolean openSslAvailable() {
        return LibCrypto.available();
    }

    /**
     * Whether this provider implements the transform: the JCE's GCM takes no tag shorter than 96 bits; OpenSSL
     * implements them all when libcrypto loaded.
     */
    public boolean supports(EspTransform transform) {
        return switch (this) {
            case JDK -> transform.icvLength() >= 12;
            case BOUNCY_CASTLE -> true;
            case OPENSSL -> LibCrypto.available();
        };
    }

    /**
     * This provider if it implements the transform; for the JCE and 8-byte GCM ICVs, Bouncy Castle, which implements
     * them all.
     *
     * @throws IllegalStateException for OpenSSL when libcrypto.so.3 could not be loaded, saying why
     */
    public EspProvider orFallbackFor(EspTransform transform) {
        if (this == OPENSSL && !LibCrypto.available()) {
            throw new IllegalStateException(PROPERTY + "=openssl, but OpenSSL is unavailable: " + LibCrypto.failure()
                    + " (install libssl3t64 or libssl3, or choose auto, jdk or bc)");
        }
        return supports(transform) ? this : BOUNCY_CASTLE;
    }

    /**
     * The provider for a transform given a setting value: {@code auto} (or null) gives {@link #fastest}; a forced
     * provider that lacks the transform (the JCE and 8-byte GCM ICVs) gives way to Bouncy Castle.
     *
     * @throws IllegalArgumentException for anything but auto, jdk, bc or openssl
     * @throws IllegalStateException    for openssl when libcrypto.so.3 could not be loaded
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
        throw new IllegalArgumentException(PROPERTY + " must be auto, jdk, bc or openssl, got '" + setting + "'");
    }

    /** Keyed cipher objects for one SA, used only by the worker that owns {@code context}. */
    EspCipher newCipher(EspTransform transform, KeyMaterial material, EspContext context) {
        return switch (orFallbackFor(transform)) {
            case JDK -> transform.isAead()
                    ? new JceAeadCipher(transform, material)
                    : new JceCbcHmacCipher(transform, material);
            case BOUNCY_CASTLE -> transform.isAead()
                    ? new BcAeadCipher(transform, material)
                    : new BcCbcHmacCipher(transform, material);
            case OPENSSL -> transform.isAead()
                    ? new OpenSslAeadCipher(transform, material, context.nativeScratch())
                    : new OpenSslCbcHmacCipher(transform, material, context.nativeScratch());
        };
    }
}
