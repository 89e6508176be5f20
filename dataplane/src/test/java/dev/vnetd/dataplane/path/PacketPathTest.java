package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static dev.vnetd.dataplane.path.TestNetwork.DC_PROD;
import static dev.vnetd.dataplane.path.TestNetwork.DC_STAGING;
import static dev.vnetd.dataplane.path.TestNetwork.INTERNET;
import static dev.vnetd.dataplane.path.TestNetwork.SITE_A;
import static dev.vnetd.dataplane.path.TestNetwork.SITE_B;
import static dev.vnetd.dataplane.path.TestNetwork.V6_SITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketPathTest {
    private static final byte[] PAYLOAD = "hello".getBytes();
    private final TestNetwork net = new TestNetwork();

    @AfterEach
    void releaseSent() {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    private ByteBuf gre(long key, String src, String dst, int ttl) {
        return new PacketBuilder().gre(key).ip(src, dst, ttl).udp(40000, 53, PAYLOAD)
                .build(UnpooledByteBufAllocator.DEFAULT);
    }

    private TestNetwork.CapturingTxPort.Sent onlySent() {
        assertEquals(1, net.ports[0].sent.size(), "packets sent on the GRE-in-UDP listener");
        return net.ports[0].sent.getFirst();
    }

    @Test
    void shouldForwardIpv4ToTheTunnelOfTheMatchingRouteWithTtlDecremented() {
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 64));

        TestNetwork.CapturingTxPort.Sent sent = onlySent();
        assertEquals(net.tunnels[DC_PROD].remote(), sent.remote());
        ByteBuf out = sent.packet();
        int gre = out.readerIndex();
        assertEquals(0, out.getUnsignedShort(gre), "GRE flags: dc-prod has no key");
        assertEquals(GreFlyweight.ETHERTYPE_IPV4, out.getUnsignedShort(gre + 2), "GRE protocol type");
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(out, gre + 4);
        assertEquals(63, ip.ttl(), "TTL decremented");
        assertTrue(ip.checksumValid(), "IPv4 header checksum updated");
        assertEquals(out.readableBytes() - 4, ip.totalLength(), "inner packet carried whole");
        assertEquals(1, net.counters.rxPackets(SITE_A));
        assertEquals(1, net.counters.txPackets(DC_PROD));
        assertEquals(1, net.ports[0].flushes, "one flush per batch");
    }

    @Test
    void shouldGiveAPortThatSpreadsFlowsThePacketsFlowHashAndAnyOtherPortZero() {
        net.ports[0].spreads = true;
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 64));
        net.ports[0].spreads = false;
        net.receive(SITE_A, gre(100, "192.168.10.6", "10.1.2.3", 64));

        int expected = FlowHash.ipv4(Tunnel.ipv4ToInt(InetAddress.ofLiteral("192.168.10.5")),
                Tunnel.ipv4ToInt(InetAddress.ofLiteral("10.1.2.3")), Ipv4Flyweight.PROTO_UDP, 40000, 53);
        assertEquals(expected, net.ports[0].sent.get(0).flowHash(), "the flow hash picks one of several sockets");
        assertEquals(0, net.ports[0].sent.get(1).flowHash(), "a port of one socket is not given a hash");
    }

    @Test
    void shouldKeepOverlappingPrefixesOfVirtualNetworksApart() {
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 64));
        net.receive(SITE_B, gre(200, "192.168.10.5", "10.1.2.3", 64));

        assertEquals(2, net.ports[0].sent.size());
        assertEquals(net.tunnels[DC_PROD].remote(), net.ports[0].sent.get(0).remote());
        assertEquals(net.tunnels[DC_STAGING].remote(), net.ports[0].sent.get(1).remote());
    }

    @Test
    void shouldAddTheEgressTunnelsKey() {
        net.receive(DC_PROD, gre(-1, "10.1.2.3", "192.168.10.5", 64));

        ByteBuf out = onlySent().packet();
        GreFlyweight header = new GreFlyweight().wrap(out, out.readerIndex());
        assertEquals(GreFlyweight.FLAG_KEY, header.flags());
        assertEquals(100, header.key(), "site-a's key");
        assertEquals(63, new Ipv4Flyweight().wrap(out, out.readerIndex() + 8).ttl());
    }

    @Test
    void shouldFallBackToTheDefaultVirtualNetwork() {
        net.receive(SITE_A, gre(100, "192.168.10.5", "198.51.100.7", 64));

        assertEquals(net.tunnels[INTERNET].remote(), onlySent().remote());
    }

    @Test
    void shouldForwardIpv6WithHopLimitDecremented() {
        net.receive(SITE_A, gre(100, "fd00:a::5", "fd00:10::5", 64));

        ByteBuf out = onlySent().packet();
        assertEquals(GreFlyweight.ETHERTYPE_IPV6, out.getUnsignedShort(out.readerIndex() + 2));
        assertEquals(63, new Ipv6Flyweight().wrap(out, out.readerIndex() + 4).hopLimit());
    }

    @Test
    void shouldAnswerTtlOneWithTimeExceededThroughTheIngressTunnel() {
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 1));

        TestNetwork.CapturingTxPort.Sent sent = onlySent();
        assertEquals(net.tunnels[SITE_A].remote(), sent.remote());
        ByteBuf out = sent.packet();
        int ip = out.readerIndex() + 8;
        Ipv4Flyweight header = new Ipv4Flyweight().wrap(out, ip);
        assertEquals(Ipv4Flyweight.PROTO_ICMP, header.protocol());
        assertEquals(net.tunnels[SITE_A].icmpSourceV4(), header.source(), "from the tunnel's interface address");
        assertEquals(Tunnel.ipv4ToInt(InetAddress.ofLiteral("192.168.10.5")), header.destination());
        assertTrue(header.checksumValid());
        int icmp = ip + 20;
        assertEquals(11, out.getUnsignedByte(icmp), "ICMP type: time exceeded");
        assertEquals(0, InternetChecksum.compute(out, icmp, header.totalLength() - 20), "ICMP checksum");
        assertEquals(1, net.counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(1, net.counters.icmpErrorsSent());
    }

    @Test
    void shouldAnswerNoRouteWithDestinationUnreachable() {
        net.receive(SITE_B, gre(200, "192.168.10.5", "198.51.100.7", 64));

        ByteBuf out = onlySent().packet();
        assertEquals(3, out.getUnsignedByte(out.readerIndex() + 8 + 20), "ICMP type: destination unreachable");
        assertEquals(0, out.getUnsignedByte(out.readerIndex() + 8 + 21), "code: net unreachable");
        assertEquals(1, net.counters.drops(DropReason.NO_ROUTE));
    }

    @Test
    void shouldAnswerIpv6HopLimitOneWithTimeExceeded() {
        net.receive(SITE_A, gre(100, "fd00:a::5", "fd00:10::5", 1));

        ByteBuf out = onlySent().packet();
        int ip = out.readerIndex() + 8;
        Ipv6Flyweight header = new Ipv6Flyweight().wrap(out, ip);
        assertEquals(Ipv4Flyweight.PROTO_ICMPV6, header.nextHeader());
        assertEquals(3, out.getUnsignedByte(ip + 40), "ICMPv6 type: time exceeded");
        long sum = header.pseudoHeaderSum(header.payloadLength(), 58)
                + InternetChecksum.sum(out, ip + 40, header.payloadLength());
        assertEquals(0, InternetChecksum.finish(sum), "ICMPv6 checksum");
    }

    @Test
    void shouldSendFragmentationNeededWithTheTunnelMtuWhenDontFragmentIsSet() {
        byte[] big = new byte[1400];
        net.receive(SITE_A, new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).dontFragment(true)
                .udp(1, 2, big).build(UnpooledByteBufAllocator.DEFAULT));

        ByteBuf out = onlySent().packet();
        int icmp = out.readerIndex() + 8 + 20;
        assertEquals(3, out.getUnsignedByte(icmp));
        assertEquals(4, out.getUnsignedByte(icmp + 1), "code: fragmentation needed");
        assertEquals(1400, out.getUnsignedShort(icmp + 6), "next-hop MTU");
        assertEquals(1, net.counters.drops(DropReason.TOO_BIG));
    }

    @Test
    void shouldSendPacketTooBigWithTheTunnelMtuForIpv6() {
        net.receive(V6_SITE, new PacketBuilder().gre(-1).ip("fd00:20::5", "fd00:10::3", 64)
                .udp(1, 2, new byte[1400 - 40 - 8 + 1]).build(UnpooledByteBufAllocator.DEFAULT));

        TestNetwork.CapturingTxPort port = net.ports[net.tunnels[V6_SITE].listener().id()];
        assertEquals(1, port.sent.size());
        ByteBuf out = port.sent.getFirst().packet();
        int ip = out.readerIndex() + 4;
        Ipv6Flyweight header = new Ipv6Flyweight().wrap(out, ip);
        assertEquals(2, out.getUnsignedByte(ip + 40), "ICMPv6 type: packet too big");
        assertEquals(0, out.getUnsignedByte(ip + 41), "code");
        assertEquals(1400, out.getInt(ip + 44), "MTU: dc-prod's");
        long sum = header.pseudoHeaderSum(header.payloadLength(), 58)
                + InternetChecksum.sum(out, ip + 40, header.payloadLength());
        assertEquals(0, InternetChecksum.finish(sum), "ICMPv6 checksum");
        assertEquals(1, net.counters.drops(DropReason.TOO_BIG));
    }

    @Test
    void shouldForwardAPacketOfExactlyTheTunnelMtuWithDontFragment() {
        net.receive(SITE_A, new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64).dontFragment(true)
                .udp(1, 2, new byte[1400 - 28]).build(UnpooledByteBufAllocator.DEFAULT));

        assertEquals(net.tunnels[DC_PROD].remote(), onlySent().remote());
        assertEquals(0, net.counters.drops(DropReason.TOO_BIG));
    }

    @Test
    void shouldForwardOversizedPacketsWithoutDontFragmentForTheKernelToFragment() {
        net.receive(SITE_A, new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 64)
                .udp(1, 2, new byte[1400]).build(UnpooledByteBufAllocator.DEFAULT));

        assertEquals(net.tunnels[DC_PROD].remote(), onlySent().remote());
    }

    @Test
    void shouldRateLimitIcmpErrorsPerSource() {
        for (int i = 0; i < IcmpErrors.SOURCE_BURST + 10; i++) {
            net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 1));
        }
        assertEquals(IcmpErrors.SOURCE_BURST, net.counters.icmpErrorsSent());
        assertEquals(10, net.counters.icmpErrorsRateLimited());
        net.receive(SITE_A, gre(100, "192.168.10.6", "10.1.2.3", 1));
        assertEquals(IcmpErrors.SOURCE_BURST + 1, net.counters.icmpErrorsSent(), "another source has its own bucket");
        net.nanos += 1_000_000_000L / IcmpErrors.SOURCE_RATE_PER_SECOND;
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 1));
        assertEquals(IcmpErrors.SOURCE_BURST + 2, net.counters.icmpErrorsSent(), "tokens refill with time");
        assertEquals(IcmpErrors.SOURCE_BURST + 12, net.counters.drops(DropReason.TTL_EXCEEDED), "every packet dropped");
    }

    @Test
    void shouldCapIcmpErrorsOfAllSourcesTogether() {
        int sources = IcmpErrors.BURST + 10;
        for (int i = 0; i < sources; i++) {
            net.receive(SITE_A, gre(100, "192.168.10." + (i + 1), "10.1.2.3", 1));
        }
        assertEquals(IcmpErrors.BURST, net.counters.icmpErrorsSent());
        assertEquals(10, net.counters.icmpErrorsRateLimited());
        net.nanos += 1_000_000_000L;
        net.receive(SITE_A, gre(100, "192.168.10." + sources, "10.1.2.3", 1));
        assertEquals(IcmpErrors.BURST + 1, net.counters.icmpErrorsSent(), "a refused source kept its token");
    }

    @Test
    void shouldNeverAnswerAnIcmpErrorWithAnIcmpError() {
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 1));
        ByteBuf error = onlySent().packet();
        ByteBuf copy = UnpooledByteBufAllocator.DEFAULT.buffer().writeBytes(error, error.readerIndex() + 8,
                error.readableBytes() - 8);
        net.ports[0].releaseAll();
        ByteBuf withGre = UnpooledByteBufAllocator.DEFAULT.buffer();
        withGre.writeShort(GreFlyweight.FLAG_KEY).writeShort(GreFlyweight.ETHERTYPE_IPV4).writeInt(100)
                .writeBytes(copy);
        copy.release();
        new Ipv4Flyweight().wrap(withGre, 8).ttl(1).updateChecksum();

        net.receive(SITE_A, withGre);

        assertEquals(0, net.ports[0].sent.size());
        assertEquals(2, net.counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(1, net.counters.icmpErrorsSent());
    }

    @Test
    void shouldDropPacketsOfUnknownTunnels() {
        net.receive(SITE_A, gre(999, "192.168.10.5", "10.1.2.3", 64));

        assertEquals(0, net.ports[0].sent.size());
        assertEquals(1, net.counters.drops(DropReason.UNKNOWN_TUNNEL));
    }

    @Test
    void shouldCountRefusedSendsAsTxFailed() {
        net.ports[0].refuse = true;
        net.receive(SITE_A, gre(100, "192.168.10.5", "10.1.2.3", 64));

        assertEquals(1, net.counters.drops(DropReason.TX_FAILED));
        assertEquals(0, net.counters.txPackets(DC_PROD));
    }

    private ByteBuf udp(long key, String src, String dst, int sport, int dport) {
        return new PacketBuilder().gre(key).ip(src, dst, 64).udp(sport, dport, PAYLOAD)
                .build(UnpooledByteBufAllocator.DEFAULT);
    }

    @Test
    void shouldSendRepliesBackToTheTunnelThatStartedTheFlowWithoutTheFib() {
        net.receive(SITE_A, udp(100, "172.16.5.5", "10.1.2.3", 40000, 7));
        assertEquals(net.tunnels[DC_PROD].remote(), onlySent().remote(), "forward by the FIB");
        net.ports[0].releaseAll();

        net.receive(DC_PROD, udp(-1, "10.1.2.3", "172.16.5.5", 7, 40000));

        assertEquals(net.tunnels[SITE_A].remote(), onlySent().remote(),
                "the reply returns to site-a, although the FIB would send 172.16.5.5 to the internet");
        assertEquals(1, net.counters.arrReturns(SITE_A));
        assertEquals(1, net.flows.liveFlows());
    }

    @Test
    void shouldRouteAnUnrelatedPacketByTheFib() {
        net.receive(SITE_A, udp(100, "172.16.5.5", "10.1.2.3", 40000, 7));
        net.ports[0].releaseAll();

        net.receive(DC_PROD, udp(-1, "10.1.2.3", "172.16.5.5", 7, 40001));

        assertEquals(net.tunnels[INTERNET].remote(), onlySent().remote(), "no flow: the FIB (fallback) decides");
        assertEquals(0, net.counters.arrReturns(SITE_A));
    }

    @Test
    void shouldRecordFlowsOnlyFromArrTunnels() {
        net.receive(DC_PROD, udp(-1, "10.1.2.3", "192.168.10.5", 7, 40000));
        assertEquals(0, net.flows.liveFlows(), "dc-prod has no ARR");
        net.receive(SITE_A, udp(100, "192.168.10.5", "10.1.2.3", 40000, 7));
        assertEquals(1, net.flows.liveFlows());
    }

    @Test
    void shouldPinTheFlowsNextHopAndMoveItWhenThatTunnelGoesDown() {
        net.receive(SITE_A, udp(100, "192.168.10.5", "10.1.2.3", 40000, 7));
        net.receive(SITE_A, udp(100, "192.168.10.5", "10.1.2.3", 40000, 7));
        assertEquals(2, net.ports[0].sent.size());
        net.ports[0].releaseAll();

        net.holder.get().health().state(DC_PROD, dev.vnetd.dataplane.nexthop.TunnelHealth.DOWN);
        net.receive(SITE_A, udp(100, "192.168.10.5", "10.1.2.3", 40000, 7));

        assertEquals(net.tunnels[DC_PROD].remote(), onlySent().remote(),
                "the only next hop stays, penalised but not removed");
        assertEquals(0, net.counters.flowFailovers(), "no better next hop to fail over to");
    }

    @Test
    void shouldTranslateTheSourcePortOfASecondSiteSendingTheSameFiveTupleAndRestoreItOnReplies() {
        net.receive(SITE_A, udp(100, "10.0.1.5", "10.1.2.3", 1000, 53));
        net.receive(V6_SITE, udp(-1, "10.0.1.5", "10.1.2.3", 1000, 53));
        assertEquals(2, net.ports[0].sent.size(), "both reach the data centre");
        ByteBuf second = net.ports[0].sent.get(1).packet();
        int udp = second.readerIndex() + 4 + 20;
        int translated = second.getUnsignedShort(udp);
        assertTrue(translated >= 49152, "translated into the dynamic range: " + translated);
        assertTrue(udpChecksumValid(second, second.readerIndex() + 4), "UDP checksum follows the new port");
        assertEquals(1000, net.ports[0].sent.get(0).packet().getUnsignedShort(
                net.ports[0].sent.get(0).packet().readerIndex() + 4 + 20), "the first site keeps its port");
        assertEquals(1, net.counters.portTranslations());
        net.ports[0].releaseAll();

        net.receive(DC_PROD, udp(-1, "10.1.2.3", "10.0.1.5", 53, translated));
        net.receive(DC_PROD, udp(-1, "10.1.2.3", "10.0.1.5", 53, 1000));

        assertEquals(1, net.ports[2].sent.size(), "the translated flow's reply goes to v6-site");
        ByteBuf back = net.ports[2].sent.getFirst().packet();
        assertEquals(1000, back.getUnsignedShort(back.readerIndex() + 4 + 20 + 2), "destination port restored");
        assertTrue(udpChecksumValid(back, back.readerIndex() + 4));
        assertEquals(net.tunnels[SITE_A].remote(), onlySent().remote(), "the untranslated reply goes to site-a");
        net.ports[2].releaseAll();

        net.receive(V6_SITE, udp(-1, "10.0.1.5", "10.1.2.3", 1000, 53));
        ByteBuf again = onlySentAfter(1);
        assertEquals(translated, again.getUnsignedShort(again.readerIndex() + 4 + 20), "later packets, same port");
    }

    private ByteBuf onlySentAfter(int before) {
        assertEquals(before + 1, net.ports[0].sent.size());
        return net.ports[0].sent.get(before).packet();
    }

    private static boolean udpChecksumValid(ByteBuf buf, int ip) {
        int headerLength = (buf.getUnsignedByte(ip) & 0x0F) * 4;
        int udpLength = buf.getUnsignedShort(ip + 2) - headerLength;
        long sum = InternetChecksum.sum(buf, ip + 12, 8) + 17 + udpLength
                + InternetChecksum.sum(buf, ip + headerLength, udpLength);
        return InternetChecksum.finish(sum) == 0;
    }

    /** GRE (key 100) + IPv6 fd00:a::5 -> fd00:10::5 with one Hop-by-Hop header before {@code upper}. */
    private static ByteBuf ipv6WithHopByHop(int hopLimit, int upperProtocol, byte[] upper) {
        ByteBuf b = UnpooledByteBufAllocator.DEFAULT.buffer();
        b.writeShort(GreFlyweight.FLAG_KEY).writeShort(GreFlyweight.ETHERTYPE_IPV6).writeInt(100);
        b.writeInt(6 << 28).writeShort(8 + upper.length).writeByte(0).writeByte(hopLimit);
        b.writeBytes(InetAddress.ofLiteral("fd00:a::5").getAddress()).writeBytes(
                InetAddress.ofLiteral("fd00:10::5").getAddress());
        b.writeByte(upperProtocol).writeByte(0).writeShort(0x0104).writeInt(0);
        return b.writeBytes(upper);
    }

    @Test
    void shouldNotAnswerAnIcmpv6ErrorBehindAnExtensionHeader() {
        byte[] destinationUnreachable = new byte[48];
        destinationUnreachable[0] = 1;
        net.receive(SITE_A, ipv6WithHopByHop(1, 58, destinationUnreachable));

        assertEquals(1, net.counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(0, net.counters.icmpErrorsSent(), "RFC 4443 2.4(e): never an error about an error");
        assertEquals(0, net.ports[0].sent.size());
    }

    @Test
    void shouldReadTheTransportBehindIpv6ExtensionHeaders() {
        byte[] udp = {(byte) 0x9C, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
        net.receive(SITE_A, ipv6WithHopByHop(64, 17, udp));

        assertEquals(net.tunnels[DC_PROD].remote(), onlySent().remote());
        long handle = net.flows.lookup(1, dev.vnetd.flowtable.FlowTable.FAMILY_IPV6, 17,
                Tunnel.ipv6High(InetAddress.ofLiteral("fd00:a::5")), Tunnel.ipv6Low(InetAddress.ofLiteral("fd00:a::5")),
                Tunnel.ipv6High(InetAddress.ofLiteral("fd00:10::5")),
                Tunnel.ipv6Low(InetAddress.ofLiteral("fd00:10::5")), 40000, 53);
        assertTrue(handle >= 0, "the ARR flow is keyed by the UDP ports behind the Hop-by-Hop header");
    }

    @Test
    void shouldDropAnExtensionHeaderThatRunsPastThePacket() {
        ByteBuf packet = ipv6WithHopByHop(64, 17, new byte[8]);
        packet.setByte(8 + 40 + 1, 200);
        net.receive(SITE_A, packet);

        assertEquals(1, net.counters.drops(DropReason.INNER_BAD_LENGTH));
    }

    @Test
    void shouldNotAnswerATruncatedIcmpError() {
        ByteBuf packet = new PacketBuilder().gre(100).ip("192.168.10.5", "10.1.2.3", 1).udp(1, 2, new byte[0])
                .build(UnpooledByteBufAllocator.DEFAULT);
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(packet, 8);
        ip.protocol(1).totalLength(20 + 2).updateChecksum();
        packet.setByte(8 + 20, 3);
        packet.writerIndex(8 + 22);

        net.receive(SITE_A, packet);

        assertEquals(1, net.counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(0, net.counters.icmpErrorsSent(), "two bytes of ICMP say it is an error: no answer");
    }
}
