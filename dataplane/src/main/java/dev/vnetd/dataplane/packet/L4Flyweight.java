package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * The first bytes of the transport headers a router looks at: UDP (RFC 768) and TCP (RFC 9293) ports, and the
 * ICMP / ICMPv6 type, code and echo identifier (RFC 792, RFC 4443).
 *
 * <pre>
 * UDP, TCP:                             ICMP, ICMPv6:
 * +-------------+-------------+         +------+------+-------------+
 * | Source Port | Dest. Port  |         | Type | Code |  Checksum   |
 * +-------------+-------------+         +------+------+-------------+
 * |   ...                     |         | Identifier  | Sequence    |  (echo request / reply)
 * </pre>
 */
public final class L4Flyweight {
    /** Source port of UDP and TCP. */
    public static final int SOURCE_PORT_OFFSET = 0;
    /** Destination port of UDP and TCP. */
    public static final int DESTINATION_PORT_OFFSET = 2;
    /** UDP checksum. */
    public static final int UDP_CHECKSUM_OFFSET = 6;
    /** TCP checksum. */
    public static final int TCP_CHECKSUM_OFFSET = 16;
    /** TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN). */
    public static final int TCP_FLAGS_OFFSET = 13;
    /** ICMP type. */
    public static final int ICMP_TYPE_OFFSET = 0;
    /** ICMP code. */
    public static final int ICMP_CODE_OFFSET = 1;
    /** ICMP checksum. */
    public static final int ICMP_CHECKSUM_OFFSET = 2;
    /** Identifier of an ICMP echo. */
    public static final int ICMP_IDENTIFIER_OFFSET = 4;
    /** Bytes a port pair or an ICMP echo identifier needs. */
    public static final int MIN_LENGTH = 8;

    private ByteBuf buf;
    private int offset;
    private Object base;
    private long address;
    private int limit;

    /** Points this flyweight at a transport header starting at {@code offset}. */
    public L4Flyweight wrap(ByteBuf buf, int offset) {
        this.buf = buf;
        this.offset = offset;
        this.base = null;
        this.address = HeaderMemory.NONE;
        return this;
    }

    /**
     * Points this flyweight at a transport header starting at {@code offset} of a packet that ends at {@code end},
     * for the packet path: when the {@link #MIN_LENGTH} bytes from {@code offset} lie inside the packet and the
     * buffer ({@link HeaderMemory}), the ports, the ICMP type and identifier are read straight from memory, the
     * bounds checked once here (TCP flags, further in, only when the packet reaches them); otherwise, as after
     * {@link #wrap(ByteBuf, int)}, through the buffer's checked accessors.
     */
    public L4Flyweight wrap(ByteBuf buf, int offset, int end) {
        this.buf = buf;
        this.offset = offset;
        this.base = HeaderMemory.base(buf);
        this.address = HeaderMemory.locate(buf, offset, end, MIN_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, as
     * {@link #wrap(ByteBuf, int, int)} does, in the buffer {@code memory} located for this packet: the same fields
     * from memory under the same bounds, without asking the buffer again.
     */
    public L4Flyweight wrap(PacketMemory memory, int offset, int end) {
        if (buf != memory.buf() || base != memory.base()) {
            // only when they change: a reference store pays G1's card-marking barrier even when it changes nothing
            buf = memory.buf();
            base = memory.base();
        }
        this.offset = offset;
        this.address = memory.address(offset, end, MIN_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /** UDP/TCP source port. */
    public int sourcePort() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + SOURCE_PORT_OFFSET)
                : buf.getUnsignedShort(offset + SOURCE_PORT_OFFSET);
    }

    /** UDP/TCP destination port. */
    public int destinationPort() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + DESTINATION_PORT_OFFSET)
                : buf.getUnsignedShort(offset + DESTINATION_PORT_OFFSET);
    }

    /** TCP flags. */
    public int tcpFlags() {
        return address != HeaderMemory.NONE && limit > TCP_FLAGS_OFFSET
                ? HeaderMemory.u8(base, address + TCP_FLAGS_OFFSET) : buf.getUnsignedByte(offset + TCP_FLAGS_OFFSET);
    }

    /** ICMP type. */
    public int icmpType() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + ICMP_TYPE_OFFSET)
                : buf.getUnsignedByte(offset + ICMP_TYPE_OFFSET);
    }

    /** ICMP code. */
    public int icmpCode() {
        return buf.getUnsignedByte(offset + ICMP_CODE_OFFSET);
    }

    /** ICMP echo identifier. */
    public int icmpIdentifier() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + ICMP_IDENTIFIER_OFFSET)
                : buf.getUnsignedShort(offset + ICMP_IDENTIFIER_OFFSET);
    }
}
