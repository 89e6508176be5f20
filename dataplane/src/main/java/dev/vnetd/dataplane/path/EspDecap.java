package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspContext;
import dev.vnetd.crypto.esp.EspResult;
import dev.vnetd.dataplane.state.ForwardingState;
import dev.vnetd.dataplane.state.Tunnel;
import dev.vnetd.dataplane.state.TunnelIndex;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;

/**
 * Step 2 of the path for ESP carriers: 1. NAT-keepalive and non-ESP marker (ESP-in-UDP only, RFC 3948)
 * 2. the tunnel from (listener, SPI)  3. the outer source must be the tunnel's remote  4. decrypt in place with the
 * tunnel's inbound SA (replay window, ICV, padding)  5. the inner packet's bounds and family for the rest of the
 * path. Not thread-safe: one instance per worker, like the {@link EspContext} it drives.
 */
final class EspDecap {
    /** Next header of an inner IPv4 packet (tunnel mode, RFC 4303 2.3). */
    static final int NEXT_HEADER_IPV4 = 4;
    /** Next header of an inner IPv6 packet. */
    static final int NEXT_HEADER_IPV6 = 41;
    private static final int SPI_LENGTH = 4;

    private final EspContext context;
    private int innerStart;
    private int innerEnd;
    private boolean ipv6;
    private DropReason dropReason;

    EspDecap(EspContext context) {
        this.context = context;
    }

    /**
     * Decrypts the ESP packet at [{@code offset}, {@code end}) of {@code buf} received on {@code listener} from
     * the outer source address ({@code sourceHigh}, {@code sourceLow}): the datagram's sender, or for raw IPv4
     * sockets the IP header's source, as {@link TunnelIndex} stores remotes. Returns the tunnel id, with the inner
     * packet at [{@link #innerStart()}, {@link #innerEnd()}), or {@link TunnelIndex#NO_TUNNEL} with
     * {@link #dropReason()} set.
     */
    int decap(ForwardingState state, int listener, boolean udp, ByteBuf buf, int offset, int end,
              long sourceHigh, long sourceLow) {
        int length = end - offset;
        if (udp && length == 1 && buf.getUnsignedByte(offset) == 0xFF) {
            return drop(DropReason.ESP_NAT_KEEPALIVE);
        }
        if (length < SPI_LENGTH) {
            return drop(DropReason.ESP_TRUNCATED);
        }
        int spi = buf.getInt(offset);
        if (spi == 0) {
            return drop(udp ? DropReason.ESP_IKE_MESSAGE : DropReason.ESP_UNKNOWN_SPI);
        }
        int tunnelId = state.tunnelIndex().findEsp(listener, spi);
        if (tunnelId == TunnelIndex.NO_TUNNEL) {
            return drop(DropReason.ESP_UNKNOWN_SPI);
        }
        Tunnel tunnel = state.tunnels()[tunnelId];
        if (!state.tunnelIndex().remoteIs(tunnelId, sourceHigh, sourceLow)) {
            return drop(DropReason.ESP_WRONG_REMOTE);
        }
        ByteBuffer nio = buf.internalNioBuffer(offset, length);
        int base = nio.position();
        EspResult result = tunnel.sas().inbound().decrypt(context, nio, base, length);
        if (result != EspResult.OK) {
            return drop(EspDrops.of(result));
        }
        int nextHeader = context.nextHeader();
        if (nextHeader != NEXT_HEADER_IPV4 && nextHeader != NEXT_HEADER_IPV6) {
            return drop(DropReason.ESP_UNSUPPORTED_NEXT_HEADER);
        }
        ipv6 = nextHeader == NEXT_HEADER_IPV6;
        innerStart = offset + context.offset() - base;
        innerEnd = innerStart + context.length();
        return tunnelId;
    }

    private int drop(DropReason reason) {
        dropReason = reason;
        return TunnelIndex.NO_TUNNEL;
    }

    /** Index of the decrypted inner packet in the buffer. */
    int innerStart() {
        return innerStart;
    }

    /** Index just past the inner packet (padding, trailer and ICV lie behind it). */
    int innerEnd() {
        return innerEnd;
    }

    /** Whether the inner packet is IPv6. */
    boolean ipv6() {
        return ipv6;
    }

    /** Why the last packet was refused. */
    DropReason dropReason() {
        return dropReason;
    }
}
