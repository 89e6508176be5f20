package dev.vnetd.crypto.esp;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.AEADCipher;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * AES-GCM (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) through Bouncy Castle's low-level engines. The key is set once
 * (GCM multiplier tables, AES key schedule); each packet re-inits with a null key and the new nonce. Output goes to
 * the context's scratch array and is copied back, because Bouncy Castle copies overlapping in-place input itself.
 */
final class BcAeadCipher implements EspCipher {
    private static final int NONCE_LENGTH = 12;
    private static final int ESN_AAD_LENGTH = 12;

    private final int macBits;
    private final AEADCipher cipher;
    private final byte[] nonce = new byte[NONCE_LENGTH];
    private final byte[] esnAad = new byte[ESN_AAD_LENGTH];

    BcAeadCipher(EspTransform transform, KeyMaterial material) {
        this.macBits = transform.icvLength() * Byte.SIZE;
        this.cipher = transform == EspTransform.CHACHA20_POLY1305
                ? new ChaCha20Poly1305()
                : GCMBlockCipher.newInstance(AESEngine.newInstance());
        System.arraycopy(material.salt(), 0, nonce, 0, EspTransform.SALT_LENGTH);
        cipher.init(false, new AEADParameters(new KeyParameter(material.cipherKey()), macBits, nonce));
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        EspHeader.putLong(packet, ivOffset, sequence);
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                     byte[] scratch) {
        int payloadOffset = espOffset + EspHeader.IV_OFFSET + 8;
        start(true, packet, espOffset, sequenceHigh, esn);
        try {
            int written = cipher.processBytes(packet, payloadOffset, payloadLength, scratch, 0);
            written += cipher.doFinal(scratch, written);
            System.arraycopy(scratch, 0, packet, payloadOffset, written);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("Bouncy Castle encryption failed", e);
        }
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                        byte[] scratch) {
        int payloadOffset = espOffset + EspHeader.IV_OFFSET + 8;
        int sealedLength = espLength - EspHeader.IV_OFFSET - 8;
        start(false, packet, espOffset, sequenceHigh, esn);
        try {
            int written = cipher.processBytes(packet, payloadOffset, sealedLength, scratch, 0);
            written += cipher.doFinal(scratch, written);
            System.arraycopy(scratch, 0, packet, payloadOffset, written);
            return true;
        } catch (InvalidCipherTextException e) {
            return false;
        }
    }

    private void start(boolean encrypt, byte[] packet, int espOffset, int sequenceHigh, boolean esn) {
        System.arraycopy(packet, espOffset + EspHeader.IV_OFFSET, nonce, EspTransform.SALT_LENGTH, 8);
        cipher.init(encrypt, new AEADParameters(null, macBits, nonce));
        if (esn) {
            System.arraycopy(packet, espOffset, esnAad, 0, 4);
            EspHeader.putInt(esnAad, 4, sequenceHigh);
            System.arraycopy(packet, espOffset + EspHeader.SEQUENCE_OFFSET, esnAad, 8, 4);
            cipher.processAADBytes(esnAad, 0, ESN_AAD_LENGTH);
        } else {
            cipher.processAADBytes(packet, espOffset, EspHeader.LENGTH);
        }
    }
}
