package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.nexthop.NextHopGroup;

/**
 * A route of one virtual network: a prefix and the group of next hops it leads to.
 *
 * @param prefix text of the prefix as configured, normalised (e.g. {@code 10.0.0.0/8})
 * @param ipv6   whether the prefix is IPv6
 * @param group  the next hops
 */
public record Route(String prefix, boolean ipv6, NextHopGroup group) {
}
