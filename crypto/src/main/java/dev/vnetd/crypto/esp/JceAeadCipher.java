package dev.vnetd.crypto.esp;

import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-GCM (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) through the JDK's JCE, which uses the AES-NI/CLMUL and vector
 * intrinsics. Nonce = 4-byte salt || 8-byte explicit IV; AAD = SPI || [seq high] || seq low. The JCE re-keys cheaply
 * when the key bytes are unchanged, so one {@code init} per packet sets the nonce. Works in place: the JCE handles
 * input and output at the same offset without a copy (measured: no extra bytes per operation).
 */
final class JceAeadCipher implements EspCipher {
    private static final int NONCE_LENGTH = 12;
    private static final int ESN_AAD_LENGTH = 12;

    private final boolean gcm;
    private final int icvLength;
    private final Cipher cipher;
    private final SecretKeySpec key;
    private final byte[] nonce = new byte[NONCE_LENGTH];
    private final byte[] esnAad = new byte[ESN_AAD_LENGTH];

    JceAeadCipher(EspTransform transform, KeyMaterial material) {
        this.gcm = transform != EspTransform.CHACHA20_POLY1305;
        this.icvLength = transform.icvLength();
        try {
            this.cipher = Cipher.getInstance(gcm ? "AES/GCM/NoPadding" : "ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JCE lacks " + transform.configName(), e);
        }
        this.key = new SecretKeySpec(material.cipherKey(), gcm ? "AES" : "ChaCha20");
        System.arraycopy(material.salt(), 0, nonce, 0, EspTransform.SALT_LENGTH);
    }

    @Override
    public void writeIv(byte[] packet, int ivOffset, long sequence) {
        EspHeader.putLong(packet, ivOffset, sequence);
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn,
                     byte[] scratch) {
        int payloadOffset = espOffset + EspHeader.IV_OFFSET + 8;
        try {
            start(Cipher.ENCRYPT_MODE, packet, espOffset, sequenceHigh, esn);
            cipher.doFinal(packet, payloadOffset, payloadLength, packet, payloadOffset);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JCE encryption failed", e);
        }
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn,
                        byte[] scratch) {
        int payloadOffset = espOffset + EspHeader.IV_OFFSET + 8;
        int sealedLength = espLength - EspHeader.IV_OFFSET - 8;
        try {
            start(Cipher.DECRYPT_MODE, packet, espOffset, sequenceHigh, esn);
            cipher.doFinal(packet, payloadOffset, sealedLength, packet, payloadOffset);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JCE decryption failed", e);
        }
    }

    private void start(int mode, byte[] packet, int espOffset, int sequenceHigh, boolean esn)
            throws GeneralSecurityException {
        System.arraycopy(packet, espOffset + EspHeader.IV_OFFSET, nonce, EspTransform.SALT_LENGTH, 8);
        AlgorithmParameterSpec spec = gcm
                ? new GCMParameterSpec(icvLength * Byte.SIZE, nonce)
                : new IvParameterSpec(nonce);
        cipher.init(mode, key, spec);
        if (esn) {
            System.arraycopy(packet, espOffset, esnAad, 0, 4);
            EspHeader.putInt(esnAad, 4, sequenceHigh);
            System.arraycopy(packet, espOffset + EspHeader.SEQUENCE_OFFSET, esnAad, 8, 4);
            cipher.updateAAD(esnAad, 0, ESN_AAD_LENGTH);
        } else {
            cipher.updateAAD(packet, espOffset, EspHeader.LENGTH);
        }
    }
}
