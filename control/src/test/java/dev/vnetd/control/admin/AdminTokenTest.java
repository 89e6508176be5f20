package dev.vnetd.control.admin;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminTokenTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private final AdminToken token = AdminToken.of(SECRET);

    @Test
    void shouldMatchOnlyTheBearerTokenItself() {
        assertTrue(token.matchesAuthorization("Bearer " + SECRET));
        assertTrue(token.matchesAuthorization("bearer " + SECRET), "the scheme is case-insensitive (RFC 9110 11.1)");
        assertFalse(token.matchesAuthorization(null), "no header");
        assertFalse(token.matchesAuthorization(SECRET), "no scheme");
        assertFalse(token.matchesAuthorization("Basic " + SECRET));
        assertFalse(token.matchesAuthorization("Bearer " + SECRET.substring(1)), "a prefix is not the token");
        assertFalse(token.matchesAuthorization("Bearer " + SECRET + "0"));
        assertFalse(token.matchesAuthorization("Bearer "));
    }

    @Test
    void shouldNeverShowTheToken() {
        assertFalse(token.toString().contains(SECRET));
        assertEquals("AdminToken[redacted]", token.toString());
    }

    @Test
    void shouldEqualTheSameToken() {
        assertEquals(AdminToken.of(SECRET), token);
        assertNotEquals(AdminToken.of(SECRET + "x"), token);
    }
}
