package dev.vnetd.crypto.esp;

/**
 * Told when an SA needs replacing. Called on the worker that processed the packet, at most once per SA and reason:
 * implementations must not block (enqueue to the control plane, count, log rate-limited).
 */
@FunctionalInterface
public interface RekeyListener {
    /** Does nothing, for SAs whose rekeying nobody drives yet. */
    RekeyListener NONE = (spi, inbound, reason) -> { };

    /**
     * An SA reached a limit.
     *
     * @param spi     the SA's SPI
     * @param inbound true for an inbound SA
     * @param reason  which limit
     */
    void rekeyNeeded(int spi, boolean inbound, Reason reason);

    /** Why a rekey is needed. */
    enum Reason {
        /** A soft lifetime (packets or bytes) was reached; the SA still works. */
        SOFT_LIFETIME,
        /** A hard lifetime was reached; the SA drops every packet now. */
        HARD_LIFETIME,
        /** The outbound sequence number would wrap; the SA sends nothing more. */
        SEQUENCE_EXHAUSTED
    }
}
