package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.nexthop.FlowHash;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.Ipv6Flyweight;
import dev.vnetd.dataplane.packet.L4Flyweight;
import dev.vnetd.dataplane.packet.PacketMemory;
import io.netty.buffer.ByteBuf;

/**
 * Step 4 of the path: validates the inner IPv4 (RFC 791, RFC 1812 section 5.2.2) or IPv6 (RFC 8200) header and
 * reads what forwarding needs: addresses, TTL, length, and the flow's ports (or ICMP echo identifier). One instance
 * per worker, refilled for every packet.
 */
public final class InnerPacket {
    /** ICMP echo request and reply, ICMPv6 echo request and reply. */
    private static final int ICMP_ECHO_REPLY = 0;
    private static final int ICMP_ECHO_REQUEST = 8;
    private static final int ICMPV6_ECHO_REQUEST = 128;
    private static final int ICMPV6_ECHO_REPLY = 129;

    /** IPv6 extension headers walked at most: real packets carry one or two; the bound keeps the work fixed. */
    static final int MAX_EXTENSION_HEADERS = 8;
    private static final int HOP_BY_HOP = 0;
    private static final int ROUTING = 43;
    private static final int DESTINATION_OPTIONS = 60;
    private static final int AUTHENTICATION_HEADER = 51;
    private static final int FRAGMENT_HEADER_LENGTH = 8;

    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final L4Flyweight l4 = new L4Flyweight();
    private final PacketMemory memory = new PacketMemory();

    private boolean isIpv6;
    private int offset;
    private int length;
    private int ttl;
    private int protocol;
    private int sourcePort;
    private int destinationPort;
    private int icmpType;
    private int tcpFlags;
    private int transportOffset;
    private int transportLength;
    private boolean dontFragment;
    private boolean nonFirstFragment;
    private int source4;
    private int destination4;
    private long sourceHigh;
    private long sourceLow;
    private long destinationHigh;
    private long destinationLow;
    private DropReason dropReason;

    /**
     * Parses the inner packet at {@code offset}, {@code end} being the end of the datagram. Returns false with
     * {@link #dropReason()} set when the header is malformed.
     */
    public boolean parse(ByteBuf buf, int offset, int end, boolean expectIpv6) {
        return parse(memory.locate(buf), offset, end, expectIpv6);
    }

    /** Parses as {@link #parse(ByteBuf, int, int, boolean)} does, in a buffer the caller located for this packet. */
    public boolean parse(PacketMemory packet, int offset, int end, boolean expectIpv6) {
        this.offset = offset;
        this.isIpv6 = expectIpv6;
        sourcePort = 0;
        destinationPort = 0;
        icmpType = -1;
        tcpFlags = 0;
        return expectIpv6 ? parseIpv6(packet, end) : parseIpv4(packet, end);
    }

    private boolean parseIpv4(PacketMemory packet, int end) {
        int available = end - offset;
        if (available < Ipv4Flyweight.MIN_HEADER_LENGTH) {
            return drop(DropReason.INNER_TRUNCATED);
        }
        // the fixed header in three loads, its fields taken out of them
        long first = packet.s64(offset, end); // version and IHL, TOS, total length, identification, flags and offset
        long second = packet.s64(offset + Ipv4Flyweight.TTL_OFFSET, end); // TTL, protocol, checksum, source
        int third = packet.s32(offset + Ipv4Flyweight.DESTINATION_OFFSET, end); // destination
        int versionAndIhl = (int) (first >>> 56);
        if (versionAndIhl >>> 4 != 4) {
            return drop(DropReason.INNER_BAD_VERSION);
        }
        int headerLength = (versionAndIhl & 0x0F) * 4;
        int totalLength = (int) (first >>> 32) & 0xFFFF;
        if (headerLength < Ipv4Flyweight.MIN_HEADER_LENGTH || totalLength < headerLength || totalLength > available) {
            return drop(DropReason.INNER_BAD_LENGTH);
        }
        boolean checksumValid = headerLength == Ipv4Flyweight.MIN_HEADER_LENGTH
                ? InternetChecksum.valid(first, second, third)
                : ipv4.wrap(packet, offset, end).checksumValid(); // options: their words too
        if (!checksumValid) {
            return drop(DropReason.INNER_BAD_CHECKSUM);
        }
        length = totalLength;
        ttl = (int) (second >>> 56);
        protocol = (int) (second >>> 48) & 0xFF;
        source4 = (int) second;
        destination4 = third;
        int fragment = (int) first & 0xFFFF;
        dontFragment = (fragment & Ipv4Flyweight.FLAG_DF) != 0;
        nonFirstFragment = (fragment & Ipv4Flyweight.FRAGMENT_OFFSET_MASK) != 0;
        int firstOctet = destination4 >>> 24;
        if (firstOctet == 0 || firstOctet == 127 || firstOctet >= 224) {
            return drop(DropReason.INNER_BAD_DESTINATION);
        }
        if (!nonFirstFragment) {
            readTransport(packet, offset + headerLength, totalLength - headerLength, Ipv4Flyweight.PROTO_ICMP);
        }
        return true;
    }

    private boolean parseIpv6(PacketMemory packet, int end) {
        int available = end - offset;
        if (available < Ipv6Flyweight.HEADER_LENGTH) {
            return drop(DropReason.INNER_TRUNCATED);
        }
        // the header in five loads: version, class and flow label, payload length, next header, hop limit; then
        // the two addresses
        long first = packet.s64(offset, end);
        if ((int) (first >>> 60) != 6) {
            return drop(DropReason.INNER_BAD_VERSION);
        }
        int payloadLength = (int) (first >>> 16) & 0xFFFF;
        if (Ipv6Flyweight.HEADER_LENGTH + payloadLength > available) {
            return drop(DropReason.INNER_BAD_LENGTH);
        }
        length = Ipv6Flyweight.HEADER_LENGTH + payloadLength;
        ttl = (int) first & 0xFF;
        sourceHigh = packet.s64(offset + Ipv6Flyweight.SOURCE_OFFSET, end);
        sourceLow = packet.s64(offset + Ipv6Flyweight.SOURCE_OFFSET + 8, end);
        destinationHigh = packet.s64(offset + Ipv6Flyweight.DESTINATION_OFFSET, end);
        destinationLow = packet.s64(offset + Ipv6Flyweight.DESTINATION_OFFSET + 8, end);
        dontFragment = true;
        nonFirstFragment = false;
        boolean multicast = (destinationHigh >>> 56) == 0xFF;
        boolean unspecifiedOrLoopback = destinationHigh == 0 && (destinationLow == 0 || destinationLow == 1);
        if (multicast || unspecifiedOrLoopback) {
            return drop(DropReason.INNER_BAD_DESTINATION);
        }
        return walkExtensionHeaders(packet, (int) (first >>> 8) & 0xFF, offset + Ipv6Flyweight.HEADER_LENGTH,
                offset + length);
    }

    /**
     * Finds the upper-layer header behind IPv6 extension headers (RFC 8200 section 4: Hop-by-Hop, Routing,
     * Fragment, Destination Options; AH per RFC 4302), at most {@link #MAX_EXTENSION_HEADERS} of them so the work
     * per packet stays bounded; sets the protocol to the upper layer's and notes non-first fragments, which carry
     * no transport header. An extension header that runs past the packet is a lying length.
     */
    private boolean walkExtensionHeaders(PacketMemory packet, int firstNextHeader, int firstAt, int packetEnd) {
        ByteBuf buf = packet.buf();
        int nextHeader = firstNextHeader;
        int at = firstAt;
        for (int walked = 0; walked < MAX_EXTENSION_HEADERS; walked++) {
            int headerLength;
            if (nextHeader == HOP_BY_HOP || nextHeader == ROUTING || nextHeader == DESTINATION_OPTIONS) {
                headerLength = packetEnd - at < 2 ? -1 : (buf.getUnsignedByte(at + 1) + 1) * 8;
            } else if (nextHeader == Ipv6Flyweight.NEXT_HEADER_FRAGMENT) {
                headerLength = FRAGMENT_HEADER_LENGTH;
                if (packetEnd - at >= FRAGMENT_HEADER_LENGTH) {
                    nonFirstFragment = (buf.getUnsignedShort(at + 2) >>> 3) != 0;
                }
            } else if (nextHeader == AUTHENTICATION_HEADER) {
                headerLength = packetEnd - at < 2 ? -1 : (buf.getUnsignedByte(at + 1) + 2) * 4;
            } else {
                break;
            }
            if (headerLength < 0 || at + headerLength > packetEnd) {
                return drop(DropReason.INNER_BAD_LENGTH);
            }
            nextHeader = buf.getUnsignedByte(at);
            at += headerLength;
            if (nonFirstFragment) {
                break;
            }
        }
        protocol = nextHeader;
        if (!nonFirstFragment) {
            readTransport(packet, at, packetEnd - at, Ipv4Flyweight.PROTO_ICMPV6);
        }
        return true;
    }

    private void readTransport(PacketMemory packet, int at, int available, int icmpProtocol) {
        transportOffset = at;
        transportLength = available;
        if (available < 1) {
            return;
        }
        int end = at + available;
        if (protocol == icmpProtocol) {
            // the type alone decides whether this is an error vnetd must never answer, however short the rest
            if (available < L4Flyweight.MIN_LENGTH) {
                icmpType = l4.wrap(packet, at, end).icmpType(); // too short for an echo identifier
                return;
            }
            long word = packet.s64(at, end); // type, code, checksum, identifier, sequence
            icmpType = (int) (word >>> 56);
            boolean echo = icmpType == ICMP_ECHO_REQUEST || icmpType == ICMP_ECHO_REPLY && !isIpv6
                    || icmpType == ICMPV6_ECHO_REQUEST || icmpType == ICMPV6_ECHO_REPLY;
            if (echo) {
                sourcePort = (int) (word >>> 16) & 0xFFFF;
            }
            return;
        }
        if (available < L4Flyweight.MIN_LENGTH) {
            return;
        }
        if (protocol == Ipv4Flyweight.PROTO_TCP || protocol == Ipv4Flyweight.PROTO_UDP) {
            int ports = packet.s32(at, end);
            sourcePort = ports >>> 16;
            destinationPort = ports & 0xFFFF;
            if (protocol == Ipv4Flyweight.PROTO_TCP && available >= L4Flyweight.TCP_FLAGS_OFFSET + 1) {
                tcpFlags = l4.wrap(packet, at, end).tcpFlags();
            }
        }
    }

    private boolean drop(DropReason reason) {
        dropReason = reason;
        return false;
    }

    /**
     * Rewrites the flow's source port (TCP, UDP) or ICMP echo identifier to {@code port}, and with it the transport
     * checksum, incrementally (RFC 1624). An IPv4 UDP datagram without a checksum keeps none.
     */
    public void rewriteSourcePort(ByteBuf buf, int port) {
        if (protocol == Ipv4Flyweight.PROTO_TCP || protocol == Ipv4Flyweight.PROTO_UDP) {
            rewrite(buf, transportOffset + L4Flyweight.SOURCE_PORT_OFFSET, port);
            sourcePort = port;
        } else {
            rewrite(buf, transportOffset + L4Flyweight.ICMP_IDENTIFIER_OFFSET, port);
            sourcePort = port;
        }
    }

    /** Rewrites the destination port (TCP, UDP) or ICMP echo identifier, as {@link #rewriteSourcePort}. */
    public void rewriteDestinationPort(ByteBuf buf, int port) {
        if (protocol == Ipv4Flyweight.PROTO_TCP || protocol == Ipv4Flyweight.PROTO_UDP) {
            rewrite(buf, transportOffset + L4Flyweight.DESTINATION_PORT_OFFSET, port);
            destinationPort = port;
        } else {
            rewrite(buf, transportOffset + L4Flyweight.ICMP_IDENTIFIER_OFFSET, port);
            sourcePort = port;
        }
    }

    /** Whether the transport header is whole enough to rewrite a port and its checksum. */
    public boolean portsRewritable() {
        int checksumEnd = switch (protocol) {
            case Ipv4Flyweight.PROTO_TCP -> L4Flyweight.TCP_CHECKSUM_OFFSET + 2;
            case Ipv4Flyweight.PROTO_UDP -> L4Flyweight.UDP_CHECKSUM_OFFSET + 2;
            default -> icmpType >= 0 ? L4Flyweight.MIN_LENGTH : Integer.MAX_VALUE;
        };
        return !nonFirstFragment && transportLength >= checksumEnd;
    }

    private void rewrite(ByteBuf buf, int at, int port) {
        int old = buf.getUnsignedShort(at);
        buf.setShort(at, port);
        int checksumAt = transportOffset + switch (protocol) {
            case Ipv4Flyweight.PROTO_TCP -> L4Flyweight.TCP_CHECKSUM_OFFSET;
            case Ipv4Flyweight.PROTO_UDP -> L4Flyweight.UDP_CHECKSUM_OFFSET;
            default -> L4Flyweight.ICMP_CHECKSUM_OFFSET;
        };
        int checksum = buf.getUnsignedShort(checksumAt);
        if (protocol == Ipv4Flyweight.PROTO_UDP && checksum == 0 && !isIpv6) {
            return;
        }
        int updated = InternetChecksum.update(checksum, old, port);
        buf.setShort(checksumAt, protocol == Ipv4Flyweight.PROTO_UDP && updated == 0 ? 0xFFFF : updated);
    }

    /**
     * Decrements the TTL in the parsed packet's memory ({@code memory}, located for the buffer it was parsed from):
     * IPv4's with its header checksum updated incrementally (RFC 1624, equation 3), the TTL / protocol word and the
     * checksum one 32-bit read and one write; IPv6's hop limit in the header's first word. The caller has checked that
     * the TTL is above 1.
     */
    public void decrementTtl(PacketMemory memory) {
        int end = offset + length;
        if (isIpv6) {
            long first = memory.s64(offset, end);
            memory.s64(offset, end, first & ~0xFFL | (ttl - 1) & 0xFF);
            return;
        }
        int at = offset + Ipv4Flyweight.TTL_OFFSET;
        memory.s32(at, end, Ipv4Flyweight.ttlDecremented(memory.s32(at, end)));
    }

    /** Hash of the 5-tuple, for ECMP. */
    public int flowHash() {
        return isIpv6
                ? FlowHash.ipv6(sourceHigh, sourceLow, destinationHigh, destinationLow, protocol, sourcePort,
                        destinationPort)
                : FlowHash.ipv4(source4, destination4, protocol, sourcePort, destinationPort);
    }

    /**
     * Whether an ICMP error may be sent about this packet (RFC 1812 section 4.3.2.7, RFC 4443 section 2.4 (e)):
     * never about an ICMP error, a non-first fragment, or a packet from an unspecified, multicast or broadcast
     * source.
     */
    public boolean mayTriggerIcmpError() {
        if (nonFirstFragment) {
            return false;
        }
        if (isIpv6) {
            // an ICMPv6 message whose type could not be read counts as an error: never risk answering one
            boolean errorMessage = protocol == Ipv4Flyweight.PROTO_ICMPV6 && icmpType < 128;
            boolean badSource = (sourceHigh >>> 56) == 0xFF || sourceHigh == 0 && sourceLow == 0;
            return !errorMessage && !badSource;
        }
        boolean errorMessage = protocol == Ipv4Flyweight.PROTO_ICMP && (icmpType < 0
                || icmpType == 3 || icmpType == 4 || icmpType == 5 || icmpType == 11 || icmpType == 12);
        int first = source4 >>> 24;
        boolean badSource = first == 0 || first >= 224;
        return !errorMessage && !badSource;
    }

    /** Why the last packet was refused. */
    public DropReason dropReason() {
        return dropReason;
    }

    /** Whether the packet is IPv6. */
    public boolean ipv6() {
        return isIpv6;
    }

    /** Offset of the inner IP header. */
    public int offset() {
        return offset;
    }

    /** Length of the inner packet by its header (trailing bytes beyond it are not part of it). */
    public int length() {
        return length;
    }

    /** TTL or hop limit as received. */
    public int ttl() {
        return ttl;
    }

    /** Transport protocol (IPv6: the first next header). */
    public int protocol() {
        return protocol;
    }

    /** TCP/UDP source port, or ICMP echo identifier, or 0. */
    public int sourcePort() {
        return sourcePort;
    }

    /** TCP/UDP destination port, or 0. */
    public int destinationPort() {
        return destinationPort;
    }

    /** TCP flags (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10), or 0. */
    public int tcpFlags() {
        return tcpFlags;
    }

    /** ICMP or ICMPv6 type, or -1 for other protocols. */
    public int icmpType() {
        return icmpType;
    }

    /** Whether Don't Fragment is set (always true for IPv6, which routers never fragment). */
    public boolean dontFragment() {
        return dontFragment;
    }

    /** IPv4 source address. */
    public int source4() {
        return source4;
    }

    /** IPv4 destination address. */
    public int destination4() {
        return destination4;
    }

    /** IPv6 source address, high 64 bits. */
    public long sourceHigh() {
        return sourceHigh;
    }

    /** IPv6 source address, low 64 bits. */
    public long sourceLow() {
        return sourceLow;
    }

    /** IPv6 destination address, high 64 bits. */
    public long destinationHigh() {
        return destinationHigh;
    }

    /** IPv6 destination address, low 64 bits. */
    public long destinationLow() {
        return destinationLow;
    }

    /** Offset of the transport header (behind IPv6 extension headers). */
    public int transportOffset() {
        return transportOffset;
    }

    /** Bytes of the transport header and payload present, by the IP length fields. */
    public int transportLength() {
        return transportLength;
    }
}
