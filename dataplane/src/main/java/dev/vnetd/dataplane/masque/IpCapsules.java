package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Values of the CONNECT-IP capsules (RFC 9484 section 4.7), decoded from and encoded to a capsule's value. Control
 * path: a session exchanges a handful of them, so they decode into lists of records.
 *
 * <pre>
 *  ADDRESS_ASSIGN (0x01) / ADDRESS_REQUEST (0x02) value: one or more of
 *    Address { Request ID (i), IP Version (8) = 4|6, IP Address (32|128), IP Prefix Length (8) }
 *  ROUTE_ADVERTISEMENT (0x03) value: zero or more of
 *    IP Address Range { IP Version (8) = 4|6, Start IP Address (32|128), End IP Address (32|128), IP Protocol (8) }
 * </pre>
 *
 * Malformed fields (an IP version other than 4 or 6, a value cut short, a prefix length beyond the address, host
 * bits set, an empty ADDRESS_REQUEST, request ID 0 in a request) are H3_DATAGRAM_ERROR; ROUTE_ADVERTISEMENT ranges
 * whose start exceeds their end, or that are not ordered by (IP version, IP protocol, start) without overlapping, are
 * H3_GENERAL_PROTOCOL_ERROR (section 4.7.3: the receiver aborts the stream).
 */
public final class IpCapsules {
    private static final int IPV4 = 4;
    private static final int IPV6 = 6;

    private IpCapsules() {
    }

    /** Decodes an ADDRESS_ASSIGN value (may be empty: "no addresses", section 4.7.1). */
    public static List<AssignedAddress> decodeAddressAssign(ByteBuf buf, int offset, int end) throws CapsuleException {
        return decodeAddresses(buf, offset, end, false);
    }

    /** Decodes an ADDRESS_REQUEST value (at least one address, request IDs not 0). */
    public static List<AssignedAddress> decodeAddressRequest(ByteBuf buf, int offset, int end)
            throws CapsuleException {
        List<AssignedAddress> addresses = decodeAddresses(buf, offset, end, true);
        if (addresses.isEmpty()) {
            throw malformed("empty ADDRESS_REQUEST");
        }
        return addresses;
    }

    private static List<AssignedAddress> decodeAddresses(ByteBuf buf, int offset, int end, boolean request)
            throws CapsuleException {
        List<AssignedAddress> out = new ArrayList<>();
        int i = offset;
        while (i < end) {
            int idLength = QuicVarint.lengthAt(buf, i, end);
            if (idLength < 0) {
                throw malformed("request ID truncated");
            }
            long requestId = QuicVarint.get(buf, i);
            i += idLength;
            if (request && requestId == 0) {
                throw malformed("request ID 0 in ADDRESS_REQUEST");
            }
            int size = addressSize(buf, i, end);
            if (i + 1 + size + 1 > end) {
                throw malformed("address truncated");
            }
            InetAddress address = address(buf, i + 1, size);
            int prefixLength = buf.getUnsignedByte(i + 1 + size);
            i += 1 + size + 1;
            if (prefixLength > size * 8) {
                throw malformed("prefix length " + prefixLength + " beyond " + size * 8 + " bits");
            }
            if (!hostBitsClear(address.getAddress(), prefixLength)) {
                throw malformed(address.getHostAddress() + "/" + prefixLength + " has host bits set");
            }
            out.add(new AssignedAddress(requestId, address, prefixLength));
        }
        return out;
    }

    /** Decodes a ROUTE_ADVERTISEMENT value and checks the ordering rules of section 4.7.3. */
    public static List<IpRange> decodeRouteAdvertisement(ByteBuf buf, int offset, int end) throws CapsuleException {
        List<IpRange> out = new ArrayList<>();
        int i = offset;
        IpRange previous = null;
        while (i < end) {
            int size = addressSize(buf, i, end);
            if (i + 1 + 2 * size + 1 > end) {
                throw malformed("IP address range truncated");
            }
            byte[] start = bytes(buf, i + 1, size);
            byte[] last = bytes(buf, i + 1 + size, size);
            int protocol = buf.getUnsignedByte(i + 1 + 2 * size);
            i += 1 + 2 * size + 1;
            if (Arrays.compareUnsigned(start, last) > 0) {
                throw new CapsuleException(CapsuleException.H3_GENERAL_PROTOCOL_ERROR,
                        "ROUTE_ADVERTISEMENT range starts after it ends");
            }
            IpRange range = new IpRange(address(start), address(last), protocol);
            if (previous != null && !ordered(previous, range)) {
                throw new CapsuleException(CapsuleException.H3_GENERAL_PROTOCOL_ERROR,
                        "ROUTE_ADVERTISEMENT ranges out of order or overlapping");
            }
            out.add(range);
            previous = range;
        }
        return out;
    }

    /**
     * Whether {@code b} may follow {@code a}: a lower IP version first, then a lower protocol, then (same version
     * and protocol) {@code a} ends before {@code b} starts.
     */
    private static boolean ordered(IpRange a, IpRange b) {
        if (a.ipv6() != b.ipv6()) {
            return !a.ipv6();
        }
        if (a.ipProtocol() != b.ipProtocol()) {
            return a.ipProtocol() < b.ipProtocol();
        }
        return Arrays.compareUnsigned(a.end().getAddress(), b.start().getAddress()) < 0;
    }

    /** Appends an ADDRESS_ASSIGN capsule (header and value). */
    public static void encodeAddressAssign(ByteBuf out, List<AssignedAddress> addresses) {
        encodeAddresses(out, Capsule.ADDRESS_ASSIGN, addresses);
    }

    /** Appends an ADDRESS_REQUEST capsule. */
    public static void encodeAddressRequest(ByteBuf out, List<AssignedAddress> addresses) {
        encodeAddresses(out, Capsule.ADDRESS_REQUEST, addresses);
    }

    private static void encodeAddresses(ByteBuf out, long type, List<AssignedAddress> addresses) {
        long length = 0;
        for (AssignedAddress a : addresses) {
            length += QuicVarint.encodedLength(a.requestId()) + 1 + a.address().getAddress().length + 1;
        }
        Capsule.writeHeader(out, type, length);
        for (AssignedAddress a : addresses) {
            QuicVarint.write(out, a.requestId());
            byte[] bytes = a.address().getAddress();
            out.writeByte(bytes.length == 4 ? IPV4 : IPV6);
            out.writeBytes(bytes);
            out.writeByte(a.prefixLength());
        }
    }

    /** Appends a ROUTE_ADVERTISEMENT capsule; the caller orders the ranges as section 4.7.3 requires. */
    public static void encodeRouteAdvertisement(ByteBuf out, List<IpRange> ranges) {
        long length = 0;
        for (IpRange r : ranges) {
            length += 1 + 2L * r.start().getAddress().length + 1;
        }
        Capsule.writeHeader(out, Capsule.ROUTE_ADVERTISEMENT, length);
        for (IpRange r : ranges) {
            byte[] start = r.start().getAddress();
            out.writeByte(start.length == 4 ? IPV4 : IPV6);
            out.writeBytes(start);
            out.writeBytes(r.end().getAddress());
            out.writeByte(r.ipProtocol());
        }
    }

    /** Sorts ranges into the order section 4.7.3 requires (IP version, protocol, start). */
    public static List<IpRange> sorted(List<IpRange> ranges) {
        List<IpRange> out = new ArrayList<>(ranges);
        out.sort((a, b) -> {
            if (a.ipv6() != b.ipv6()) {
                return a.ipv6() ? 1 : -1;
            }
            if (a.ipProtocol() != b.ipProtocol()) {
                return Integer.compare(a.ipProtocol(), b.ipProtocol());
            }
            return Arrays.compareUnsigned(a.start().getAddress(), b.start().getAddress());
        });
        return out;
    }

    private static int addressSize(ByteBuf buf, int index, int end) throws CapsuleException {
        if (index >= end) {
            throw malformed("IP version missing");
        }
        int version = buf.getUnsignedByte(index);
        if (version == IPV4) {
            return 4;
        }
        if (version == IPV6) {
            return 16;
        }
        throw malformed("IP version " + version + " is neither 4 nor 6");
    }

    private static boolean hostBitsClear(byte[] address, int prefixLength) {
        for (int bit = prefixLength; bit < address.length * 8; bit++) {
            if ((address[bit >>> 3] & (0x80 >>> (bit & 7))) != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(ByteBuf buf, int index, int size) {
        byte[] bytes = new byte[size];
        buf.getBytes(index, bytes);
        return bytes;
    }

    private static InetAddress address(ByteBuf buf, int index, int size) {
        return address(bytes(buf, index, size));
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CapsuleException malformed(String message) {
        return new CapsuleException(CapsuleException.H3_DATAGRAM_ERROR, message);
    }
}
