package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A small network for path tests: listener 0 is GRE-in-UDP on 127.0.0.1:4754, listener 1 plain GRE on 127.0.0.1.
 * Virtual networks: 0 "default", 1 "production" (falls back to default), 2 "staging".
 * Tunnels: 0 site-a (127.0.0.2 key 100, production), 1 site-b (127.0.0.2 key 200, staging), 2 dc-prod (127.0.0.3,
 * production, mtu 1400), 3 dc-staging (127.0.0.4, staging), 4 internet (127.0.0.5, default), 5 raw-site (plain GRE
 * from 127.0.0.6, production), 6 v6-site ([::1], production).
 * site-a and v6-site have ARR ({@code arr: true}), so production's packets go through the flow table.
 * Routes: production 10.0.0.0/8 and fd00:10::/32 via dc-prod, 192.168.10.0/24 via site-a; staging 10.0.0.0/8 via
 * dc-staging, 192.168.10.0/24 via site-b; default 0.0.0.0/0 via internet.
 */
public final class TestNetwork {
    public static final int SITE_A = 0;
    public static final int SITE_B = 1;
    public static final int DC_PROD = 2;
    public static final int DC_STAGING = 3;
    public static final int INTERNET = 4;
    public static final int RAW_SITE = 5;
    public static final int V6_SITE = 6;

    final Listener udp = new Listener(0, "gre-udp", ListenerType.GRE_UDP, address("127.0.0.1", 4754), 0);
    final Listener raw = new Listener(1, "gre", ListenerType.GRE, address("127.0.0.1", 0), 0);
    final Listener udp6 = new Listener(2, "gre-udp6", ListenerType.GRE_UDP, address("::1", 4754), 0);
    public final Tunnel[] tunnels = {
        tunnel(SITE_A, "site-a", udp, "127.0.0.2", 100, 1, 1476),
        tunnel(SITE_B, "site-b", udp, "127.0.0.2", 200, 2, 1476),
        tunnel(DC_PROD, "dc-prod", udp, "127.0.0.3", -1, 1, 1400),
        tunnel(DC_STAGING, "dc-staging", udp, "127.0.0.4", -1, 2, 1476),
        tunnel(INTERNET, "internet", udp, "127.0.0.5", -1, 0, 1476),
        tunnel(RAW_SITE, "raw-site", raw, "127.0.0.6", -1, 1, 1476),
        tunnel(V6_SITE, "v6-site", udp6, "::1", -1, 1, 1476),
    };
    public final ForwardingStateHolder holder;
    final CapturingTxPort[] ports = {new CapturingTxPort(), new CapturingTxPort(), new CapturingTxPort()};
    final WorkerCounters counters = new WorkerCounters(tunnels.length);
    /** The flow table of ARR; 4096 flows, memory only. */
    public final FlowTable flows = FlowTable.allocate(4096, FlowTimeouts.DEFAULTS);
    long millis = 1_700_000_000_000L;
    long nanos = 1_000_000_000L;
    final PacketPath path;

    public TestNetwork() {
        VirtualNetwork def = vn(0, "default", -1, List.of(v4("0.0.0.0", 0, INTERNET)));
        VirtualNetwork production = vn(1, "production", 0, List.of(v4("10.0.0.0", 8, DC_PROD),
                v4("192.168.10.0", 24, SITE_A), v6("fd00:10::", 32, DC_PROD)));
        VirtualNetwork staging = vn(2, "staging", -1, List.of(v4("10.0.0.0", 8, DC_STAGING),
                v4("192.168.10.0", 24, SITE_B)));
        holder = new ForwardingStateHolder(new ForwardingState(new Listener[] {udp, raw, udp6}, tunnels,
                new VirtualNetwork[] {def, production, staging}, new TunnelIndex(tunnels),
                new TunnelHealth(tunnels.length)));
        path = new PacketPath(holder, counters, ports, UnpooledByteBufAllocator.DEFAULT, () -> nanos, flows,
                () -> millis);
    }

    record RouteSpec(String prefix, int length, int tunnel) {
    }

    static RouteSpec v4(String prefix, int length, int tunnel) {
        return new RouteSpec(prefix, length, tunnel);
    }

    static RouteSpec v6(String prefix, int length, int tunnel) {
        return new RouteSpec(prefix, length, tunnel);
    }

    private static VirtualNetwork vn(int id, String name, int fallback, List<RouteSpec> specs) {
        Ipv4Lpm v4 = new Ipv4Lpm();
        Ipv6Lpm v6 = new Ipv6Lpm();
        List<Route> routes = new ArrayList<>();
        for (RouteSpec spec : specs) {
            InetAddress a = InetAddress.ofLiteral(spec.prefix());
            boolean ipv6 = a.getAddress().length == 16;
            int index = routes.size();
            routes.add(new Route(spec.prefix() + "/" + spec.length(), ipv6,
                    new NextHopGroup(new int[] {spec.tunnel()}, new int[] {100}, new int[] {1})));
            if (ipv6) {
                v6.add(Tunnel.ipv6High(a), Tunnel.ipv6Low(a), spec.length(), index);
            } else {
                v4.add(Tunnel.ipv4ToInt(a), spec.length(), index);
            }
        }
        return new VirtualNetwork(id, name, fallback, v4, v6, routes.toArray(Route[]::new), id == 1);
    }

    private static Tunnel tunnel(int id, String name, Listener listener, String remote, long key, int vn, int mtu) {
        return new Tunnel(id, name, listener, address(remote, listener.address().getPort()), key, vn, mtu, id == SITE_A || id == V6_SITE,
                Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.10." + id)), 0xFE80_0000_0000_0000L, id + 1);
    }

    /** A holder of the same state with the GRE-in-UDP listener moved to {@code port} (tunnels keep 4754). */
    public static ForwardingStateHolder withUdpPort(TestNetwork net, int port) {
        ForwardingState s = net.holder.get();
        Listener[] listeners = s.listeners().clone();
        listeners[0] = new Listener(0, "gre-udp", ListenerType.GRE_UDP, address("127.0.0.1", port), 4);
        listeners = java.util.Arrays.copyOf(listeners, 1);
        return new ForwardingStateHolder(new ForwardingState(listeners, s.tunnels(), s.virtualNetworks(),
                s.tunnelIndex(), s.health()));
    }

    static InetSocketAddress address(String host, int port) {
        return new InetSocketAddress(InetAddress.ofLiteral(host), port);
    }

    /** Receives a packet as if it came from tunnel {@code from}'s remote. */
    void receive(int from, ByteBuf packet) {
        Tunnel t = tunnels[from];
        path.receive(t.listener().id(), packet, t.remote());
        path.flush();
    }

    /** A TxPort that keeps what is sent. */
    static final class CapturingTxPort implements TxPort {
        record Sent(ByteBuf packet, InetSocketAddress remote, int flowHash) {
        }

        final List<Sent> sent = new ArrayList<>();
        long total;
        int flushes;
        boolean refuse;
        /** What {@link #spreadsFlows()} says: as a port of several sockets. */
        boolean spreads;

        @Override
        public boolean send(ByteBuf packet, InetSocketAddress remote, int flowHash) {
            if (refuse) {
                packet.release();
                return false;
            }
            sent.add(new Sent(packet, remote, flowHash));
            total++;
            return true;
        }

        @Override
        public boolean spreadsFlows() {
            return spreads;
        }

        @Override
        public void flush() {
            flushes++;
        }

        void releaseAll() {
            sent.forEach(s -> s.packet().release());
            sent.clear();
        }
    }
}
