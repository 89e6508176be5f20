package dev.vnetd.control.peers;

import dev.vnetd.dataplane.packet.PacketBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.nio.charset.StandardCharsets;

/** GRE-in-UDP payloads the loopback peer tests send as a site's router would, and what they read back from them. */
final class GreTestPackets {
    private GreTestPackets() {
    }

    /** A GRE packet without key around an IPv4/UDP packet (TTL 64) carrying {@code payload} in ASCII. */
    static byte[] gre(String src, String dst, int sport, int dport, String payload) {
        ByteBuf p = new PacketBuilder().gre(-1).ip(src, dst, 64).udp(sport, dport,
                payload.getBytes(StandardCharsets.US_ASCII)).build(UnpooledByteBufAllocator.DEFAULT);
        byte[] bytes = ByteBufUtil.getBytes(p);
        p.release();
        return bytes;
    }

    /** The IPv4 address at {@code offset} in the inner IPv4 header of a GRE packet without key (4-byte header). */
    static String innerIpv4(byte[] gre, int offset) {
        return (gre[4 + offset] & 0xFF) + "." + (gre[5 + offset] & 0xFF) + "." + (gre[6 + offset] & 0xFF) + "."
                + (gre[7 + offset] & 0xFF);
    }
}
