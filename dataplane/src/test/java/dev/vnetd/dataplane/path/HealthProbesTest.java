package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static dev.vnetd.dataplane.path.TestNetwork.DC_PROD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthProbesTest {
    private static final int IDENTIFIER = 0x4A7E;
    private static final int LOCAL = Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.10.2"));
    private static final int TARGET = Tunnel.ipv4ToInt(InetAddress.ofLiteral("169.254.10.3"));

    private final TestNetwork net = new TestNetwork();
    private final HealthProbes probes = new HealthProbes(net.tunnels.length, IDENTIFIER);
    private final PacketPath path = new PacketPath(net.holder, net.counters, net.ports,
            UnpooledByteBufAllocator.DEFAULT, () -> net.nanos, net.flows, () -> net.millis, probes);

    @AfterEach
    void releaseSent() {
        for (TestNetwork.CapturingTxPort port : net.ports) {
            port.releaseAll();
        }
    }

    /** The one packet sent, taken out of the capture (the caller owns it). */
    private ByteBuf takeSent() {
        assertEquals(1, net.ports[0].sent.size(), "packets sent on the GRE-in-UDP listener");
        TestNetwork.CapturingTxPort.Sent sent = net.ports[0].sent.removeFirst();
        assertEquals(net.tunnels[DC_PROD].remote(), sent.remote(), "sent to the probed tunnel's remote");
        return sent.packet();
    }

    private void receiveFromDcProd(ByteBuf packet) {
        path.receive(0, packet, net.tunnels[DC_PROD].remote());
        path.flush();
    }

    @Test
    void shouldSendARequestProbeInsideTheTunnelFromItsInterfaceAddress() {
        assertTrue(path.sendProbe(DC_PROD, true, TARGET, 7));

        ByteBuf out = takeSent();
        int gre = out.readerIndex();
        assertEquals(GreFlyweight.ETHERTYPE_IPV4, out.getUnsignedShort(gre + 2), "GRE protocol type");
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(out, gre + 4);
        assertTrue(ip.checksumValid(), "IPv4 header checksum");
        assertEquals(LOCAL, ip.source(), "from the tunnel's interface address");
        assertEquals(TARGET, ip.destination(), "to the target");
        assertEquals(Ipv4Flyweight.PROTO_ICMP, ip.protocol());
        assertEquals(HealthProbes.PROBE_LENGTH, ip.totalLength());
        int icmp = gre + 4 + Ipv4Flyweight.MIN_HEADER_LENGTH;
        assertEquals(HealthProbes.ECHO_REQUEST, out.getUnsignedByte(icmp), "ICMP type: echo request");
        assertEquals(IDENTIFIER, out.getUnsignedShort(icmp + 4), "ICMP identifier");
        assertEquals(7, out.getUnsignedShort(icmp + 6), "ICMP sequence");
        assertEquals(0, InternetChecksum.compute(out, icmp, ip.totalLength() - Ipv4Flyweight.MIN_HEADER_LENGTH),
                "ICMP checksum verifies");
        assertEquals(1, net.counters.txPackets(DC_PROD), "probes count as the tunnel's traffic");
        out.release();
    }

    @Test
    void shouldTakeAReplyProbeRoutedBackOutOfTheTraffic() {
        probes.watch(DC_PROD, LOCAL);
        probes.clear(DC_PROD, 9);
        path.sendProbe(DC_PROD, false, TARGET, 9);
        ByteBuf probe = takeSent();
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(probe, probe.readerIndex() + 4);
        assertEquals(TARGET, ip.source(), "a reply probe comes from the target");
        assertEquals(LOCAL, ip.destination(), "and is addressed to the tunnel's own address");
        assertFalse(probes.replied(DC_PROD, 9));

        receiveFromDcProd(probe);

        assertTrue(probes.replied(DC_PROD, 9), "the far end routed it back: recorded");
        assertFalse(probes.replied(DC_PROD, 10), "only that sequence");
        assertTrue(net.ports[0].sent.isEmpty(), "consumed, not forwarded");
        assertEquals(0, net.flows.liveFlows(), "no flow opened");
        for (DropReason reason : DropReason.values()) {
            assertEquals(0, net.counters.drops(reason), "no drop: " + reason);
        }
        probes.clear(DC_PROD, 9);
        assertFalse(probes.replied(DC_PROD, 9), "cleared for the next probe of that slot");
    }

    @Test
    void shouldForwardEchoRepliesOfATunnelThatIsNotProbed() {
        path.sendProbe(DC_PROD, false, TARGET, 3);

        receiveFromDcProd(takeSent());

        assertFalse(probes.replied(DC_PROD, 3));
        assertEquals(1, net.ports[0].sent.size(), "forwarded like any packet");
    }

    @Test
    void shouldForwardEchoRepliesWithAnotherIdentifier() {
        probes.watch(DC_PROD, LOCAL);
        HealthProbes other = new HealthProbes(net.tunnels.length, IDENTIFIER + 1);
        PacketPath otherPath = new PacketPath(net.holder, net.counters, net.ports, UnpooledByteBufAllocator.DEFAULT,
                () -> net.nanos, net.flows, () -> net.millis, other);
        otherPath.sendProbe(DC_PROD, false, TARGET, 3);

        receiveFromDcProd(takeSent());

        assertFalse(probes.replied(DC_PROD, 3), "someone else's echo reply");
        assertEquals(1, net.ports[0].sent.size(), "forwarded");
    }

    @Test
    void shouldNotCountAReplyWithABadIcmpChecksum() {
        probes.watch(DC_PROD, LOCAL);
        path.sendProbe(DC_PROD, false, TARGET, 4);
        ByteBuf probe = takeSent();
        int payload = probe.readerIndex() + 4 + Ipv4Flyweight.MIN_HEADER_LENGTH + 8;
        probe.setByte(payload, probe.getByte(payload) ^ 0x01);

        receiveFromDcProd(probe);

        assertFalse(probes.replied(DC_PROD, 4), "corrupted on the way: a failed probe");
    }
}
