package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.crypto.esp.OutboundSa;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;

/**
 * Step 7 of the path for ESP tunnels: encrypts the inner packet in place with the tunnel's outbound SA.
 *
 * <pre>
 *   |&lt;- headroom -&gt;|&lt;-- inner packet --&gt;|&lt;- tailroom -&gt;|
 *   | SPI seq IV    |   (encrypted)      | pad pl nh ICV |
 * </pre>
 *
 * In place when the buffer has the room: receive buffers are {@code Dataplane.MAX_DATAGRAM} long, so tailroom is
 * there, and the headers the packet arrived behind (ESP 16 bytes, raw IPv4 and GRE 24) leave the headroom of an
 * AEAD (16 bytes). When they do not (GRE-in-UDP's 4 bytes, AES-CBC's 24-byte headroom), the inner packet is moved
 * back within its own buffer (one memmove, the receive buffer's tailroom takes it); only a buffer without that
 * room is copied into a pooled one of the exact size.
 *
 * <p>Receive buffers cannot simply start with free headroom: Netty 4.2.18's epoll and io_uring datagram reads set
 * the writer index to the bytes read instead of advancing it (NIO advances it), so the datagram would land at 0.
 * Not thread-safe: one instance per worker.
 */
final class EspEncap {
    private final EspContext context;
    private DropReason dropReason;

    EspEncap(EspContext context) {
        this.context = context;
    }

    /**
     * Encrypts the inner packet at [{@code innerOffset}, {@code innerOffset + innerLength}) of {@code buf} for
     * {@code tunnel}. Returns the buffer whose readable bytes are the ESP packet ({@code buf} itself or a pooled
     * copy, then {@code buf} has been released), or null with {@link #dropReason()} set and every buffer released.
     */
    ByteBuf encap(ByteBuf buf, int innerOffset, int innerLength, boolean ipv6, Tunnel tunnel,
                  ByteBufAllocator alloc) {
        OutboundSa sa = tunnel.sas().outbound();
        int headroom = sa.headroom();
        int espLength = headroom + innerLength + sa.tailroom(innerLength);
        ByteBuf out = buf;
        int start = innerOffset - headroom;
        if (start < 0 && headroom + espLength <= buf.capacity() && buf.nioBufferCount() == 1) {
            buf.setBytes(headroom, buf, innerOffset, innerLength);
            start = 0;
        } else if (start < 0 || start + espLength > buf.capacity() || buf.nioBufferCount() != 1) {
            out = alloc.directBuffer(espLength);
            out.setBytes(headroom, buf, innerOffset, innerLength);
            buf.release();
            start = 0;
        }
        ByteBuffer nio = out.internalNioBuffer(start, espLength);
        int base = nio.position();
        EspResult result = sa.encrypt(context, nio, base + headroom, innerLength,
                ipv6 ? EspDecap.NEXT_HEADER_IPV6 : EspDecap.NEXT_HEADER_IPV4);
        if (result != EspResult.OK) {
            dropReason = EspDrops.of(result);
            out.release();
            return null;
        }
        out.setIndex(start, start + context.length());
        return out;
    }

    /** Why the last packet could not be encrypted. */
    DropReason dropReason() {
        return dropReason;
    }
}
