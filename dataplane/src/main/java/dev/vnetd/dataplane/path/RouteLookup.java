package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;

/**
 * Step 5 of the path: longest-prefix match in the packet's virtual network, then in its fallback virtual network
 * when it has none, then the next hop of the matched route's group (priority, health penalty, weighted ECMP on the
 * flow hash). The same code answers {@code vnetd lookup}, so the CLI shows exactly what the daemon does.
 */
public final class RouteLookup {
    /** A route hint that says nothing: the lookup asks the table itself. */
    public static final int NO_HINT = Integer.MIN_VALUE;
    /**
     * The last match as an index into {@link #matchedIn}'s routes, not the route itself: a reference store per
     * packet pays G1's card-marking barrier (a fence), and the virtual network is stored only when it changes.
     */
    private int routeIndex = Ipv4Lpm.NO_ROUTE;
    private VirtualNetwork matchedIn;
    private int entry;

    /**
     * Finds the route for an IPv4 destination; returns the egress tunnel, or null when there is no route. The
     * route, the virtual network it was found in and the chosen group entry are then available.
     */
    public Tunnel ipv4(ForwardingState state, VirtualNetwork vn, int destination, int flowHash) {
        return ipv4(state, vn, destination, flowHash, NO_HINT);
    }

    /**
     * Finds the route for an IPv4 destination as {@link #ipv4(ForwardingState, VirtualNetwork, int, int)} does,
     * with {@code hint}: what {@code vn}'s own table answered for {@code destination} in a batch lookup, or
     * {@link #NO_HINT}.
     */
    public Tunnel ipv4(ForwardingState state, VirtualNetwork vn, int destination, int flowHash, int hint) {
        return ipv4(state, vn, destination, null, flowHash, hint);
    }

    /**
     * Finds the route for {@code packet} (parsed, IPv4 or IPv6) with a batch lookup's {@code hint}, as
     * {@link #ipv4(ForwardingState, VirtualNetwork, int, int, int)} does; the packet's flow hash is computed only
     * when the matched route has several next hops to choose from.
     */
    Tunnel route(ForwardingState state, VirtualNetwork vn, InnerPacket packet, int hint) {
        return packet.ipv6()
                ? ipv6(state, vn, packet.destinationHigh(), packet.destinationLow(), packet, 0, hint)
                : ipv4(state, vn, packet.destination4(), packet, 0, hint);
    }

    private Tunnel ipv4(ForwardingState state, VirtualNetwork vn, int destination, InnerPacket hashOf, int flowHash,
                        int hint) {
        VirtualNetwork in = vn;
        int index = hint != NO_HINT ? hint : in.ipv4().lookup(destination);
        if (index == Ipv4Lpm.NO_ROUTE && in.fallback() != VirtualNetwork.NO_FALLBACK) {
            in = state.virtualNetworks()[in.fallback()];
            index = in.ipv4().lookup(destination);
        }
        return select(state, in, index, hashOf, flowHash);
    }

    /** Finds the route for an IPv6 destination, as {@link #ipv4}. */
    public Tunnel ipv6(ForwardingState state, VirtualNetwork vn, long high, long low, int flowHash) {
        return ipv6(state, vn, high, low, flowHash, NO_HINT);
    }

    /** Finds the route for an IPv6 destination with a batch lookup's {@code hint}, as {@link #ipv4} does. */
    public Tunnel ipv6(ForwardingState state, VirtualNetwork vn, long high, long low, int flowHash, int hint) {
        return ipv6(state, vn, high, low, null, flowHash, hint);
    }

    private Tunnel ipv6(ForwardingState state, VirtualNetwork vn, long high, long low, InnerPacket hashOf,
                        int flowHash, int hint) {
        VirtualNetwork in = vn;
        int index = hint != NO_HINT ? hint : in.ipv6().lookup(high, low);
        if (index == Ipv4Lpm.NO_ROUTE && in.fallback() != VirtualNetwork.NO_FALLBACK) {
            in = state.virtualNetworks()[in.fallback()];
            index = in.ipv6().lookup(high, low);
        }
        return select(state, in, index, hashOf, flowHash);
    }

    /**
     * The matched route's next hop; a group of several chooses by flow hash: {@code hashOf}'s when it is given
     * (computed here, only for such a group: most routes have one next hop), else {@code flowHash}.
     */
    private Tunnel select(ForwardingState state, VirtualNetwork in, int index, InnerPacket hashOf, int flowHash) {
        routeIndex = index;
        if (index == Ipv4Lpm.NO_ROUTE) {
            return null;
        }
        if (matchedIn != in) {
            matchedIn = in;
        }
        int sole = in.soleTunnels()[index];
        if (sole != VirtualNetwork.SEVERAL_NEXT_HOPS) {
            // a one-entry group chooses its entry whatever the hash and health: no need to read the group
            entry = 0;
            return state.tunnels()[sole];
        }
        NextHopGroup group = in.routes()[index].group();
        entry = group.selectEntry(hashOf != null ? hashOf.flowHash() : flowHash, state.health());
        return state.tunnels()[group.tunnel(entry)];
    }

    /** The route matched by the last lookup, or null. */
    public Route route() {
        return routeIndex == Ipv4Lpm.NO_ROUTE ? null : matchedIn.routes()[routeIndex];
    }

    /** The virtual network the last route was found in (the packet's own or its fallback), or null. */
    public VirtualNetwork matchedIn() {
        return routeIndex == Ipv4Lpm.NO_ROUTE ? null : matchedIn;
    }

    /** Index of the chosen entry in the route's next-hop group. */
    public int entry() {
        return entry;
    }
}
