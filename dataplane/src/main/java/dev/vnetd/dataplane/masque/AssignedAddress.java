package dev.vnetd.dataplane.masque;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An entry of ADDRESS_ASSIGN or ADDRESS_REQUEST (RFC 9484 sections 4.7.1 and 4.7.2): an address or prefix with the
 * request it answers.
 *
 * @param requestId    the ADDRESS_REQUEST it answers, 0 for an unsolicited assignment; never 0 in a request
 * @param address      the address, host bits beyond the prefix clear
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record AssignedAddress(long requestId, InetAddress address, int prefixLength) {
    /** Checks the ranges. */
    public AssignedAddress {
        if (requestId < 0 || requestId > QuicVarint.MAX_VALUE) {
            throw new IllegalArgumentException("request ID must be a varint: " + requestId);
        }
        if (prefixLength < 0 || prefixLength > maxPrefix(address)) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " for " + address);
        }
    }

    /** Whether the address is IPv6. */
    public boolean ipv6() {
        return !(address instanceof Inet4Address);
    }

    static int maxPrefix(InetAddress address) {
        return address instanceof Inet4Address ? 32 : 128;
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + (requestId == 0 ? "" : " (request " + requestId + ")");
    }
}
