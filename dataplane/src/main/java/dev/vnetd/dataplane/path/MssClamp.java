package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.Ipv4Flyweight;
import dev.vnetd.dataplane.packet.L4Flyweight;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;

/**
 * Step 6 of the path, after the MTU check: TCP MSS clamping. A TCP SYN or SYN-ACK that enters or leaves through a
 * tunnel with {@code mss_clamp} has its Maximum Segment Size option (RFC 9293 section 3.7.1) lowered to the clamp,
 * so that neither end sends segments the tunnel would have to fragment or refuse. This is what Linux's
 * {@code iptables -j TCPMSS --clamp-mss-to-pmtu} does for its tunnels.
 *
 * <pre>
 *  TCP header (RFC 9293 3.1)                      options: kind 0 (EOL, 1 byte), kind 1 (NOP, 1 byte),
 *  +--------+--------+-----------------+          else kind, length (>= 2, counts kind and length), data
 *  | Source Port     | Destination Port|
 *  +--------+--------+-----------------+          MSS (kind 2, length 4):
 *  |           Sequence Number         |          +--------+--------+-----------------+
 *  |        Acknowledgment Number      |          |00000010|00000100|  max seg size   |
 *  +----+---+--------+-----------------+          +--------+--------+-----------------+
 *  |Off.|Rsv| Flags  |     Window      |
 *  +----+---+--------+-----------------+
 *  |    Checksum     | Urgent Pointer  |
 *  +-----------------+-----------------+
 *  | Options (Off. * 4 - 20 bytes)  ...|
 * </pre>
 *
 * <p>Only ever lowers the MSS. A SYN without an MSS option is left alone: inserting one would grow the packet and
 * move its payload, and the peer then assumes 536 (IPv4) or 1220 (IPv6) bytes (RFC 9293 3.7.1), which every tunnel
 * carries. The option walk trusts no length: it stops at EOL, at the end of the header, at a length below 2 or one
 * that runs past the header, and it walks at most 40 bytes (the largest options area). The checksum is updated
 * incrementally (RFC 1624), also when the MSS sits at an odd offset of the segment.
 *
 * <p>Not thread-safe: one instance per worker; no allocation.
 */
public final class MssClamp {
    /** IPv4 (20) and TCP (20) headers without options: {@code auto} clamps an IPv4 SYN to MTU - 40. */
    public static final int IPV4_OVERHEAD = 40;
    /** IPv6 (40) and TCP (20) headers: {@code auto} clamps an IPv6 SYN to MTU - 60. */
    public static final int IPV6_OVERHEAD = 60;

    static final int TCP_MIN_HEADER = 20;
    static final int OPTION_EOL = 0;
    static final int OPTION_NOP = 1;
    static final int OPTION_MSS = 2;
    static final int OPTION_MSS_LENGTH = 4;
    private static final int DATA_OFFSET_AT = 12;
    private static final int TCP_SYN = 0x02;

    /**
     * The clamp a packet of family {@code ipv6} gets from {@code tunnel}: its configured MSS, its MTU less the
     * headers for {@code auto}, or {@link Integer#MAX_VALUE} when the tunnel does not clamp.
     */
    public static int limit(Tunnel tunnel, boolean ipv6) {
        int clamp = tunnel.mssClamp();
        if (clamp == Tunnel.MSS_CLAMP_OFF) {
            return Integer.MAX_VALUE;
        }
        return clamp == Tunnel.MSS_CLAMP_AUTO ? tunnel.mtu() - (ipv6 ? IPV6_OVERHEAD : IPV4_OVERHEAD) : clamp;
    }

    /**
     * Clamps the MSS of {@code packet} (parsed, in {@code buf}) when it is a TCP SYN or SYN-ACK and {@code ingress}
     * or {@code egress} clamps; counts a lowered MSS in {@code counters}.
     */
    public void apply(ByteBuf buf, InnerPacket packet, Tunnel ingress, Tunnel egress, WorkerCounters counters) {
        if (packet.protocol() != Ipv4Flyweight.PROTO_TCP || (packet.tcpFlags() & TCP_SYN) == 0
                || ingress.mssClamp() == Tunnel.MSS_CLAMP_OFF && egress.mssClamp() == Tunnel.MSS_CLAMP_OFF
                || !packet.portsRewritable()) {
            return;
        }
        boolean ipv6 = packet.ipv6();
        int max = Math.min(limit(ingress, ipv6), limit(egress, ipv6));
        if (clamp(buf, packet.transportOffset(), packet.transportLength(), max)) {
            counters.mssClamped();
        }
    }

    /**
     * Lowers the MSS option of the TCP header at {@code offset} ({@code available} bytes of the segment present) to
     * {@code max} when it is above it, updating the TCP checksum. Returns whether the MSS was lowered; a header whose
     * data offset or option lengths lie is left untouched.
     */
    public static boolean clamp(ByteBuf buf, int offset, int available, int max) {
        int at = findMss(buf, offset, available);
        if (at < 0) {
            return false;
        }
        int mss = buf.getUnsignedShort(at);
        if (mss <= max) {
            return false;
        }
        buf.setShort(at, max);
        int checksumAt = offset + L4Flyweight.TCP_CHECKSUM_OFFSET;
        boolean odd = ((at - offset) & 1) != 0;
        // at an odd offset the field's bytes fall into two checksum words: its share of the sum is byte-swapped
        int oldWord = odd ? swap(mss) : mss;
        int newWord = odd ? swap(max) : max;
        buf.setShort(checksumAt, InternetChecksum.update(buf.getUnsignedShort(checksumAt), oldWord, newWord));
        return true;
    }

    /**
     * Offset of the MSS option's value in the TCP header at {@code offset}, or -1 when there is none or the header
     * is malformed (data offset below 5 words or beyond {@code available}, an option running past the header).
     */
    public static int findMss(ByteBuf buf, int offset, int available) {
        if (available < TCP_MIN_HEADER) {
            return -1;
        }
        int headerLength = (buf.getUnsignedByte(offset + DATA_OFFSET_AT) >>> 4) * 4;
        if (headerLength < TCP_MIN_HEADER || headerLength > available) {
            return -1;
        }
        int end = offset + headerLength;
        int at = offset + TCP_MIN_HEADER;
        while (at < end) {
            int kind = buf.getUnsignedByte(at);
            if (kind == OPTION_EOL) {
                return -1;
            }
            if (kind == OPTION_NOP) {
                at++;
                continue;
            }
            if (at + 1 >= end) {
                return -1;
            }
            int length = buf.getUnsignedByte(at + 1);
            if (length < 2 || at + length > end) {
                return -1;
            }
            if (kind == OPTION_MSS) {
                return length == OPTION_MSS_LENGTH ? at + 2 : -1;
            }
            at += length;
        }
        return -1;
    }

    private static int swap(int word) {
        return (word >>> 8 | word << 8) & 0xFFFF;
    }
}
