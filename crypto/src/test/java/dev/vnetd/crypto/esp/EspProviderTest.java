package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EspProviderTest {
    @Test
    void shouldFindLibcryptoOnTheseHosts() {
        assertTrue(EspProvider.openSslAvailable(), "libcrypto.so.3 (Debian libssl3) is a package dependency: "
                + LibCrypto.failure());
    }

    @Test
    void shouldResolveAutoToOpenSslForEveryTransformAndHonourOverrides() {
        for (EspTransform transform : EspTransform.values()) {
            assertEquals(EspProvider.OPENSSL, EspProvider.fastest(transform));
            assertEquals(EspProvider.OPENSSL, EspProvider.resolve("auto", transform));
            assertEquals(EspProvider.OPENSSL, EspProvider.resolve(null, transform));
            assertEquals(EspProvider.OPENSSL, EspProvider.resolve("OpenSSL", transform));
            assertEquals(EspProvider.JDK.orFallbackFor(transform), EspProvider.resolve("jdk", transform));
            assertEquals(EspProvider.BOUNCY_CASTLE, EspProvider.resolve("BC", transform));
        }
    }

    @Test
    void shouldFallBackToBouncyCastleForEightByteGcmIcvsTheJceLacks() {
        assertEquals(EspProvider.JDK, EspProvider.resolve("jdk", EspTransform.AES_GCM_128_ICV12));
        assertEquals(EspProvider.BOUNCY_CASTLE, EspProvider.resolve("jdk", EspTransform.AES_GCM_128_ICV8));
        EspContext context = new EspContext(EspProvider.JDK);

        assertEquals(EspProvider.BOUNCY_CASTLE, context.provider(EspTransform.AES_GCM_256_ICV8));
    }

    @Test
    void shouldGiveOpenSslEveryTransformIncludingEightByteGcmIcvs() {
        EspContext context = new EspContext("openssl");

        for (EspTransform transform : EspTransform.values()) {
            assertTrue(EspProvider.OPENSSL.supports(transform));
            assertEquals(EspProvider.OPENSSL, context.provider(transform));
        }
    }

    @Test
    void shouldRejectUnknownSettings() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new EspContext("boringssl"));

        assertEquals("vnetd.esp.provider must be auto, jdk, bc or openssl, got 'boringssl'", error.getMessage());
    }

    @Test
    void shouldUseOneProviderEverywhereWhenForced() {
        EspContext context = new EspContext(EspProvider.BOUNCY_CASTLE);

        for (EspTransform transform : EspTransform.values()) {
            assertEquals(EspProvider.BOUNCY_CASTLE, context.provider(transform));
        }
    }
}
