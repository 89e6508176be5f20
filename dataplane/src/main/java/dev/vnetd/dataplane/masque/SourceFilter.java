package dev.vnetd.dataplane.masque;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * The source prefixes a CONNECT-IP client was assigned (ADDRESS_ASSIGN): the only sources its packets may carry, so
 * that one client cannot pose as another site (RFC 9484 section 7: the proxy checks the source of every packet it
 * forwards). Reads the source straight from the packet in the buffer, without allocating.
 *
 * <pre>
 *  IPv4: source at byte 12 (32 bits)     v4Prefix[i] / v4Mask[i]
 *  IPv6: source at byte 8  (128 bits)    v6High[i], v6Low[i] / v6MaskHigh[i], v6MaskLow[i]
 * </pre>
 *
 * Immutable; shared by the threads that read it.
 */
public final class SourceFilter {
    private static final int IPV4_SOURCE_OFFSET = 12;
    private static final int IPV4_MIN_HEADER = 20;
    private static final int IPV6_SOURCE_OFFSET = 8;
    private static final int IPV6_HEADER = 40;

    private final int[] v4Prefix;
    private final int[] v4Mask;
    private final long[] v6High;
    private final long[] v6Low;
    private final long[] v6MaskHigh;
    private final long[] v6MaskLow;

    /** A filter that allows exactly the sources inside {@code prefixes}. */
    public SourceFilter(List<Cidr> prefixes) {
        List<Cidr> v4 = prefixes.stream().filter(p -> !p.ipv6()).toList();
        List<Cidr> v6 = prefixes.stream().filter(Cidr::ipv6).toList();
        v4Prefix = new int[v4.size()];
        v4Mask = new int[v4.size()];
        for (int i = 0; i < v4.size(); i++) {
            byte[] b = v4.get(i).address().getAddress();
            v4Prefix[i] = (int) bits(b, 0, 4);
            v4Mask[i] = v4.get(i).length() == 0 ? 0 : -1 << (32 - v4.get(i).length());
        }
        v6High = new long[v6.size()];
        v6Low = new long[v6.size()];
        v6MaskHigh = new long[v6.size()];
        v6MaskLow = new long[v6.size()];
        for (int i = 0; i < v6.size(); i++) {
            byte[] b = v6.get(i).address().getAddress();
            int length = v6.get(i).length();
            v6High[i] = bits(b, 0, 8);
            v6Low[i] = bits(b, 8, 8);
            v6MaskHigh[i] = length == 0 ? 0 : length >= 64 ? -1L : -1L << (64 - length);
            v6MaskLow[i] = length <= 64 ? 0 : length == 128 ? -1L : -1L << (128 - length);
        }
    }

    /**
     * Whether the IP packet at [{@code offset}, {@code offset + length}) may be forwarded: its source lies in an
     * assigned prefix. A packet too short to hold a source, or of another IP version, is let through here: the
     * packet path drops it as truncated or malformed, under its own reason.
     */
    public boolean allows(ByteBuf buf, int offset, int length) {
        if (length < 1) {
            return true;
        }
        int version = buf.getUnsignedByte(offset) >>> 4;
        if (version == 4 && length >= IPV4_MIN_HEADER) {
            int source = buf.getInt(offset + IPV4_SOURCE_OFFSET);
            for (int i = 0; i < v4Prefix.length; i++) {
                if ((source & v4Mask[i]) == v4Prefix[i]) {
                    return true;
                }
            }
            return false;
        }
        if (version == 6 && length >= IPV6_HEADER) {
            long high = buf.getLong(offset + IPV6_SOURCE_OFFSET);
            long low = buf.getLong(offset + IPV6_SOURCE_OFFSET + 8);
            for (int i = 0; i < v6High.length; i++) {
                if ((high & v6MaskHigh[i]) == v6High[i] && (low & v6MaskLow[i]) == v6Low[i]) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    private static long bits(byte[] b, int from, int count) {
        long v = 0;
        for (int i = from; i < from + count; i++) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }
}
