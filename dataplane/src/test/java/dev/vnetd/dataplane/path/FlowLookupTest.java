package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.flowtable.EvictionReason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.vnetd.dataplane.path.TestNetwork.DC_PROD;
import static dev.vnetd.dataplane.path.TestNetwork.SITE_A;
import static dev.vnetd.dataplane.path.TestNetwork.V6_SITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exhaustion of the flow table through the whole path (issue 9): a flood of new flows from one tunnel, with and
 * without that tunnel's {@code max_flows}, must be refused and counted while the flows of other tunnels, and the
 * flooding tunnel's own established flows, keep working; the table's memory never grows.
 */
class FlowLookupTest {
    private static final byte[] PAYLOAD = "flood".getBytes();
    private static final int QUOTA = 100;
    private static final int FLOOD = 3_000;
    private static final int FULL_REFUSALS = 200;
    private static final long UDP_TIMEOUT_MILLIS = 120_000;

    private final TestNetwork net = new TestNetwork();

    @AfterEach
    void releaseSent() {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    private static ByteBuf udp(long key, String src, String dst, int sport, int dport) {
        return new PacketBuilder().gre(key).ip(src, dst, 64).udp(sport, dport, PAYLOAD)
                .build(UnpooledByteBufAllocator.DEFAULT);
    }

    private void withSiteAQuota(int maxFlows) {
        ForwardingState s = net.holder.get();
        Tunnel[] tunnels = s.tunnels().clone();
        tunnels[SITE_A] = tunnels[SITE_A].withMaxFlows(maxFlows);
        net.holder.publish(new ForwardingState(s.listeners(), tunnels, s.virtualNetworks(), new TunnelIndex(tunnels),
                s.health()));
    }

    /** Packets sent since the ports were last cleared, over every listener; clears them. */
    private long sentAndClear() {
        long sent = 0;
        for (TestNetwork.CapturingTxPort port : net.ports) {
            sent += port.sent.size();
            port.releaseAll();
        }
        return sent;
    }

    /** v6-site opens a flow to the data centre, which replies: an established (replied) flow of another tunnel. */
    private void establishV6SiteFlow() {
        net.receive(V6_SITE, udp(-1, "10.9.9.9", "10.1.2.3", 5000, 443));
        net.receive(DC_PROD, udp(-1, "10.1.2.3", "10.9.9.9", 443, 5000));
        assertEquals(1, net.ports[2].sent.size(), "the reply went back to v6-site");
        sentAndClear();
    }

    private void assertV6SiteFlowWorks() {
        long returnsBefore = net.counters.arrReturns(V6_SITE);
        net.receive(V6_SITE, udp(-1, "10.9.9.9", "10.1.2.3", 5000, 443));
        net.receive(DC_PROD, udp(-1, "10.1.2.3", "10.9.9.9", 443, 5000));
        assertEquals(1, net.ports[0].sent.size(), "v6-site's packet reached the data centre");
        assertEquals(1, net.ports[2].sent.size(), "the reply returned to v6-site by ARR");
        assertEquals(returnsBefore + 1, net.counters.arrReturns(V6_SITE));
        sentAndClear();
    }

    private void flood(int flows, int firstPort) {
        for (int i = 0; i < flows; i++) {
            int n = firstPort + i;
            net.receive(SITE_A, udp(100, "192.168.10." + (1 + n % 200), "10.1.2.3", 10_000 + n / 200, 53));
        }
    }

    @Test
    void shouldRefuseAndCountAFloodOfNewFlowsBeyondTheTunnelsQuotaWhileOtherTunnelsKeepWorking() {
        withSiteAQuota(QUOTA);
        establishV6SiteFlow();
        long memory = net.flows.lengthInBytes();

        flood(FLOOD, 0);

        assertEquals(QUOTA, sentAndClear(), "site-a's first flows up to its quota were forwarded");
        assertEquals(FLOOD - QUOTA, net.counters.drops(DropReason.FLOW_QUOTA));
        assertEquals(FLOOD - QUOTA, net.counters.flowQuotaRefusals(SITE_A));
        assertEquals(0, net.counters.flowQuotaRefusals(V6_SITE));
        assertEquals(0, net.counters.drops(DropReason.FLOW_TABLE_FULL));
        assertEquals(QUOTA, net.flows.liveFlows(SITE_A));
        assertEquals(1, net.flows.liveFlows(V6_SITE));
        assertEquals(QUOTA + 1, net.flows.liveFlows());
        assertEquals(memory, net.flows.lengthInBytes(), "the table's memory is fixed");
        assertV6SiteFlowWorks();
        flood(1, 0);
        assertEquals(1, sentAndClear(), "site-a's established flows keep working at its quota");
        assertEquals(FLOOD - QUOTA, net.counters.drops(DropReason.FLOW_QUOTA), "an established flow is no new flow");
    }

    @Test
    void shouldLetATunnelOpenFlowsAgainWhenItsFlowsExpire() {
        withSiteAQuota(QUOTA);
        flood(QUOTA + 1, 0);
        assertEquals(1, net.counters.flowQuotaRefusals(SITE_A));
        sentAndClear();

        net.millis += UDP_TIMEOUT_MILLIS;
        assertEquals(QUOTA, net.flows.sweep(net.millis), "the sweeper removes site-a's idle flows");
        assertEquals(0, net.flows.liveFlows(SITE_A));
        flood(QUOTA, 10_000);

        assertEquals(QUOTA, sentAndClear());
        assertEquals(1, net.counters.flowQuotaRefusals(SITE_A), "no refusal after the count went down");
        assertEquals(QUOTA, net.flows.liveFlows(SITE_A));
    }

    @Test
    void shouldApplyAQuotaChangedByAReload() {
        withSiteAQuota(QUOTA);
        flood(QUOTA, 0);
        withSiteAQuota(QUOTA / 2);
        flood(1, QUOTA);
        assertEquals(1, net.counters.flowQuotaRefusals(SITE_A), "over the lowered quota: refused");
        withSiteAQuota(Tunnel.UNLIMITED_FLOWS);
        flood(1, QUOTA);

        assertEquals(QUOTA + 1, sentAndClear());
        assertEquals(QUOTA + 1, net.flows.liveFlows(SITE_A));
    }

    @Test
    void shouldRefuseAndCountNewFlowsWhenTheTableIsFullOfEstablishedFlowsWhichKeepWorking() {
        int capacity = net.flows.capacity();
        establishV6SiteFlow();
        // until full: a few inserts find both their buckets taken by established flows before the table is
        for (int i = 0; net.flows.liveFlows() < capacity && net.flows.tableFullRefusals() < FULL_REFUSALS; i++) {
            String site = "192.168.10." + (1 + i % 200);
            int port = 10_000 + i / 200;
            net.receive(SITE_A, udp(100, site, "10.1.2.3", port, 80));
            net.receive(DC_PROD, udp(-1, "10.1.2.3", site, 80, port));
        }
        sentAndClear();
        long memory = net.flows.lengthInBytes();
        int live = net.flows.liveFlows();
        long fullBefore = net.counters.drops(DropReason.FLOW_TABLE_FULL);

        flood(FLOOD, 0);

        long refused = net.counters.drops(DropReason.FLOW_TABLE_FULL) - fullBefore;
        long forwarded = sentAndClear();
        assertEquals(FLOOD, refused + forwarded, "every flood packet forwarded or counted");
        assertEquals(refused, net.flows.tableFullRefusals() - fullBefore);
        assertTrue(refused > FLOOD / 2, "most of the flood is refused: " + refused + " of " + FLOOD);
        assertTrue(net.flows.liveFlows() <= capacity);
        assertEquals(0, net.counters.drops(DropReason.FLOW_QUOTA), "no quota configured");
        assertEquals(memory, net.flows.lengthInBytes(), "the table's memory is fixed");
        assertEquals(live, net.flows.liveFlows() - forwarded + evictedForFlood(),
                "no established flow was evicted for the flood");
        assertV6SiteFlowWorks();
    }

    private long evictedForFlood() {
        return net.flows.evictions(EvictionReason.EARLY_DROP);
    }
}
