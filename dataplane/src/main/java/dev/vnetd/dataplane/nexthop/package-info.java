/**
 * Next-hop selection behind a route: a {@link dev.vnetd.dataplane.nexthop.NextHopGroup} of (tunnel, priority, weight)
 * entries chosen with Cloudflare WAN traffic steering semantics (lowest priority plus health penalty, then weighted
 * rendezvous hashing of the flow's {@link dev.vnetd.dataplane.nexthop.FlowHash}, so only the flows of a next hop that
 * leaves or returns move), reading {@link dev.vnetd.dataplane.nexthop.TunnelHealth}.
 */
package dev.vnetd.dataplane.nexthop;
