package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KeyMaterialTest {
    private static final String GCM_128 = "000102030405060708090a0b0c0d0e0f10111213";

    @Test
    void shouldParseHexWithPrefixWhitespaceColonsAndComments() throws KeyMaterialException {
        KeyMaterial material = KeyMaterial.parseHex(
                "# branch-1 inbound\n0x00010203 04050607:08090a0b\n0C0D0E0F # key ends\n10111213\n",
                EspTransform.AES_GCM_128);

        assertEquals(20, material.length());
        assertArrayEquals(EspFixtures.hex("000102030405060708090a0b0c0d0e0f"), material.cipherKey());
        assertArrayEquals(EspFixtures.hex("10111213"), material.salt());
    }

    @Test
    void shouldSplitCbcMaterialIntoCipherAndIntegrityKeys() throws KeyMaterialException {
        String cipherKey = "00".repeat(32);
        String integrityKey = "11".repeat(32);

        KeyMaterial material = KeyMaterial.parseHex(cipherKey + integrityKey, EspTransform.AES_CBC_HMAC_SHA256);

        assertArrayEquals(EspFixtures.hex(cipherKey), material.cipherKey());
        assertArrayEquals(EspFixtures.hex(integrityKey), material.integrityKey());
    }

    @Test
    void shouldReportLineAndColumnOfABadDigitWithoutEchoingIt() {
        KeyMaterialException error = assertThrows(KeyMaterialException.class,
                () -> KeyMaterial.parseHex("00010203\n0405z60708090a0b0c0d0e0f10111213", EspTransform.AES_GCM_128));

        assertEquals(2, error.line());
        assertEquals(5, error.column());
        assertFalse(error.getMessage().contains("z"));
        assertFalse(error.getMessage().contains("0405"));
    }

    @Test
    void shouldReportAnOddNumberOfDigits() {
        KeyMaterialException error = assertThrows(KeyMaterialException.class,
                () -> KeyMaterial.parseHex(GCM_128 + "a", EspTransform.AES_GCM_128));

        assertEquals(1, error.line());
        assertEquals(41, error.column());
    }

    @Test
    void shouldReportAWrongLengthNamingWhatTheTransformNeeds() {
        KeyMaterialException error = assertThrows(KeyMaterialException.class,
                () -> KeyMaterial.parseHex("\n  " + GCM_128, EspTransform.AES_GCM_256));

        assertEquals(2, error.line());
        assertEquals(3, error.column());
        assertEquals("key material is 20 bytes, aes-gcm-256 needs 36 (32-byte key + 4-byte salt)",
                error.getMessage());
    }

    @Test
    void shouldNeverPrintKeyBytes() throws KeyMaterialException {
        KeyMaterial material = KeyMaterial.parseHex(GCM_128, EspTransform.AES_GCM_128);

        assertEquals("KeyMaterial[aes-gcm-128, 20 bytes, redacted]", material.toString());
        assertTrue(EspFixtures.inbound(EspTransform.AES_GCM_128, false, 64).toString().contains("spi=0x1001"));
        assertFalse(EspFixtures.inbound(EspTransform.AES_GCM_128, false, 64).toString().contains("0102"));
    }

    @Test
    void shouldAcceptEveryAesKeySizeForCbc() {
        assertTrue(EspTransform.AES_CBC_HMAC_SHA256.acceptsMaterialLength(48));
        assertTrue(EspTransform.AES_CBC_HMAC_SHA256.acceptsMaterialLength(56));
        assertTrue(EspTransform.AES_CBC_HMAC_SHA256.acceptsMaterialLength(64));
        assertEquals("48, 56 or 64", EspTransform.AES_CBC_HMAC_SHA256.materialLengths());
    }
}
