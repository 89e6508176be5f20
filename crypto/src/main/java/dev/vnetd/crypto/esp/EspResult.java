package dev.vnetd.crypto.esp;

/**
 * What happened to one packet: {@link #OK} or the reason it was dropped. Every value maps one-to-one to a drop
 * counter in the dataplane ({@code vnetd_drops_total{reason}}), VPP style; a new way to drop means a new value.
 */
public enum EspResult {
    /** The packet was decrypted or encrypted; the context holds where the result lies. */
    OK("processed"),
    /**
     * SPI 0: in ESP-in-UDP the non-ESP marker of an IKE message (RFC 3948 2.2), for the IKE hook; until IKEv2
     * exists it is dropped and counted.
     */
    NON_ESP_MARKER("IKE message (non-ESP marker) in ESP-in-UDP"),
    /** No inbound SA has this SPI. */
    UNKNOWN_SPI("no inbound SA for the SPI"),
    /** Shorter than header, IV, minimal trailer and ICV. */
    TRUNCATED("packet shorter than the transform's minimum"),
    /** The ciphertext is not a whole number of cipher blocks (AES-CBC) or the packet is otherwise malformed. */
    MALFORMED("ciphertext length not aligned to the cipher block"),
    /** The sequence number was already received inside the replay window. */
    REPLAYED("sequence number already received"),
    /** The sequence number lies left of the replay window (or is zero). */
    OUTSIDE_WINDOW("sequence number left of the replay window"),
    /** The integrity check value did not verify: forged, corrupted or wrong key. */
    ICV_FAILED("integrity check failed"),
    /** The ICV verified but the pad length or the RFC 4303 padding bytes 1, 2, 3... are wrong. */
    BAD_PADDING("padding malformed"),
    /** A dummy packet (next header 59, RFC 4303 2.6) used for traffic flow confidentiality. */
    DUMMY_PACKET("dummy packet (next header 59)"),
    /** The outbound SA used its last sequence number; it never wraps and needs a rekey. */
    SEQ_EXHAUSTED("sequence numbers exhausted, rekey needed"),
    /** The SA passed its hard lifetime in packets or bytes. */
    LIFETIME_EXPIRED("SA hard lifetime reached"),
    /** Not enough headroom or tailroom in the buffer, or the result would exceed 65535 bytes. */
    NO_ROOM("buffer too small for the ESP encapsulation");

    private final String description;

    EspResult(String description) {
        this.description = description;
    }

    /** A short human description for logs and metrics help text. */
    public String description() {
        return description;
    }
}
