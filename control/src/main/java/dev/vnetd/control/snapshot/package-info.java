/**
 * Turns a validated configuration into the immutable {@link dev.vnetd.dataplane.state.ForwardingState} the
 * workers read: ids for listeners, tunnels and virtual networks, routing tables and next-hop groups.
 */
package dev.vnetd.control.snapshot;
