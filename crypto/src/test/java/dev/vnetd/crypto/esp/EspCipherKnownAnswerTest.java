package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RFC 8439 2.8.2 (the AEAD vector RFC 7634 builds on) laid out as an ESP packet with ESN: its 12-byte AAD
 * 50515253 c0c1c2c3 c4c5c6c7 is exactly SPI || seq high || seq low, and its nonce 07000000 || 4041424344454647 is
 * salt || explicit IV.
 */
class EspCipherKnownAnswerTest {
    private static final byte[] KEY_AND_SALT = EspFixtures.hex(
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" + "07000000");
    private static final byte[] PLAINTEXT = ("Ladies and Gentlemen of the class of '99: If I could offer you only one"
            + " tip for the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);
    private static final String CIPHERTEXT_START = "d31a8d34648e60db7b86afbc53ef7ec2";
    private static final String TAG = "1ae10b594f09e26a7e902ecbd0600691";
    private static final int SEQUENCE_HIGH = 0xc0c1c2c3;

    @ParameterizedTest
    @EnumSource(EspProvider.class)
    void shouldMatchTheRfc8439AeadVector(EspProvider provider) {
        EspCipher cipher = provider.newCipher(EspTransform.CHACHA20_POLY1305,
                KeyMaterial.of(EspTransform.CHACHA20_POLY1305, KEY_AND_SALT), new EspContext(provider));
        byte[] packet = new byte[16 + PLAINTEXT.length + 16];
        System.arraycopy(EspFixtures.hex("50515253c4c5c6c74041424344454647"), 0, packet, 0, 16);
        System.arraycopy(PLAINTEXT, 0, packet, 16, PLAINTEXT.length);

        cipher.seal(packet, 0, PLAINTEXT.length, SEQUENCE_HIGH, true, new byte[packet.length]);

        assertEquals(CIPHERTEXT_START, EspFixtures.hex(packet, 16, 16));
        assertEquals(TAG, EspFixtures.hex(packet, 16 + PLAINTEXT.length, 16));
        assertTrue(cipher.open(packet, 0, packet.length, SEQUENCE_HIGH, true, new byte[packet.length]));
        assertArrayEquals(PLAINTEXT, Arrays.copyOfRange(packet, 16, 16 + PLAINTEXT.length));
    }
}
