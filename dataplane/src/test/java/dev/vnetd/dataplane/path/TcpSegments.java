package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Test IP packets carrying a TCP segment with given flags and options, lengths and checksums right, and the checks
 * that go with them: the TCP checksum over the IPv4 or IPv6 pseudo-header, and the reference model of where the MSS
 * option is ({@link #referenceMssOffset}).
 */
public final class TcpSegments {
    /** SYN. */
    public static final int SYN = 0x02;
    /** ACK. */
    public static final int ACK = 0x10;
    /** The options Linux puts in a SYN with this MSS: MSS, SACK permitted, timestamps, NOP, window scale 7. */
    public static byte[] linuxSynOptions(int mss) {
        return new byte[] {2, 4, (byte) (mss >>> 8), (byte) mss, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    }

    private TcpSegments() {
    }

    /**
     * An IPv4 or IPv6 packet (the addresses' family decides) with a TCP segment from port 40000 to 443 with
     * {@code flags}, {@code options} (a whole number of 4-byte words) and {@code payload} bytes; IPv4 has DF set.
     */
    public static ByteBuf packet(String source, String destination, int flags, byte[] options, int payload) {
        return packet(source, destination, 40000, 443, flags, options, payload);
    }

    /** As {@link #packet(String, String, int, byte[], int)}, from {@code sourcePort} to {@code destinationPort}. */
    public static ByteBuf packet(String source, String destination, int sourcePort, int destinationPort, int flags,
                                 byte[] options, int payload) {
        byte[] src = InetAddress.ofLiteral(source).getAddress();
        byte[] dst = InetAddress.ofLiteral(destination).getAddress();
        boolean ipv6 = src.length == 16;
        int ipLength = ipv6 ? 40 : 20;
        int tcpLength = 20 + options.length + payload;
        ByteBuf buf = Unpooled.buffer(ipLength + tcpLength).writeZero(ipLength + tcpLength);
        if (ipv6) {
            buf.setInt(0, 0x6000_0000);
            buf.setShort(4, tcpLength);
            buf.setByte(6, 6);
            buf.setByte(7, 64);
            buf.setBytes(8, src);
            buf.setBytes(24, dst);
        } else {
            buf.setByte(0, 0x45);
            buf.setShort(2, ipLength + tcpLength);
            buf.setShort(6, 0x4000);
            buf.setByte(8, 64);
            buf.setByte(9, 6);
            buf.setBytes(12, src);
            buf.setBytes(16, dst);
            buf.setShort(10, InternetChecksum.compute(buf, 0, 20));
        }
        int tcp = ipLength;
        buf.setShort(tcp, sourcePort);
        buf.setShort(tcp + 2, destinationPort);
        buf.setInt(tcp + 4, 0x1234_5678);
        buf.setByte(tcp + 12, ((20 + options.length) / 4) << 4);
        buf.setByte(tcp + 13, flags);
        buf.setShort(tcp + 14, 64240);
        buf.setBytes(tcp + 20, options);
        for (int i = 0; i < payload; i++) {
            buf.setByte(tcp + 20 + options.length + i, i * 7 + 1);
        }
        buf.setShort(tcp + 16, InternetChecksum.finish(pseudoHeaderSum(buf, ipv6, tcpLength)
                + InternetChecksum.sum(buf, tcp, tcpLength)));
        return buf;
    }

    /** Whether the TCP checksum of the IP packet at {@code ip} verifies. */
    public static boolean tcpChecksumValid(ByteBuf buf, int ip) {
        ByteBuf packet = buf.slice(ip, buf.writerIndex() - ip);
        boolean ipv6 = (packet.getUnsignedByte(0) >>> 4) == 6;
        int ipLength = ipv6 ? 40 : (packet.getUnsignedByte(0) & 0xF) * 4;
        int tcpLength = ipv6 ? packet.getUnsignedShort(4) : packet.getUnsignedShort(2) - ipLength;
        return InternetChecksum.finish(pseudoHeaderSum(packet, ipv6, tcpLength)
                + InternetChecksum.sum(packet, ipLength, tcpLength)) == 0;
    }

    /** The TCP pseudo-header sum of the IP packet at offset 0 of {@code buf}. */
    public static long pseudoHeaderSum(ByteBuf buf, boolean ipv6, int tcpLength) {
        return ipv6 ? InternetChecksum.sum(buf, 8, 32) + tcpLength + 6
                : InternetChecksum.sum(buf, 12, 8) + tcpLength + 6;
    }

    /**
     * The reference model: the options cut into (kind, data) records in order, up to EOL, the end, or the first
     * record that does not fit; the MSS is the first kind-2 record, valid only with length 4. Returns the offset of
     * its value within {@code options}, or -1.
     */
    public static int referenceMssOffset(byte[] options) {
        record Option(int kind, int at, int length) {
        }
        List<Option> records = new ArrayList<>();
        int i = 0;
        boolean broken = false;
        while (i < options.length && !broken) {
            int kind = options[i] & 0xFF;
            if (kind == 0) {
                break;
            } else if (kind == 1) {
                records.add(new Option(kind, i, 1));
                i += 1;
            } else if (i + 2 > options.length || (options[i + 1] & 0xFF) < 2
                    || i + (options[i + 1] & 0xFF) > options.length) {
                broken = true;
            } else {
                records.add(new Option(kind, i, options[i + 1] & 0xFF));
                i += options[i + 1] & 0xFF;
            }
        }
        for (Option o : records) {
            if (o.kind() == 2) {
                return o.length() == 4 ? o.at() + 2 : -1;
            }
        }
        return -1;
    }

    /** {@code t} with {@code mssClamp} ({@link Tunnel#MSS_CLAMP_OFF}, {@link Tunnel#MSS_CLAMP_AUTO} or a size). */
    public static Tunnel withMssClamp(Tunnel t, int mssClamp) {
        return new Tunnel(t.id(), t.name(), t.listener(), t.remote(), t.key(), t.virtualNetwork(), t.mtu(), t.arr(),
                t.icmpSourceV4(), t.icmpSourceV6High(), t.icmpSourceV6Low(), t.sas(), mssClamp, t.maxFlows());
    }

}
