package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.VirtualNetwork;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RouteLookup} answers a route whose next-hop group has one entry from the virtual network's
 * {@link VirtualNetwork#soleTunnels()} without reading the group: the same tunnel and entry the group would choose,
 * whatever the hash and health; a route with several next hops still lets the group choose.
 */
class RouteLookupTest {
    private final TestNetwork net = new TestNetwork();
    private final ForwardingState state = net.holder.get();
    private final NextHopGroup single = new NextHopGroup(new int[] {TestNetwork.DC_PROD}, new int[] {100},
            new int[] {1});
    private final NextHopGroup ecmp = new NextHopGroup(new int[] {TestNetwork.DC_PROD, TestNetwork.DC_STAGING,
        TestNetwork.INTERNET}, new int[] {100, 100, 100}, new int[] {1, 1, 1});
    private final VirtualNetwork vn = network(single, ecmp);

    private static VirtualNetwork network(NextHopGroup single, NextHopGroup ecmp) {
        Ipv4Lpm v4 = new Ipv4Lpm();
        v4.add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.1.0.0")), 16, 0);
        v4.add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.2.0.0")), 16, 1);
        Route[] routes = {new Route("10.1.0.0/16", false, single), new Route("10.2.0.0/16", false, ecmp)};
        return new VirtualNetwork(0, "test", VirtualNetwork.NO_FALLBACK, v4, new Ipv6Lpm(), routes, false);
    }

    @Test
    void shouldDeriveSoleTunnelsFromTheRoutesGroups() {
        assertArrayEquals(new int[] {TestNetwork.DC_PROD, VirtualNetwork.SEVERAL_NEXT_HOPS}, vn.soleTunnels());
    }

    @Test
    void shouldRefuseSoleTunnelsThatDoNotMatchTheRoutes() {
        assertThrows(IllegalArgumentException.class, () -> new VirtualNetwork(0, "test", VirtualNetwork.NO_FALLBACK,
                vn.ipv4(), vn.ipv6(), vn.routes(), false, new int[] {TestNetwork.DC_PROD}));
    }

    @Test
    void shouldAnswerAOneEntryRouteAsItsGroupWouldWhateverHashAndHealth() {
        RouteLookup lookup = new RouteLookup();
        int destination = Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.1.2.3"));
        for (int health : new int[] {TunnelHealth.HEALTHY, TunnelHealth.DEGRADED, TunnelHealth.DOWN}) {
            state.health().state(TestNetwork.DC_PROD, health);
            for (int hash = -1000; hash < 1000; hash += 7) {
                Tunnel egress = lookup.ipv4(state, vn, destination, hash * 0x9E37_79B9);
                assertSame(state.tunnels()[single.select(hash * 0x9E37_79B9, state.health())], egress);
                assertEquals(TestNetwork.DC_PROD, egress.id());
                assertEquals(0, lookup.entry());
                assertSame(vn.routes()[0], lookup.route());
                assertSame(vn, lookup.matchedIn());
            }
        }
    }

    @Test
    void shouldLetAGroupOfSeveralNextHopsChooseByHashAndHealth() {
        RouteLookup lookup = new RouteLookup();
        int destination = Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.2.9.9"));
        boolean[] chosen = new boolean[state.tunnels().length];
        state.health().state(TestNetwork.DC_STAGING, TunnelHealth.DOWN);
        for (int hash = 0; hash < 3000; hash++) {
            int flowHash = hash * 0x9E37_79B9;
            Tunnel egress = lookup.ipv4(state, vn, destination, flowHash);
            int entry = ecmp.selectEntry(flowHash, state.health());
            assertEquals(entry, lookup.entry());
            assertEquals(ecmp.tunnel(entry), egress.id());
            assertSame(vn.routes()[1], lookup.route());
            chosen[egress.id()] = true;
        }
        // both healthy next hops get flows; the one that is down gets none
        assertTrue(chosen[TestNetwork.DC_PROD] && chosen[TestNetwork.INTERNET] && !chosen[TestNetwork.DC_STAGING]);
    }
}
