package dev.vnetd.crypto.esp;

/**
 * The cryptographic half of one SA as seen by one worker: a provider's cipher and MAC objects keyed once and reused
 * for every packet. Works on a byte array holding the ESP packet from {@code espOffset}; SPI and sequence number are
 * already in the packet. Not thread-safe: one instance per {@link EspContext} and SA.
 */
interface EspCipher {
    /** Writes the IV for this sequence number at {@code ivOffset}: unique per SA, and unpredictable for AES-CBC. */
    void writeIv(byte[] packet, int ivOffset, long sequence);

    /**
     * Encrypts the {@code payloadLength} bytes after header and IV in place (payload, padding, pad length, next
     * header) and writes the ICV right after them.
     *
     * @param scratch a context-owned array at least as long as the packet, distinct from {@code packet}
     */
    void seal(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn, byte[] scratch);

    /**
     * Verifies the ICV and, if it matches, decrypts the payload in place.
     *
     * @param espLength header, IV, ciphertext and ICV
     * @param scratch   a context-owned array at least as long as the packet, distinct from {@code packet}
     * @return false when the ICV does not verify; the packet may then hold garbage
     */
    boolean open(byte[] packet, int espOffset, int espLength, int sequenceHigh, boolean esn, byte[] scratch);
}
