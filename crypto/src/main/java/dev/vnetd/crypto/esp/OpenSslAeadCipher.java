package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/**
 * AES-GCM (RFC 4106, 16-, 12- and 8-byte ICVs) and ChaCha20-Poly1305 (RFC 7634) through OpenSSL's EVP interface.
 * One EVP_CIPHER_CTX, keyed once; per packet only the nonce is set ({@code EVP_CipherInit_ex} with NULL cipher and
 * key: no key schedule, no GHASH table, no Java allocation), then AAD, payload, final and the tag.
 * Nonce = 4-byte salt || 8-byte explicit IV; AAD = SPI || [seq high] || seq low.
 *
 * <p>Works in native memory: a direct buffer's own bytes in place, or, for byte arrays, a copy in the worker's
 * native scratch ({@link EspContext#nativeScratch()}) copied back afterwards: two memcpy per packet buy calls that
 * create no Java object (see {@link LibCrypto}). Nonce, ESN AAD and the output-length word live in this cipher's own
 * native memory, freed with the EVP context when the cipher is collected.
 */
final class OpenSslAeadCipher extends NativeEspCipher {
    private static final int NONCE_LENGTH = 12;
    private static final int ESN_AAD_LENGTH = 12;
    private static final int EXPLICIT_IV_LENGTH = 8;
    private static final int PAYLOAD_OFFSET = EspHeader.IV_OFFSET + EXPLICIT_IV_LENGTH;
    private static final int FINAL_OUT_LENGTH = 32;

    private final MemorySegment context;
    private final MemorySegment nonce;
    private final MemorySegment esnAad;
    private final MemorySegment outLength;
    private final MemorySegment finalOut;

    /** @param scratch the owning context's native scratch, at least as long as the longest ESP packet */
    OpenSslAeadCipher(EspTransform transform, KeyMaterial material, MemorySegment scratch) {
        super(scratch, PAYLOAD_OFFSET, transform.icvLength());
        Arena arena = Arena.ofAuto();
        String name = switch (transform) {
            case CHACHA20_POLY1305 -> "chacha20_poly1305";
            case AES_GCM_128, AES_GCM_128_ICV12, AES_GCM_128_ICV8 -> "aes_128_gcm";
            case AES_GCM_256, AES_GCM_256_ICV12, AES_GCM_256_ICV8 -> "aes_256_gcm";
            case AES_CBC_HMAC_SHA256 -> throw new IllegalArgumentException("not an AEAD: " + transform);
        };
        this.context = LibCrypto.newCipherContext(arena, LibCrypto.cipher(name), material.cipherKey(), true, true);
        this.nonce = arena.allocate(NONCE_LENGTH);
        this.esnAad = arena.allocate(ESN_AAD_LENGTH);
        this.outLength = arena.allocate(ValueLayout.JAVA_INT);
        this.finalOut = arena.allocate(FINAL_OUT_LENGTH);
        MemorySegment.copy(material.salt(), 0, nonce, ValueLayout.JAVA_BYTE, 0, EspTransform.SALT_LENGTH);
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        EspHeader.putLong(packet, ivOffset, sequence);
    }

    @Override
    void writeIv(MemorySegment memory, long ivOffset, long sequence) {
        memory.set(BIG_ENDIAN_LONG, ivOffset, sequence);
    }

    @Override
    void seal(MemorySegment memory, long espOffset, int payloadLength, int sequenceHigh, boolean esn) {
        long payload = memory.address() + espOffset + PAYLOAD_OFFSET;
        start(1, memory, espOffset, sequenceHigh, esn);
        LibCrypto.check(LibCrypto.update(context.address(), payload, outLength.address(), payload, payloadLength),
                "EVP_CipherUpdate");
        LibCrypto.check(LibCrypto.finish(context.address(), finalOut.address(), outLength.address()),
                "EVP_CipherFinal_ex");
        LibCrypto.check(LibCrypto.control(context.address(), LibCrypto.CTRL_AEAD_GET_TAG, icvLength,
                payload + payloadLength), "EVP_CTRL_AEAD_GET_TAG");
        Reference.reachabilityFence(memory);
        Reference.reachabilityFence(this);
    }

    @Override
    boolean open(MemorySegment memory, long espOffset, int espLength, int sequenceHigh, boolean esn) {
        int payloadLength = espLength - icvLength - PAYLOAD_OFFSET;
        long payload = memory.address() + espOffset + PAYLOAD_OFFSET;
        start(0, memory, espOffset, sequenceHigh, esn);
        LibCrypto.check(LibCrypto.control(context.address(), LibCrypto.CTRL_AEAD_SET_TAG, icvLength,
                payload + payloadLength), "EVP_CTRL_AEAD_SET_TAG");
        LibCrypto.check(LibCrypto.update(context.address(), payload, outLength.address(), payload, payloadLength),
                "EVP_CipherUpdate");
        boolean authentic = LibCrypto.finish(context.address(), finalOut.address(), outLength.address()) == 1;
        Reference.reachabilityFence(memory);
        Reference.reachabilityFence(this);
        return authentic;
    }

    /** Sets the nonce from the packet's explicit IV and feeds the AAD from its header. */
    private void start(int encrypt, MemorySegment memory, long espOffset, int sequenceHigh, boolean esn) {
        MemorySegment.copy(memory, espOffset + EspHeader.IV_OFFSET, nonce, EspTransform.SALT_LENGTH,
                EXPLICIT_IV_LENGTH);
        LibCrypto.check(LibCrypto.init(context.address(), 0L, 0L, nonce.address(), encrypt), "EVP_CipherInit_ex");
        long aad;
        int aadLength;
        if (esn) {
            MemorySegment.copy(memory, espOffset + EspHeader.SPI_OFFSET, esnAad, 0, 4);
            esnAad.set(BIG_ENDIAN_INT, 4, sequenceHigh);
            MemorySegment.copy(memory, espOffset + EspHeader.SEQUENCE_OFFSET, esnAad, 8, 4);
            aad = esnAad.address();
            aadLength = ESN_AAD_LENGTH;
        } else {
            aad = memory.address() + espOffset;
            aadLength = EspHeader.LENGTH;
        }
        LibCrypto.check(LibCrypto.update(context.address(), 0L, outLength.address(), aad, aadLength),
                "EVP_CipherUpdate");
    }
}
