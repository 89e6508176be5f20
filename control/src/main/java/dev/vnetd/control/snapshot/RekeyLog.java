package dev.vnetd.control.snapshot;

import dev.vnetd.crypto.esp.RekeyListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rekey hook of every configured SA until IKEv2 drives rekeying: one log line per SA and event. The SA fires
 * at most once per reason, so the log is rate-limited by construction; the packets an exhausted or expired SA
 * refuses are counted as {@code esp_seq_exhausted} and {@code esp_lifetime_expired} drops. Runs on a worker: only
 * logs, never blocks on anything else.
 */
final class RekeyLog implements RekeyListener {
    private static final Logger LOG = LoggerFactory.getLogger(RekeyLog.class);

    private final String tunnel;

    RekeyLog(String tunnel) {
        this.tunnel = tunnel;
    }

    @Override
    public void rekeyNeeded(int spi, boolean inbound, Reason reason) {
        LOG.warn("event=esp_rekey_needed tunnel={} direction={} spi=0x{} reason={}", tunnel,
                inbound ? "inbound" : "outbound", Integer.toHexString(spi), reason.name().toLowerCase());
    }
}
