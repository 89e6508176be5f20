package dev.vnetd.control.cli;

import dev.vnetd.control.config.VnetdConfig;
import dev.vnetd.control.config.VnetdConfig.TunnelConfig;
import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sites and data centres of the default configuration, played on loopback: each sends GRE-in-UDP packets
 * into vnetd from its tunnel's remote address, and receives what vnetd sends to that address. Every packet has an
 * expected outcome, so the demo also checks the dataplane end to end.
 */
final class DemoScenario implements AutoCloseable {
    private static final long WAIT_NANOS = 1_000_000_000L;
    private static final byte[] PAYLOAD = "vnetd demo".getBytes(StandardCharsets.US_ASCII);

    /** One packet of the scenario and where it should come out; replies swap the request's UDP ports. */
    private record Step(String from, String src, String dst, int ttl, String expectTunnel, boolean reply,
                        String note) {
    }

    private static final List<Step> STEPS = List.of(
            new Step("site-a", "192.168.10.5", "10.1.2.3", 64, "dc-prod", false, "production's 10.0.0.0/8"),
            new Step("site-b", "192.168.10.5", "10.1.2.3", 64, "dc-staging", false, "staging's 10.0.0.0/8"),
            new Step("dc-prod", "10.1.2.3", "192.168.10.5", 64, "site-a", false, "production's 192.168.10.0/24"),
            new Step("dc-staging", "10.1.2.3", "192.168.10.5", 64, "site-b", false, "staging's 192.168.10.0/24"),
            new Step("site-a", "fd00:a::5", "fd00:10::5", 64, "dc-prod", false, "production's fd00:10::/32"),
            new Step("site-a", "192.168.10.5", "198.51.100.7", 64, "internet", false,
                    "no route in production: fallback to default"),
            new Step("site-b", "192.168.10.5", "198.51.100.7", 64, "site-b", false,
                    "no route in staging (no fallback): ICMP unreachable"),
            new Step("site-a", "192.168.10.5", "10.1.2.3", 1, "site-a", false, "TTL 1: ICMP time exceeded"),
            new Step("site-a", "172.16.5.5", "10.1.2.3", 64, "dc-prod", false,
                    "a flow from an address no route leads back to"),
            new Step("dc-prod", "10.1.2.3", "172.16.5.5", 64, "site-a", true,
                    "ARR: the reply follows its flow (the FIB would say internet)"));

    private final Map<String, TunnelConfig> tunnels = new LinkedHashMap<>();
    private final Map<InetSocketAddress, DatagramChannel> sockets = new LinkedHashMap<>();
    private final InetSocketAddress vnetd;

    DemoScenario(VnetdConfig config) throws IOException {
        for (TunnelConfig t : config.tunnels()) {
            tunnels.put(t.name(), t);
            if (!sockets.containsKey(t.remote())) {
                DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
                channel.bind(t.remote());
                channel.configureBlocking(false);
                sockets.put(t.remote(), channel);
            }
        }
        vnetd = config.listeners().getFirst().address();
    }

    /** Packets in one round. */
    int size() {
        return STEPS.size();
    }

    /** Sends every step once; prints each outcome when {@code verbose}; returns how many went astray. */
    int playRound(PrintWriter out, boolean verbose) throws IOException, InterruptedException {
        int failures = 0;
        for (Step step : STEPS) {
            TunnelConfig from = tunnels.get(step.from());
            ByteBuf packet = new PacketBuilder().gre(from.key()).ip(step.src(), step.dst(), step.ttl())
                    .udp(step.reply() ? 7 : 40000, step.reply() ? 40000 : 7, PAYLOAD)
                    .build(UnpooledByteBufAllocator.DEFAULT);
            try {
                sockets.get(from.remote()).send(packet.nioBuffer(), vnetd);
            } finally {
                packet.release();
            }
            String outcome = awaitOutcome(step);
            boolean ok = outcome.startsWith("=> " + step.expectTunnel() + " ");
            failures += ok ? 0 : 1;
            if (verbose) {
                out.printf("  %-10s %-13s -> %-13s %-10s %s   [%s]%s%n", step.from(), step.src(), step.dst(),
                        from.virtualNetwork(), outcome, step.note(), ok ? "" : "  UNEXPECTED");
                out.flush();
            }
        }
        return failures;
    }

    private String awaitOutcome(Step step) throws IOException, InterruptedException {
        ByteBuffer buffer = ByteBuffer.allocate(2048);
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            for (Map.Entry<InetSocketAddress, DatagramChannel> socket : sockets.entrySet()) {
                buffer.clear();
                if (socket.getValue().receive(buffer) != null) {
                    buffer.flip();
                    ByteBuf received = Unpooled.wrappedBuffer(buffer);
                    try {
                        return describe(socket.getKey(), received);
                    } finally {
                        received.release();
                    }
                }
            }
            Thread.sleep(1);
        }
        return "=> nothing arrived within 1 s";
    }

    private String describe(InetSocketAddress at, ByteBuf gre) {
        GreFlyweight header = new GreFlyweight().wrap(gre, 0);
        int flags = header.flags();
        long key = (flags & GreFlyweight.FLAG_KEY) != 0 ? header.key() & 0xFFFF_FFFFL : -1;
        String tunnel = "?";
        for (TunnelConfig t : tunnels.values()) {
            if (t.remote().equals(at) && t.key() == key) {
                tunnel = t.name();
            }
        }
        int inner = GreFlyweight.headerLength(flags);
        boolean ipv6 = header.protocolType() == GreFlyweight.ETHERTYPE_IPV6;
        String where = "=> " + tunnel + " (" + at.getAddress().getHostAddress() + (key >= 0 ? " key " + key : "")
                + ")";
        if (ipv6) {
            Ipv6Flyweight ip = new Ipv6Flyweight().wrap(gre, inner);
            return where + " hop limit " + ip.hopLimit();
        }
        Ipv4Flyweight ip = new Ipv4Flyweight().wrap(gre, inner);
        if (ip.protocol() == Ipv4Flyweight.PROTO_ICMP) {
            int type = gre.getUnsignedByte(inner + ip.headerLength());
            String kind = type == 11 ? "ICMP time exceeded" : type == 3 ? "ICMP unreachable" : "ICMP type " + type;
            return where + " " + kind + " from " + address(ip.source());
        }
        return where + " ttl " + ip.ttl();
    }

    private static String address(int v4) {
        return ((v4 >>> 24) & 0xFF) + "." + ((v4 >>> 16) & 0xFF) + "." + ((v4 >>> 8) & 0xFF) + "." + (v4 & 0xFF);
    }

    @Override
    public void close() throws IOException {
        for (DatagramChannel channel : sockets.values()) {
            channel.close();
        }
    }
}
