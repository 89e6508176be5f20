package dev.vnetd.crypto.esp;

import java.lang.foreign.MemorySegment;

/**
 * An {@link EspCipher} that also works in place in native memory: a direct buffer's own bytes, so the packet is
 * neither copied into a context array nor back. Same contract as the array methods, with the ESP packet at
 * {@code espOffset} of {@code memory}. Not thread-safe: one instance per {@link EspContext} and SA.
 */
interface NativeEspCipher extends EspCipher {
    /** Writes the IV for this sequence number at {@code ivOffset} of {@code memory}. */
    void writeIv(MemorySegment memory, long ivOffset, long sequence);

    /** Encrypts the payload in place and writes the ICV after it, as {@link EspCipher#seal}. */
    void seal(MemorySegment memory, long espOffset, int payloadLength, int sequenceHigh, boolean esn);

    /** Verifies the ICV and, if it matches, decrypts in place, as {@link EspCipher#open}. */
    boolean open(MemorySegment memory, long espOffset, int espLength, int sequenceHigh, boolean esn);
}
