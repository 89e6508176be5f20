package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.ListenerConfig;
import dev.vnetd.control.config.VnetdConfig.RouteConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.config.VnetdConfig.VirtualNetworkConfig;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.state.ListenerType;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that hold across entries: unique names, references that resolve, listener sockets that do not overlap,
 * tunnels that can be told apart on receive (ESP tunnels by an inbound SPI unique per listener, TUN attachments by
 * a device of their own), and next-hop groups within bounds. Runs even when entries had errors of their own, so that
 * every error is reported at once; a reference to an entry that exists but had errors is not reported a second time.
 */
final class ConfigValidator {
    private ConfigValidator() {
    }

    static void validate(List<ListenerConfig> listeners, List<VirtualNetworkConfig> vns, List<TunnelConfig> tunnels,
                         List<RouteConfig> routes, Set<String> invalid, List<ConfigError> errors) {
        Map<String, ListenerConfig> listenerByName = new HashMap<>();
        for (ListenerConfig l : listeners) {
            ListenerConfig previous = listenerByName.putIfAbsent(l.name(), l);
            if (previous != null) {
                errors.add(l.where().error("duplicate listener name '" + l.name() + "' (first at line "
                        + previous.where().line() + ")"));
            }
        }
        for (int i = 0; i < listeners.size(); i++) {
            for (int j = 0; j < i; j++) {
                ListenerConfig a = listeners.get(j);
                ListenerConfig b = listeners.get(i);
                if (a.type() == b.type() && a.type() != ListenerType.MASQUE_CLIENT
                        && overlaps(a.address(), b.address())) {
                    errors.add(b.where().error("listener '" + b.name() + "' overlaps listener '" + a.name()
                            + "' (same " + b.type().configName() + " socket " + describe(b.address()) + ")"));
                }
            }
        }
        Map<String, VirtualNetworkConfig> vnByName = new HashMap<>();
        for (VirtualNetworkConfig vn : vns) {
            VirtualNetworkConfig previous = vnByName.putIfAbsent(vn.name(), vn);
            if (previous != null) {
                errors.add(vn.where().error("duplicate virtual network name '" + vn.name() + "' (first at line "
                        + previous.where().line() + ")"));
            }
        }
        for (VirtualNetworkConfig vn : vns) {
            if (vn.fallback() == null) {
                continue;
            }
            if (vn.fallback().equals(vn.name())) {
                errors.add(vn.where().error("virtual network '" + vn.name() + "' cannot fall back to itself"));
            } else if (!vnByName.containsKey(vn.fallback())) {
                errors.add(vn.where().error("virtual network '" + vn.name() + "' falls back to unknown virtual "
                        + "network '" + vn.fallback() + "'"));
            }
        }
        Map<String, TunnelConfig> tunnelByName = new HashMap<>();
        Map<String, TunnelConfig> tunnelByIdentity = new HashMap<>();
        for (TunnelConfig t : tunnels) {
            TunnelConfig previous = tunnelByName.putIfAbsent(t.name(), t);
            if (previous != null) {
                errors.add(t.where().error("duplicate tunnel name '" + t.name() + "' (first at line "
                        + previous.where().line() + ")"));
            }
            if (t.tun() != null) {
                if (!vnByName.containsKey(t.virtualNetwork()) && !invalid.contains(t.virtualNetwork())) {
                    errors.add(t.where().error("tunnel '" + t.name() + "' names unknown virtual network '"
                            + t.virtualNetwork() + "'"));
                }
                TunnelConfig same = tunnelByIdentity.putIfAbsent("tun|" + t.tun().device(), t);
                if (same != null) {
                    errors.add(t.where().error("tun attachment '" + t.name() + "' uses device '" + t.tun().device()
                            + "' of tun attachment '" + same.name() + "'; each needs a device of its own"));
                }
                continue;
            }
            ListenerConfig listener = listenerByName.get(t.listener());
            boolean carried = false;
            if (listener == null) {
                if (!invalid.contains(t.listener())) {
                    errors.add(t.where().error("tunnel '" + t.name() + "' names unknown listener '" + t.listener()
                            + "'"));
                }
            } else if (listener.type() != t.type()) {
                errors.add(t.where().error("tunnel '" + t.name() + "' is " + t.type().configName() + " but listener '"
                        + listener.name() + "' is " + listener.type().configName()));
            } else if (!t.type().masque()
                    && listener.address().getAddress().getClass() != t.remote().getAddress().getClass()) {
                errors.add(t.where().error("tunnel '" + t.name() + "' remote " + t.remote().getAddress().getHostAddress()
                        + " is not of the address family of listener '" + listener.name() + "'"));
            } else {
                carried = true;
            }
            if (!vnByName.containsKey(t.virtualNetwork()) && !invalid.contains(t.virtualNetwork())) {
                errors.add(t.where().error("tunnel '" + t.name() + "' names unknown virtual network '"
                        + t.virtualNetwork() + "'"));
            }
            if (t.type().masque()) {
                continue; // told apart by the identity each client authenticates with, not by an outer address
            }
            if (t.sa() != null) {
                String spi = t.listener() + "|spi|" + t.sa().inboundSpi();
                TunnelConfig same = carried ? tunnelByIdentity.putIfAbsent(spi, t) : null;
                if (same != null) {
                    errors.add(t.sa().inboundSpiWhere().error("tunnel '" + t.name() + "' uses inbound SPI 0x"
                            + Integer.toHexString(t.sa().inboundSpi()) + " of tunnel '" + same.name()
                            + "' on listener '" + t.listener() + "'; inbound SPIs must be unique per listener"));
                }
                continue;
            }
            String identity = t.listener() + "|" + t.remote().getAddress().getHostAddress() + "|" + t.key();
            TunnelConfig same = carried ? tunnelByIdentity.putIfAbsent(identity, t) : null;
            if (same != null) {
                errors.add(t.where().error("tunnel '" + t.name() + "' cannot be told from tunnel '" + same.name()
                        + "': same listener, remote address and key"));
            }
        }
        Map<String, Integer> groupSizes = new HashMap<>();
        Map<String, RouteConfig> entries = new HashMap<>();
        for (RouteConfig r : routes) {
            if (!vnByName.containsKey(r.virtualNetwork()) && !invalid.contains(r.virtualNetwork())) {
                errors.add(r.where().error("route " + r.prefix() + " names unknown virtual network '"
                        + r.virtualNetwork() + "'"));
            }
            TunnelConfig via = tunnelByName.get(r.via());
            if (via == null && !invalid.contains(r.via())) {
                errors.add(r.where().error("route " + r.prefix() + " goes via unknown tunnel '" + r.via() + "'"));
            } else if (via != null && vnByName.containsKey(via.virtualNetwork())
                    && !via.virtualNetwork().equals(r.virtualNetwork())) {
                errors.add(r.where().error("route " + r.prefix() + " in virtual network '" + r.virtualNetwork()
                        + "' goes via tunnel '" + r.via() + "' of virtual network '" + via.virtualNetwork()
                        + "'; a tunnel carries one virtual network"));
            }
            String group = r.virtualNetwork() + "|" + r.prefix();
            RouteConfig duplicate = entries.putIfAbsent(group + "|" + r.via(), r);
            if (duplicate != null) {
                errors.add(r.where().error("route " + r.prefix() + " via '" + r.via() + "' in virtual network '"
                        + r.virtualNetwork() + "' is already defined at line " + duplicate.where().line()));
            }
            int size = groupSizes.merge(group, 1, Integer::sum);
            if (size == NextHopGroup.MAX_ENTRIES + 1) {
                errors.add(r.where().error("route " + r.prefix() + " in virtual network '" + r.virtualNetwork()
                        + "' has more than " + NextHopGroup.MAX_ENTRIES + " next hops"));
            }
        }
    }

    private static boolean overlaps(InetSocketAddress a, InetSocketAddress b) {
        if (a.getPort() != b.getPort() || a.getAddress().getClass() != b.getAddress().getClass()) {
            return false;
        }
        return a.getAddress().equals(b.getAddress()) || a.getAddress().isAnyLocalAddress()
                || b.getAddress().isAnyLocalAddress();
    }

    private static String describe(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return address.getPort() == 0 ? host : host + ":" + address.getPort();
    }
}
