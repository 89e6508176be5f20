package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;

/**
 * A virtual network: an isolated routing table per address family. The value of a table entry is an index into
 * {@link #routes()}.
 *
 * @param id          index in {@link ForwardingState#virtualNetworks()}
 * @param name        the configured name
 * @param fallback    index of the virtual network consulted when this one has no route, or -1
 * @param ipv4        IPv4 table
 * @param ipv6        IPv6 table
 * @param routes      routes by index
 * @param arr         whether a tunnel of this network has Automatic Return Routing: only then are its packets
 *                    looked up in the flow table
 * @param soleTunnels by route index, the tunnel of a route whose next-hop group has one entry, else
 *                    {@link #SEVERAL_NEXT_HOPS}: derived from {@code routes} (the constructor without it computes
 *                    it), so that the packet path finds such a route's next hop in one array read, without the
 *                    route, its group and the group's arrays (dependent loads, each a cache miss in a large FIB)
 */
public record VirtualNetwork(int id, String name, int fallback, Ipv4Lpm ipv4, Ipv6Lpm ipv6, Route[] routes,
                             boolean arr, int[] soleTunnels) {
    /** Value of {@link #fallback()} when there is none. */
    public static final int NO_FALLBACK = -1;
    /** A {@link #soleTunnels()} entry of a route whose group has more than one entry: the group chooses. */
    public static final int SEVERAL_NEXT_HOPS = -1;

    /** Checks that {@code soleTunnels} has an entry per route. */
    public VirtualNetwork {
        if (soleTunnels.length != routes.length) {
            throw new IllegalArgumentException(
                    "soleTunnels has " + soleTunnels.length + " entries for " + routes.length + " routes");
        }
    }

    /** A virtual network with {@link #soleTunnels()} derived from {@code routes}. */
    public VirtualNetwork(int id, String name, int fallback, Ipv4Lpm ipv4, Ipv6Lpm ipv6, Route[] routes,
                          boolean arr) {
        this(id, name, fallback, ipv4, ipv6, routes, arr, soleTunnels(routes));
    }

    private static int[] soleTunnels(Route[] routes) {
        int[] sole = new int[routes.length];
        for (int i = 0; i < routes.length; i++) {
            sole[i] = routes[i].group().size() == 1 ? routes[i].group().tunnel(0) : SEVERAL_NEXT_HOPS;
        }
        return sole;
    }
}
