package dev.vnetd.dataplane.packet;

import io.netty.buffer.ByteBuf;

/**
 * Where one packet buffer's bytes are in memory, found once per packet so that the packet path's flyweights
 * ({@code wrap(memory, offset, end)}) need not ask the buffer again at every header: each
 * {@link HeaderMemory#locate} is a capacity, a reference-count (volatile) and two or three memory-kind queries of the
 * buffer, and a packet's path wraps five headers (GRE in, inner IP, transport, IP again for the TTL, GRE out).
 *
 * <pre>
 *  locate(buf):   buffer live, heap array or native address     ⇒ start = address of byte 0, capacity
 *  locate(buf, address):  the address its holder gave the kernel ⇒ start = address, capacity (the buffer not asked)
 *  address(offset, end, headerLength):
 *                 0 <= offset, offset + headerLength <= end <= capacity  ⇒ start + offset
 *                 otherwise, or no start (a composite buffer)          ⇒ {@link HeaderMemory#NONE}: Netty's accessors
 *  s32 / s64(offset, end):  the big-endian word at address(offset, end, 4 or 8), or Netty's getInt / getLong;
 *                 the forwarding path reads its headers in such words (GRE 1-2, IPv4 3, IPv6 5, ports 1)
 * </pre>
 *
 * <p>Valid while the buffer is held by whoever located it: the packet path owns a packet's buffer from receive to
 * send or release, and wraps nothing after either. A buffer released before {@link #locate} gets no start, so its
 * first field read throws as Netty's would. Reused: one instance per packet in flight on a worker.
 */
public final class PacketMemory {
    private ByteBuf buf;
    private Object base;
    private long start;
    private int capacity;

    /**
     * Takes {@code address} as the native address of direct buffer {@code buf}'s byte 0, as its holder knows it (a
     * socket reader that gave the kernel the address to write the datagram to), instead of asking the buffer: the
     * buffer's memory-kind queries and reference count are most of a locate's cost. {@link HeaderMemory#NONE}
     * (0, no address known) asks, as {@link #locate(ByteBuf)}. Returns this.
     */
    public PacketMemory locate(ByteBuf buf, long address) {
        if (address == HeaderMemory.NONE) {
            return locate(buf);
        }
        if (this.buf != buf || base != null) {
            this.buf = buf;
            base = null;
        }
        this.start = address;
        this.capacity = buf.capacity();
        return this;
    }

    /** Finds {@code buf}'s memory; returns this. */
    public PacketMemory locate(ByteBuf buf) {
        Object located = HeaderMemory.base(buf);
        if (this.buf != buf || base != located) {
            // only when they change (a reader's slot mostly gets its buffer back): a reference store pays G1's
            // card-marking barrier, a memory fence, even when it changes nothing
            this.buf = buf;
            base = located;
        }
        this.start = HeaderMemory.locate(buf, 0, 0, 0);
        this.capacity = buf.capacity();
        return this;
    }

    /** The buffer last located. */
    public ByteBuf buf() {
        return buf;
    }

    /** The object {@link #address} is relative to: the heap buffer's array, or null for native memory. */
    Object base() {
        return base;
    }

    /**
     * The address of byte {@code offset} when the {@code headerLength} bytes from it lie inside the packet, which
     * ends at {@code end}, and the packet inside the buffer; else {@link HeaderMemory#NONE}. The same answer as
     * {@link HeaderMemory#locate} on the buffer, without asking it.
     */
    long address(int offset, int end, int headerLength) {
        return start != HeaderMemory.NONE && HeaderMemory.inside(offset, end, headerLength, capacity)
                ? start + offset : HeaderMemory.NONE;
    }

    /**
     * The 4 bytes at {@code offset} as a big-endian int, for a packet that ends at {@code end}: one load from memory
     * when they lie inside the packet and the buffer ({@link #address}), else Netty's checked {@code getInt} (which
     * throws outside the buffer). A parser reads a header's fields out of a few such words instead of one access per
     * field.
     */
    public int s32(int offset, int end) {
        long at = address(offset, end, Integer.BYTES);
        return at != HeaderMemory.NONE ? HeaderMemory.s32(base, at) : buf.getInt(offset);
    }

    /** The 8 bytes at {@code offset} as a big-endian long, as {@link #s32} reads 4. */
    public long s64(int offset, int end) {
        long at = address(offset, end, Long.BYTES);
        return at != HeaderMemory.NONE ? HeaderMemory.s64(base, at) : buf.getLong(offset);
    }

    /** Writes {@code value} big-endian into the 4 bytes at {@code offset}, as {@link #s32(int, int)} reads them. */
    public void s32(int offset, int end, int value) {
        long at = address(offset, end, Integer.BYTES);
        if (at != HeaderMemory.NONE) {
            HeaderMemory.s32(base, at, value);
        } else {
            buf.setInt(offset, value);
        }
    }

    /** Writes {@code value} big-endian into the 8 bytes at {@code offset}, as {@link #s64(int, int)} reads them. */
    public void s64(int offset, int end, long value) {
        long at = address(offset, end, Long.BYTES);
        if (at != HeaderMemory.NONE) {
            HeaderMemory.s64(base, at, value);
        } else {
            buf.setLong(offset, value);
        }
    }
}
