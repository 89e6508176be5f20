package dev.vnetd.crypto.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.KeyMaterialException;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key file text for {@link KeyMaterial#parseHex}: it returns material of a length the transform accepts, or throws
 * {@link KeyMaterialException}; nothing else escapes. Input: byte 0 picks the transform, the rest is the text
 * (UTF-8). Corpus: {@code KeyMaterialFuzzTestInputs/}.
 */
class KeyMaterialFuzzTest {
    private static final EspTransform[] TRANSFORMS = EspTransform.values();

    @FuzzTest(maxDuration = "10s")
    void shouldParseOrRejectWithLocatedError(byte[] input) {
        if (input.length == 0) {
            return;
        }
        EspTransform transform = TRANSFORMS[(input[0] & 0xFF) % TRANSFORMS.length];
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        try {
            KeyMaterial material = KeyMaterial.parseHex(text, transform);
            assertTrue(transform.acceptsMaterialLength(material.length()), "accepted length " + material.length());
            material.destroy();
        } catch (KeyMaterialException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "an error says where");
        }
    }
}
