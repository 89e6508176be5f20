package dev.vnetd.bench.pipeline;

import dev.vnetd.control.config.ConfigLoader;
import dev.vnetd.control.snapshot.ForwardingStateBuilder;
import dev.vnetd.dataplane.packet.PacketBuilder;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Traffic that looks like a socket's read batches rather than one packet repeated: the default configuration with
 * a larger FIB in both site virtual networks, and one GRE-in-UDP datagram for each of {@code flows} flows, half from
 * site-a (key 100, production, {@code arr: true}: every packet goes through the flow table) and half from site-b
 * (key 200, staging, no ARR: every packet goes through the LPM), each to a destination inside a random one of the
 * generated routes.
 * With {@code replies}, every other site-a datagram is instead the reply to the site-a flow just before it, sent
 * by dc-prod (no key, 127.0.0.3) with the addresses and ports swapped: ARR's return direction, found by the
 * swapped key and sent back to site-a without a FIB lookup. The prefix lengths follow the IPv4 and IPv6
 * default-free-zone mix of {@code shared/tools/gen-routes.py}; the seed is fixed, so every run sends the same
 * packets.
 */
final class BatchTraffic {
    /** Routes added to each of production and staging. */
    static final int ROUTES_PER_VN = 16384;
    private static final int[] V4_LENGTHS = {24, 24, 24, 24, 24, 24, 22, 23, 20, 21, 19, 16};
    private static final int[] V6_LENGTHS = {48, 48, 48, 48, 32, 44, 40, 36, 29, 46, 56, 64};
    private static final long SEED = 10;

    private final ForwardingState state;
    private final byte[][] datagrams;
    private final long[] senders;

    private BatchTraffic(ForwardingState state, byte[][] datagrams, long[] senders) {
        this.state = state;
        this.datagrams = datagrams;
        this.senders = senders;
    }

    /**
     * The state and one datagram for each of {@code flows} flows (a multiple of 4), inner family {@code ipv6} or
     * IPv4, with ARR replies or without.
     */
    static BatchTraffic build(boolean ipv6, boolean replies, int flows) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        String[] production = prefixes(random, ipv6);
        String[] staging = prefixes(random, ipv6);
        StringBuilder yaml = new StringBuilder(embeddedYaml());
        appendRoutes(yaml, production, "production", "dc-prod");
        appendRoutes(yaml, staging, "staging", "dc-staging");
        ForwardingState state = ForwardingStateBuilder.build(
                ConfigLoader.parse("pipeline-batch.yaml", yaml.toString(), null));
        byte[][] datagrams = new byte[flows][];
        long[] senders = new long[flows];
        String opened = null; // the destination of the last site-a flow: where its reply comes from
        for (int flow = 0; flow < flows; flow++) {
            boolean siteA = (flow & 1) == 0;
            boolean reply = replies && (flow & 3) == 2;
            String[] routes = siteA ? production : staging;
            PacketBuilder builder = new PacketBuilder();
            if (reply) {
                // the reply to flow - 2 (site-a's, opened in the same batch or an earlier one), from dc-prod
                builder.gre(-1).ip(opened, siteHost(ipv6, flow - 2), 64)
                        .udp(443, sourcePort(flow - 2), new byte[64]);
                senders[flow] = Tunnel.ipv4ToInt(state.tunnel("dc-prod").remote().getAddress()) & 0xFFFF_FFFFL;
            } else {
                String destination = addressIn(random, routes[random.nextInt(routes.length)]);
                if (siteA) {
                    opened = destination;
                }
                builder.gre(siteA ? 100 : 200).ip(siteHost(ipv6, flow), destination, 64)
                        .udp(sourcePort(flow), 443, new byte[64]);
                senders[flow] = Tunnel.ipv4ToInt(state.tunnel(siteA ? "site-a" : "site-b").remote().getAddress())
                        & 0xFFFF_FFFFL;
            }
            ByteBuf packet = builder.build(UnpooledByteBufAllocator.DEFAULT);
            datagrams[flow] = new byte[packet.readableBytes()];
            packet.getBytes(0, datagrams[flow]);
            packet.release();
        }
        return new BatchTraffic(state, datagrams, senders);
    }

    /**
     * The site host that sends flow {@code flow}: one of 250 in the site prefix (192.168.10.0/24, fd00:a::/64), so
     * that with {@link #sourcePort} every flow up to 6.9 million is its own 5-tuple.
     */
    private static String siteHost(boolean ipv6, int flow) {
        return ipv6 ? "fd00:a::" + Integer.toHexString(1 + flow % 250) : "192.168.10." + (1 + flow % 250);
    }

    /** The source port of flow {@code flow}: 10000 + flow for the first 55 536 flows, then round again. */
    private static int sourcePort(int flow) {
        return 10000 + flow % 55536;
    }

    /** The forwarding state: the default configuration plus the generated routes. */
    ForwardingState state() {
        return state;
    }

    /** The datagrams, one per flow, in the order they are sent round-robin. */
    byte[][] datagrams() {
        return datagrams;
    }

    /** The IPv4 address (in the low 32 bits) of each datagram's sender: its tunnel's remote. */
    long[] senders() {
        return senders;
    }

    private static String embeddedYaml() throws IOException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(ConfigLoader.EMBEDDED_RESOURCE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void appendRoutes(StringBuilder yaml, String[] prefixes, String vn, String via) {
        for (String prefix : prefixes) {
            yaml.append("  - {prefix: ").append(prefix).append(", virtual_network: ").append(vn)
                    .append(", via: ").append(via).append("}\n");
        }
    }

    /**
     * Distinct random prefixes: IPv4 in 1.0.0.0-191.255.255.255 (unicast, away from 0/8, 127/8 and 192.168.10.0/24
     * the sites use), IPv6 in 2000::/3.
     */
    private static String[] prefixes(SplittableRandom random, boolean ipv6) throws UnknownHostException {
        Set<String> seen = new LinkedHashSet<>();
        while (seen.size() < ROUTES_PER_VN) {
            if (ipv6) {
                int length = V6_LENGTHS[random.nextInt(V6_LENGTHS.length)];
                long high = (0b001L << 61 | random.nextLong() >>> 3) & (-1L << (64 - length));
                seen.add(address(high, 0L) + "/" + length);
            } else {
                int length = V4_LENGTHS[random.nextInt(V4_LENGTHS.length)];
                int value = (1 + random.nextInt(126)) << 24 | random.nextInt(1 << 24);
                if (random.nextBoolean()) {
                    value = (128 + random.nextInt(64)) << 24 | random.nextInt(1 << 24);
                }
                value &= -1 << (32 - length);
                seen.add(InetAddress.getByAddress(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16),
                        (byte) (value >>> 8), (byte) value}).getHostAddress() + "/" + length);
            }
        }
        return seen.toArray(String[]::new);
    }

    /** A random host address inside {@code prefix}. */
    private static String addressIn(SplittableRandom random, String prefix) throws UnknownHostException {
        int slash = prefix.indexOf('/');
        byte[] bytes = InetAddress.ofLiteral(prefix.substring(0, slash)).getAddress();
        int length = Integer.parseInt(prefix.substring(slash + 1));
        for (int bit = length; bit < bytes.length * 8; bit++) {
            if (random.nextBoolean()) {
                bytes[bit / 8] |= (byte) (0x80 >>> (bit % 8));
            }
        }
        if (bytes.length == 4 && bytes[3] == 0) {
            bytes[3] = 1;
        }
        return InetAddress.getByAddress(bytes).getHostAddress();
    }

    private static String address(long high, long low) throws UnknownHostException {
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (high >>> (56 - 8 * i));
            bytes[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return InetAddress.getByAddress(bytes).getHostAddress();
    }
}
