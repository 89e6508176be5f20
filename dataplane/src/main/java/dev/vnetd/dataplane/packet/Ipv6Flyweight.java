package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * IPv6 fixed header (RFC 8200, section 3).
 *
 * <pre>
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                         Source Address (128)                  +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                      Destination Address (128)                +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv6Flyweight {
    /** Version, traffic class and flow label. */
    public static final int VERSION_CLASS_FLOW_OFFSET = 0;
    /** Length of the payload after this header, extension headers included. */
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    /** Type of the next header. */
    public static final int NEXT_HEADER_OFFSET = 6;
    /** Hop limit. */
    public static final int HOP_LIMIT_OFFSET = 7;
    /** Source address, 16 bytes. */
    public static final int SOURCE_OFFSET = 8;
    /** Destination address, 16 bytes. */
    public static final int DESTINATION_OFFSET = 24;
    /** Length of the fixed header. */
    public static final int HEADER_LENGTH = 40;
    /** Minimum link MTU of IPv6 (RFC 8200, section 5): an ICMPv6 error never exceeds it. */
    public static final int MIN_MTU = 1280;

    /** Next header value of a fragment header. */
    public static final int NEXT_HEADER_FRAGMENT = 44;

    private ByteBuf buf;
    private int offset;
    private Object base;
    private long address;

    /** Points this flyweight at a header starting at {@code offset}. */
    public Ipv6Flyweight wrap(ByteBuf buf, int offset) {
        this.buf = buf;
        this.offset = offset;
        this.base = null;
        this.address = HeaderMemory.NONE;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, for the
     * packet path: when the {@link #HEADER_LENGTH} bytes from {@code offset} lie inside the packet and the buffer
     * ({@link HeaderMemory}), the fixed header's fields are read and written straight from memory, the bounds
     * checked once here; otherwise, as after {@link #wrap(ByteBuf, int)}, through the buffer's checked accessors.
     */
    public Ipv6Flyweight wrap(ByteBuf buf, int offset, int end) {
        this.buf = buf;
        this.offset = offset;
        this.base = HeaderMemory.base(buf);
        this.address = HeaderMemory.locate(buf, offset, end, HEADER_LENGTH);
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, as
     * {@link #wrap(ByteBuf, int, int)} does, in the buffer {@code memory} located for this packet: the same fields
     * from memory under the same bounds, without asking the buffer again.
     */
    public Ipv6Flyweight wrap(PacketMemory memory, int offset, int end) {
        if (buf != memory.buf() || base != memory.base()) {
            // only when they change: a reference store pays G1's card-marking barrier even when it changes nothing
            buf = memory.buf();
            base = memory.base();
        }
        this.offset = offset;
        this.address = memory.address(offset, end, HEADER_LENGTH);
        return this;
    }

    /** Offset of the header in the buffer. */
    public int offset() {
        return offset;
    }

    /** IP version (6 for a valid header). */
    public int version() {
        return (address != HeaderMemory.NONE ? HeaderMemory.u8(base, address) : buf.getUnsignedByte(offset)) >>> 4;
    }

    /** Sets version 6, traffic class and flow label. */
    public Ipv6Flyweight versionClassFlow(int trafficClass, int flowLabel) {
        buf.setInt(offset, (6 << 28) | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xFFFFF));
        return this;
    }

    /** Payload length. */
    public int payloadLength() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + PAYLOAD_LENGTH_OFFSET)
                : buf.getUnsignedShort(offset + PAYLOAD_LENGTH_OFFSET);
    }

    /** Sets the payload length. */
    public Ipv6Flyweight payloadLength(int length) {
        buf.setShort(offset + PAYLOAD_LENGTH_OFFSET, length);
        return this;
    }

    /** Next header. */
    public int nextHeader() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + NEXT_HEADER_OFFSET)
                : buf.getUnsignedByte(offset + NEXT_HEADER_OFFSET);
    }

    /** Sets the next header. */
    public Ipv6Flyweight nextHeader(int nextHeader) {
        buf.setByte(offset + NEXT_HEADER_OFFSET, nextHeader);
        return this;
    }

    /** Hop limit. */
    public int hopLimit() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + HOP_LIMIT_OFFSET)
                : buf.getUnsignedByte(offset + HOP_LIMIT_OFFSET);
    }

    /** Sets the hop limit (IPv6 has no header checksum). */
    public Ipv6Flyweight hopLimit(int hopLimit) {
        if (address != HeaderMemory.NONE) {
            HeaderMemory.u8(base, address + HOP_LIMIT_OFFSET, hopLimit);
        } else {
            buf.setByte(offset + HOP_LIMIT_OFFSET, hopLimit);
        }
        return this;
    }

    /** High 64 bits of the source address. */
    public long sourceHigh() {
        return address != HeaderMemory.NONE ? HeaderMemory.s64(base, address + SOURCE_OFFSET)
                : buf.getLong(offset + SOURCE_OFFSET);
    }

    /** Low 64 bits of the source address. */
    public long sourceLow() {
        return address != HeaderMemory.NONE ? HeaderMemory.s64(base, address + SOURCE_OFFSET + 8)
                : buf.getLong(offset + SOURCE_OFFSET + 8);
    }

    /** Sets the source address. */
    public Ipv6Flyweight source(long high, long low) {
        buf.setLong(offset + SOURCE_OFFSET, high);
        buf.setLong(offset + SOURCE_OFFSET + 8, low);
        return this;
    }

    /** High 64 bits of the destination address. */
    public long destinationHigh() {
        return address != HeaderMemory.NONE ? HeaderMemory.s64(base, address + DESTINATION_OFFSET)
                : buf.getLong(offset + DESTINATION_OFFSET);
    }

    /** Low 64 bits of the destination address. */
    public long destinationLow() {
        return address != HeaderMemory.NONE ? HeaderMemory.s64(base, address + DESTINATION_OFFSET + 8)
                : buf.getLong(offset + DESTINATION_OFFSET + 8);
    }

    /** Sets the destination address. */
    public Ipv6Flyweight destination(long high, long low) {
        buf.setLong(offset + DESTINATION_OFFSET, high);
        buf.setLong(offset + DESTINATION_OFFSET + 8, low);
        return this;
    }

    /**
     * Ones' complement sum of the pseudo-header (RFC 8200, section 8.1) for an upper-layer packet of
     * {@code upperLength} bytes and protocol {@code nextHeader}.
     */
    public long pseudoHeaderSum(int upperLength, int nextHeader) {
        return InternetChecksum.sum(buf, offset + SOURCE_OFFSET, 32) + upperLength + nextHeader;
    }
}
