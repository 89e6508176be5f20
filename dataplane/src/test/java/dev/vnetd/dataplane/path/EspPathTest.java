package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspLifetime;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.crypto.esp.RekeyListener;
import dev.vnetd.dataplane.fib.Ipv4Lpm;
import dev.vnetd.dataplane.fib.Ipv6Lpm;
import dev.vnetd.dataplane.nexthop.NextHopGroup;
import dev.vnetd.dataplane.nexthop.TunnelHealth;
import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.ForwardingStateHolder;
import dev.vnetd.dataplane.state.Listener;
import dev.vnetd.dataplane.state.ListenerType;
import dev.vnetd.dataplane.state.Route;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import dev.vnetd.dataplane.state.TunnelSas;
import dev.vnetd.dataplane.state.VirtualNetwork;
import dev.vnetd.flowtable.FlowTable;
import dev.vnetd.flowtable.FlowTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ESP on the packet path with the crypto core as the peer: decrypt, route, re-encrypt in place in pooled direct
 * receive buffers; every refusal under its own drop reason; sequence exhaustion counted and reported once.
 * Listener 0 is ESP-in-UDP, listener 1 GRE-in-UDP. Tunnels: 0 branch (AES-GCM-128, 192.168.1.0/24), 1 dc
 * (AES-CBC-HMAC-SHA-256, 10.0.0.0/8), 2 gre-site (GRE-in-UDP, 172.16.0.0/12), 3 exhausted (AES-GCM-128 without
 * ESN whose outbound SA has one sequence number left, 10.99.0.0/16).
 */
class EspPathTest {
    private static final int BRANCH = 0;
    private static final int DC = 1;
    private static final int GRE_SITE = 2;
    private static final int EXHAUSTED = 3;
    private static final byte[] PAYLOAD = "esp-path".getBytes();

    private final Listener esp = new Listener(0, "esp-udp", ListenerType.ESP_UDP, address("127.0.0.1", 4500), 0);
    private final Listener gre = new Listener(1, "gre-udp", ListenerType.GRE_UDP, address("127.0.0.1", 4754), 0);
    private final Peer[] peers = {
        new Peer(EspTransform.AES_GCM_128, 0x1001, 0x2001, 1),
        new Peer(EspTransform.AES_CBC_HMAC_SHA256, 0x1002, 0x2002, 1),
        null,
        new Peer(EspTransform.AES_GCM_128, 0x1004, 0x2004, 0xFFFF_FFFFL),
    };
    private final List<RekeyListener.Reason> rekeys = new ArrayList<>();
    private final Tunnel[] tunnels = {
        espTunnel(BRANCH, "branch", "127.0.0.2"),
        espTunnel(DC, "dc", "127.0.0.3"),
        new Tunnel(GRE_SITE, "gre-site", gre, address("127.0.0.4", 4754), Tunnel.NO_KEY, 0, 1400, false, 0, 0, 0),
        espTunnel(EXHAUSTED, "exhausted", "127.0.0.5"),
    };
    private final TestNetwork.CapturingTxPort[] ports = {new TestNetwork.CapturingTxPort(),
        new TestNetwork.CapturingTxPort()};
    private final WorkerCounters counters = new WorkerCounters(tunnels.length);
    private final FlowTable flows = FlowTable.allocate(1024, FlowTimeouts.DEFAULTS);
    private final PacketPath path;
    private final EspContext peerContext = new EspContext();

    /** The remote end of an ESP tunnel: sends with vnetd's inbound SA, receives with vnetd's outbound SA. */
    private final class Peer {
        final KeyMaterial toVnetd;
        final KeyMaterial fromVnetd;
        final OutboundSa sender;
        final InboundSa receiver;
        final int inboundSpi;
        final int outboundSpi;
        final long firstSequence;

        Peer(EspTransform transform, int inboundSpi, int outboundSpi, long firstSequence) {
            byte[] a = new byte[transform == EspTransform.AES_CBC_HMAC_SHA256 ? 48 : 20];
            byte[] b = a.clone();
            Arrays.fill(a, (byte) inboundSpi);
            Arrays.fill(b, (byte) outboundSpi);
            toVnetd = KeyMaterial.of(transform, a);
            fromVnetd = KeyMaterial.of(transform, b);
            this.inboundSpi = inboundSpi;
            this.outboundSpi = outboundSpi;
            this.firstSequence = firstSequence;
            sender = new OutboundSa(inboundSpi, toVnetd, true, EspLifetime.UNLIMITED, RekeyListener.NONE);
            receiver = new InboundSa(outboundSpi, fromVnetd, true, 64, EspLifetime.UNLIMITED, RekeyListener.NONE);
        }
    }

    EspPathTest() {
        VirtualNetwork vn = new VirtualNetwork(0, "corp", VirtualNetwork.NO_FALLBACK, new Ipv4Lpm(), new Ipv6Lpm(),
                new Route[] {route("192.168.1.0/24", BRANCH), route("10.0.0.0/8", DC),
                    route("172.16.0.0/12", GRE_SITE), route("10.99.0.0/16", EXHAUSTED)}, false);
        vn.ipv4().add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("192.168.1.0")), 24, 0);
        vn.ipv4().add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.0.0.0")), 8, 1);
        vn.ipv4().add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("172.16.0.0")), 12, 2);
        vn.ipv4().add(Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.99.0.0")), 16, 3);
        ForwardingStateHolder holder = new ForwardingStateHolder(new ForwardingState(new Listener[] {esp, gre},
                tunnels, new VirtualNetwork[] {vn}, new TunnelIndex(tunnels), new TunnelHealth(tunnels.length)));
        path = new PacketPath(holder, counters, ports, PooledByteBufAllocator.DEFAULT, System::nanoTime, flows,
                System::currentTimeMillis);
    }

    private Tunnel espTunnel(int id, String name, String remote) {
        Peer p = peers[id];
        RekeyListener log = (spi, inbound, reason) -> rekeys.add(reason);
        TunnelSas sas = new TunnelSas(
                new InboundSa(p.inboundSpi, p.toVnetd, true, 1024, EspLifetime.UNLIMITED, log),
                new OutboundSa(p.outboundSpi, p.fromVnetd, id != EXHAUSTED, EspLifetime.UNLIMITED, log,
                        p.firstSequence));
        return new Tunnel(id, name, esp, address(remote, 4500), Tunnel.NO_KEY, 0, 1400, false, 0, 0, 0, sas);
    }

    private static Route route(String prefix, int tunnel) {
        return new Route(prefix, false, new NextHopGroup(new int[] {tunnel}, new int[] {100}, new int[] {1}));
    }

    private static InetSocketAddress address(String host, int port) {
        return new InetSocketAddress(InetAddress.ofLiteral(host), port);
    }

    @AfterEach
    void releaseSent() {
        for (TestNetwork.CapturingTxPort port : ports) {
            port.releaseAll();
        }
        flows.close();
    }

    /** A pooled direct receive buffer holding {@code content} at index 0, as the transports deliver datagrams. */
    private static ByteBuf received(ByteBuf content) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(9216);
        buf.writeBytes(content);
        content.release();
        return buf;
    }

    private static ByteBuf inner(String src, String dst, int ttl) {
        return new PacketBuilder().ip(src, dst, ttl).udp(40000, 53, PAYLOAD).build(UnpooledByteBufAllocator.DEFAULT);
    }

    /** An ESP packet from the peer of {@code tunnel}, with its next sequence number, in a pooled direct buffer. */
    private ByteBuf espFrom(int tunnel, ByteBuf inner, int nextHeader) {
        OutboundSa sa = peers[tunnel].sender;
        int headroom = sa.headroom();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(9216);
        buf.setBytes(headroom, inner, inner.readerIndex(), inner.readableBytes());
        var nio = buf.internalNioBuffer(0, buf.capacity());
        int base = nio.position();
        assertEquals(EspResult.OK, sa.encrypt(peerContext, nio, base + headroom, inner.readableBytes(), nextHeader));
        buf.setIndex(peerContext.offset() - base, peerContext.offset() - base + peerContext.length());
        inner.release();
        return buf;
    }

    private void receive(int from, ByteBuf packet) {
        path.receive(tunnels[from].listener().id(), packet, tunnels[from].remote());
        path.flush();
    }

    /** Decrypts what vnetd sent to {@code tunnel}'s peer and returns the inner IPv4 header's TTL. */
    private int decryptSent(int tunnel, ByteBuf out) {
        Peer peer = peers[tunnel];
        var nio = out.nioBuffer(out.readerIndex(), out.readableBytes());
        assertEquals(EspResult.OK, peer.receiver.decrypt(peerContext, nio, 0, out.readableBytes()));
        assertEquals(4, peerContext.nextHeader());
        return nio.get(peerContext.offset() + 8) & 0xFF;
    }

    @Test
    void shouldDecryptRouteAndReencryptInPlace() {
        ByteBuf in = espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4);
        receive(BRANCH, in);

        assertEquals(1, ports[0].sent.size(), "sent on the ESP listener");
        TestNetwork.CapturingTxPort.Sent sent = ports[0].sent.getFirst();
        assertEquals(tunnels[DC].remote(), sent.remote());
        assertSame(in, sent.packet(), "re-encrypted in the receive buffer");
        assertEquals(0x2002, sent.packet().getInt(sent.packet().readerIndex()), "dc's outbound SPI");
        assertEquals(63, decryptSent(DC, sent.packet()), "TTL decremented under the new SA");
        assertEquals(1, counters.rxPackets(BRANCH));
        assertEquals(1, counters.txPackets(DC));
    }

    @Test
    void shouldMoveTheInnerPacketBackWhenGreInUdpLeavesTooLittleHeadroom() {
        ByteBuf in = received(new PacketBuilder().gre(-1).ip("172.16.0.5", "10.1.2.3", 64).udp(1, 2, PAYLOAD)
                .build(UnpooledByteBufAllocator.DEFAULT));
        path.receive(1, in, tunnels[GRE_SITE].remote());
        path.flush();

        TestNetwork.CapturingTxPort.Sent sent = ports[0].sent.getFirst();
        assertSame(in, sent.packet(), "AES-CBC's 24-byte headroom made by a memmove, not a new buffer");
        assertEquals(63, decryptSent(DC, sent.packet()));
    }

    @Test
    void shouldDecryptIntoGre() {
        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "172.16.1.1", 64), 4));

        ByteBuf out = ports[1].sent.getFirst().packet();
        assertEquals(GreFlyweight.ETHERTYPE_IPV4, out.getUnsignedShort(out.readerIndex() + 2), "GRE protocol type");
        assertEquals(63, new Ipv4Flyweight().wrap(out, out.readerIndex() + 4).ttl());
    }

    @Test
    void shouldDropEachRefusalUnderItsOwnReasonAndKeepTheSaWorking() {
        ByteBuf first = espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4);
        ByteBuf replay = first.copy();
        receive(BRANCH, first);
        receive(BRANCH, replay);
        assertEquals(1, counters.drops(DropReason.ESP_REPLAYED));

        ByteBuf flipped = espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4);
        flipped.setByte(flipped.writerIndex() - 1, flipped.getByte(flipped.writerIndex() - 1) ^ 1);
        receive(BRANCH, flipped);
        assertEquals(1, counters.drops(DropReason.ESP_ICV_FAILED));

        ByteBuf stranger = espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4);
        path.receive(0, stranger, address("127.0.0.9", 4500));
        assertEquals(1, counters.drops(DropReason.ESP_WRONG_REMOTE));

        ByteBuf unknown = espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4);
        unknown.setInt(unknown.readerIndex(), 0x7777);
        receive(BRANCH, unknown);
        assertEquals(1, counters.drops(DropReason.ESP_UNKNOWN_SPI));

        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 59));
        assertEquals(1, counters.drops(DropReason.ESP_DUMMY_PACKET));
        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 17));
        assertEquals(1, counters.drops(DropReason.ESP_UNSUPPORTED_NEXT_HEADER));

        receive(BRANCH, received(UnpooledByteBufAllocator.DEFAULT.buffer().writeByte(0xFF)));
        assertEquals(1, counters.drops(DropReason.ESP_NAT_KEEPALIVE));
        receive(BRANCH, received(UnpooledByteBufAllocator.DEFAULT.buffer().writeInt(0).writeInt(0x2027_2500)));
        assertEquals(1, counters.drops(DropReason.ESP_IKE_MESSAGE));
        receive(BRANCH, received(UnpooledByteBufAllocator.DEFAULT.buffer().writeShort(1)));
        assertEquals(1, counters.drops(DropReason.ESP_TRUNCATED));

        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.1.2.3", 64), 4));
        assertEquals(2, ports[0].sent.size(), "the first packet and the last went through");
    }

    /**
     * 5 000 ESP datagrams, valid or with random bytes flipped, truncated or extended, into pooled direct buffers:
     * no exception escapes, nothing leaks (paranoid leak detection), and each one is forwarded or counted as a drop.
     */
    @Test
    void shouldAccountForEveryMutatedEspPacket() {
        SplittableRandom random = new SplittableRandom(0xE5B_2026L);
        int packets = 5_000;
        long forwarded = 0;
        for (int i = 0; i < packets; i++) {
            int from = random.nextBoolean() ? BRANCH : DC;
            ByteBuf packet = espFrom(from, inner("192.168.1.5", random.nextBoolean() ? "10.1.2.3" : "192.168.1.9",
                    1 + random.nextInt(64)), 4);
            int mutations = random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                int index = packet.readerIndex() + random.nextInt(packet.readableBytes());
                packet.setByte(index, packet.getByte(index) ^ (1 << random.nextInt(8)));
            }
            if (random.nextInt(8) == 0) {
                packet.writerIndex(packet.readerIndex() + random.nextInt(packet.readableBytes() + 40));
            }
            long before = ports[0].total + ports[1].total;
            long icmp = counters.icmpErrorsSent();
            receive(from, packet);
            forwarded += ports[0].total + ports[1].total - before - (counters.icmpErrorsSent() - icmp);
            if (i % 500 == 0) {
                releaseSent();
            }
        }
        long dropped = 0;
        for (DropReason reason : DropReason.values()) {
            dropped += counters.drops(reason);
        }
        assertEquals(packets, forwarded + dropped, "every packet forwarded or dropped under a reason");
        assertTrue(counters.drops(DropReason.ESP_ICV_FAILED) > 0 && forwarded > 0);
    }

    @Test
    void shouldCountSequenceExhaustionAndAskForARekeyOnce() {
        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.99.0.1", 64), 4));
        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.99.0.1", 64), 4));
        receive(BRANCH, espFrom(BRANCH, inner("192.168.1.5", "10.99.0.1", 64), 4));

        assertEquals(1, ports[0].sent.size(), "2^32 - 1 is the last sequence number without ESN");
        assertEquals(2, counters.drops(DropReason.ESP_SEQ_EXHAUSTED));
        assertEquals(List.of(RekeyListener.Reason.SEQUENCE_EXHAUSTED), rekeys, "the rekey hook fires once");
    }

    @Test
    void shouldSendHealthProbesInsideEspAndTakeTheRepliesRoutedBackOut() {
        int local = Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.40.0"));
        int target = Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.40.1"));
        Tunnel[] probed = tunnels.clone();
        Tunnel branch = tunnels[BRANCH];
        probed[BRANCH] = new Tunnel(BRANCH, "branch", esp, branch.remote(), Tunnel.NO_KEY, 0, 1400, false, local, 0,
                0, branch.sas());
        VirtualNetwork empty = new VirtualNetwork(0, "corp", VirtualNetwork.NO_FALLBACK, new Ipv4Lpm(), new Ipv6Lpm(),
                new Route[0], false);
        HealthProbes probes = new HealthProbes(probed.length, 0x4A7E);
        PacketPath probing = new PacketPath(new ForwardingStateHolder(new ForwardingState(new Listener[] {esp, gre},
                probed, new VirtualNetwork[] {empty}, new TunnelIndex(probed), new TunnelHealth(probed.length))),
                counters, ports, PooledByteBufAllocator.DEFAULT, System::nanoTime, flows, System::currentTimeMillis,
                probes);
        probes.watch(BRANCH, local);
        probes.clear(BRANCH, 11);

        assertTrue(probing.sendProbe(BRANCH, false, target, 11));
        ByteBuf sent = ports[0].sent.removeFirst().packet();
        assertEquals(0x2001, sent.getInt(sent.readerIndex()), "under branch's outbound SPI");
        var nio = sent.nioBuffer(sent.readerIndex(), sent.readableBytes());
        assertEquals(EspResult.OK, peers[BRANCH].receiver.decrypt(peerContext, nio, 0, sent.readableBytes()));
        assertEquals(4, peerContext.nextHeader(), "an IPv4 packet inside");
        ByteBuf inner = UnpooledByteBufAllocator.DEFAULT.buffer(peerContext.length());
        inner.writeBytes(nio.duplicate().position(peerContext.offset()).limit(peerContext.offset()
                + peerContext.length()));
        sent.release();
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(inner, 0);
        assertEquals(target, ip.source(), "a reply probe: from the target");
        assertEquals(local, ip.destination(), "to the tunnel's interface address");
        assertEquals(HealthProbes.ECHO_REPLY, inner.getUnsignedByte(Ipv4Flyweight.MIN_HEADER_LENGTH));

        ByteBuf back = espFrom(BRANCH, inner, 4);
        probing.receive(0, back, branch.remote());
        probing.flush();

        assertTrue(probes.replied(BRANCH, 11), "the far end routed it back through the SA");
        assertTrue(ports[0].sent.isEmpty() && ports[1].sent.isEmpty(), "consumed, not forwarded");
    }
}
