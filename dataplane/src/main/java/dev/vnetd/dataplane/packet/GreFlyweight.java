package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * GRE header (RFC 2784, with the Key and Sequence Number extensions of RFC 2890). The same header is carried
 * directly in IP (protocol 47) or in UDP to port 4754 (GRE-in-UDP, RFC 8086).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C| |K|S| Reserved0       | Ver |         Protocol Type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Checksum (optional)      |       Reserved1 (Optional)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Key (optional)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Sequence Number (Optional)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Optional fields appear in that order, each only when its flag is set.
 */
public final class GreFlyweight {
    /** Flags, reserved bits and version. */
    public static final int FLAGS_VERSION_OFFSET = 0;
    /** EtherType of the payload. */
    public static final int PROTOCOL_TYPE_OFFSET = 2;
    /** Length of the header without optional fields. */
    public static final int BASE_LENGTH = 4;

    /** Checksum Present. */
    public static final int FLAG_CHECKSUM = 0x8000;
    /** Routing Present (RFC 1701; RFC 2784 receivers discard packets that set it). */
    public static final int FLAG_ROUTING = 0x4000;
    /** Key Present (RFC 2890). */
    public static final int FLAG_KEY = 0x2000;
    /** Sequence Number Present (RFC 2890). */
    public static final int FLAG_SEQUENCE = 0x1000;
    /**
     * Bits 1-5 that RFC 2784 section 2.3 makes a receiver discard on, less K and S that RFC 2890 gives meaning:
     * Routing Present, Strict Source Route and the top bit of RFC 1701's Recursion Control. Bits 6-12 are ignored
     * on receipt, as the RFC says.
     */
    public static final int RESERVED0_MUST_BE_ZERO = 0x4000 | 0x0800 | 0x0400;
    /** Version field mask; GRE is version 0. */
    public static final int VERSION_MASK = 0x0007;

    /** EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** EtherType of IPv6. */
    public static final int ETHERTYPE_IPV6 = 0x86DD;

    private ByteBuf buf;
    private int offset;
    private Object base;
    private long address;
    private int limit;

    /** Points this flyweight at a header starting at {@code offset}. */
    public GreFlyweight wrap(ByteBuf buf, int offset) {
        this.buf = buf;
        this.offset = offset;
        this.base = null;
        this.address = HeaderMemory.NONE;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, for the
     * packet path: when the {@link #BASE_LENGTH} bytes from {@code offset} lie inside the packet and the buffer
     * ({@link HeaderMemory}), the flags and protocol type are read and written straight from memory, the bounds
     * checked once here (the key, further in, only when the packet reaches it); otherwise, as after
     * {@link #wrap(ByteBuf, int)}, through the buffer's checked accessors.
     */
    public GreFlyweight wrap(ByteBuf buf, int offset, int end) {
        this.buf = buf;
        this.offset = offset;
        this.base = HeaderMemory.base(buf);
        this.address = HeaderMemory.locate(buf, offset, end, BASE_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, as
     * {@link #wrap(ByteBuf, int, int)} does, in the buffer {@code memory} located for this packet: the same fields
     * from memory under the same bounds, without asking the buffer again.
     */
    public GreFlyweight wrap(PacketMemory memory, int offset, int end) {
        if (buf != memory.buf() || base != memory.base()) {
            // only when they change: a reference store pays G1's card-marking barrier even when it changes nothing
            buf = memory.buf();
            base = memory.base();
        }
        this.offset = offset;
        this.address = memory.address(offset, end, BASE_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /** Length of a header with the given flags word. */
    public static int headerLength(int flags) {
        int length = BASE_LENGTH;
        if ((flags & FLAG_CHECKSUM) != 0) {
            length += 4;
        }
        if ((flags & FLAG_KEY) != 0) {
            length += 4;
        }
        if ((flags & FLAG_SEQUENCE) != 0) {
            length += 4;
        }
        return length;
    }

    /** The flags, reserved and version word. */
    public int flags() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + FLAGS_VERSION_OFFSET)
                : buf.getUnsignedShort(offset + FLAGS_VERSION_OFFSET);
    }

    /** Sets the flags, reserved and version word. */
    public GreFlyweight flags(int flags) {
        if (address != HeaderMemory.NONE) {
            HeaderMemory.u16(base, address + FLAGS_VERSION_OFFSET, flags);
        } else {
            buf.setShort(offset + FLAGS_VERSION_OFFSET, flags);
        }
        return this;
    }

    /** Protocol type (an EtherType). */
    public int protocolType() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + PROTOCOL_TYPE_OFFSET)
                : buf.getUnsignedShort(offset + PROTOCOL_TYPE_OFFSET);
    }

    /** Sets the protocol type. */
    public GreFlyweight protocolType(int etherType) {
        if (address != HeaderMemory.NONE) {
            HeaderMemory.u16(base, address + PROTOCOL_TYPE_OFFSET, etherType);
        } else {
            buf.setShort(offset + PROTOCOL_TYPE_OFFSET, etherType);
        }
        return this;
    }

    /** Checksum field; valid only when {@link #FLAG_CHECKSUM} is set. */
    public int checksum() {
        return buf.getUnsignedShort(offset + BASE_LENGTH);
    }

    /** Key; valid only when {@link #FLAG_KEY} is set. */
    public int key() {
        int at = keyOffset(flags());
        return address != HeaderMemory.NONE && at + 4 <= limit ? HeaderMemory.s32(base, address + at)
                : buf.getInt(offset + at);
    }

    /** Sets the key; {@link #FLAG_KEY} must be set in the flags already written. */
    public GreFlyweight key(int key) {
        int at = keyOffset(flags());
        if (address != HeaderMemory.NONE && at + 4 <= limit) {
            HeaderMemory.s32(base, address + at, key);
        } else {
            buf.setInt(offset + at, key);
        }
        return this;
    }

    /** Sequence number; valid only when {@link #FLAG_SEQUENCE} is set. */
    public long sequence() {
        int flags = flags();
        return buf.getUnsignedInt(offset + keyOffset(flags) + ((flags & FLAG_KEY) != 0 ? 4 : 0));
    }

    /** Offset of the key from the header's start in a header with these flags ({@link #FLAG_KEY} says it is there). */
    public static int keyOffset(int flags) {
        return BASE_LENGTH + ((flags & FLAG_CHECKSUM) != 0 ? 4 : 0);
    }
}
