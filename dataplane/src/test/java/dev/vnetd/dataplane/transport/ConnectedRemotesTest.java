package dev.vnetd.dataplane.transport;

import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.path.DropReason;
import dev.vnetd.dataplane.path.TestNetwork;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.TunnelSas;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.VirtualNetwork;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A GRE-in-UDP listener's sockets connected to its tunnels' remotes ({@link Dataplane#connectRemotes}), through real
 * sockets on loopback: what leaves for a connected remote leaves from a socket connected to it, flows still spread
 * over source ports; a state that drops a remote closes its sockets, one that readdresses a tunnel before the
 * sockets follow sends to the new address; a vanished peer is counted and costs no packet.
 */
class ConnectedRemotesTest {
    private static final InetSocketAddress DC_PROD = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.3"), 4754);
    private static final int SOURCE_PORTS = 2;
    private static final int WORKERS = 2;
    /** Distinct remotes of the test network's GRE-in-UDP tunnels: 127.0.0.2 (site-a and site-b), .3, .4, .5. */
    private static final int REMOTES = 4;

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldSendARemotesPacketsFromSocketsConnectedToItSpreadByFlow(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        int port = 47560 + kind.ordinal();
        ForwardingStateHolder holder = new ForwardingStateHolder(withListener(net, port, 8));
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             DatagramChannel dc = DatagramChannel.open().bind(DC_PROD);
             Dataplane dataplane = Dataplane.start(holder, WORKERS, kind, 16, net.flows)) {
            dataplane.connectRemotes(holder.get());
            List<ListenerSocket> connected = dataplane.connectedSockets(0);
            assertEquals(WORKERS * SOURCE_PORTS * REMOTES, connected.size(),
                    "source_ports sockets per remote per worker");
            Set<Integer> toDc = localPorts(connected, DC_PROD);
            assertEquals(WORKERS * SOURCE_PORTS, toDc.size());
            Set<Integer> unconnected = unconnectedSourcePorts(dataplane);

            Set<Integer> seen = new HashSet<>();
            for (int flow = 0; flow < 16; flow++) {
                send(site, port, 1000 + flow);
                InetSocketAddress from = receiveFrom(dc, dataplane);
                assertTrue(toDc.contains(from.getPort()), "left from a socket connected to dc-prod: " + from
                        + " not in " + toDc + "; the unconnected ones are " + unconnected);
                seen.add(from.getPort());
            }
            assertTrue(seen.size() > 1, "flows spread over the connected sockets' source ports: " + seen);
            assertEquals(List.of(), drops(dataplane));
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldFollowEachPublishedStateClosingWhatNoTunnelNeeds(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        int port = 47562 + kind.ordinal();
        ForwardingStateHolder holder = new ForwardingStateHolder(withListener(net, port, 8));
        InetSocketAddress moved = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.9"), 4754);
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             DatagramChannel dc = DatagramChannel.open().bind(DC_PROD);
             DatagramChannel dcMoved = DatagramChannel.open().bind(moved);
             Dataplane dataplane = Dataplane.start(holder, WORKERS, kind, 16, net.flows)) {
            dataplane.connectRemotes(holder.get());
            List<ListenerSocket> before = dataplane.connectedSockets(0);
            Set<Integer> unconnected = unconnectedSourcePorts(dataplane);

            // dc-prod readdressed; the workers see the state before the sockets follow it: its packets must go to
            // the new address, so the table for the old state is not used for them (unconnected sockets)
            holder.publish(withTunnelRemote(holder.get(), TestNetwork.DC_PROD, moved));
            send(site, port, 2000);
            InetSocketAddress from = receiveFrom(dcMoved, dataplane);
            assertTrue(unconnected.contains(from.getPort()), "sent from an unconnected source port: " + from);

            dataplane.connectRemotes(holder.get());
            assertEquals(Set.of(), localPorts(dataplane.connectedSockets(0), DC_PROD), "nothing connected to .3");
            Set<Integer> toMoved = localPorts(dataplane.connectedSockets(0), moved);
            assertEquals(WORKERS * SOURCE_PORTS, toMoved.size());
            send(site, port, 2001);
            assertTrue(toMoved.contains(receiveFrom(dcMoved, dataplane).getPort()), "now from a connected socket");
            assertEquals(REMOTES * WORKERS * SOURCE_PORTS, dataplane.connectedSockets(0).size());
            long closed = before.stream().filter(s -> !s.isOpen()).count();
            assertEquals(WORKERS * SOURCE_PORTS, closed, "the sockets connected to the old address are closed");

            // one remote at most: only the first tunnel's (site-a, 127.0.0.2) stays connected
            holder.publish(withListener(holder.get(), port, 1));
            dataplane.connectRemotes(holder.get());
            assertEquals(WORKERS * SOURCE_PORTS, dataplane.connectedSockets(0).size());
            assertEquals(WORKERS * SOURCE_PORTS, localPorts(dataplane.connectedSockets(0),
                    new InetSocketAddress(InetAddress.ofLiteral("127.0.0.2"), 4754)).size());
            send(site, port, 2002);
            assertTrue(unconnected.contains(receiveFrom(dcMoved, dataplane).getPort()), "unconnected again");

            holder.publish(withListener(holder.get(), port, 0));
            List<ListenerSocket> last = dataplane.connectedSockets(0);
            dataplane.connectRemotes(holder.get());
            assertEquals(List.of(), dataplane.connectedSockets(0));
            assertTrue(last.stream().noneMatch(ListenerSocket::isOpen), "connected_remotes 0 closes them all");
            assertEquals(List.of(), drops(dataplane));
            assertFalse(dc.socket().isClosed());
        }
    }

    /**
     * Nothing listens at dc-prod's address: the kernel answers with port unreachable, which a connected socket both
     * queues on its error queue (IP_RECVERR) and raises as the socket's error, failing its next send once. Counted
     * against the tunnel; the refused send is retried, so nothing is dropped; once the peer is back, it receives.
     */
    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldCountAVanishedPeerOnAConnectedSocketAndKeepForwarding(TransportKind kind) throws Exception {
        TestNetwork net = new TestNetwork();
        int port = 47564 + kind.ordinal();
        ForwardingStateHolder holder = new ForwardingStateHolder(withListener(net, port, 8));
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
             Dataplane dataplane = Dataplane.start(holder, 1, kind, 16, net.flows)) {
            dataplane.connectRemotes(holder.get());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int flow = 3000;
            while (unreachable(dataplane) == 0 && System.nanoTime() < deadline) {
                send(site, port, flow++);
                Thread.sleep(50);
            }
            assertTrue(unreachable(dataplane) > 0, "the peer's port unreachable counted against dc-prod");
            for (int i = 0; i < 5; i++) {
                send(site, port, 3000); // one flow: one connected socket, its pending error met by a send
                Thread.sleep(20);
            }
            try (DatagramChannel dc = DatagramChannel.open().bind(DC_PROD)) {
                send(site, port, 3000);
                InetSocketAddress from = receiveFrom(dc, dataplane);
                assertTrue(localPorts(dataplane.connectedSockets(0), DC_PROD).contains(from.getPort()));
            }
            assertEquals(List.of(), drops(dataplane), "nothing dropped: the socket's pending errors cost no packet");
        }
    }

    /**
     * ESP-in-UDP: NAT-T peers expect packets from the listening port, so each remote's connected sockets (one per
     * worker) are on that port; the kernel then also gives the remote's own datagrams to one of them, the one
     * connected last, which {@code connectRemotes} makes the remote's worker by turns (remote k: worker k mod 2).
     * Each of the four remotes sends datagrams that are dropped under a reason of their own, so the workers' drop
     * counts say which worker read which remote; a packet routed into an ESP tunnel leaves from the listening port.
     */
    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void shouldConnectEspRemotesOnTheListeningPortEachReadByItsOwnWorker(TransportKind kind) throws Exception {
        int port = 47566 + kind.ordinal();
        int peerPort = 47570 + kind.ordinal();
        int grePort = 47574 + kind.ordinal();
        String[] remotes = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
        DropReason[] reasons = {DropReason.ESP_NAT_KEEPALIVE, DropReason.ESP_TRUNCATED, DropReason.ESP_IKE_MESSAGE,
            DropReason.ESP_UNKNOWN_SPI};
        byte[][] datagrams = {{(byte) 0xFF}, {1, 2}, new byte[12], {0x0B, (byte) 0xAD, (byte) 0xBE, (byte) 0xEF,
            0, 0, 0, 1, 0, 0, 0, 0}};
        TestNetwork net = new TestNetwork();
        ForwardingStateHolder holder = new ForwardingStateHolder(espState(port, grePort, peerPort, remotes));
        DatagramChannel[] peers = new DatagramChannel[remotes.length];
        try (DatagramChannel site = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.6", 0));
             Dataplane dataplane = Dataplane.start(holder, WORKERS, kind, 16, net.flows)) {
            for (int k = 0; k < remotes.length; k++) {
                peers[k] = DatagramChannel.open().bind(new InetSocketAddress(remotes[k], peerPort));
            }
            dataplane.connectRemotes(holder.get());
            List<ListenerSocket> connected = dataplane.connectedSockets(0);
            assertEquals(WORKERS * remotes.length, connected.size(), "one socket per remote per worker");
            assertEquals(Set.of(port), connected.stream().map(c -> c.localAddress().getPort())
                    .collect(Collectors.toSet()), "all on the listening port");

            InetSocketAddress listening = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), port);
            int each = 20;
            for (int i = 0; i < each; i++) {
                for (int k = 0; k < remotes.length; k++) {
                    peers[k].send(ByteBuffer.wrap(datagrams[k]), listening);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Arrays.stream(reasons).mapToLong(r -> dropped(dataplane, r)).sum() < (long) each * remotes.length
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            for (int k = 0; k < remotes.length; k++) {
                int worker = k % WORKERS;
                assertEquals(each, dataplane.counters()[worker].drops(reasons[k]),
                        remotes[k] + "'s datagrams all read by worker " + worker + "; drops: " + drops(dataplane));
            }

            ByteBuf packet = new PacketBuilder().gre(Tunnel.NO_KEY).ip("192.168.10.5", "10.1.2.3", 64)
                    .udp(4000, 2000, new byte[100]).build(UnpooledByteBufAllocator.DEFAULT);
            site.send(packet.nioBuffer(), new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), grePort));
            packet.release();
            InetSocketAddress from = receiveFrom(peers[0], dataplane);
            assertEquals(listening, from, "ESP leaves from the listening address and port");

            // the first tunnel readdressed: its sockets on the listening port close, new ones take the same port
            InetSocketAddress old = new InetSocketAddress(InetAddress.ofLiteral(remotes[0]), peerPort);
            InetSocketAddress moved = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.9"), peerPort);
            holder.publish(withTunnelRemote(holder.get(), 0, moved));
            dataplane.connectRemotes(holder.get());
            List<ListenerSocket> after = dataplane.connectedSockets(0);
            assertEquals(WORKERS * remotes.length, after.size());
            assertEquals(Set.of(), localPorts(after, old), "nothing connected to the old address");
            assertEquals(Set.of(port), localPorts(after, moved), "the moved remote's sockets on the listening port");
            assertEquals(WORKERS, connected.stream().filter(c -> old.equals(c.connectedTo()))
                    .filter(c -> !c.isOpen()).count(), "the old address's sockets are closed");
            assertEquals(List.of(), drops(dataplane).stream().filter(d -> !d.startsWith("esp_")).toList());
        } finally {
            for (DatagramChannel peer : peers) {
                if (peer != null) {
                    peer.close();
                }
            }
        }
    }

    /**
     * Listener 0 ESP-in-UDP on {@code port} (connects 64 remotes), listener 1 GRE-in-UDP on {@code grePort} without
     * source ports; ESP tunnels 0.. to each of {@code remotes} at {@code peerPort} (AES-GCM-128), GRE tunnel "site"
     * from 127.0.0.6 (the last id); 10.0.0.0/8 goes to ESP tunnel 0.
     */
    private static ForwardingState espState(int port, int grePort, int peerPort, String[] remotes) {
        Listener esp = new Listener(0, "esp-udp", ListenerType.ESP_UDP,
                new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), port), 0, 64);
        Listener gre = new Listener(1, "gre-udp", ListenerType.GRE_UDP,
                new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), grePort), 0);
        Tunnel[] tunnels = new Tunnel[remotes.length + 1];
        for (int k = 0; k < remotes.length; k++) {
            byte[] key = new byte[20];
            Arrays.fill(key, (byte) (k + 1));
            KeyMaterial material = KeyMaterial.of(EspTransform.AES_GCM_128, key);
            TunnelSas sas = new TunnelSas(
                    new InboundSa(0x1000 + k, material, true, 64, EspLifetime.UNLIMITED, RekeyListener.NONE),
                    new OutboundSa(0x2000 + k, material, true, EspLifetime.UNLIMITED, RekeyListener.NONE));
            tunnels[k] = new Tunnel(k, "esp-" + k, esp, new InetSocketAddress(InetAddress.ofLiteral(remotes[k]),
                    peerPort), Tunnel.NO_KEY, 0, 1400, false, 0, 0, 0, sas);
        }
        int site = remotes.length;
        tunnels[site] = new Tunnel(site, "site", gre, new InetSocketAddress(InetAddress.ofLiteral("127.0.0.6"),
                4754), Tunnel.NO_KEY, 0, 1400, false, 0, 0, 0);
        VirtualNetwork vn = new VirtualNetwork(0, "corp", VirtualNetwork.NO_FALLBACK, new Ipv4Lpm(), new Ipv6Lpm(),
                new Route[] {new Route("10.0.0.0/8", false, new NextHopGroup(new int[] {0}, new int[] {100},
                        new int[] {1}))}, false);
        vn.ipv4().add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.0.0")), 8, 0);
        return new ForwardingState(new Listener[] {esp, gre}, tunnels, new VirtualNetwork[] {vn},
                new TunnelIndex(tunnels), new TunnelHealth(tunnels.length));
    }

    private static long dropped(Dataplane dataplane, DropReason reason) {
        return Arrays.stream(dataplane.counters()).mapToLong(c -> c.drops(reason)).sum();
    }

    /**
     * The test network's state with only its GRE-in-UDP listener, on {@code port}, with {@value #SOURCE_PORTS}
     * source ports and {@code connectedRemotes}; the tunnels point at the new listener.
     */
    private static ForwardingState withListener(TestNetwork net, int port, int connectedRemotes) {
        return withListener(net.holder.get(), port, connectedRemotes);
    }

    private static ForwardingState withListener(ForwardingState s, int port, int connectedRemotes) {
        Listener listener = new Listener(0, "gre-udp", ListenerType.GRE_UDP,
                new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), port), SOURCE_PORTS, connectedRemotes);
        Tunnel[] tunnels = Arrays.stream(s.tunnels()).map(t -> t.listener().id() != 0 ? t : new Tunnel(t.id(),
                t.name(), listener, t.remote(), t.key(), t.virtualNetwork(), t.mtu(), t.arr(), t.icmpSourceV4(),
                t.icmpSourceV6High(), t.icmpSourceV6Low())).toArray(Tunnel[]::new);
        return new ForwardingState(new Listener[] {listener}, tunnels, s.virtualNetworks(), new TunnelIndex(tunnels),
                s.health());
    }

    /** {@code s} with tunnel {@code id}'s remote moved to {@code remote}. */
    private static ForwardingState withTunnelRemote(ForwardingState s, int id, InetSocketAddress remote) {
        Tunnel[] tunnels = s.tunnels().clone();
        Tunnel t = tunnels[id];
        tunnels[id] = new Tunnel(t.id(), t.name(), t.listener(), remote, t.key(), t.virtualNetwork(), t.mtu(),
                t.arr(), t.icmpSourceV4(), t.icmpSourceV6High(), t.icmpSourceV6Low(), t.sas());
        return new ForwardingState(s.listeners(), tunnels, s.virtualNetworks(), new TunnelIndex(tunnels), s.health());
    }

    /** The local ports of those of {@code sockets} connected to {@code remote}. */
    private static Set<Integer> localPorts(List<ListenerSocket> sockets, InetSocketAddress remote) {
        return sockets.stream().filter(s -> remote.equals(s.connectedTo()))
                .map(s -> s.localAddress().getPort()).collect(Collectors.toSet());
    }

    /** The local ports of listener 0's unconnected source-port sockets (all its sockets but the listening ones). */
    private static Set<Integer> unconnectedSourcePorts(Dataplane dataplane) {
        int listening = dataplane.sockets(0).getFirst().localAddress().getPort();
        Set<Integer> ports = dataplane.sockets(0).stream().map(s -> s.localAddress().getPort())
                .filter(p -> p != listening).collect(Collectors.toSet());
        assertEquals(WORKERS * SOURCE_PORTS, ports.size());
        return ports;
    }

    /** A site-a packet of flow {@code sourcePort} toward production's 10.0.0.0/8 (dc-prod). */
    private static void send(DatagramChannel site, int port, int sourcePort) throws Exception {
        ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                .udp(sourcePort, 2000, new byte[100]).build(UnpooledByteBufAllocator.DEFAULT);
        site.send(packet.nioBuffer(), new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), port));
        packet.release();
    }

    private static InetSocketAddress receiveFrom(DatagramChannel peer, Dataplane dataplane) throws Exception {
        peer.socket().setSoTimeout(5000);
        java.net.DatagramPacket datagram = new java.net.DatagramPacket(new byte[2048], 2048);
        try {
            peer.socket().receive(datagram);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("nothing arrived; drops: " + drops(dataplane), e);
        }
        return (InetSocketAddress) datagram.getSocketAddress();
    }

    private static long unreachable(Dataplane dataplane) {
        return Arrays.stream(dataplane.counters()).mapToLong(c -> c.peerUnreachables(TestNetwork.DC_PROD)).sum();
    }

    private static List<String> drops(Dataplane dataplane) {
        return Arrays.stream(DropReason.values())
                .map(r -> r.metricName() + "=" + Arrays.stream(dataplane.counters()).mapToLong(c -> c.drops(r)).sum())
                .filter(d -> !d.endsWith("=0")).toList();
    }
}
