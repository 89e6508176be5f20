package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;

/**
 * A virtual network: an isolated routing table per address family. The value of a table entry is an index into
 * {@link #routes()}.
 *
 * @param id       index in {@link ForwardingState#virtualNetworks()}
 * @param name     the configured name
 * @param fallback index of the virtual network consulted when this one has no route, or -1
 * @param ipv4     IPv4 table
 * @param ipv6     IPv6 table
 * @param routes   routes by index
 * @param arr      whether a tunnel of this network has Automatic Return Routing: only then are its packets
 *                 looked up in the flow table
 */
public record VirtualNetwork(int id, String name, int fallback, Ipv4Lpm ipv4, Ipv6Lpm ipv6, Route[] routes,
                             boolean arr) {
    /** Value of {@link #fallback()} when there is none. */
    public static final int NO_FALLBACK = -1;
}
