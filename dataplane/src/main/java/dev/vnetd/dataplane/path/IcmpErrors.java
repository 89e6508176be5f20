package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Step 6 of the path: the ICMP errors a router owes the source of a packet it cannot forward (RFC 1812 section
 * 4.3, RFC 4443): Time Exceeded, Destination Unreachable (no route) and Fragmentation Needed / Packet Too Big. They
 * go back through the tunnel the packet came from, from the tunnel's ICMP source address.
 *
 * <p>Rate limited per worker by a token bucket, as Linux limits its own ICMP errors (net.ipv4.icmp_msgs_per_sec
 * 1000, icmp_msgs_burst 50): {@link #RATE_PER_SECOND} and {@link #BURST}. One packet in gives at most one error
 * out, so vnetd never amplifies.
 */
public final class IcmpErrors {
    /** Errors per second a worker may send; Linux's global default for its own errors. */
    public static final int RATE_PER_SECOND = 1000;
    /** Errors a worker may send at once after a quiet period; Linux's default burst. */
    public static final int BURST = 50;
    /** Room left in front of an error for the GRE header that will carry it. */
    public static final int HEADROOM = 16;
    /** Largest ICMPv4 error datagram (RFC 1812 section 4.3.2.3). */
    static final int MAX_IPV4_ERROR = 576;

    /** ICMP error kinds. */
    public enum Kind {
        /** TTL or hop limit reached zero in transit. */
        TIME_EXCEEDED,
        /** No route to the destination network. */
        NO_ROUTE,
        /** Larger than the next hop's MTU and may not be fragmented. */
        TOO_BIG
    }

    private static final long NANOS_PER_TOKEN = 1_000_000_000L / RATE_PER_SECOND;

    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private long tokensAt = Long.MIN_VALUE;

    /** Takes a token from the bucket; false when the rate limit forbids an error now. */
    public boolean allow(long nowNanos) {
        long earliest = nowNanos - BURST * NANOS_PER_TOKEN;
        if (tokensAt == Long.MIN_VALUE || tokensAt < earliest) {
            tokensAt = earliest;
        }
        if (tokensAt + NANOS_PER_TOKEN > nowNanos) {
            return false;
        }
        tokensAt += NANOS_PER_TOKEN;
        return true;
    }

    /**
     * Builds the error about {@code packet} (its inner packet in {@code buf}) to be sent through {@code ingress}.
     * Returns a new buffer whose readable bytes are the ICMP error's IP packet, with {@link #HEADROOM} bytes before
     * them. {@code mtu} is the MTU reported by {@link Kind#TOO_BIG}.
     */
    public ByteBuf build(ByteBuf buf, InnerPacket packet, Kind kind, int mtu, Tunnel ingress, ByteBufAllocator alloc) {
        return packet.ipv6() ? buildIpv6(buf, packet, kind, mtu, ingress, alloc)
                : buildIpv4(buf, packet, kind, mtu, ingress, alloc);
    }

    private ByteBuf buildIpv4(ByteBuf buf, InnerPacket packet, Kind kind, int mtu, Tunnel ingress,
                              ByteBufAllocator alloc) {
        int quoted = Math.min(packet.length(), MAX_IPV4_ERROR - Ipv4Flyweight.MIN_HEADER_LENGTH - 8);
        int total = Ipv4Flyweight.MIN_HEADER_LENGTH + 8 + quoted;
        ByteBuf out = alloc.directBuffer(HEADROOM + total);
        int ip = HEADROOM;
        int icmp = ip + Ipv4Flyweight.MIN_HEADER_LENGTH;
        out.setZero(0, HEADROOM + total);
        ipv4.wrap(out, ip).versionAndHeaderLength(Ipv4Flyweight.MIN_HEADER_LENGTH)
                .tos(0xC0)
                .totalLength(total)
                .flagsAndFragmentOffset(0)
                .ttl(64)
                .protocol(Ipv4Flyweight.PROTO_ICMP)
                .source(ingress.icmpSourceV4())
                .destination(packet.source4())
                .updateChecksum();
        switch (kind) {
            case TIME_EXCEEDED -> out.setByte(icmp, 11);
            case NO_ROUTE -> out.setByte(icmp, 3);
            case TOO_BIG -> {
                out.setByte(icmp, 3);
                out.setByte(icmp + 1, 4);
                out.setShort(icmp + 6, mtu);
            }
        }
        out.setBytes(icmp + 8, buf, packet.offset(), quoted);
        out.setShort(icmp + 2, InternetChecksum.compute(out, icmp, 8 + quoted));
        out.setIndex(ip, ip + total);
        return out;
    }

    private ByteBuf buildIpv6(ByteBuf buf, InnerPacket packet, Kind kind, int mtu, Tunnel ingress,
                              ByteBufAllocator alloc) {
        int quoted = Math.min(packet.length(), Ipv6Flyweight.MIN_MTU - Ipv6Flyweight.HEADER_LENGTH - 8);
        int icmpLength = 8 + quoted;
        int total = Ipv6Flyweight.HEADER_LENGTH + icmpLength;
        ByteBuf out = alloc.directBuffer(HEADROOM + total);
        int ip = HEADROOM;
        int icmp = ip + Ipv6Flyweight.HEADER_LENGTH;
        out.setZero(0, HEADROOM + total);
        ipv6.wrap(out, ip).versionClassFlow(0, 0)
                .payloadLength(icmpLength)
                .nextHeader(Ipv4Flyweight.PROTO_ICMPV6)
                .hopLimit(64)
                .source(ingress.icmpSourceV6High(), ingress.icmpSourceV6Low())
                .destination(packet.sourceHigh(), packet.sourceLow());
        switch (kind) {
            case TIME_EXCEEDED -> out.setByte(icmp, 3);
            case NO_ROUTE -> out.setByte(icmp, 1);
            case TOO_BIG -> {
                out.setByte(icmp, 2);
                out.setInt(icmp + 4, mtu);
            }
        }
        out.setBytes(icmp + 8, buf, packet.offset(), quoted);
        long sum = ipv6.pseudoHeaderSum(icmpLength, Ipv4Flyweight.PROTO_ICMPV6)
                + InternetChecksum.sum(out, icmp, icmpLength);
        out.setShort(icmp + 2, InternetChecksum.finish(sum));
        out.setIndex(ip, ip + total);
        return out;
    }
}
