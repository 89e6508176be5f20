package dev.vnetd.crypto.esp;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A sending SA: encrypts inner packets in place into ESP packets. Shared by all workers; each call takes the calling
 * worker's {@link EspContext}. Thread-safe: the sequence number is one atomic counter, so packets sent from several
 * workers get distinct numbers (and so distinct IVs: the IV is derived from the sequence number).
 *
 * <p>The sequence number never wraps (RFC 4303 3.3.3): after 2^32 - 1 packets (or 2^63 - 1 with ESN) every call
 * returns {@link EspResult#SEQ_EXHAUSTED} and the listener hears {@link RekeyListener.Reason#SEQUENCE_EXHAUSTED}
 * once.
 *
 * <p>Buffer layout for {@link #encrypt}:
 * <pre>
 *   |&lt;- headroom() -&gt;|&lt;-- innerLength --&gt;|&lt;-- tailroom(innerLength) --&gt;|
 *   | SPI | seq | IV  |   inner packet    | padding | padlen | nh | ICV |
 *   ^ offset - headroom()                  ^ offset + innerLength
 * </pre>
 */
public final class OutboundSa extends EspSa {
    private static final long MAX_SEQUENCE = 0xFFFF_FFFFL;
    private static final long MAX_SEQUENCE_ESN = Long.MAX_VALUE;

    private final AtomicLong nextSequence;
    private final long maxSequence;

    /**
     * An outbound SA whose first packet has sequence number 1.
     *
     * @param spi      the SPI the peer expects, at least {@link EspSa#MIN_SPI} (unsigned)
     * @param material keying material; the SA keeps its own copy
     * @param esn      64-bit extended sequence numbers
     * @param lifetime soft and hard limits
     * @param listener told once per reason when a lifetime is reached or sequence numbers run out
     */
    public OutboundSa(int spi, KeyMaterial material, boolean esn, EspLifetime lifetime, RekeyListener listener) {
        this(spi, material, esn, lifetime, listener, 1);
    }

    /**
     * An outbound SA whose first packet has the given sequence number, for tests of exhaustion and ESN wrap.
     *
     * @param firstSequence at least 1
     */
    public OutboundSa(int spi, KeyMaterial material, boolean esn, EspLifetime lifetime, RekeyListener listener,
                      long firstSequence) {
        super(spi, material, esn, lifetime, listener);
        if (firstSequence < 1) {
            throw new IllegalArgumentException("the first sequence number is 1 or more");
        }
        this.nextSequence = new AtomicLong(firstSequence);
        this.maxSequence = esn ? MAX_SEQUENCE_ESN : MAX_SEQUENCE;
    }

    /** Bytes needed before the inner packet: ESP header and IV (16 for the AEADs, 24 for AES-CBC). */
    public int headroom() {
        return EspHeader.LENGTH + transform().ivLength();
    }

    /**
     * Bytes needed after an inner packet of this length: padding to the block size (RFC 4303 2.4), pad length, next
     * header and ICV: 18..21 bytes for the 16-byte-ICV AEADs (10..13 and 14..17 for GCM with 8- and 12-byte ICVs),
     * 18..33 for AES-CBC.
     */
    public int tailroom(int innerLength) {
        return padLength(innerLength) + EspHeader.TRAILER_LENGTH + transform().icvLength();
    }

    /** The next sequence number to be sent (for inspection and tests). */
    public long nextSequence() {
        return nextSequence.get();
    }

    private int padLength(int innerLength) {
        int block = transform().blockSize();
        return (block - (innerLength + EspHeader.TRAILER_LENGTH) % block) % block;
    }

    /**
     * Encrypts the inner packet at {@code [offset, offset + innerLength)} into an ESP packet that starts
     * {@link #headroom()} bytes before it and ends {@link #tailroom} bytes after it; both must lie within
     * {@code [0, buffer.limit())}. Absolute indices; position and limit untouched. On {@link EspResult#OK} the ESP
     * packet (SPI through ICV) lies at {@code context.offset()} for {@code context.length()} bytes.
     *
     * @param nextHeader 4 for IPv4, 41 for IPv6, 59 for a dummy packet
     */
    public EspResult encrypt(EspContext context, ByteBuffer buffer, int offset, int innerLength, int nextHeader) {
        EspTransform transform = transform();
        int headroom = headroom();
        int padLength = padLength(innerLength);
        int espOffset = offset - headroom;
        int payloadLength = innerLength + padLength + EspHeader.TRAILER_LENGTH;
        int espLength = headroom + payloadLength + transform.icvLength();
        if (espOffset < 0 || innerLength < 0 || espLength > EspHeader.MAX_PACKET
                || espOffset + espLength > buffer.limit()) {
            return EspResult.NO_ROOM;
        }
        if (hardLifetimeReached()) {
            return EspResult.LIFETIME_EXPIRED;
        }
        long sequence = nextSequence.getAndIncrement();
        if (sequence > maxSequence || sequence < 1) {
            nextSequence.set(maxSequence + 1);
            fire(RekeyListener.Reason.SEQUENCE_EXHAUSTED);
            return EspResult.SEQ_EXHAUSTED;
        }
        putInt(buffer, espOffset + EspHeader.SPI_OFFSET, spi());
        putInt(buffer, espOffset + EspHeader.SEQUENCE_OFFSET, (int) sequence);
        int trailer = offset + innerLength;
        for (int i = 0; i < padLength; i++) {
            buffer.put(trailer + i, (byte) (i + 1));
        }
        buffer.put(trailer + padLength, (byte) padLength);
        buffer.put(trailer + padLength + 1, (byte) nextHeader);
        seal(context, buffer, espOffset, payloadLength, sequence);
        count(innerLength);
        context.result(espOffset, espLength, nextHeader, sequence);
        return EspResult.OK;
    }

    /**
     * Writes the IV, encrypts and writes the ICV in place: in a heap buffer's array, in a direct buffer's memory
     * (OpenSSL), or in the context's copy of a direct buffer, which is then copied back.
     */
    private void seal(EspContext context, ByteBuffer buffer, int espOffset, int payloadLength, long sequence) {
        EspCipher cipher = context.cipher(this);
        int sequenceHigh = (int) (sequence >>> 32);
        if (buffer.hasArray()) {
            byte[] array = buffer.array();
            int esp = buffer.arrayOffset() + espOffset;
            cipher.writeIv(array, esp + EspHeader.IV_OFFSET, sequence);
            cipher.seal(array, esp, payloadLength, sequenceHigh, esn(), context.scratch());
        } else if (buffer.isDirect() && !buffer.isReadOnly() && cipher instanceof NativeEspCipher nativeCipher) {
            MemorySegment memory = context.memoryOf(buffer);
            nativeCipher.writeIv(memory, espOffset + EspHeader.IV_OFFSET, sequence);
            nativeCipher.seal(memory, espOffset, payloadLength, sequenceHigh, esn());
        } else {
            byte[] copy = context.copy();
            int plainLength = headroom() + payloadLength;
            buffer.get(espOffset, copy, 0, plainLength);
            cipher.writeIv(copy, EspHeader.IV_OFFSET, sequence);
            cipher.seal(copy, 0, payloadLength, sequenceHigh, esn(), context.scratch());
            buffer.put(espOffset, copy, 0, plainLength + transform().icvLength());
        }
    }

    /** Big-endian whatever the buffer's byte order. */
    private static void putInt(ByteBuffer buffer, int index, int value) {
        buffer.put(index, (byte) (value >>> 24));
        buffer.put(index + 1, (byte) (value >>> 16));
        buffer.put(index + 2, (byte) (value >>> 8));
        buffer.put(index + 3, (byte) value);
    }
}
