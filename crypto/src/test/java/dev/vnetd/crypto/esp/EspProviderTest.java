package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EspProviderTest {
    @Test
    void shouldResolveAutoToTheMeasuredFastestAndHonourOverrides() {
        for (EspTransform transform : EspTransform.values()) {
            assertEquals(EspProvider.fastest(transform), EspProvider.resolve("auto", transform));
            assertEquals(EspProvider.fastest(transform), EspProvider.resolve(null, transform));
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
    void shouldRejectUnknownSettings() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new EspContext("openssl"));

        assertEquals("vnetd.esp.provider must be auto, jdk or bc, got 'openssl'", error.getMessage());
    }

    @Test
    void shouldUseOneProviderEverywhereWhenForced() {
        EspContext context = new EspContext(EspProvider.BOUNCY_CASTLE);

        for (EspTransform transform : EspTransform.values()) {
            assertEquals(EspProvider.BOUNCY_CASTLE, context.provider(transform));
        }
    }
}
