package dev.vnetd.crypto.esp;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A receiving SA: verifies, decrypts and replay-checks ESP packets in place. Shared by all workers; each call takes
 * the calling worker's {@link EspContext}. Thread-safe: the replay window and counters are lock-free.
 *
 * <p>Order of checks, cheapest first, so forged traffic costs as little as possible: length, replay window (before
 * the ICV, reading only), hard lifetime, ICV, then the replay window is updated (RFC 4303 3.4.3: only after the ICV
 * verified), padding, dummy packet.
 */
public final class InboundSa extends EspSa {
    private final ReplayWindow window;
    private final int minimumLength;

    /**
     * An inbound SA.
     *
     * @param spi          the SPI peers send to, at least {@link EspSa#MIN_SPI} (unsigned)
     * @param material     keying material; the SA keeps its own copy
     * @param esn          64-bit extended sequence numbers
     * @param replayWindow 0 (off) to {@link ReplayWindow#MAX_SIZE}
     * @param lifetime     soft and hard limits
     * @param listener     told once when a lifetime is reached
     */
    public InboundSa(int spi, KeyMaterial material, boolean esn, int replayWindow, EspLifetime lifetime,
                     RekeyListener listener) {
        super(spi, material, esn, lifetime, listener);
        this.window = new ReplayWindow(replayWindow);
        EspTransform transform = material.transform();
        this.minimumLength = EspHeader.LENGTH + transform.ivLength()
                + Math.max(transform.blockSize(), EspHeader.TRAILER_LENGTH) + transform.icvLength();
    }

    /** This SA's replay window (for inspection and tests). */
    public ReplayWindow replayWindow() {
        return window;
    }

    /**
     * Decrypts the ESP packet at {@code [offset, offset + length)} of {@code buffer} in place (absolute indices,
     * position and limit untouched). On {@link EspResult#OK} the inner packet lies at {@code context.offset()} for
     * {@code context.length()} bytes with next header {@code context.nextHeader()}; on any other result the bytes
     * in the range may have been changed and the packet must be dropped.
     *
     * @param offset index of the SPI
     * @param length bytes from the SPI through the ICV (the UDP or IP payload)
     * @throws IndexOutOfBoundsException when the range does not lie within {@code [0, buffer.limit())}
     */
    public EspResult decrypt(EspContext context, ByteBuffer buffer, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, buffer.limit());
        EspTransform transform = transform();
        if (length < minimumLength) {
            return EspResult.TRUNCATED;
        }
        if (length > EspHeader.MAX_PACKET) {
            return EspResult.MALFORMED;
        }
        int headerAndIv = EspHeader.LENGTH + transform.ivLength();
        int sealedLength = length - headerAndIv - transform.icvLength();
        if (sealedLength % transform.blockSize() != 0) {
            return EspResult.MALFORMED;
        }
        long sequence = window.infer(buffer.getInt(offset + EspHeader.SEQUENCE_OFFSET), esn());
        context.sequence(sequence);
        EspResult replay = window.check(sequence);
        if (replay != EspResult.OK) {
            return replay;
        }
        if (hardLifetimeReached()) {
            return EspResult.LIFETIME_EXPIRED;
        }
        byte[] array = context.arrayOf(buffer);
        int base = context.base(buffer, offset);
        if (!buffer.hasArray()) {
            buffer.get(offset, array, 0, length);
        }
        int esp = base + offset;
        EspCipher cipher = context.cipher(this);
        if (!cipher.open(array, esp, length, (int) (sequence >>> 32), esn(), context.scratch())) {
            return EspResult.ICV_FAILED;
        }
        EspResult accepted = window.accept(sequence);
        if (accepted != EspResult.OK) {
            return accepted;
        }
        int trailer = esp + headerAndIv + sealedLength - EspHeader.TRAILER_LENGTH;
        int padLength = array[trailer] & 0xFF;
        int nextHeader = array[trailer + 1] & 0xFF;
        int innerLength = sealedLength - EspHeader.TRAILER_LENGTH - padLength;
        if (innerLength < 0 || !paddingValid(array, trailer - padLength, padLength)) {
            return EspResult.BAD_PADDING;
        }
        count(innerLength);
        int innerOffset = offset + headerAndIv;
        context.result(innerOffset, innerLength, nextHeader, sequence);
        if (nextHeader == EspHeader.NEXT_HEADER_DUMMY) {
            return EspResult.DUMMY_PACKET;
        }
        if (!buffer.hasArray()) {
            buffer.put(innerOffset, array, headerAndIv, innerLength);
        }
        return EspResult.OK;
    }

    private static boolean paddingValid(byte[] array, int start, int padLength) {
        int difference = 0;
        for (int i = 0; i < padLength; i++) {
            difference |= (array[start + i] & 0xFF) ^ (i + 1);
        }
        return difference == 0;
    }
}
