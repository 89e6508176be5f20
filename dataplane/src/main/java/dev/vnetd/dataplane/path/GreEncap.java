package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.PacketMemory;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Step 7 of the path: puts an inner packet behind the egress tunnel's GRE header. In place when the buffer has the
 * headroom (the old outer headers are always at least as long unless the egress tunnel adds a key the ingress one
 * did not have); otherwise into a fresh pooled buffer.
 */
public final class GreEncap {
    private final PacketMemory memory = new PacketMemory();

    /** Length of the GRE header a tunnel sends. */
    public static int headerLength(Tunnel tunnel) {
        return tunnel.hasKey() ? GreFlyweight.BASE_LENGTH + 4 : GreFlyweight.BASE_LENGTH;
    }

    /**
     * Encapsulates the inner packet at [{@code innerOffset}, {@code innerOffset + innerLength}) of {@code buf} for
     * {@code tunnel}. Returns the buffer whose readable bytes are the GRE packet: {@code buf} itself, or a new one
     * (then {@code buf} has been released).
     */
    public ByteBuf encap(ByteBuf buf, int innerOffset, int innerLength, boolean ipv6, Tunnel tunnel,
                         ByteBufAllocator alloc) {
        return encap(memory.locate(buf), innerOffset, innerLength, ipv6, tunnel, alloc);
    }

    /**
     * Encapsulates as {@link #encap(ByteBuf, int, int, boolean, Tunnel, ByteBufAllocator)} does, the inner packet
     * being in a buffer the caller has located for this packet.
     */
    public ByteBuf encap(PacketMemory packet, int innerOffset, int innerLength, boolean ipv6, Tunnel tunnel,
                         ByteBufAllocator alloc) {
        int headerLength = headerLength(tunnel);
        ByteBuf buf = packet.buf();
        ByteBuf out = buf;
        int start = innerOffset - headerLength;
        if (start < 0) {
            out = alloc.directBuffer(headerLength + innerLength);
            out.setBytes(headerLength, buf, innerOffset, innerLength);
            buf.release();
            start = 0;
            packet = memory.locate(out);
        }
        int protocolType = ipv6 ? GreFlyweight.ETHERTYPE_IPV6 : GreFlyweight.ETHERTYPE_IPV4;
        if (tunnel.hasKey()) {
            // flags and version, protocol type, key: one word
            long first = (long) (GreFlyweight.FLAG_KEY << 16 | protocolType) << 32 | tunnel.key() & 0xFFFF_FFFFL;
            packet.s64(start, start + headerLength, first);
        } else {
            packet.s32(start, start + headerLength, protocolType); // flags and version 0
        }
        out.setIndex(start, start + headerLength + innerLength);
        return out;
    }
}
