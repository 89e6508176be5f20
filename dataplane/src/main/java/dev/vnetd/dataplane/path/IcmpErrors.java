package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.Arrays;

/**
 * Step 6 of the path: the ICMP errors a router owes the source of a packet it cannot forward (RFC 1812 section
 * 4.3, RFC 4443): Time Exceeded, Destination Unreachable (no route) and Fragmentation Needed / Packet Too Big. They
 * go back through the tunnel the packet came from, from the tunnel's ICMP source address.
 *
 * <p>Rate limited twice, as Linux limits its own ICMP errors (RFC 4443 section 2.4 (f) asks for both kinds of
 * limit): per source of the offending packet, so that one host (or one spoofed address) cannot use up the errors
 * every other host is owed, and per worker overall, so that a flood from many sources cannot make vnetd send more
 * than {@link #RATE_PER_SECOND}. Both are token buckets kept as a GCRA "theoretical arrival time": one long each,
 * so the per-source buckets are a fixed table of longs indexed by a hash of the source address:
 *
 * <pre>
 *  source (IPv4 int, or IPv6 high/low) --fmix64--&gt; index &amp; (SOURCE_BUCKETS - 1)
 *
 *  sourceBuckets: long[SOURCE_BUCKETS]   [ tat | tat | tat | ... ]   8 KiB per worker, allocated once
 *  globalBucket:  long                   tat
 *
 *  allow(now):  t = max(tat, now - burst * interval); if t + interval &gt; now: refuse; else tat = t + interval
 * </pre>
 *
 * Sources whose hashes collide share a bucket, which can only make vnetd send fewer errors, never more. A token is
 * taken only when both buckets have one, so an error refused by the global cap does not use up its source's share.
 * One packet in gives at most one error out, so vnetd never amplifies. The algorithm is the Generic Cell Rate
 * Algorithm of ATM (ITU-T I.371), as Linux's own limiter ({@code inet_peer_xrlim_allow}) works in effect.
 */
public final class IcmpErrors {
    /** Errors per second a worker may send in all; Linux's global default (net.ipv4.icmp_msgs_per_sec). */
    public static final int RATE_PER_SECOND = 1000;
    /** Errors a worker may send at once after a quiet period; Linux's default burst (icmp_msgs_burst). */
    public static final int BURST = 50;
    /**
     * Errors per second one source may be sent: ten times Linux's per-destination default (net.ipv4.icmp_ratelimit
     * 1000 ms), because behind one inner source address of a site there may be a NAT with many hosts, each
     * needing its own Packet Too Big for path MTU discovery.
     */
    public static final int SOURCE_RATE_PER_SECOND = 10;
    /** Errors one source may be sent at once; Linux's per-peer burst (XRLIM_BURST_FACTOR). */
    public static final int SOURCE_BURST = 6;
    /**
     * Per-source buckets of a worker: 1024 longs, 8 KiB, so thousands of active sources rarely share one, and the
     * table fits in L2 cache.
     */
    public static final int SOURCE_BUCKETS = 1024;
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
    private static final long NANOS_PER_SOURCE_TOKEN = 1_000_000_000L / SOURCE_RATE_PER_SECOND;
    private static final int SOURCE_MASK = SOURCE_BUCKETS - 1;

    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private final long[] sourceBuckets = new long[SOURCE_BUCKETS];
    private long globalBucket = Long.MIN_VALUE;

    /** A limiter with every bucket full. */
    public IcmpErrors() {
        Arrays.fill(sourceBuckets, Long.MIN_VALUE);
    }

    /**
     * Takes a token from the bucket of {@code packet}'s source and from the worker's global bucket; false (and no
     * token taken) when either limit forbids an error now.
     */
    public boolean allow(InnerPacket packet, long nowNanos) {
        int index = sourceIndex(packet);
        long source = take(sourceBuckets[index], nowNanos, NANOS_PER_SOURCE_TOKEN, SOURCE_BURST);
        if (source == Long.MIN_VALUE) {
            return false;
        }
        long global = take(globalBucket, nowNanos, NANOS_PER_TOKEN, BURST);
        if (global == Long.MIN_VALUE) {
            return false;
        }
        sourceBuckets[index] = source;
        globalBucket = global;
        return true;
    }

    /** Bucket index of a packet's source address. */
    static int sourceIndex(InnerPacket packet) {
        long key = packet.ipv6() ? packet.sourceHigh() ^ Long.rotateLeft(packet.sourceLow(), 29)
                : packet.source4() & 0xFFFF_FFFFL;
        return (int) FlowHash.fmix64(key) & SOURCE_MASK;
    }

    /**
     * The bucket's theoretical arrival time after taking a token at {@code now}, or {@link Long#MIN_VALUE} when it
     * has none: {@code burst} tokens, one more every {@code interval} nanoseconds.
     */
    private static long take(long tat, long now, long interval, int burst) {
        long earliest = now - burst * interval;
        long t = tat == Long.MIN_VALUE || tat < earliest ? earliest : tat;
        return t + interval > now ? Long.MIN_VALUE : t + interval;
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
