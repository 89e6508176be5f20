package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * AES-CBC (RFC 3602) with HMAC-SHA-256-128 (RFC 4868) through OpenSSL: EVP AES-CBC with padding off (ESP pads
 * itself), HMAC_CTX for the ICV, encrypt-then-MAC; the ICV covers header, IV and ciphertext, then the ESN high half
 * (RFC 4303 2.2.1: part of the implicit trailer, never sent). IV = AES_K(sequence || 0^64) as in
 * {@link JceCbcHmacCipher}, from an AES-ECB context.
 *
 * <p>Four native contexts, each keyed once: CBC encryption and decryption apart (their AES key schedules differ, and
 * a re-init with only an IV keeps the schedule), ECB for the IV, and HMAC, which restarts per packet from its saved
 * inner and outer pads. The packet array goes to OpenSSL as a heap segment through critical downcalls.
 */
final class OpenSslCbcHmacCipher implements EspCipher {
    private static final int BLOCK = 16;
    private static final int IV_LENGTH = 16;
    private static final int DIGEST_LENGTH = 32;
    private static final ValueLayout.OfInt BIG_ENDIAN_INT = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong BIG_ENDIAN_LONG = ValueLayout.JAVA_LONG_UNALIGNED
            .withOrder(ByteOrder.BIG_ENDIAN);

    private final int icvLength;
    private final MemorySegment encryptor;
    private final MemorySegment decryptor;
    private final MemorySegment ivCipher;
    private final MemorySegment mac;
    private final MemorySegment ivInput;
    private final MemorySegment sequenceHighBytes;
    private final MemorySegment digest;
    private final MemorySegment outLength;
    private final byte[] computed = new byte[DIGEST_LENGTH];

    OpenSslCbcHmacCipher(EspTransform transform, KeyMaterial material) {
        this.icvLength = transform.icvLength();
        Arena arena = Arena.ofAuto();
        byte[] key = material.cipherKey();
        int bits = key.length * Byte.SIZE;
        MemorySegment cbc = LibCrypto.cipher("aes_" + bits + "_cbc");
        this.encryptor = LibCrypto.newCipherContext(arena, cbc, key, true, false);
        this.decryptor = LibCrypto.newCipherContext(arena, cbc, key, false, false);
        this.ivCipher = LibCrypto.newCipherContext(arena, LibCrypto.cipher("aes_" + bits + "_ecb"), key, true, false);
        this.mac = LibCrypto.newHmacSha256Context(arena, material.integrityKey());
        this.ivInput = arena.allocate(BLOCK);
        this.sequenceHighBytes = arena.allocate(4);
        this.digest = arena.allocate(DIGEST_LENGTH);
        this.outLength = arena.allocate(ValueLayout.JAVA_INT);
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        ivInput.set(BIG_ENDIAN_LONG, 0, sequence);
        LibCrypto.check(LibCrypto.update(ivCipher, MemorySegment.ofArray(packet).asSlice(ivOffset), outLength,
                ivInput, BLOCK), "EVP_CipherUpdate");
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                     byte[] scratch) {
        MemorySegment array = MemorySegment.ofArray(packet);
        int ivOffset = espOffset + EspHeader.IV_OFFSET;
        MemorySegment payload = array.asSlice(ivOffset + IV_LENGTH);
        LibCrypto.check(LibCrypto.init(encryptor, MemorySegment.NULL, MemorySegment.NULL, array.asSlice(ivOffset), 1),
                "EVP_CipherInit_ex");
        LibCrypto.check(LibCrypto.update(encryptor, payload, outLength, payload, payloadLength), "EVP_CipherUpdate");
        authenticate(array, espOffset, ivOffset + IV_LENGTH + payloadLength - espOffset, sequenceHigh, esn);
        MemorySegment.copy(digest, ValueLayout.JAVA_BYTE, 0, packet, ivOffset + IV_LENGTH + payloadLength,
                icvLength);
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                        byte[] scratch) {
        MemorySegment array = MemorySegment.ofArray(packet);
        int ivOffset = espOffset + EspHeader.IV_OFFSET;
        int payloadOffset = ivOffset + IV_LENGTH;
        int icvOffset = espOffset + espLength - icvLength;
        authenticate(array, espOffset, icvOffset - espOffset, sequenceHigh, esn);
        MemorySegment.copy(digest, ValueLayout.JAVA_BYTE, 0, computed, 0, icvLength);
        if (!EspHeader.constantTimeEquals(packet, icvOffset, computed, icvLength)) {
            return false;
        }
        MemorySegment payload = array.asSlice(payloadOffset);
        LibCrypto.check(LibCrypto.init(decryptor, MemorySegment.NULL, MemorySegment.NULL, array.asSlice(ivOffset), 0),
                "EVP_CipherInit_ex");
        LibCrypto.check(LibCrypto.update(decryptor, payload, outLength, payload, icvOffset - payloadOffset),
                "EVP_CipherUpdate");
        return true;
    }

    private void authenticate(MemorySegment array, int offset, int length, int sequenceHigh, boolean esn) {
        LibCrypto.check(LibCrypto.hmacInit(mac, MemorySegment.NULL, 0, MemorySegment.NULL), "HMAC_Init_ex");
        LibCrypto.check(LibCrypto.hmacUpdate(mac, array.asSlice(offset), length), "HMAC_Update");
        if (esn) {
            sequenceHighBytes.set(BIG_ENDIAN_INT, 0, sequenceHigh);
            LibCrypto.check(LibCrypto.hmacUpdate(mac, sequenceHighBytes, 4), "HMAC_Update");
        }
        LibCrypto.check(LibCrypto.hmacFinal(mac, digest, outLength), "HMAC_Final");
    }
}
