package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * One worker's ESP state: its keyed cipher objects per SA (made on first use, dropped when the SA is collected;
 * OpenSSL's native EVP and HMAC contexts are freed when their cipher object is collected after that),
 * scratch arrays, and the result of the last call. Create one per worker thread and never share it; pass it to
 * {@link InboundSa#decrypt} and {@link OutboundSa#encrypt}. After {@link EspResult#OK} the accessors say where the
 * output lies in the caller's buffer.
 *
 * <p>Heap buffers are processed in place in their backing array. Direct buffers are processed in place in their own
 * memory by OpenSSL; the JCE and Bouncy Castle, which work on arrays only, get a copy in a context array that is
 * copied back (two memcpy per packet, no allocation).
 */
public final class EspContext {
    private static final int SCRATCH_LENGTH = EspHeader.MAX_PACKET + 64;

    private final Map<EspTransform, EspProvider> providers = new EnumMap<>(EspTransform.class);
    private final Map<EspSa, EspCipher> ciphers = new WeakHashMap<>();
    private final byte[] copy = new byte[SCRATCH_LENGTH];
    private final byte[] scratch = new byte[SCRATCH_LENGTH];
    private MemorySegment nativeScratch;
    private ByteBuffer mappedBuffer;
    private MemorySegment mappedMemory;
    private EspSa lastInboundSa;
    private EspCipher lastInboundCipher;
    private EspSa lastOutboundSa;
    private EspCipher lastOutboundCipher;
    private int offset;
    private int length;
    private int nextHeader;
    private long sequence;

    /** A context with the providers chosen by the {@value EspProvider#PROPERTY} setting (default auto). */
    public EspContext() {
        this(System.getProperty(EspProvider.PROPERTY, "auto"));
    }

    /**
     * A context with providers chosen by a setting value.
     *
     * @param providerSetting auto, jdk, bc or openssl
     * @throws IllegalArgumentException for any other value
     * @throws IllegalStateException    for openssl when libcrypto.so.3 could not be loaded
     */
    public EspContext(String providerSetting) {
        for (EspTransform transform : EspTransform.values()) {
            providers.put(transform, EspProvider.resolve(providerSetting, transform));
        }
    }

    /**
     * A context that uses one provider for every transform it implements, Bouncy Castle for the rest (benchmarks,
     * interop tests).
     *
     * @throws IllegalStateException for {@link EspProvider#OPENSSL} when libcrypto.so.3 could not be loaded
     */
    public EspContext(EspProvider provider) {
        for (EspTransform transform : EspTransform.values()) {
            providers.put(transform, provider.orFallbackFor(transform));
        }
    }

    /** The provider this context uses for a transform. */
    public EspProvider provider(EspTransform transform) {
        return providers.get(transform);
    }

    /** After OK: decrypt, offset of the inner packet; encrypt, offset of the ESP header. */
    public int offset() {
        return offset;
    }

    /** After OK: decrypt, length of the inner packet; encrypt, length of the ESP packet through the ICV. */
    public int length() {
        return length;
    }

    /** After OK or DUMMY_PACKET on decrypt: the next header (4 = IPv4, 41 = IPv6, 59 = dummy). */
    public int nextHeader() {
        return nextHeader;
    }

    /** After a decrypt past the ICV or an encrypt: the full (ESN) sequence number of the packet. */
    public long sequence() {
        return sequence;
    }

    /**
     * The keyed cipher objects for an SA. The last inbound and last outbound SA are remembered apart, so a transit
     * stream (decrypt from one SA, encrypt into another) skips the map lookup.
     */
    EspCipher cipher(EspSa sa) {
        boolean inbound = sa instanceof InboundSa;
        if (inbound ? sa == lastInboundSa : sa == lastOutboundSa) {
            return inbound ? lastInboundCipher : lastOutboundCipher;
        }
        EspCipher cipher = ciphers.get(sa);
        if (cipher == null) {
            cipher = providers.get(sa.transform()).newCipher(sa.transform(), sa.material(), this);
            ciphers.put(sa, cipher);
        }
        if (inbound) {
            lastInboundSa = sa;
            lastInboundCipher = cipher;
        } else {
            lastOutboundSa = sa;
            lastOutboundCipher = cipher;
        }
        return cipher;
    }

    byte[] scratch() {
        return scratch;
    }

    /**
     * Native memory as long as {@link #scratch()}, where the OpenSSL ciphers work on a copy of the packet: made on
     * first use, freed when this context and its ciphers are collected.
     */
    MemorySegment nativeScratch() {
        if (nativeScratch == null) {
            nativeScratch = Arena.ofAuto().allocate(SCRATCH_LENGTH, Long.BYTES);
        }
        return nativeScratch;
    }

    /** The context's array for a copy of a direct buffer's packet. */
    byte[] copy() {
        return copy;
    }

    /**
     * A segment over all of a direct buffer's memory (index 0 to capacity), for ciphers that work in native memory.
     * The last buffer's segment is kept: a worker passes the same buffer objects again and again (Netty's pooled
     * buffers keep theirs), so only a new buffer costs the segment object.
     */
    MemorySegment memoryOf(ByteBuffer direct) {
        if (direct != mappedBuffer) {
            mappedMemory = MemorySegment.ofBuffer(direct.duplicate().clear());
            mappedBuffer = direct;
        }
        return mappedMemory;
    }

    void result(int resultOffset, int resultLength, int resultNextHeader, long resultSequence) {
        offset = resultOffset;
        length = resultLength;
        nextHeader = resultNextHeader;
        sequence = resultSequence;
    }

    void sequence(long resultSequence) {
        sequence = resultSequence;
    }
}
