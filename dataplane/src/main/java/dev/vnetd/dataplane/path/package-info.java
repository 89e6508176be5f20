/**
 * The packet's path through a worker, run to completion on the thread that received it:
 *
 * <ol>
 *   <li>{@link dev.vnetd.dataplane.path.PacketPath} receives a datagram from a listener's socket</li>
 *   <li>{@link dev.vnetd.dataplane.path.GreDecap} takes the GRE header apart</li>
 *   <li>the ingress tunnel is identified ({@link dev.vnetd.dataplane.state.TunnelIndex}) and gives the virtual
 *       network</li>
 *   <li>{@link dev.vnetd.dataplane.path.InnerPacket} validates the inner IPv4/IPv6 header and reads the flow</li>
 *   <li>{@link dev.vnetd.dataplane.path.RouteLookup}: longest-prefix match in the virtual network (with
 *       fallback), then the next hop of the route's group</li>
 *   <li>TTL / hop limit and MTU checks; {@link dev.vnetd.dataplane.path.IcmpErrors} answers through the ingress
 *       tunnel</li>
 *   <li>{@link dev.vnetd.dataplane.path.GreEncap} puts the packet into the egress tunnel</li>
 *   <li>{@link dev.vnetd.dataplane.path.TxPort} queues it on the worker's own socket, flushed once per read
 *       batch</li>
 * </ol>
 *
 * Every packet that does not leave is counted under a {@link dev.vnetd.dataplane.path.DropReason}.
 */
package dev.vnetd.dataplane.path;
