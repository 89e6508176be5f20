package dev.vnetd.crypto.esp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * An {@link EspCipher} that also works in place in native memory: a direct buffer's own bytes, so the packet is
 * neither copied into a context array nor back. Same contract as the array methods, with the ESP packet at
 * {@code espOffset} of {@code memory}. The array methods copy the packet into the worker's native scratch
 * ({@link EspContext#nativeScratch()}), work there, and copy back what changed. Not thread-safe: one instance per
 * {@link EspContext} and SA.
 */
abstract class NativeEspCipher implements EspCipher {
    /** Network byte order for the sequence numbers written into native memory. */
    static final ValueLayout.OfInt BIG_ENDIAN_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong BIG_ENDIAN_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Bytes of the ICV after the payload. */
    protected final int icvLength;
    private final MemorySegment scratch;
    private final int payloadOffset;

    /**
     * @param scratch       the owning context's native scratch, at least as long as the longest ESP packet
     * @param payloadOffset where the payload starts: ESP header plus this transform's IV
     * @param icvLength     this transform's ICV length
     */
    NativeEspCipher(MemorySegment scratch, int payloadOffset, int icvLength) {
        this.scratch = scratch;
        this.payloadOffset = payloadOffset;
        this.icvLength = icvLength;
    }

    /** Writes the IV for this sequence number at {@code ivOffset} of {@code memory}. */
    abstract void writeIv(MemorySegment memory, long ivOffset, long sequence);

    /** Encrypts the payload in place and writes the ICV after it, as {@link EspCipher#seal}. */
    abstract void seal(MemorySegment memory, long espOffset, int payloadLength, int sequenceHigh, boolean esn);

    /** Verifies the ICV and, if it matches, decrypts in place, as {@link EspCipher#open}. */
    abstract boolean open(MemorySegment memory, long espOffset, int espLength, int sequenceHigh, boolean esn);

    @Override
    public final void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                           byte[] unused) {
        MemorySegment.copy(packet, espOffset, scratch, ValueLayout.JAVA_BYTE, 0, payloadOffset + payloadLength);
        seal(scratch, 0, payloadLength, sequenceHigh, esn);
        MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, payloadOffset, packet, espOffset + payloadOffset,
                payloadLength + icvLength);
    }

    @Override
    public final boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                              byte[] unused) {
        MemorySegment.copy(packet, espOffset, scratch, ValueLayout.JAVA_BYTE, 0, espLength);
        boolean authentic = open(scratch, 0, espLength, sequenceHigh, esn);
        if (authentic) {
            MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, payloadOffset, packet, espOffset + payloadOffset,
                    espLength - payloadOffset - icvLength);
        }
        return authentic;
    }
}
