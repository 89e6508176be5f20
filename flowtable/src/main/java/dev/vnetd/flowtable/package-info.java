/**
 * The ARR flow table: an off-heap, fixed-capacity, lock-free-read table of flows keyed by (virtual network,
 * family, protocol, addresses, ports), remembering each flow's origin tunnel and pinned next hop.
 * Start at {@link dev.vnetd.flowtable.FlowTable}.
 */
package dev.vnetd.flowtable;
