package dev.vnetd.control.snapshot;

import dev.vnetd.control.config.Addresses;
import dev.vnetd.control.config.IpPrefix;
import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.ListenerConfig;
import dev.vnetd.control.config.VnetdConfig.RouteConfig;
import dev.vnetd.control.config.VnetdConfig.SaConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.control.config.VnetdConfig.VirtualNetworkConfig;
import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.TunSettings;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.TunnelSas;
import dev.vnetd.dataplane.state.VirtualNetwork;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the workers' forwarding state from a validated configuration. */
public final class ForwardingStateBuilder {
    /**
     * ICMPv4 error source of a tunnel without an IPv4 interface address: 192.0.0.8, the IPv4 dummy address that
     * RFC 7600 reserves for exactly this, a router sending ICMP without an address of its own on the path.
     */
    public static final InetAddress DEFAULT_ICMP_SOURCE_V4 = Addresses.parseLiteral("192.0.0.8");
    /**
     * ICMPv6 error source of a tunnel without an IPv6 interface address: fe80::1. IPv6 has no dummy address; hosts
     * accept errors from a link-local source (traceroute shows it), but only an interface address is routable.
     */
    public static final InetAddress DEFAULT_ICMP_SOURCE_V6 = Addresses.parseLiteral("fe80::1");

    /**
     * Key prefix of a TUN attachment's own listener in the builder's map of listeners by name: the NUL keeps it
     * apart from every configured listener name. The listener itself is named {@code tun:DEVICE}.
     */
    private static final String TUN_LISTENER_PREFIX = "\0tun:";

    private ForwardingStateBuilder() {
    }

    /** What the dataplane needs to create and set up a TUN attachment's device. */
    private static TunSettings tunSettings(TunnelConfig t) {
        return new TunSettings(t.tun().device(), t.mtu(),
                t.tun().addresses().stream().map(IpPrefix::toString).toList(),
                t.tun().hostRoutes().stream().map(IpPrefix::toString).toList());
    }

    /** The forwarding state of {@code config}, all tunnels healthy. */
    public static ForwardingState build(VnetdConfig config) {
        return build(config, null);
    }

    /**
     * The forwarding state of {@code config} after {@code previous} (null at start), all tunnels healthy. Every
     * listener, virtual network and tunnel still configured keeps its id in {@code previous}; added ones take the
     * next ids, in the order of the file, and so does a listener whose type, address or source ports changed;
     * removed ones, and those removed by earlier reloads, stay in their slots as retired entries (a retired virtual
     * network without its routes). Ids are never reused: a removed name added again is new, with a new id.
     */
    public static ForwardingState build(VnetdConfig config, ForwardingState previous) {
        int listenerCount = previous == null ? 0 : previous.listeners().length;
        Map<String, Listener> listeners = new LinkedHashMap<>();
        for (ListenerConfig l : config.listeners()) {
            Listener kept = previous == null ? null : liveListener(previous, l.name());
            boolean same = kept != null && kept.type() == l.type() && kept.address().equals(l.address())
                    && kept.sourcePorts() == l.sourcePorts();
            listeners.put(l.name(), new Listener(same ? kept.id() : listenerCount++, l.name(), l.type(), l.address(),
                    l.sourcePorts(), l.connectedRemotes()));
        }
        int vnCount = previous == null ? 0 : previous.virtualNetworks().length;
        Map<String, Integer> vnIds = new HashMap<>();
        for (VirtualNetworkConfig vn : config.virtualNetworks()) {
            VirtualNetwork kept = previous == null ? null : previous.virtualNetwork(vn.name());
            vnIds.put(vn.name(), kept != null ? kept.id() : vnCount++);
        }
        int tunnelCount = previous == null ? 0 : previous.tunnels().length;
        Map<String, Integer> tunnelIds = new HashMap<>();
        for (TunnelConfig t : config.tunnels()) {
            Tunnel kept = previous == null ? null : previous.tunnel(t.name());
            tunnelIds.put(t.name(), kept != null ? kept.id() : tunnelCount++);
        }
        List<TunnelConfig> byId = config.tunnels().stream()
                .sorted(Comparator.comparing(t -> tunnelIds.get(t.name()))).toList();
        for (TunnelConfig t : byId) {
            if (t.tun() != null) {
                Tunnel kept = previous == null ? null : previous.tunnel(t.name());
                int id = kept != null && kept.tun() ? kept.listener().id() : listenerCount++;
                listeners.put(TUN_LISTENER_PREFIX + t.name(), Listener.tun(id, "tun:" + t.tun().device(),
                        tunSettings(t)));
            }
        }
        Map<String, Tunnel> tunnels = new LinkedHashMap<>();
        for (TunnelConfig t : byId) {
            InetAddress v4 = t.interfaceAddress(false);
            InetAddress v6 = t.interfaceAddress(true);
            InetAddress icmpV4 = v4 != null ? v4 : DEFAULT_ICMP_SOURCE_V4;
            InetAddress icmpV6 = v6 != null ? v6 : DEFAULT_ICMP_SOURCE_V6;
            Listener listener = listeners.get(t.tun() != null ? TUN_LISTENER_PREFIX + t.name() : t.listener());
            tunnels.put(t.name(), new Tunnel(tunnelIds.get(t.name()), t.name(), listener, t.remote(),
                    t.key(), vnIds.get(t.virtualNetwork()), t.mtu(), t.arr(), Tunnel.ipv4ToInt(icmpV4),
                    Tunnel.ipv6High(icmpV6), Tunnel.ipv6Low(icmpV6), sas(t), t.mssClamp(), t.maxFlows()));
        }
        VirtualNetwork[] vns = new VirtualNetwork[vnCount];
        boolean[] retiredVns = new boolean[vnCount];
        for (VirtualNetworkConfig vn : config.virtualNetworks()) {
            int id = vnIds.get(vn.name());
            vns[id] = buildVirtualNetwork(id, vn, vnIds, config.routes(), tunnels);
        }
        for (int id = 0; id < vnCount; id++) {
            if (vns[id] == null) {
                VirtualNetwork gone = previous.virtualNetworks()[id];
                vns[id] = new VirtualNetwork(id, gone.name(), VirtualNetwork.NO_FALLBACK, new Ipv4Lpm(), new Ipv6Lpm(),
                        new Route[0], false);
                retiredVns[id] = true;
            }
        }
        Tunnel[] live = tunnels.values().toArray(Tunnel[]::new);
        Tunnel[] tunnelArray = new Tunnel[tunnelCount];
        boolean[] retiredTunnels = new boolean[tunnelCount];
        for (Tunnel t : live) {
            tunnelArray[t.id()] = t;
        }
        for (int id = 0; id < tunnelCount; id++) {
            if (tunnelArray[id] == null) {
                tunnelArray[id] = previous.tunnels()[id];
                retiredTunnels[id] = true;
            }
        }
        Listener[] listenerArray = new Listener[listenerCount];
        boolean[] retiredListeners = new boolean[listenerCount];
        for (Listener l : listeners.values()) {
            listenerArray[l.id()] = l;
        }
        for (int id = 0; id < listenerCount; id++) {
            if (listenerArray[id] == null) {
                listenerArray[id] = previous.listeners()[id];
                retiredListeners[id] = true;
            }
        }
        return new ForwardingState(listenerArray, tunnelArray, vns, new TunnelIndex(live),
                new TunnelHealth(tunnelArray.length), retiredListeners, retiredTunnels, retiredVns);
    }

    private static Listener liveListener(ForwardingState state, String name) {
        for (Listener l : state.liveListeners()) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    /**
     * The SAs of an ESP tunnel, or null for GRE. New SAs start at sequence number 1 with an empty replay window,
     * as after an IKE rekey; packet and byte lifetimes are unlimited until IKEv2 negotiates them.
     */
    private static TunnelSas sas(TunnelConfig t) {
        SaConfig sa = t.sa();
        if (sa == null) {
            return null;
        }
        RekeyLog log = new RekeyLog(t.name());
        return new TunnelSas(
                new InboundSa(sa.inboundSpi(), sa.inboundKey(), sa.esn(), sa.replayWindow(), EspLifetime.UNLIMITED,
                        log),
                new OutboundSa(sa.outboundSpi(), sa.outboundKey(), sa.esn(), EspLifetime.UNLIMITED, log));
    }

    private static VirtualNetwork buildVirtualNetwork(int id, VirtualNetworkConfig vn, Map<String, Integer> vnIds,
                                                      List<RouteConfig> allRoutes, Map<String, Tunnel> tunnels) {
        Map<IpPrefix, List<RouteConfig>> groups = new LinkedHashMap<>();
        for (RouteConfig r : allRoutes) {
            if (r.virtualNetwork().equals(vn.name())) {
                groups.computeIfAbsent(r.prefix(), p -> new ArrayList<>()).add(r);
            }
        }
        List<Route> routes = new ArrayList<>();
        List<Integer> v4Prefixes = new ArrayList<>();
        List<Integer> v4Lengths = new ArrayList<>();
        List<Integer> v4Values = new ArrayList<>();
        List<IpPrefix> v6Prefixes = new ArrayList<>();
        List<Integer> v6Values = new ArrayList<>();
        for (Map.Entry<IpPrefix, List<RouteConfig>> group : groups.entrySet()) {
            List<RouteConfig> entries = group.getValue();
            int[] ids = new int[entries.size()];
            int[] priorities = new int[entries.size()];
            int[] weights = new int[entries.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = tunnels.get(entries.get(i).via()).id();
                priorities[i] = entries.get(i).priority();
                weights[i] = entries.get(i).weight();
            }
            IpPrefix prefix = group.getKey();
            int index = routes.size();
            routes.add(new Route(prefix.toString(), prefix.ipv6(), new NextHopGroup(ids, priorities, weights)));
            if (prefix.ipv6()) {
                v6Prefixes.add(prefix);
                v6Values.add(index);
            } else {
                v4Prefixes.add(Tunnel.ipv4ToInt(prefix.address()));
                v4Lengths.add(prefix.length());
                v4Values.add(index);
            }
        }
        Ipv4Lpm v4 = Ipv4Lpm.build(toArray(v4Prefixes), toArray(v4Lengths), toArray(v4Values), v4Prefixes.size());
        long[] highs = new long[v6Prefixes.size()];
        long[] lows = new long[v6Prefixes.size()];
        int[] lengths = new int[v6Prefixes.size()];
        for (int i = 0; i < highs.length; i++) {
            highs[i] = Tunnel.ipv6High(v6Prefixes.get(i).address());
            lows[i] = Tunnel.ipv6Low(v6Prefixes.get(i).address());
            lengths[i] = v6Prefixes.get(i).length();
        }
        Ipv6Lpm v6 = Ipv6Lpm.build(highs, lows, lengths, toArray(v6Values), highs.length);
        int fallback = vn.fallback() == null ? VirtualNetwork.NO_FALLBACK : vnIds.get(vn.fallback());
        boolean arr = tunnels.values().stream().anyMatch(t -> t.virtualNetwork() == id && t.arr());
        return new VirtualNetwork(id, vn.name(), fallback, v4, v6, routes.toArray(Route[]::new), arr);
    }

    private static int[] toArray(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).toArray();
    }
}
