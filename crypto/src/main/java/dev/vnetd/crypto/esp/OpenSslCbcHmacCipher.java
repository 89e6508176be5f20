package dev.vnetd.crypto.esp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/**
 * AES-CBC (RFC 3602) with HMAC-SHA-256-128 (RFC 4868) through OpenSSL: EVP AES-CBC with padding off (ESP pads
 * itself), HMAC_CTX for the ICV, encrypt-then-MAC; the ICV covers header, IV and ciphertext, then the ESN high half
 * (RFC 4303 2.2.1: part of the implicit trailer, never sent). IV = AES_K(sequence || 0^64) as in
 * {@link JceCbcHmacCipher}, from an AES-ECB context.
 *
 * <p>Four native contexts, each keyed once: CBC encryption and decryption apart (their AES key schedules differ, and
 * a re-init with only an IV keeps the schedule), ECB for the IV, and HMAC, which restarts per packet from its saved
 * inner and outer pads. Like {@link OpenSslAeadCipher}, it works in a direct buffer's memory or on a copy of a
 * byte array in the worker's native scratch. The ICV comparison is constant-time.
 */
final class OpenSslCbcHmacCipher extends NativeEspCipher {
    private static final int BLOCK = 16;
    private static final int IV_LENGTH = 16;
    private static final int PAYLOAD_OFFSET = EspHeader.IV_OFFSET + IV_LENGTH;
    private static final int DIGEST_LENGTH = 32;

    private final MemorySegment encryptor;
    private final MemorySegment decryptor;
    private final MemorySegment ivCipher;
    private final MemorySegment mac;
    private final MemorySegment ivBlocks;
    private final MemorySegment sequenceHighBytes;
    private final MemorySegment digest;
    private final MemorySegment outLength;

    /** @param scratch the owning context's native scratch, at least as long as the longest ESP packet plus 16 */
    OpenSslCbcHmacCipher(EspTransform transform, KeyMaterial material, MemorySegment scratch) {
        super(scratch, PAYLOAD_OFFSET, transform.icvLength());
        Arena arena = Arena.ofAuto();
        byte[] key = material.cipherKey();
        int bits = key.length * Byte.SIZE;
        MemorySegment cbc = LibCrypto.cipher("aes_" + bits + "_cbc");
        this.encryptor = LibCrypto.newCipherContext(arena, cbc, key, true, false);
        this.decryptor = LibCrypto.newCipherContext(arena, cbc, key, false, false);
        this.ivCipher = LibCrypto.newCipherContext(arena, LibCrypto.cipher("aes_" + bits + "_ecb"), key, true, false);
        this.mac = LibCrypto.newHmacSha256Context(arena, material.integrityKey());
        this.ivBlocks = arena.allocate(2 * BLOCK);
        this.sequenceHighBytes = arena.allocate(4);
        this.digest = arena.allocate(DIGEST_LENGTH);
        this.outLength = arena.allocate(ValueLayout.JAVA_INT);
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        writeIv(ivBlocks, BLOCK, sequence);
        MemorySegment.copy(ivBlocks, ValueLayout.JAVA_BYTE, BLOCK, packet, ivOffset, IV_LENGTH);
    }

    @Override
    void writeIv(MemorySegment memory, long ivOffset, long sequence) {
        ivBlocks.set(BIG_ENDIAN_LONG, 0, sequence);
        LibCrypto.check(LibCrypto.update(ivCipher.address(), memory.address() + ivOffset, outLength.address(),
                ivBlocks.address(), BLOCK), "EVP_CipherUpdate");
        Reference.reachabilityFence(memory);
        Reference.reachabilityFence(this);
    }

    @Override
    void seal(MemorySegment memory, long espOffset, int payloadLength, int sequenceHigh, boolean esn) {
        long base = memory.address() + espOffset;
        long payload = base + PAYLOAD_OFFSET;
        LibCrypto.check(LibCrypto.init(encryptor.address(), 0L, 0L, base + EspHeader.IV_OFFSET, 1),
                "EVP_CipherInit_ex");
        LibCrypto.check(LibCrypto.update(encryptor.address(), payload, outLength.address(), payload, payloadLength),
                "EVP_CipherUpdate");
        authenticate(base, PAYLOAD_OFFSET + payloadLength, sequenceHigh, esn);
        MemorySegment.copy(digest, 0, memory, espOffset + PAYLOAD_OFFSET + payloadLength, icvLength);
        Reference.reachabilityFence(memory);
        Reference.reachabilityFence(this);
    }

    @Override
    boolean open(MemorySegment memory, long espOffset, int espLength, int sequenceHigh, boolean esn) {
        int sealedLength = espLength - icvLength;
        long base = memory.address() + espOffset;
        long payload = base + PAYLOAD_OFFSET;
        authenticate(base, sealedLength, sequenceHigh, esn);
        int difference = 0;
        for (int i = 0; i < icvLength; i++) {
            difference |= digest.get(ValueLayout.JAVA_BYTE, i) ^ memory.get(ValueLayout.JAVA_BYTE,
                    espOffset + sealedLength + i);
        }
        if (difference != 0) {
            Reference.reachabilityFence(memory);
            Reference.reachabilityFence(this);
            return false;
        }
        LibCrypto.check(LibCrypto.init(decryptor.address(), 0L, 0L, base + EspHeader.IV_OFFSET, 0),
                "EVP_CipherInit_ex");
        LibCrypto.check(LibCrypto.update(decryptor.address(), payload, outLength.address(), payload,
                sealedLength - PAYLOAD_OFFSET), "EVP_CipherUpdate");
        Reference.reachabilityFence(memory);
        Reference.reachabilityFence(this);
        return true;
    }

    /** HMAC-SHA-256 over {@code length} bytes at {@code data}, then the ESN high half; result in {@link #digest}. */
    private void authenticate(long data, int length, int sequenceHigh, boolean esn) {
        LibCrypto.check(LibCrypto.hmacInit(mac.address(), 0L, 0, 0L), "HMAC_Init_ex");
        LibCrypto.check(LibCrypto.hmacUpdate(mac.address(), data, length), "HMAC_Update");
        if (esn) {
            sequenceHighBytes.set(BIG_ENDIAN_INT, 0, sequenceHigh);
            LibCrypto.check(LibCrypto.hmacUpdate(mac.address(), sequenceHighBytes.address(), 4), "HMAC_Update");
        }
        LibCrypto.check(LibCrypto.hmacFinal(mac.address(), digest.address(), outLength.address()), "HMAC_Final");
    }
}
