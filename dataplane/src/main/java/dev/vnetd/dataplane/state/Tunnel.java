package dev.vnetd.dataplane.state;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A tunnel to a remote site: where its packets arrive (listener, remote address, GRE key or, for ESP, the inbound
 * SPI) and where they are sent.
 *
 * @param id                index in {@link ForwardingState#tunnels()}
 * @param name              the configured name
 * @param listener          the listener it receives on and sends from (a TUN attachment's own device)
 * @param remote            the peer's address; packets are sent there (port 0 for raw GRE); null for TUN
 *                          attachments
 * @param key               GRE key, or {@link #NO_KEY}
 * @param virtualNetwork    index of the virtual network its packets enter
 * @param mtu               largest inner packet the tunnel carries, in bytes
 * @param arr               whether Automatic Return Routing applies to flows it starts
 * @param icmpSourceV4      source address of ICMPv4 errors vnetd sends through this tunnel
 * @param icmpSourceV6High  high 64 bits of the ICMPv6 error source
 * @param icmpSourceV6Low   low 64 bits of the ICMPv6 error source
 * @param sas               ESP tunnels: the inbound and outbound SA; null for GRE tunnels
 * @param mssClamp          the MSS TCP SYNs through the tunnel are clamped to: {@link #MSS_CLAMP_OFF},
 *                          {@link #MSS_CLAMP_AUTO} or a segment size in bytes
 * @param maxFlows          most live ARR flows this tunnel may open at once ({@code max_flows}), or
 *                          {@link #UNLIMITED_FLOWS}: one site cannot fill the flow table and starve the others
 */
public record Tunnel(int id, String name, Listener listener, InetSocketAddress remote, long key, int virtualNetwork,
                     int mtu, boolean arr, int icmpSourceV4, long icmpSourceV6High, long icmpSourceV6Low,
                     TunnelSas sas, int mssClamp, int maxFlows) {
    /** Key value of a tunnel without a GRE key. */
    public static final long NO_KEY = -1L;
    /** {@link #mssClamp()} of a tunnel that leaves the TCP MSS alone (no {@code mss_clamp}). */
    public static final int MSS_CLAMP_OFF = 0;
    /** {@link #mssClamp()} of {@code mss_clamp: auto}: the MTU less the IP and TCP headers. */
    public static final int MSS_CLAMP_AUTO = -1;
    /** {@link #maxFlows()} of a tunnel without a quota: only the flow table's capacity limits it. */
    public static final int UNLIMITED_FLOWS = Integer.MAX_VALUE;

    /** A tunnel without MSS clamping and without a flow quota. */
    public Tunnel(int id, String name, Listener listener, InetSocketAddress remote, long key, int virtualNetwork,
                  int mtu, boolean arr, int icmpSourceV4, long icmpSourceV6High, long icmpSourceV6Low,
                  TunnelSas sas) {
        this(id, name, listener, remote, key, virtualNetwork, mtu, arr, icmpSourceV4, icmpSourceV6High,
                icmpSourceV6Low, sas, MSS_CLAMP_OFF, UNLIMITED_FLOWS);
    }

    /** A GRE tunnel (no SAs) without MSS clamping and without a flow quota. */
    public Tunnel(int id, String name, Listener listener, InetSocketAddress remote, long key, int virtualNetwork,
                  int mtu, boolean arr, int icmpSourceV4, long icmpSourceV6High, long icmpSourceV6Low) {
        this(id, name, listener, remote, key, virtualNetwork, mtu, arr, icmpSourceV4, icmpSourceV6High,
                icmpSourceV6Low, null, MSS_CLAMP_OFF, UNLIMITED_FLOWS);
    }

    /** The same tunnel with flow quota {@code flows} ({@link #UNLIMITED_FLOWS} for none). */
    public Tunnel withMaxFlows(int flows) {
        return new Tunnel(id, name, listener, remote, key, virtualNetwork, mtu, arr, icmpSourceV4, icmpSourceV6High,
                icmpSourceV6Low, sas, mssClamp, flows);
    }

    /** Whether the tunnel carries ESP (then {@link #sas()} is set). */
    public boolean esp() {
        return sas != null;
    }

    /** Whether this is a TUN attachment: packets go to the local host's stack, without encapsulation. */
    public boolean tun() {
        return listener.type().tun();
    }

    /** Whether packets of this tunnel carry a GRE key. */
    public boolean hasKey() {
        return key != NO_KEY;
    }

    /** Whether the remote address is IPv6. */
    public boolean remoteIsIpv6() {
        return remote.getAddress() instanceof Inet6Address;
    }

    /** The remote IPv4 address as an integer (only for IPv4 remotes). */
    public int remoteV4() {
        return ipv4ToInt(remote.getAddress());
    }

    /** An IPv4 address as a 32-bit integer in network order. */
    public static int ipv4ToInt(InetAddress address) {
        byte[] b = ((Inet4Address) address).getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /** The high 64 bits of an IPv6 address. */
    public static long ipv6High(InetAddress address) {
        return bytesToLong(address.getAddress(), 0);
    }

    /** The low 64 bits of an IPv6 address. */
    public static long ipv6Low(InetAddress address) {
        return bytesToLong(address.getAddress(), 8);
    }

    private static long bytesToLong(byte[] b, int from) {
        long v = 0;
        for (int i = from; i < from + 8; i++) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }
}
