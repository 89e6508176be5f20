package dev.vnetd.dataplane.masque;

/**
 * A capsule the request stream cannot go on after; {@link #errorCode()} is the HTTP/3 error code the stream is
 * reset with.
 */
public final class CapsuleException extends Exception {
    /** Datagram or Capsule Protocol parse error (RFC 9297 section 5.2). */
    public static final long H3_DATAGRAM_ERROR = 0x33;
    /** A rule of the protocol broken by otherwise well-formed content (RFC 9114 section 8.1). */
    public static final long H3_GENERAL_PROTOCOL_ERROR = 0x101;
    /** The peer is using more resources than allowed: here, a capsule longer than any vnetd accepts. */
    public static final long H3_EXCESSIVE_LOAD = 0x107;

    private static final long serialVersionUID = 1L;

    private final long errorCode;

    /** An error to reset the stream with {@code errorCode}. */
    public CapsuleException(long errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The HTTP/3 error code. */
    public long errorCode() {
        return errorCode;
    }
}
