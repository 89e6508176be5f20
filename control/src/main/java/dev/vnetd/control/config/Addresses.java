package dev.vnetd.control.config;

import java.net.InetAddress;

/** Parsing of literal addresses; configuration never resolves host names (no DNS at start or reload). */
public final class Addresses {
    private Addresses() {
    }

    /**
     * An address with an optional port, as written.
     *
     * @param address   the literal address
     * @param port      the port, or -1 when none was written
     * @param portValid false when a port was written but is not a number in 0..65535
     */
    public record HostPort(InetAddress address, int port, boolean portValid) {
        /** Whether a port was written. */
        public boolean hasPort() {
            return port >= 0 || !portValid;
        }
    }

    /** Parses a literal IPv4 or IPv6 address (no brackets), or returns null. */
    public static InetAddress parseLiteral(String text) {
        if (text.isEmpty() || text.indexOf('%') >= 0) {
            return null;
        }
        try {
            return InetAddress.ofLiteral(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Parses {@code ADDRESS}, {@code IPV4:PORT}, {@code [IPV6]} or {@code [IPV6]:PORT}; a bare IPv6 address takes
     * no port. Returns null when the address is not a literal.
     */
    public static HostPort parseHostPort(String text) {
        String host = text;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return null;
                }
                port = rest.substring(1);
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = text.substring(text.indexOf(':') + 1);
        }
        InetAddress address = parseLiteral(host);
        if (address == null) {
            return null;
        }
        if (port == null) {
            return new HostPort(address, -1, true);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            return new HostPort(address, -1, false);
        }
        boolean valid = p >= 0 && p <= 65535 && !port.startsWith("+");
        return new HostPort(address, valid ? p : -1, valid);
    }
}
