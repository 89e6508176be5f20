package dev.vnetd.control.config;

import dev.vnetd.control.admin.AdminToken;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.flowtable.FlowTimeouts;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * A loaded and validated configuration (schema v1). Every value here has passed validation; defaults are filled in.
 *
 * @param source          the main file as named
 * @param node            node settings
 * @param admin           admin HTTP endpoint
 * @param flowTable       flow table sizing
 * @param listeners       sockets where tunnels arrive
 * @param virtualNetworks virtual networks, in order of appearance
 * @param tunnels         tunnels
 * @param routes          route entries (entries of one virtual network and prefix form one next-hop group)
 * @param masque          MASQUE settings of the masque listeners and tunnels
 */
public record VnetdConfig(String source, Node node, Admin admin, FlowTable flowTable, List<ListenerConfig> listeners,
                          List<VirtualNetworkConfig> virtualNetworks, List<TunnelConfig> tunnels,
                          List<RouteConfig> routes, MasqueConfig masque) {

    /** A configuration without MASQUE. */
    public VnetdConfig(String source, Node node, Admin admin, FlowTable flowTable, List<ListenerConfig> listeners,
                       List<VirtualNetworkConfig> virtualNetworks, List<TunnelConfig> tunnels,
                       List<RouteConfig> routes) {
        this(source, node, admin, flowTable, listeners, virtualNetworks, tunnels, routes, MasqueConfig.NONE);
    }

    /**
     * Node settings.
     *
     * @param name      name of this edge, shown in metrics ({@code vnetd_build_info{node}}) and logs
     * @param workers   dataplane worker threads; 0 means one per core
     * @param transport {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}
     */
    public record Node(String name, int workers, String transport) {
    }

    /**
     * Admin HTTP endpoint.
     *
     * @param listen address and port of /metrics, /healthz, /readyz
     * @param token  the bearer token every request but /healthz and /readyz must carry, or null (loopback only)
     */
    public record Admin(InetSocketAddress listen, AdminToken token) {
        /** An endpoint without a token. */
        public Admin(InetSocketAddress listen) {
            this(listen, null);
        }
    }

    /**
     * Flow table sizing.
     *
     * @param capacity flows the table holds
     * @param persist  file the table lives in, so flows survive a restart; null for memory only
     * @param timeouts idle limits per protocol
     */
    public record FlowTable(int capacity, Path persist, FlowTimeouts timeouts) {
    }

    /**
     * A listener.
     *
     * @param where       where it is defined
     * @param name        unique name
     * @param type        carrier
     * @param address     bind address (port 0 for raw IP listeners)
     * @param sourcePorts GRE-in-UDP: source-port sockets per worker for flow entropy; 0 sends from the listen port
     * @param connectedRemotes GRE-in-UDP with source ports, ESP-in-UDP: tunnels' remotes given sending sockets
     *                    connected to them
     */
    public record ListenerConfig(Where where, String name, ListenerType type, InetSocketAddress address,
                                 int sourcePorts, int connectedRemotes) {
    }

    /**
     * A virtual network.
     *
     * @param where    where it is defined
     * @param name     unique name
     * @param fallback name of the virtual network to consult when this one has no route, or null
     */
    public record VirtualNetworkConfig(Where where, String name, String fallback) {
    }

    /**
     * A tunnel.
     *
     * @param where              where it is defined
     * @param name               unique name
     * @param type               carrier, equal to its listener's
     * @param listener           listener name
     * @param remote             the peer (port 0 for raw GRE)
     * @param key                GRE key, or -1
     * @param virtualNetwork     virtual network name
     * @param mtu                largest inner packet
     * @param arr                Automatic Return Routing
     * @param interfaceAddresses the tunnel's own addresses (at most one per family); ICMP errors come from them
     * @param sa                 ESP tunnels: the security associations; null for GRE tunnels
     * @param mssClamp           {@code mss_clamp}: {@link Tunnel#MSS_CLAMP_OFF} when absent,
     *                           {@link Tunnel#MSS_CLAMP_AUTO}, or the MSS in bytes
     * @param healthCheck        the tunnel's health check, or null when it has none
     * @param tun                TUN attachments ({@code type: tun}, no listener or remote): the device; else null
     * @param maxFlows           most live ARR flows the tunnel may open ({@code max_flows}), or
     *                           {@link dev.vnetd.dataplane.state.Tunnel#UNLIMITED_FLOWS}
     */
    public record TunnelConfig(Where where, String name, ListenerType type, String listener, InetSocketAddress remote,
                               long key, String virtualNetwork, int mtu, boolean arr,
                               List<IpPrefix> interfaceAddresses, SaConfig sa, int mssClamp,
                               HealthCheckConfig healthCheck, TunConfig tun, int maxFlows) {
        /** A GRE or ESP tunnel without MSS clamping, health check or flow quota. */
        public TunnelConfig(Where where, String name, ListenerType type, String listener, InetSocketAddress remote,
                            long key, String virtualNetwork, int mtu, boolean arr,
                            List<IpPrefix> interfaceAddresses, SaConfig sa) {
            this(where, name, type, listener, remote, key, virtualNetwork, mtu, arr, interfaceAddresses, sa,
                    Tunnel.MSS_CLAMP_OFF, null, null, Tunnel.UNLIMITED_FLOWS);
        }

        /** The interface address of a family, or null. */
        public InetAddress interfaceAddress(boolean ipv6) {
            for (IpPrefix p : interfaceAddresses) {
                if (p.ipv6() == ipv6) {
                    return p.address();
                }
            }
            return null;
        }
    }

    /**
     * The device of a TUN attachment; its MTU is the tunnel's.
     *
     * @param device     interface name
     * @param addresses  addresses set on the device, with their prefix lengths
     * @param hostRoutes prefixes the host routes into the device
     */
    public record TunConfig(String device, List<IpPrefix> addresses, List<IpPrefix> hostRoutes) {
    }

    /**
     * The {@code sa:} block of an ESP tunnel: keys already read from their files and checked. {@link #toString()}
     * shows no key bytes ({@link KeyMaterial} redacts itself).
     *
     * @param transform        the ESP transform of both directions
     * @param inboundSpi       SPI of packets the peer sends to vnetd
     * @param inboundSpiWhere  where the inbound SPI is written (for duplicate-SPI errors)
     * @param inboundKey       keying material of the inbound SA
     * @param outboundSpi      SPI vnetd sends with
     * @param outboundKey      keying material of the outbound SA
     * @param replayWindow     anti-replay window in packets, 0 (off) to 4096
     * @param esn              64-bit extended sequence numbers
     */
    public record SaConfig(EspTransform transform, int inboundSpi, Where inboundSpiWhere, KeyMaterial inboundKey,
                           int outboundSpi, KeyMaterial outboundKey, int replayWindow, boolean esn) {
    }

    /**
     * One next hop for one prefix of one virtual network.
     *
     * @param where          where it is defined
     * @param prefix         the prefix (host bits clear)
     * @param virtualNetwork virtual network name
     * @param via            tunnel name
     * @param priority       lower wins
     * @param weight         ECMP weight among equal priorities
     */
    public record RouteConfig(Where where, IpPrefix prefix, String virtualNetwork, String via, int priority,
                              int weight) {
    }

    /**
     * The {@code health_check} block of a tunnel (Cloudflare WAN tunnel health checks): ICMP echo probes sent inside
     * the tunnel from its IPv4 interface address and answered through it.
     *
     * @param where    where it is defined
     * @param enabled  whether probes are sent (a disabled check leaves the tunnel healthy)
     * @param request  true: echo requests to the target, which answers; false: echo replies from the target to the
     *                 tunnel's address, which the far end routes back (Cloudflare's default, {@code reply})
     * @param local    the tunnel's IPv4 interface address: probes come from it, replies go to it
     * @param target   the probed IPv4 address: the far end of the interface address's /31 or /30 unless configured
     * @param rate     {@code low}, {@code mid} or {@code high}
     * @param interval time between regular probes at that rate
     */
    public record HealthCheckConfig(Where where, boolean enabled, boolean request, InetAddress local,
                                    InetAddress target, String rate, java.time.Duration interval) {
    }
}
