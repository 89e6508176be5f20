package dev.vnetd.crypto.esp;

import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.modes.CBCBlockCipher;
import org.bouncycastle.crypto.modes.CBCModeCipher;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * AES-CBC (RFC 3602) with HMAC-SHA-256-128 (RFC 4868) through Bouncy Castle's low-level engines, encrypt-then-MAC,
 * IV = AES_K(sequence || 0^64) as in {@link JceCbcHmacCipher}. Separate CBC instances for each direction keep their
 * key schedules; each packet only sets the IV.
 */
final class BcCbcHmacCipher implements EspCipher {
    private static final int BLOCK = 16;
    private static final int IV_LENGTH = 16;

    private final int icvLength;
    private final CBCModeCipher encryptor;
    private final CBCModeCipher decryptor;
    private final BlockCipher ivCipher;
    private final HMac mac;
    private final byte[] ivInput = new byte[BLOCK];
    private final byte[] sequenceHighBytes = new byte[4];
    private final byte[] digest = new byte[32];

    BcCbcHmacCipher(EspTransform transform, KeyMaterial material) {
        this.icvLength = transform.icvLength();
        KeyParameter key = new KeyParameter(material.cipherKey());
        byte[] zeroIv = new byte[IV_LENGTH];
        this.encryptor = CBCBlockCipher.newInstance(AESEngine.newInstance());
        this.encryptor.init(true, new ParametersWithIV(key, zeroIv));
        this.decryptor = CBCBlockCipher.newInstance(AESEngine.newInstance());
        this.decryptor.init(false, new ParametersWithIV(key, zeroIv));
        this.ivCipher = AESEngine.newInstance();
        this.ivCipher.init(true, key);
        this.mac = new HMac(SHA256Digest.newInstance());
        this.mac.init(new KeyParameter(material.integrityKey()));
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        EspHeader.putLong(ivInput, 0, sequence);
        ivCipher.processBlock(ivInput, 0, packet, ivOffset);
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                     byte[] scratch) {
        int ivOffset = espOffset + EspHeader.IV_OFFSET;
        int payloadOffset = ivOffset + IV_LENGTH;
        encryptor.init(true, new ParametersWithIV(null, packet, ivOffset, IV_LENGTH));
        for (int block = payloadOffset; block < payloadOffset + payloadLength; block += BLOCK) {
            encryptor.processBlock(packet, block, packet, block);
        }
        authenticate(packet, espOffset, payloadOffset + payloadLength - espOffset, sequenceHigh, esn);
        System.arraycopy(digest, 0, packet, payloadOffset + payloadLength, icvLength);
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                        byte[] scratch) {
        int ivOffset = espOffset + EspHeader.IV_OFFSET;
        int payloadOffset = ivOffset + IV_LENGTH;
        int icvOffset = espOffset + espLength - icvLength;
        authenticate(packet, espOffset, icvOffset - espOffset, sequenceHigh, esn);
        if (!EspHeader.constantTimeEquals(packet, icvOffset, digest, icvLength)) {
            return false;
        }
        decryptor.init(false, new ParametersWithIV(null, packet, ivOffset, IV_LENGTH));
        for (int block = payloadOffset; block < icvOffset; block += BLOCK) {
            decryptor.processBlock(packet, block, packet, block);
        }
        return true;
    }

    private void authenticate(byte[] packet, int offset, int length, int sequenceHigh, boolean esn) {
        mac.update(packet, offset, length);
        if (esn) {
            EspHeader.putInt(sequenceHighBytes, 0, sequenceHigh);
            mac.update(sequenceHighBytes, 0, 4);
        }
        mac.doFinal(digest, 0);
    }
}
