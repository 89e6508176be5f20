package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * AES-GCM (RFC 4106, 16-, 12- and 8-byte ICVs) and ChaCha20-Poly1305 (RFC 7634) through OpenSSL's EVP interface.
 * One EVP_CIPHER_CTX, keyed once; per packet only the nonce is set ({@code EVP_CipherInit_ex} with NULL cipher and
 * key: no key schedule, no GHASH table, no Java allocation), then AAD, payload in place, final and the tag.
 * Nonce = 4-byte salt || 8-byte explicit IV; AAD = SPI || [seq high] || seq low.
 *
 * <p>The packet array is passed to OpenSSL as a heap segment through critical downcalls; nonce, ESN AAD and the
 * output-length word live in native memory of this cipher, freed with the EVP context when it is collected.
 */
final class OpenSslAeadCipher implements EspCipher {
    private static final int NONCE_LENGTH = 12;
    private static final int ESN_AAD_LENGTH = 12;
    private static final int EXPLICIT_IV_LENGTH = 8;
    private static final ValueLayout.OfInt BIG_ENDIAN_INT = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(ByteOrder.BIG_ENDIAN);

    private final int icvLength;
    private final MemorySegment context;
    private final MemorySegment nonce;
    private final MemorySegment esnAad;
    private final MemorySegment outLength;
    private final MemorySegment finalOut;

    OpenSslAeadCipher(EspTransform transform, KeyMaterial material) {
        this.icvLength = transform.icvLength();
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
        this.finalOut = arena.allocate(32);
        MemorySegment.copy(material.salt(), 0, nonce, ValueLayout.JAVA_BYTE, 0, EspTransform.SALT_LENGTH);
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        EspHeader.putLong(packet, ivOffset, sequence);
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                     byte[] scratch) {
        MemorySegment array = MemorySegment.ofArray(packet);
        MemorySegment payload = array.asSlice(espOffset + EspHeader.IV_OFFSET + EXPLICIT_IV_LENGTH);
        start(1, packet, array, espOffset, sequenceHigh, esn);
        LibCrypto.check(LibCrypto.update(context, payload, outLength, payload, payloadLength), "EVP_CipherUpdate");
        LibCrypto.check(LibCrypto.finish(context, finalOut, outLength), "EVP_CipherFinal_ex");
        LibCrypto.check(LibCrypto.control(context, LibCrypto.CTRL_AEAD_GET_TAG, icvLength,
                payload.asSlice(payloadLength)), "EVP_CTRL_AEAD_GET_TAG");
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                        byte[] scratch) {
        MemorySegment array = MemorySegment.ofArray(packet);
        int payloadOffset = espOffset + EspHeader.IV_OFFSET + EXPLICIT_IV_LENGTH;
        int payloadLength = espOffset + espLength - icvLength - payloadOffset;
        MemorySegment payload = array.asSlice(payloadOffset);
        start(0, packet, array, espOffset, sequenceHigh, esn);
        LibCrypto.check(LibCrypto.control(context, LibCrypto.CTRL_AEAD_SET_TAG, icvLength,
                payload.asSlice(payloadLength)), "EVP_CTRL_AEAD_SET_TAG");
        LibCrypto.check(LibCrypto.update(context, payload, outLength, payload, payloadLength), "EVP_CipherUpdate");
        return LibCrypto.finish(context, finalOut, outLength) == 1;
    }

    private void start(int encrypt, byte[] packet, MemorySegment array, int espOffset, int sequenceHigh,
                       boolean esn) {
        MemorySegment.copy(packet, espOffset + EspHeader.IV_OFFSET, nonce, ValueLayout.JAVA_BYTE,
                EspTransform.SALT_LENGTH, EXPLICIT_IV_LENGTH);
        LibCrypto.check(LibCrypto.init(context, MemorySegment.NULL, MemorySegment.NULL, nonce, encrypt),
                "EVP_CipherInit_ex");
        MemorySegment aad;
        int aadLength;
        if (esn) {
            MemorySegment.copy(packet, espOffset + EspHeader.SPI_OFFSET, esnAad, ValueLayout.JAVA_BYTE, 0, 4);
            esnAad.set(BIG_ENDIAN_INT, 4, sequenceHigh);
            MemorySegment.copy(packet, espOffset + EspHeader.SEQUENCE_OFFSET, esnAad, ValueLayout.JAVA_BYTE, 8, 4);
            aad = esnAad;
            aadLength = ESN_AAD_LENGTH;
        } else {
            aad = array.asSlice(espOffset);
            aadLength = EspHeader.LENGTH;
        }
        LibCrypto.check(LibCrypto.update(context, MemorySegment.NULL, outLength, aad, aadLength), "EVP_CipherUpdate");
    }
}
