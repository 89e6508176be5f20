package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EspTransformTest {
    @Test
    void shouldFindTransformsByTheirYamlNames() {
        for (EspTransform transform : EspTransform.values()) {
            assertEquals(transform, EspTransform.fromConfigName(transform.configName()));
        }
        assertEquals(EspTransform.AES_GCM_128, EspTransform.fromConfigName("AES-GCM-128"));
    }

    @Test
    void shouldNameTheAcceptedValuesForAnUnknownTransform() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> EspTransform.fromConfigName("aes-ccm"));

        assertEquals("unknown ESP transform 'aes-ccm', expected aes-gcm-128, aes-gcm-256, chacha20-poly1305, "
                + "aes-cbc-hmac-sha256 or aes-gcm-128/256-icv12/-icv8", error.getMessage());
    }
}
