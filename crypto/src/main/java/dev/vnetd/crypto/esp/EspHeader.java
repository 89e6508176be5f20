package dev.vnetd.crypto.esp;

/**
 * The ESP packet layout (RFC 4303 2), network byte order, and big-endian accessors over a byte array.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 * |               Security Parameters Index (SPI)                 | ^Int.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 * |                      Sequence Number                          | |ered
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
 * |                    IV (8 bytes AEAD, 16 bytes AES-CBC)        | |   ^
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
 * ~          Payload Data: the inner IPv4/IPv6 packet (tunnel)    ~ |   |
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Conf.
 * |               |     Padding (0-255 bytes): 1, 2, 3, ...       | |Cov-
 * +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |ered*
 * |                               |  Pad Length   | Next Header   | v   v
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
 * |    Integrity Check Value (16 bytes; 12 or 8 for short GCM)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * With ESN only the low 32 bits of the sequence number are sent; the high 32 bits enter the ICV (RFC 4303 2.2.1):
 * in the AAD for the AEADs (RFC 4106 5), appended to the HMAC input for AES-CBC.
 */
final class EspHeader {
    static final int SPI_OFFSET = 0;
    static final int SEQUENCE_OFFSET = 4;
    static final int IV_OFFSET = 8;
    static final int LENGTH = 8;
    /** Pad length and next header. */
    static final int TRAILER_LENGTH = 2;
    /** IP protocol number 59, "no next header": a dummy packet (RFC 4303 2.6). */
    static final int NEXT_HEADER_DUMMY = 59;
    /** Largest ESP packet handled: the IPv4 total length limit. */
    static final int MAX_PACKET = 65535;

    private EspHeader() {
    }

    static int getInt(byte[] array, int index) {
        return (array[index] & 0xFF) << 24 | (array[index + 1] & 0xFF) << 16
                | (array[index + 2] & 0xFF) << 8 | array[index + 3] & 0xFF;
    }

    static void putInt(byte[] array, int index, int value) {
        array[index] = (byte) (value >>> 24);
        array[index + 1] = (byte) (value >>> 16);
        array[index + 2] = (byte) (value >>> 8);
        array[index + 3] = (byte) value;
    }

    static void putLong(byte[] array, int index, long value) {
        putInt(array, index, (int) (value >>> 32));
        putInt(array, index + 4, (int) value);
    }

    /** Compares {@code length} bytes of a received ICV with a computed one in time independent of where they differ. */
    static boolean constantTimeEquals(byte[] packet, int offset, byte[] computed, int length) {
        int difference = 0;
        for (int i = 0; i < length; i++) {
            difference |= packet[offset + i] ^ computed[i];
        }
        return difference == 0;
    }
}
