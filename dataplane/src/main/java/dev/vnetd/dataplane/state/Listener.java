package dev.vnetd.dataplane.state;

import java.net.InetSocketAddress;

/**
 * A socket address where tunnel packets arrive. Every worker binds its own socket to it (SO_REUSEPORT for UDP).
 *
 * @param id          index in {@link ForwardingState#listeners()}
 * @param name        the configured name
 * @param type        the carrier
 * @param address     bind address; the port is 0 for raw IP listeners
 * @param sourcePorts GRE-in-UDP only: sockets per worker, on ports from 49152-65535, that sent packets leave from,
 *                    chosen by flow hash so that the UDP source port carries flow entropy (RFC 8086 section 3.2);
 *                    0 sends from the listening port itself
 * @param connectedRemotes GRE-in-UDP with source ports, and ESP-in-UDP: how many of its tunnels' remotes (the
 *                    first, by tunnel id) get sending sockets of their own on every worker, {@code connect}ed to them
 *                    (GRE-in-UDP: as many as {@code sourcePorts}, on source ports of their own; ESP-in-UDP: one, on
 *                    the listening port, which also reads the remote's datagrams on one worker): no route lookup per
 *                    datagram; 0 for none
 * @param tun         TUN attachments ({@link ListenerType#TUN}): the device; null for sockets, whose address is null
 *                    here instead
 */
public record Listener(int id, String name, ListenerType type, InetSocketAddress address, int sourcePorts,
                       int connectedRemotes, TunSettings tun) {
    /** A socket listener that connects no remote. */
    public Listener(int id, String name, ListenerType type, InetSocketAddress address, int sourcePorts) {
        this(id, name, type, address, sourcePorts, 0, null);
    }

    /** A socket listener. */
    public Listener(int id, String name, ListenerType type, InetSocketAddress address, int sourcePorts,
                    int connectedRemotes) {
        this(id, name, type, address, sourcePorts, connectedRemotes, null);
    }

    /** The listener of a TUN attachment: no socket, one queue of the device per worker. */
    public static Listener tun(int id, String name, TunSettings tun) {
        return new Listener(id, name, ListenerType.TUN, null, 0, 0, tun);
    }
}
