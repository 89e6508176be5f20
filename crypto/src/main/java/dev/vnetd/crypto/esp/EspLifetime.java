package dev.vnetd.crypto.esp;

/**
 * Soft and hard lifetimes of an SA by packets and bytes (RFC 4301 4.4.2.1). Reaching a soft limit fires the rekey
 * hook once; reaching a hard limit drops every further packet with {@link EspResult#LIFETIME_EXPIRED}. Time limits
 * are the control plane's business: this core has no clock. {@link Long#MAX_VALUE} means no limit.
 *
 * @param softPackets packets after which a rekey is asked for
 * @param hardPackets packets after which the SA stops
 * @param softBytes   inner-packet bytes after which a rekey is asked for
 * @param hardBytes   inner-packet bytes after which the SA stops
 */
public record EspLifetime(long softPackets, long hardPackets, long softBytes, long hardBytes) {
    /** No limits: the SA lives until its sequence numbers run out. */
    public static final EspLifetime UNLIMITED =
            new EspLifetime(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);

    /** Validates that limits are positive and soft ones do not exceed hard ones. */
    public EspLifetime {
        if (softPackets <= 0 || hardPackets <= 0 || softBytes <= 0 || hardBytes <= 0) {
            throw new IllegalArgumentException("lifetimes must be positive");
        }
        if (softPackets > hardPackets || softBytes > hardBytes) {
            throw new IllegalArgumentException("a soft lifetime must not exceed the hard one");
        }
    }
}
