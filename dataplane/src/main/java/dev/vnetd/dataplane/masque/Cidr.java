package dev.vnetd.dataplane.masque;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * An address prefix, the form routes and assignments take in configuration and in the FIB; converts to and from
 * the address ranges ROUTE_ADVERTISEMENT carries. Control path only (allocates).
 *
 * @param address the network address, host bits clear
 * @param length  prefix length, 0..32 or 0..128
 */
public record Cidr(InetAddress address, int length) {
    /** Checks the length and that no host bit is set. */
    public Cidr {
        int bits = AssignedAddress.maxPrefix(address);
        if (length < 0 || length > bits) {
            throw new IllegalArgumentException("prefix length " + length + " for " + address.getHostAddress());
        }
        BigInteger value = new BigInteger(1, address.getAddress());
        if (!value.and(hostMask(bits, length)).equals(BigInteger.ZERO)) {
            throw new IllegalArgumentException(address.getHostAddress() + "/" + length + " has host bits set");
        }
    }

    /** Whether the prefix is IPv6. */
    public boolean ipv6() {
        return !(address instanceof Inet4Address);
    }

    /** The range of every address in the prefix, for every IP protocol. */
    public IpRange toRange() {
        int bits = AssignedAddress.maxPrefix(address);
        BigInteger start = new BigInteger(1, address.getAddress());
        return new IpRange(address, toAddress(start.or(hostMask(bits, length)), bits), 0);
    }

    /** The fewest prefixes that cover exactly [{@code range.start()}, {@code range.end()}]. */
    public static List<Cidr> cover(IpRange range) {
        int bits = range.ipv6() ? 128 : 32;
        BigInteger start = new BigInteger(1, range.start().getAddress());
        BigInteger end = new BigInteger(1, range.end().getAddress());
        List<Cidr> out = new ArrayList<>();
        while (start.compareTo(end) <= 0) {
            int hostBits = start.signum() == 0 ? bits : Math.min(start.getLowestSetBit(), bits);
            while (hostBits > 0 && start.add(BigInteger.ONE.shiftLeft(hostBits)).subtract(BigInteger.ONE)
                    .compareTo(end) > 0) {
                hostBits--;
            }
            out.add(new Cidr(toAddress(start, bits), bits - hostBits));
            start = start.add(BigInteger.ONE.shiftLeft(hostBits));
        }
        return out;
    }

    private static BigInteger hostMask(int bits, int length) {
        return BigInteger.ONE.shiftLeft(bits - length).subtract(BigInteger.ONE);
    }

    private static InetAddress toAddress(BigInteger value, int bits) {
        byte[] raw = value.toByteArray();
        byte[] bytes = new byte[bits / 8];
        int copy = Math.min(raw.length, bytes.length);
        System.arraycopy(raw, raw.length - copy, bytes, bytes.length - copy, copy);
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
