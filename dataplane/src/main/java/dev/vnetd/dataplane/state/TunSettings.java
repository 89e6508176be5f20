package dev.vnetd.dataplane.state;

import java.util.List;

/**
 * The TUN device of a TUN attachment, as the dataplane creates and sets it up.
 *
 * @param device     interface name, at most 15 bytes (IFNAMSIZ less the NUL)
 * @param mtu        the device's MTU, in bytes: the largest packet the host sends into it
 * @param addresses  addresses with prefix length (CIDR, like 10.0.1.1/24) set on the device
 * @param hostRoutes prefixes (CIDR) the host routes into the device
 */
public record TunSettings(String device, int mtu, List<String> addresses, List<String> hostRoutes) {
    /** Longest interface name Linux accepts: IFNAMSIZ (16) less the terminating NUL. */
    public static final int MAX_DEVICE_NAME = 15;

    /** Copies the lists. */
    public TunSettings {
        addresses = List.copyOf(addresses);
        hostRoutes = List.copyOf(hostRoutes);
    }
}
