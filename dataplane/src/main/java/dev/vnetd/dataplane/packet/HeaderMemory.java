package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;
import org.agrona.UnsafeApi;

/**
 * Header fields read and written straight from a packet's memory, for flyweights wrapped with the packet's end
 * ({@code wrap(buf, offset, end)}): the bounds are checked once, at the wrap, instead of by Netty on every field
 * (a bounds check and a reference-count check per access, not always inlined; the packet path's profile showed them
 * at 5-10 % of a packet's time).
 *
 * <pre>
 *  buffer:  0 ............ offset ........ offset + headerLength ........ end ........ capacity
 *                            │◀── fixed header ──▶│
 *  {@link #locate}: 0 <= offset, offset + headerLength <= end <= capacity, buffer not released
 *           ⇒ every field of the fixed header is inside the buffer's memory: read it at base + address + field
 * </pre>
 *
 * <p>The memory is a direct buffer's ({@code base} null, {@code address} its native address) or a heap buffer's
 * array ({@code base} the array, {@code address} the array offset), so tests on heap buffers run the same code as the
 * socket path on direct ones. A buffer with neither (a composite) gets {@link #NONE}, and its flyweight uses Netty's
 * checked accessors. Multi-byte fields are big-endian (network order), whatever the CPU's order.
 */
final class HeaderMemory {
    /** {@link #locate}'s answer when the header must be read through Netty's checked accessors. */
    static final long NONE = 0;
    private static final long BYTE_ARRAY_BASE = UnsafeApi.arrayBaseOffset(byte[].class);

    private HeaderMemory() {
    }

    /** The object whose memory {@link #locate} addresses: the heap buffer's array, or null for native memory. */
    static Object base(ByteBuf buf) {
        return buf.hasArray() ? buf.array() : null;
    }

    /**
     * The address (relative to {@link #base}) of byte {@code offset} of {@code buf}, when the {@code headerLength}
     * bytes from it lie inside the packet, which ends at {@code end}, and the packet inside the buffer's memory;
     * else {@link #NONE}. A released buffer gets {@link #NONE} too, so its first read throws as Netty's would.
     */
    static long locate(ByteBuf buf, int offset, int end, int headerLength) {
        if (!inside(offset, end, headerLength, buf.capacity()) || buf.refCnt() == 0) {
            return NONE;
        }
        if (buf.hasArray()) {
            return BYTE_ARRAY_BASE + buf.arrayOffset() + offset;
        }
        return buf.hasMemoryAddress() ? buf.memoryAddress() + offset : NONE;
    }

    /**
     * Whether the {@code headerLength} bytes from {@code offset} lie inside a packet that ends at {@code end}, and
     * the packet inside a buffer of {@code capacity} bytes: the bounds {@link #locate} and
     * {@link PacketMemory#address} check once per header.
     */
    static boolean inside(int offset, int end, int headerLength, int capacity) {
        return offset >= 0 && end - offset >= headerLength && end <= capacity;
    }

    static int u8(Object base, long address) {
        return UnsafeApi.getByte(base, address) & 0xFF;
    }

    static int u16(Object base, long address) {
        return UnsafeApi.getShortUnaligned(base, address, true) & 0xFFFF;
    }

    static int s32(Object base, long address) {
        return UnsafeApi.getIntUnaligned(base, address, true);
    }

    static long s64(Object base, long address) {
        return UnsafeApi.getLongUnaligned(base, address, true);
    }

    static void u8(Object base, long address, int value) {
        UnsafeApi.putByte(base, address, (byte) value);
    }

    static void u16(Object base, long address, int value) {
        UnsafeApi.putShortUnaligned(base, address, (short) value, true);
    }

    static void s32(Object base, long address, int value) {
        UnsafeApi.putIntUnaligned(base, address, value, true);
    }

    static void s64(Object base, long address, long value) {
        UnsafeApi.putLongUnaligned(base, address, value, true);
    }

    /**
     * Whether the {@code length} bytes from {@code address} (a multiple of 4: an IPv4 header, options included) have
     * a valid Internet checksum: their ones' complement sum of 16-bit words is all ones. Read as native-order longs
     * (the one sum of byte-swapped words is the byte-swapped sum, RFC 1071 section 2 (B), and all ones is its own
     * swap), added as 32-bit halves, and tested without folding: folding keeps a sum's value modulo 0xFFFF (2^16 is 1
     * modulo 0xFFFF), and a positive sum folds to 0xFFFF exactly when it is a multiple of 0xFFFF. A header without
     * options (20 bytes, nearly every packet) is two longs and an int, with no loop.
     */
    static boolean checksumValid(Object base, long address, int length) {
        if (length == 20) {
            return InternetChecksum.valid(UnsafeApi.getLong(base, address), UnsafeApi.getLong(base, address + 8),
                    UnsafeApi.getInt(base, address + 16));
        }
        long sum = 0;
        for (int i = 0; i < length; i += 4) {
            sum += UnsafeApi.getInt(base, address + i) & 0xFFFF_FFFFL;
        }
        return sum != 0 && sum % 0xFFFF == 0;
    }
}
