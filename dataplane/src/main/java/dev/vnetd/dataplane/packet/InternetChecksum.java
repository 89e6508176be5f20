package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words, and its
 * incremental update (RFC 1624, equation 3: {@code HC' = ~(~HC + ~m + m')}).
 */
public final class InternetChecksum {
    private InternetChecksum() {
    }

    /** Ones' complement sum (not yet folded or complemented) of {@code length} bytes at {@code offset}. */
    public static long sum(ByteBuf buf, int offset, int length) {
        long sum = 0;
        int i = offset;
        int end = offset + length;
        while (i + 4 <= end) {
            sum += buf.getUnsignedInt(i);
            i += 4;
        }
        if (i + 2 <= end) {
            sum += buf.getUnsignedShort(i);
            i += 2;
        }
        if (i < end) {
            sum += (buf.getUnsignedByte(i) << 8);
        }
        return sum;
    }

    /** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
    public static int finish(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** Checksum of {@code length} bytes at {@code offset}; over data that includes its checksum, 0 means valid. */
    public static int compute(ByteBuf buf, int offset, int length) {
        return finish(sum(buf, offset, length));
    }

    /**
     * Whether a 20-byte header (IPv4 without options) given as its three words, bytes 0-7, 8-15 and 16-19, all
     * big-endian or all in native order, has a valid checksum: the ones' complement sum of its 16-bit words is all
     * ones. Added as 32-bit halves and tested without folding, as {@code HeaderMemory.checksumValid} explains: a
     * positive sum folds to 0xFFFF exactly when it is a multiple of 0xFFFF, in either byte order.
     */
    public static boolean valid(long first, long second, int third) {
        long sum = (first >>> 32) + (first & 0xFFFF_FFFFL) + (second >>> 32) + (second & 0xFFFF_FFFFL)
                + (third & 0xFFFF_FFFFL);
        return sum != 0 && sum % 0xFFFF == 0;
    }

    /** Incrementally updates {@code checksum} for one 16-bit word changing from {@code oldWord} to {@code newWord}. */
    public static int update(int checksum, int oldWord, int newWord) {
        int sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return ~sum & 0xFFFF;
    }
}
