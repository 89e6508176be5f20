package dev.vnetd.dataplane.state;

import dev.vnetd.dataplane.nexthop.TunnelHealth;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything a worker needs to forward a packet, built by the control plane from a validated configuration and
 * immutable afterwards (tunnel health excepted: it changes in place, one int per tunnel).
 *
 * <p>Ids are never reused within a process. A listener, tunnel or virtual network a reload removed stays in its slot
 * as a retired entry (a changed listener is a removed one and an added one), so every array indexed by id (flows pin
 * tunnel ids, counters are per tunnel, workers keep a send port per listener) stays valid without hole handling on
 * the fast path: a retired tunnel is not in the {@link TunnelIndex} (nothing is received for it), no route names it,
 * and a packet whose flow sends it there is routed again or dropped ({@code tunnel_removed}).
 *
 * @param listeners              listeners by id, retired ones included
 * @param tunnels                tunnels by id, retired ones included
 * @param virtualNetworks        virtual networks by id, retired ones included
 * @param tunnelIndex            identifies the tunnel of a received packet (live tunnels only)
 * @param health                 health state of every tunnel
 * @param retiredListeners       by listener id: whether a reload removed it (its sockets are closed)
 * @param retiredTunnels         by tunnel id: whether a reload removed it
 * @param retiredVirtualNetworks by virtual network id: whether a reload removed it
 */
public record ForwardingState(Listener[] listeners, Tunnel[] tunnels, VirtualNetwork[] virtualNetworks,
                              TunnelIndex tunnelIndex, TunnelHealth health, boolean[] retiredListeners,
                              boolean[] retiredTunnels, boolean[] retiredVirtualNetworks) {

    /** A state where every listener, tunnel and virtual network is live. */
    public ForwardingState(Listener[] listeners, Tunnel[] tunnels, VirtualNetwork[] virtualNetworks,
                           TunnelIndex tunnelIndex, TunnelHealth health) {
        this(listeners, tunnels, virtualNetworks, tunnelIndex, health, new boolean[listeners.length],
                new boolean[tunnels.length], new boolean[virtualNetworks.length]);
    }

    /** Whether listener {@code id} was removed (or changed) by a reload. */
    public boolean retiredListener(int id) {
        return retiredListeners[id];
    }

    /** The live listeners (configured ones and TUN attachments' devices), in id order. */
    public List<Listener> liveListeners() {
        List<Listener> live = new ArrayList<>(listeners.length);
        for (Listener l : listeners) {
            if (!retiredListeners[l.id()]) {
                live.add(l);
            }
        }
        return live;
    }

    /** Whether tunnel {@code id} was removed by a reload. Allocation-free: read on the fast path. */
    public boolean retiredTunnel(int id) {
        return retiredTunnels[id];
    }

    /** Whether virtual network {@code id} was removed by a reload. */
    public boolean retiredVirtualNetwork(int id) {
        return retiredVirtualNetworks[id];
    }

    /** The live tunnels (the configured ones), in id order: what the API, metrics and health checks show. */
    public List<Tunnel> liveTunnels() {
        List<Tunnel> live = new ArrayList<>(tunnels.length);
        for (Tunnel t : tunnels) {
            if (!retiredTunnels[t.id()]) {
                live.add(t);
            }
        }
        return live;
    }

    /** The live virtual networks, in id order. */
    public List<VirtualNetwork> liveVirtualNetworks() {
        List<VirtualNetwork> live = new ArrayList<>(virtualNetworks.length);
        for (VirtualNetwork vn : virtualNetworks) {
            if (!retiredVirtualNetworks[vn.id()]) {
                live.add(vn);
            }
        }
        return live;
    }

    /** The live tunnel with this name, or null. */
    public Tunnel tunnel(String name) {
        for (Tunnel t : tunnels) {
            if (!retiredTunnels[t.id()] && t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The live virtual network with this name, or null. */
    public VirtualNetwork virtualNetwork(String name) {
        for (VirtualNetwork vn : virtualNetworks) {
            if (!retiredVirtualNetworks[vn.id()] && vn.name().equals(name)) {
                return vn;
            }
        }
        return null;
    }
}
