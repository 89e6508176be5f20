package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.InetAddress;

/**
 * Writes whole test and demo packets: an optional GRE header, an IPv4 or IPv6 header, and a UDP datagram or an
 * ICMP echo request, with lengths and checksums right. Not for the fast path: it allocates a buffer per packet.
 *
 * <pre>{@code
 * ByteBuf packet = new PacketBuilder().gre(100).ipv4("192.168.10.5", "10.1.2.3", 64).udp(40000, 53, payload)
 *         .build(alloc);
 * }</pre>
 */
public final class PacketBuilder {
    private static final int ICMP_ECHO_REQUEST = 8;
    private static final int ICMPV6_ECHO_REQUEST = 128;

    private boolean gre;
    private long greKey = -1;
    private InetAddress source;
    private InetAddress destination;
    private int ttl = 64;
    private boolean dontFragment;
    private int protocol = Ipv4Flyweight.PROTO_UDP;
    private int sourcePort = 40000;
    private int destinationPort = 7;
    private byte[] payload = new byte[0];

    /** Starts with a GRE header; {@code key} -1 for none. */
    public PacketBuilder gre(long key) {
        this.gre = true;
        this.greKey = key;
        return this;
    }

    /** The IP header: addresses of one family, and TTL or hop limit. */
    public PacketBuilder ip(String source, String destination, int ttl) {
        this.source = InetAddress.ofLiteral(source);
        this.destination = InetAddress.ofLiteral(destination);
        this.ttl = ttl;
        return this;
    }

    /** Sets Don't Fragment (IPv4). */
    public PacketBuilder dontFragment(boolean dontFragment) {
        this.dontFragment = dontFragment;
        return this;
    }

    /** A UDP datagram. */
    public PacketBuilder udp(int sourcePort, int destinationPort, byte[] payload) {
        this.protocol = Ipv4Flyweight.PROTO_UDP;
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
        this.payload = payload.clone();
        return this;
    }

    /** An ICMP (or ICMPv6) echo request. */
    public PacketBuilder icmpEcho(int identifier, int sequence, byte[] payload) {
        this.protocol = -1;
        this.sourcePort = identifier;
        this.destinationPort = sequence;
        this.payload = payload.clone();
        return this;
    }

    /** Writes the packet into a new buffer from {@code alloc}. */
    public ByteBuf build(ByteBufAllocator alloc) {
        boolean ipv6 = source.getAddress().length == 16;
        int greLength = gre ? (greKey >= 0 ? 8 : 4) : 0;
        int ipLength = ipv6 ? Ipv6Flyweight.HEADER_LENGTH : Ipv4Flyweight.MIN_HEADER_LENGTH;
        int l4Length = 8 + payload.length;
        int total = greLength + ipLength + l4Length;
        int proto = protocol == -1 ? (ipv6 ? Ipv4Flyweight.PROTO_ICMPV6 : Ipv4Flyweight.PROTO_ICMP) : protocol;
        ByteBuf buf = alloc.buffer(total);
        buf.setZero(0, total);
        if (gre) {
            GreFlyweight header = new GreFlyweight().wrap(buf, 0)
                    .flags(greKey >= 0 ? GreFlyweight.FLAG_KEY : 0)
                    .protocolType(ipv6 ? GreFlyweight.ETHERTYPE_IPV6 : GreFlyweight.ETHERTYPE_IPV4);
            if (greKey >= 0) {
                header.key((int) greKey);
            }
        }
        int ip = greLength;
        int l4 = ip + ipLength;
        long pseudo;
        if (ipv6) {
            Ipv6Flyweight header = new Ipv6Flyweight().wrap(buf, ip).versionClassFlow(0, 0).payloadLength(l4Length)
                    .nextHeader(proto).hopLimit(ttl)
                    .source(longAt(source, 0), longAt(source, 8))
                    .destination(longAt(destination, 0), longAt(destination, 8));
            pseudo = header.pseudoHeaderSum(l4Length, proto);
        } else {
            new Ipv4Flyweight().wrap(buf, ip).versionAndHeaderLength(Ipv4Flyweight.MIN_HEADER_LENGTH)
                    .totalLength(ipLength + l4Length).identification(0x1234)
                    .flagsAndFragmentOffset(dontFragment ? Ipv4Flyweight.FLAG_DF : 0).ttl(ttl).protocol(proto)
                    .source(intOf(source)).destination(intOf(destination)).updateChecksum();
            pseudo = proto == Ipv4Flyweight.PROTO_UDP
                    ? InternetChecksum.sum(buf, ip + Ipv4Flyweight.SOURCE_OFFSET, 8) + proto + l4Length : 0;
        }
        buf.setBytes(l4 + 8, payload);
        if (protocol == -1) {
            buf.setByte(l4, ipv6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST);
            buf.setShort(l4 + 4, sourcePort);
            buf.setShort(l4 + 6, destinationPort);
            buf.setShort(l4 + 2, InternetChecksum.finish(pseudo + InternetChecksum.sum(buf, l4, l4Length)));
        } else {
            buf.setShort(l4, sourcePort);
            buf.setShort(l4 + 2, destinationPort);
            buf.setShort(l4 + 4, l4Length);
            int checksum = InternetChecksum.finish(pseudo + InternetChecksum.sum(buf, l4, l4Length));
            buf.setShort(l4 + 6, checksum == 0 ? 0xFFFF : checksum);
        }
        buf.writerIndex(total);
        return buf;
    }

    private static int intOf(InetAddress address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    private static long longAt(InetAddress address, int from) {
        byte[] b = address.getAddress();
        long v = 0;
        for (int i = from; i < from + 8; i++) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }
}
