package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.TunSettings;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The path with a TUN attachment: a site gateway whose listener 1 is the device of tunnel "hosts" (10.0.1.0/24),
 * and whose GRE-in-UDP tunnel "edge" (listener 0, MTU 1300) leads to 10.0.2.0/24.
 */
class TunPathTest {
    private static final int EDGE = 0;
    private static final int HOSTS = 1;
    /** Bytes before the packet in a TUN receive buffer, as the transport leaves them. */
    private static final int HEADROOM = 64;

    private final Listener udp = new Listener(0, "gre-udp", ListenerType.GRE_UDP,
            new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 4754), 0);
    private final Listener tun = Listener.tun(1, "tun:vnet0", new TunSettings("vnet0", 1420, List.of("10.0.1.1/24"),
            List.of("10.0.2.0/24")));
    private final Tunnel[] tunnels = {
        new Tunnel(EDGE, "edge", udp, new InetSocketAddress(InetAddress.ofLiteral("127.0.0.2"), 4754), Tunnel.NO_KEY,
                0, 1300, false, Tunnel.ipv4ToInt(InetAddress.ofLiteral("192.0.0.8")), 0xFE80_0000_0000_0000L, 1),
        new Tunnel(HOSTS, "hosts", tun, null, Tunnel.NO_KEY, 0, 1420, false,
                Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.1.1")), 0xFE80_0000_0000_0000L, 1),
    };
    private final TestNetwork.CapturingTxPort toEdge = new TestNetwork.CapturingTxPort();
    private final TestNetwork.CapturingTxPort toHosts = new TestNetwork.CapturingTxPort();
    private final WorkerCounters counters = new WorkerCounters(tunnels.length);
    private final FlowTable flows = FlowTable.allocate(1024, FlowTimeouts.DEFAULTS);
    private final PacketPath path;

    TunPathTest() {
        Ipv4Lpm v4 = new Ipv4Lpm();
        v4.add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.2.0")), 24, 0);
        v4.add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.1.0")), 24, 1);
        Route[] routes = {
            new Route("10.0.2.0/24", false, new NextHopGroup(new int[] {EDGE}, new int[] {100}, new int[] {1})),
            new Route("10.0.1.0/24", false, new NextHopGroup(new int[] {HOSTS}, new int[] {100}, new int[] {1})),
        };
        VirtualNetwork vn = new VirtualNetwork(0, "default", VirtualNetwork.NO_FALLBACK, v4, new Ipv6Lpm(), routes,
                false);
        ForwardingStateHolder holder = new ForwardingStateHolder(new ForwardingState(new Listener[] {udp, tun},
                tunnels, new VirtualNetwork[] {vn}, new TunnelIndex(tunnels), new TunnelHealth(tunnels.length)));
        path = new PacketPath(holder, counters, new TxPort[] {toEdge, toHosts}, UnpooledByteBufAllocator.DEFAULT,
                () -> 1_000_000_000L, flows, () -> 1_700_000_000_000L);
    }

    @AfterEach
    void release() {
        toEdge.releaseAll();
        toHosts.releaseAll();
        flows.close();
    }

    /** A packet as a TUN queue hands it over: whole IP packet, {@link #HEADROOM} bytes into its buffer. */
    private static ByteBuf fromHost(PacketBuilder builder) {
        ByteBuf packet = builder.build(UnpooledByteBufAllocator.DEFAULT);
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(HEADROOM + 2048);
        buf.setIndex(HEADROOM, HEADROOM).writeBytes(packet);
        packet.release();
        return buf;
    }

    @Test
    void shouldEncapsulateWhatTheHostSendsInPlaceAndCountItOnTheAttachment() {
        ByteBuf buf = fromHost(new PacketBuilder().ip("10.0.1.1", "10.0.2.7", 64).udp(40000, 53, new byte[20]));
        int innerLength = buf.readableBytes();

        path.receive(tun.id(), buf, null);
        path.flush();

        assertEquals(1, toEdge.sent.size());
        ByteBuf sent = toEdge.sent.getFirst().packet();
        assertEquals(buf, sent, "GRE written in place into the headroom");
        assertEquals(HEADROOM - GreFlyweight.BASE_LENGTH, sent.readerIndex());
        assertEquals(GreFlyweight.ETHERTYPE_IPV4, sent.getUnsignedShort(sent.readerIndex() + 2), "GRE protocol");
        assertEquals(63, sent.getUnsignedByte(sent.readerIndex() + GreFlyweight.BASE_LENGTH + 8), "inner TTL");
        assertEquals(tunnels[EDGE].remote(), toEdge.sent.getFirst().remote());
        assertEquals(1, counters.rxPackets(HOSTS));
        assertEquals(innerLength, counters.rxBytes(HOSTS));
        assertEquals(1, counters.txPackets(EDGE));
    }

    @Test
    void shouldDeliverToTheHostWithoutEncapsulation() {
        ByteBuf packet = new PacketBuilder().gre(-1).ip("10.0.2.7", "10.0.1.1", 64).udp(53, 40000, new byte[20])
                .build(UnpooledByteBufAllocator.DEFAULT);

        path.receive(udp.id(), packet, tunnels[EDGE].remote());
        path.flush();

        assertEquals(1, toHosts.sent.size());
        ByteBuf sent = toHosts.sent.getFirst().packet();
        assertEquals(0x45, sent.getUnsignedByte(sent.readerIndex()), "starts at the inner IPv4 header");
        assertEquals(48, sent.readableBytes(), "IPv4 20 + UDP 8 + 20");
        assertEquals(63, sent.getUnsignedByte(sent.readerIndex() + 8));
        assertNull(toHosts.sent.getFirst().remote());
        assertEquals(1, counters.txPackets(HOSTS));
        assertEquals(48, counters.txBytes(HOSTS));
    }

    @Test
    void shouldAnswerTheHostWithFragmentationNeededFromTheAttachmentAddress() {
        ByteBuf buf = fromHost(new PacketBuilder().ip("10.0.1.1", "10.0.2.7", 64).dontFragment(true)
                .udp(40000, 53, new byte[1400]));

        path.receive(tun.id(), buf, null);

        assertEquals(0, toEdge.sent.size());
        assertEquals(1, toHosts.sent.size());
        ByteBuf icmp = toHosts.sent.getFirst().packet();
        int at = icmp.readerIndex();
        assertEquals("10.0.1.1", InetAddress.ofLiteral(ip(icmp, at + 12)).getHostAddress(), "source");
        assertEquals("10.0.1.1", InetAddress.ofLiteral(ip(icmp, at + 16)).getHostAddress(), "destination");
        assertEquals(3, icmp.getUnsignedByte(at + 20), "destination unreachable");
        assertEquals(4, icmp.getUnsignedByte(at + 21), "fragmentation needed");
        assertEquals(1300, icmp.getUnsignedShort(at + 26), "next-hop MTU");
        assertEquals(1, counters.drops(DropReason.TOO_BIG));
    }

    @Test
    void shouldCountAWriteTheDeviceRefused() {
        toHosts.refuse = true;
        ByteBuf packet = new PacketBuilder().gre(-1).ip("10.0.2.7", "10.0.1.1", 64).udp(53, 40000, new byte[20])
                .build(UnpooledByteBufAllocator.DEFAULT);

        path.receive(udp.id(), packet, tunnels[EDGE].remote());

        assertEquals(1, counters.drops(DropReason.TUN_WRITE_FAILED));
        assertEquals(0, counters.drops(DropReason.TX_FAILED));
    }

    @Test
    void shouldDropWhatIsNeitherIpv4NorIpv6() {
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(HEADROOM + 64);
        buf.setIndex(HEADROOM, HEADROOM).writeZero(40).setByte(HEADROOM, 0x50);

        path.receive(tun.id(), buf, null);

        assertEquals(1, counters.drops(DropReason.INNER_BAD_VERSION));
        assertEquals(1, counters.rxPackets(HOSTS));
    }

    private static String ip(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at) + "." + buf.getUnsignedByte(at + 1) + "." + buf.getUnsignedByte(at + 2) + "."
                + buf.getUnsignedByte(at + 3);
    }
}
