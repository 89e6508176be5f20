package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;

/**
 * QUIC variable-length integers (RFC 9000 section 16): the two high bits of the first byte give the length.
 *
 * <pre>
 *   2MSB  length  usable bits  range
 *   00    1       6            0..63
 *   01    2       14           0..16383
 *   10    4       30           0..1073741823
 *   11    8       62           0..4611686018427387903
 * </pre>
 *
 * Network byte order. A value need not be encoded in the fewest bytes (section 16: "values do not need to be
 * encoded on the minimum number of bytes necessary"), so the decoder accepts the longer forms; the encoder always
 * writes the shortest. Reads and writes at absolute indices, never moving the buffer's indices, never allocating.
 */
public final class QuicVarint {
    /** Largest value a varint holds: 2^62 - 1. */
    public static final long MAX_VALUE = (1L << 62) - 1;

    private static final int LENGTH_BITS_SHIFT = 6;
    private static final long MAX_1 = 63;
    private static final long MAX_2 = 16_383;
    private static final long MAX_4 = 1_073_741_823;

    private QuicVarint() {
    }

    /** Length in bytes (1, 2, 4 or 8) of the varint whose first byte is {@code firstByte}. */
    public static int length(int firstByte) {
        return 1 << ((firstByte & 0xC0) >>> LENGTH_BITS_SHIFT);
    }

    /**
     * Length of the varint at {@code index}, or -1 when it does not fit before {@code end} (truncated); an empty
     * range is truncated too.
     */
    public static int lengthAt(ByteBuf buf, int index, int end) {
        if (index >= end) {
            return -1;
        }
        int length = length(buf.getUnsignedByte(index));
        return index + length <= end ? length : -1;
    }

    /** The value of the varint at {@code index}; the caller has checked with {@link #lengthAt} that it fits. */
    public static long get(ByteBuf buf, int index) {
        int first = buf.getUnsignedByte(index);
        return switch (first >>> LENGTH_BITS_SHIFT) {
            case 0 -> first;
            case 1 -> buf.getUnsignedShort(index) & 0x3FFF;
            case 2 -> buf.getUnsignedInt(index) & 0x3FFF_FFFFL;
            default -> buf.getLong(index) & MAX_VALUE;
        };
    }

    /** Bytes the shortest encoding of {@code value} takes. */
    public static int encodedLength(long value) {
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("not a QUIC varint: " + value);
        }
        if (value <= MAX_1) {
            return 1;
        }
        if (value <= MAX_2) {
            return 2;
        }
        return value <= MAX_4 ? 4 : 8;
    }

    /** Writes {@code value} at {@code index} in its shortest encoding; returns the bytes written. */
    public static int set(ByteBuf buf, int index, long value) {
        int length = encodedLength(value);
        set(buf, index, value, length);
        return length;
    }

    /**
     * Writes {@code value} at {@code index} in exactly {@code length} bytes (1, 2, 4 or 8), which must hold it: the
     * longer forms leave room for a value written later, as a capsule length is.
     */
    public static void set(ByteBuf buf, int index, long value, int length) {
        if (length < encodedLength(value)) {
            throw new IllegalArgumentException(value + " does not fit in " + length + " byte(s)");
        }
        switch (length) {
            case 1 -> buf.setByte(index, (int) value);
            case 2 -> buf.setShort(index, (int) value | 0x4000);
            case 4 -> buf.setInt(index, (int) value | 0x8000_0000);
            case 8 -> buf.setLong(index, value | 0xC000_0000_0000_0000L);
            default -> throw new IllegalArgumentException("varint length must be 1, 2, 4 or 8, not " + length);
        }
    }

    /** Appends {@code value} at the writer index in its shortest encoding. */
    public static void write(ByteBuf buf, long value) {
        int length = encodedLength(value);
        buf.ensureWritable(length);
        set(buf, buf.writerIndex(), value, length);
        buf.writerIndex(buf.writerIndex() + length);
    }
}
