package dev.vnetd.control.config;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An IPv4 or IPv6 prefix such as {@code 10.0.0.0/8} or {@code fd00::/8}, or an address with its prefix length such
 * as an interface address {@code 169.254.10.0/31}.
 *
 * @param address the address as written
 * @param length  prefix length
 */
public record IpPrefix(InetAddress address, int length) {
    /** Whether this is an IPv6 prefix. */
    public boolean ipv6() {
        return !(address instanceof Inet4Address);
    }

    /** Bits in an address of this family. */
    public int bits() {
        return ipv6() ? 128 : 32;
    }

    /** Whether host bits (beyond the prefix length) are set. */
    public boolean hasHostBits() {
        byte[] b = address.getAddress();
        for (int bit = length; bit < b.length * 8; bit++) {
            if ((b[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                return true;
            }
        }
        return false;
    }

    /** The prefix with host bits cleared. */
    public IpPrefix network() {
        byte[] b = address.getAddress();
        for (int bit = length; bit < b.length * 8; bit++) {
            b[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        try {
            return new IpPrefix(InetAddress.getByAddress(b), length);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Parses {@code ADDRESS/LENGTH}; returns null when it is not one, so callers can report where.
     */
    public static IpPrefix parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return null;
        }
        InetAddress address = Addresses.parseLiteral(text.substring(0, slash));
        if (address == null) {
            return null;
        }
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        int bits = address instanceof Inet4Address ? 32 : 128;
        if (length < 0 || length > bits || text.substring(slash + 1).startsWith("+")) {
            return null;
        }
        return new IpPrefix(address, length);
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
