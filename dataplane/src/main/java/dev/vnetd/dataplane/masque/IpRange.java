package dev.vnetd.dataplane.masque;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An IP Address Range of ROUTE_ADVERTISEMENT (RFC 9484 section 4.7.3): packets to addresses from {@code start} to
 * {@code end} inclusive, of IP protocol {@code ipProtocol} (0 for all), may be sent to the advertiser.
 *
 * @param start      first address
 * @param end        last address, of the same family, not below {@code start}
 * @param ipProtocol 0..255; 0 means every protocol
 */
public record IpRange(InetAddress start, InetAddress end, int ipProtocol) {
    /** Checks the family and the bounds. */
    public IpRange {
        if ((start instanceof Inet4Address) != (end instanceof Inet4Address)) {
            throw new IllegalArgumentException("start and end of different families: " + start + " " + end);
        }
        if (ipProtocol < 0 || ipProtocol > 255) {
            throw new IllegalArgumentException("IP protocol " + ipProtocol);
        }
    }

    /** Whether the range is IPv6. */
    public boolean ipv6() {
        return !(start instanceof Inet4Address);
    }

    @Override
    public String toString() {
        return start.getHostAddress() + "-" + end.getHostAddress() + (ipProtocol == 0 ? "" : " proto " + ipProtocol);
    }
}
