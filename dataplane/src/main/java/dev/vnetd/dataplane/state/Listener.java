package dev.vnetd.dataplane.state;

import java.net.InetSocketAddress;

/**
 * A socket address where tunnel packets arrive. Every worker binds its own socket to it (SO_REUSEPORT for UDP).
 *
 * @param id      index in {@link ForwardingState#listeners()}
 * @param name    the configured name
 * @param type    the carrier
 * @param address bind address; the port is 0 for raw IP listeners
 */
public record Listener(int id, String name, ListenerType type, InetSocketAddress address) {
}
