package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * IPv4 header (RFC 791, section 3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv4Flyweight {
    /** Version (high nibble) and header length in 32-bit words (low nibble). */
    public static final int VERSION_IHL_OFFSET = 0;
    /** DSCP and ECN. */
    public static final int TOS_OFFSET = 1;
    /** Length of header and payload in bytes. */
    public static final int TOTAL_LENGTH_OFFSET = 2;
    /** Identification of the fragments of one datagram. */
    public static final int IDENTIFICATION_OFFSET = 4;
    /** Flags (reserved, DF, MF) and fragment offset in 8-byte units. */
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    /** Time to live. */
    public static final int TTL_OFFSET = 8;
    /** Protocol of the payload. */
    public static final int PROTOCOL_OFFSET = 9;
    /** Header checksum. */
    public static final int CHECKSUM_OFFSET = 10;
    /** Source address. */
    public static final int SOURCE_OFFSET = 12;
    /** Destination address. */
    public static final int DESTINATION_OFFSET = 16;
    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;

    /** Don't Fragment flag within the flags/fragment-offset word. */
    public static final int FLAG_DF = 0x4000;
    /** More Fragments flag within the flags/fragment-offset word. */
    public static final int FLAG_MF = 0x2000;
    /** Fragment offset mask within the flags/fragment-offset word. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    /** Protocol number of ICMP. */
    public static final int PROTO_ICMP = 1;
    /** Protocol number of TCP. */
    public static final int PROTO_TCP = 6;
    /** Protocol number of UDP. */
    public static final int PROTO_UDP = 17;
    /** Protocol number of GRE. */
    public static final int PROTO_GRE = 47;
    /** Protocol number of ICMPv6. */
    public static final int PROTO_ICMPV6 = 58;

    private ByteBuf buf;
    private int offset;
    private Object base;
    private long address;
    private int limit;

    /** Points this flyweight at a header starting at {@code offset}. */
    public Ipv4Flyweight wrap(ByteBuf buf, int offset) {
        this.buf = buf;
        this.offset = offset;
        this.base = null;
        this.address = HeaderMemory.NONE;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, for the
     * packet path: when the {@link #MIN_HEADER_LENGTH} bytes from {@code offset} lie inside the packet and the buffer
     * ({@link HeaderMemory}), the fixed header's fields are read and written straight from memory, the bounds
     * checked once here; otherwise, as after {@link #wrap(ByteBuf, int)}, through the buffer's checked accessors.
     */
    public Ipv4Flyweight wrap(ByteBuf buf, int offset, int end) {
        this.buf = buf;
        this.offset = offset;
        this.base = HeaderMemory.base(buf);
        this.address = HeaderMemory.locate(buf, offset, end, MIN_HEADER_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /**
     * Points this flyweight at a header starting at {@code offset} of a packet that ends at {@code end}, as
     * {@link #wrap(ByteBuf, int, int)} does, in the buffer {@code memory} located for this packet: the same fields
     * from memory under the same bounds, without asking the buffer again.
     */
    public Ipv4Flyweight wrap(PacketMemory memory, int offset, int end) {
        if (buf != memory.buf() || base != memory.base()) {
            // only when they change: a reference store pays G1's card-marking barrier even when it changes nothing
            buf = memory.buf();
            base = memory.base();
        }
        this.offset = offset;
        this.address = memory.address(offset, end, MIN_HEADER_LENGTH);
        this.limit = end - offset;
        return this;
    }

    /** Offset of the header in the buffer. */
    public int offset() {
        return offset;
    }

    /** IP version (4 for a valid header). */
    public int version() {
        return versionAndIhl() >>> 4;
    }

    /** Header length in bytes. */
    public int headerLength() {
        return (versionAndIhl() & 0x0F) * 4;
    }

    private int versionAndIhl() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + VERSION_IHL_OFFSET)
                : buf.getUnsignedByte(offset + VERSION_IHL_OFFSET);
    }

    /** Sets version 4 and the header length in bytes (a multiple of 4). */
    public Ipv4Flyweight versionAndHeaderLength(int headerLength) {
        buf.setByte(offset + VERSION_IHL_OFFSET, 0x40 | (headerLength / 4));
        return this;
    }

    /** Type of service byte. */
    public int tos() {
        return buf.getUnsignedByte(offset + TOS_OFFSET);
    }

    /** Sets the type of service byte. */
    public Ipv4Flyweight tos(int tos) {
        buf.setByte(offset + TOS_OFFSET, tos);
        return this;
    }

    /** Total length of the datagram in bytes. */
    public int totalLength() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + TOTAL_LENGTH_OFFSET)
                : buf.getUnsignedShort(offset + TOTAL_LENGTH_OFFSET);
    }

    /** Sets the total length. */
    public Ipv4Flyweight totalLength(int length) {
        buf.setShort(offset + TOTAL_LENGTH_OFFSET, length);
        return this;
    }

    /** Identification field. */
    public int identification() {
        return buf.getUnsignedShort(offset + IDENTIFICATION_OFFSET);
    }

    /** Sets the identification field. */
    public Ipv4Flyweight identification(int id) {
        buf.setShort(offset + IDENTIFICATION_OFFSET, id);
        return this;
    }

    /** Flags and fragment offset word. */
    public int flagsAndFragmentOffset() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + FLAGS_FRAGMENT_OFFSET)
                : buf.getUnsignedShort(offset + FLAGS_FRAGMENT_OFFSET);
    }

    /** Sets the flags and fragment offset word. */
    public Ipv4Flyweight flagsAndFragmentOffset(int value) {
        buf.setShort(offset + FLAGS_FRAGMENT_OFFSET, value);
        return this;
    }

    /** Whether Don't Fragment is set. */
    public boolean dontFragment() {
        return (flagsAndFragmentOffset() & FLAG_DF) != 0;
    }

    /** Whether this is a fragment other than the first (its transport header is elsewhere). */
    public boolean isNonFirstFragment() {
        return (flagsAndFragmentOffset() & FRAGMENT_OFFSET_MASK) != 0;
    }

    /** Whether this is any fragment (first, middle or last). */
    public boolean isFragment() {
        return (flagsAndFragmentOffset() & (FRAGMENT_OFFSET_MASK | FLAG_MF)) != 0;
    }

    /** Time to live. */
    public int ttl() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + TTL_OFFSET)
                : buf.getUnsignedByte(offset + TTL_OFFSET);
    }

    /** Sets the time to live (the checksum is not updated; see {@link #decrementTtl()}). */
    public Ipv4Flyweight ttl(int ttl) {
        buf.setByte(offset + TTL_OFFSET, ttl);
        return this;
    }

    /**
     * Decrements TTL by one and updates the header checksum incrementally (RFC 1624, equation 3). From memory, the
     * TTL / protocol word and the checksum are one 32-bit read and one write.
     */
    public void decrementTtl() {
        if (address != HeaderMemory.NONE) {
            HeaderMemory.s32(base, address + TTL_OFFSET, ttlDecremented(HeaderMemory.s32(base, address + TTL_OFFSET)));
            return;
        }
        int word = buf.getUnsignedShort(offset + TTL_OFFSET);
        int newWord = word - 0x0100;
        buf.setShort(offset + TTL_OFFSET, newWord);
        checksum(InternetChecksum.update(checksum(), word, newWord));
    }

    /**
     * The 32-bit word at {@link #TTL_OFFSET} (TTL, protocol, header checksum, big-endian) with the TTL one less and
     * the checksum updated for it (RFC 1624, equation 3): what {@link #decrementTtl} writes back.
     */
    public static int ttlDecremented(int word) {
        int ttlAndProtocol = word >>> 16;
        int decremented = (ttlAndProtocol - 0x0100) & 0xFFFF;
        return decremented << 16 | InternetChecksum.update(word & 0xFFFF, ttlAndProtocol, decremented);
    }

    /** Payload protocol. */
    public int protocol() {
        return address != HeaderMemory.NONE ? HeaderMemory.u8(base, address + PROTOCOL_OFFSET)
                : buf.getUnsignedByte(offset + PROTOCOL_OFFSET);
    }

    /** Sets the payload protocol. */
    public Ipv4Flyweight protocol(int protocol) {
        buf.setByte(offset + PROTOCOL_OFFSET, protocol);
        return this;
    }

    /** Header checksum field. */
    public int checksum() {
        return address != HeaderMemory.NONE ? HeaderMemory.u16(base, address + CHECKSUM_OFFSET)
                : buf.getUnsignedShort(offset + CHECKSUM_OFFSET);
    }

    /** Sets the header checksum field. */
    public Ipv4Flyweight checksum(int checksum) {
        buf.setShort(offset + CHECKSUM_OFFSET, checksum);
        return this;
    }

    /** Whether the header checksum verifies. */
    public boolean checksumValid() {
        int length = headerLength();
        // options make the header longer than the fixed part the wrap checked: from memory only if inside the packet
        return address != HeaderMemory.NONE && length <= limit
                ? HeaderMemory.checksumValid(base, address, length)
                : InternetChecksum.compute(buf, offset, length) == 0;
    }

    /** Computes and stores the header checksum. */
    public Ipv4Flyweight updateChecksum() {
        checksum(0);
        return checksum(InternetChecksum.compute(buf, offset, headerLength()));
    }

    /** Source address as a 32-bit integer. */
    public int source() {
        return address != HeaderMemory.NONE ? HeaderMemory.s32(base, address + SOURCE_OFFSET)
                : buf.getInt(offset + SOURCE_OFFSET);
    }

    /** Sets the source address. */
    public Ipv4Flyweight source(int address) {
        buf.setInt(offset + SOURCE_OFFSET, address);
        return this;
    }

    /** Destination address as a 32-bit integer. */
    public int destination() {
        return address != HeaderMemory.NONE ? HeaderMemory.s32(base, address + DESTINATION_OFFSET)
                : buf.getInt(offset + DESTINATION_OFFSET);
    }

    /** Sets the destination address. */
    public Ipv4Flyweight destination(int address) {
        buf.setInt(offset + DESTINATION_OFFSET, address);
        return this;
    }
}
