package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.nexthop.TunnelHealth;

/**
 * Everything a worker needs to forward a packet, built by the control plane from a validated configuration and
 * immutable afterwards (tunnel health excepted: it changes in place, one int per tunnel).
 *
 * @param listeners       listeners by id
 * @param tunnels         tunnels by id
 * @param virtualNetworks virtual networks by id
 * @param tunnelIndex     identifies the tunnel of a received packet
 * @param health          health state of every tunnel
 */
public record ForwardingState(Listener[] listeners, Tunnel[] tunnels, VirtualNetwork[] virtualNetworks,
                              TunnelIndex tunnelIndex, TunnelHealth health) {

    /** The tunnel with this name, or null. */
    public Tunnel tunnel(String name) {
        for (Tunnel t : tunnels) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The virtual network with this name, or null. */
    public VirtualNetwork virtualNetwork(String name) {
        for (VirtualNetwork vn : virtualNetworks) {
            if (vn.name().equals(name)) {
                return vn;
            }
        }
        return null;
    }
}
