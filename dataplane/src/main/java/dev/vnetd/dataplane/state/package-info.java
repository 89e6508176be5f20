/**
 * The forwarding state workers read on every packet: listeners, tunnels, virtual networks with their routing
 * tables, and the index that identifies a tunnel from a received packet. A {@link dev.vnetd.dataplane.state.ForwardingState}
 * is immutable once built and is published to workers through one volatile reference
 * ({@link dev.vnetd.dataplane.state.ForwardingStateHolder}); readers never block and never see half of an update.
 */
package dev.vnetd.dataplane.state;
