package dev.vnetd.dataplane.masque;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MasqueUriTemplateTest {
    private final MasqueUriTemplate template = MasqueUriTemplate.parse(MasqueUriTemplate.DEFAULT);

    @Test
    void shouldAskForEveryTargetAndProtocol() {
        assertEquals("/.well-known/masque/ip/*/*/", template.anyTargetPath());
    }

    @Test
    void shouldMatchPathsOfTheTemplate() {
        assertTrue(template.matches("/.well-known/masque/ip/*/*/"));
        assertTrue(template.matches("/.well-known/masque/ip/192.0.2.0%2F24/17/"));
        assertTrue(template.matches("/.well-known/masque/ip/*/*/?x=1"));
        assertFalse(template.matches("/.well-known/masque/ip/*/"));
        assertFalse(template.matches("/.well-known/masque/ip//*/"));
        assertFalse(template.matches("/.well-known/masque/ip/a/b/c/"));
        assertFalse(template.matches("/vpn"));
    }

    @Test
    void shouldTakeACustomTemplate() {
        MasqueUriTemplate custom = MasqueUriTemplate.parse("/vpn/{ipproto}-{target}");
        assertEquals("/vpn/*-*", custom.anyTargetPath());
        assertTrue(custom.matches("/vpn/6-10.0.0.1"));
        assertFalse(custom.matches("/vpn/6"));
    }

    @Test
    void shouldRefuseTemplatesWithoutBothVariables() {
        assertThrows(IllegalArgumentException.class, () -> MasqueUriTemplate.parse("/vpn/{target}/"));
        assertThrows(IllegalArgumentException.class, () -> MasqueUriTemplate.parse("vpn/{target}/{ipproto}"));
        assertThrows(IllegalArgumentException.class, () -> MasqueUriTemplate.parse("/{target}{ipproto}"));
        assertThrows(IllegalArgumentException.class, () -> MasqueUriTemplate.parse("/{target}/{ipproto}/{x}"));
    }
}
