package dev.vnetd.control.config;

import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.dataplane.state.ListenerType;
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
 */
public record VnetdConfig(String source, Node node, Admin admin, FlowTable flowTable, List<ListenerConfig> listeners,
                          List<VirtualNetworkConfig> virtualNetworks, List<TunnelConfig> tunnels,
                          List<RouteConfig> routes) {

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
     */
    public record Admin(InetSocketAddress listen) {
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
     */
    public record ListenerConfig(Where where, String name, ListenerType type, InetSocketAddress address,
                                 int sourcePorts) {
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
     * @param maxFlows           most live ARR flows the tunnel may open ({@code max_flows}), or
     *                           {@link dev.vnetd.dataplane.state.Tunnel#UNLIMITED_FLOWS}
     */
    public record TunnelConfig(Where where, String name, ListenerType type, String listener, InetSocketAddress remote,
                               long key, String virtualNetwork, int mtu, boolean arr,
                               List<IpPrefix> interfaceAddresses, SaConfig sa, int maxFlows) {
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
}
