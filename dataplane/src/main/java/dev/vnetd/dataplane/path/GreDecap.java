package dev.vnetd.dataplane.path;

import dev.vnetd.dataplane.packet.GreFlyweight;
import dev.vnetd.dataplane.packet.InternetChecksum;
import dev.vnetd.dataplane.packet.PacketMemory;
import dev.vnetd.dataplane.state.Tunnel;
import io.netty.buffer.ByteBuf;

/**
 * Step 2 of the path: takes a GRE header apart (RFC 2784, RFC 2890) and says where the inner packet starts, or why
 * the packet must be dropped. Sequence numbers are read past but not enforced: RFC 2890 sequencing is optional and
 * reordering is the inner transport's business.
 */
public final class GreDecap {
    private final PacketMemory memory = new PacketMemory();
    private long key;
    private int protocolType;
    private DropReason dropReason;

    /**
     * Decapsulates the GRE header at {@code offset}; the datagram ends at {@code end}. Returns the inner packet's
     * offset, or -1 with {@link #dropReason()} set.
     */
    public int decap(ByteBuf buf, int offset, int end) {
        return decap(memory.locate(buf), offset, end);
    }

    /** Decapsulates as {@link #decap(ByteBuf, int, int)} does, in a buffer the caller has located for this packet. */
    public int decap(PacketMemory packet, int offset, int end) {
        if (end - offset < GreFlyweight.BASE_LENGTH) {
            return drop(DropReason.GRE_TRUNCATED);
        }
        int first = packet.s32(offset, end); // flags and version, protocol type: one word
        int flags = first >>> 16;
        if ((flags & GreFlyweight.VERSION_MASK) != 0) {
            return drop(DropReason.GRE_BAD_VERSION);
        }
        if ((flags & GreFlyweight.RESERVED0_MUST_BE_ZERO) != 0) {
            return drop(DropReason.GRE_RESERVED_BITS);
        }
        int headerLength = GreFlyweight.headerLength(flags);
        if (end - offset < headerLength) {
            return drop(DropReason.GRE_TRUNCATED);
        }
        if ((flags & GreFlyweight.FLAG_CHECKSUM) != 0
                && InternetChecksum.compute(packet.buf(), offset, end - offset) != 0) {
            return drop(DropReason.GRE_BAD_CHECKSUM);
        }
        protocolType = first & 0xFFFF;
        if (protocolType != GreFlyweight.ETHERTYPE_IPV4 && protocolType != GreFlyweight.ETHERTYPE_IPV6) {
            return drop(DropReason.GRE_UNSUPPORTED_PROTOCOL);
        }
        key = (flags & GreFlyweight.FLAG_KEY) != 0
                ? packet.s32(offset + GreFlyweight.keyOffset(flags), end) & 0xFFFF_FFFFL : Tunnel.NO_KEY;
        return offset + headerLength;
    }

    private int drop(DropReason reason) {
        dropReason = reason;
        return -1;
    }

    /** The GRE key of the last decapsulated packet, or {@link Tunnel#NO_KEY}. */
    public long key() {
        return key;
    }

    /** Whether the last decapsulated packet carries IPv6. */
    public boolean ipv6() {
        return protocolType == GreFlyweight.ETHERTYPE_IPV6;
    }

    /** Why the last packet was refused. */
    public DropReason dropReason() {
        return dropReason;
    }
}
