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
        EspCipher cipher = context.cipher(this);
        if (!open(context, cipher, buffer, offset, length, headerAndIv, (int) (sequence >>> 32))) {
            return EspResult.ICV_FAILED;
        }
        EspResult accepted = window.accept(sequence);
        if (accepted != EspResult.OK) {
            return accepted;
        }
        int trailer = offset + headerAndIv + sealedLength - EspHeader.TRAILER_LENGTH;
        int padLength = buffer.get(trailer) & 0xFF;
        int nextHeader = buffer.get(trailer + 1) & 0xFF;
        int innerLength = sealedLength - EspHeader.TRAILER_LENGTH - padLength;
        if (innerLength < 0 || !paddingValid(buffer, trailer - padLength, padLength)) {
            return EspResult.BAD_PADDING;
        }
        count(innerLength);
        context.result(offset + headerAndIv, innerLength, nextHeader, sequence);
        return nextHeader == EspHeader.NEXT_HEADER_DUMMY ? EspResult.DUMMY_PACKET : EspResult.OK;
    }

    /**
     * Verifies and decrypts in place: in a heap buffer's array, in a direct buffer's memory (OpenSSL), or in the
     * context's copy of a direct buffer, whose plaintext (payload, padding, trailer) is then copied back.
     */
    private boolean open(EspContext context, EspCipher cipher, ByteBuffer buffer, int offset, int length,
                         int headerAndIv, int sequenceHigh) {
        if (buffer.hasArray()) {
            return cipher.open(buffer.array(), buffer.arrayOffset() + offset, length, sequenceHigh, esn(),
                    context.scratch());
        }
        if (buffer.isDirect() && !buffer.isReadOnly() && cipher instanceof NativeEspCipher nativeCipher) {
            return nativeCipher.open(context.memoryOf(buffer), offset, length, sequenceHigh, esn());
        }
        byte[] copy = context.copy();
        buffer.get(offset, copy, 0, length);
        if (!cipher.open(copy, 0, length, sequenceHigh, esn(), context.scratch())) {
            return false;
        }
        buffer.put(offset + headerAndIv, copy, headerAndIv, length - headerAndIv - transform().icvLength());
        return true;
    }

    private static boolean paddingValid(ByteBuffer buffer, int start, int padLength) {
        int difference = 0;
        for (int i = 0; i < padLength; i++) {
            difference |= (buffer.get(start + i) & 0xFF) ^ (i + 1);
        }
        return difference == 0;
    }
}
