package dev.vnetd.control;

import dev.vnetd.dataplane.transport.TransportKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Chooses the transport from {@code node.transport}: {@code auto} takes the best available that can carry every
 * configured listener (the raw sockets of plain GRE and ESP need epoll or io_uring), and says why.
 */
final class TransportSelector {
    private static final Logger LOG = LoggerFactory.getLogger(TransportSelector.class);

    private TransportSelector() {
    }

    static TransportKind choose(String setting, boolean rawSockets) throws IOException {
        if (!"auto".equals(setting)) {
            TransportKind kind = TransportKind.fromConfigName(setting);
            if (kind == null) {
                throw new IOException("unknown transport '" + setting + "'");
            }
            if (!kind.isAvailable()) {
                throw new IOException("transport " + setting + " was asked for but is unavailable here: "
                        + kind.unavailabilityCause());
            }
            LOG.info("event=transport_selected transport={} reason=configured", kind.configName());
            return kind;
        }
        for (TransportKind kind : TransportKind.AUTO_PREFERENCE) {
            if (kind.isAvailable() && rawSockets && !kind.supportsRawSockets()) {
                LOG.info("event=transport_skipped transport={} reason=\"plain GRE or ESP listener configured: {}\"",
                        kind.configName(), kind.rawSocketLimitation());
                continue;
            }
            if (kind.isAvailable()) {
                LOG.info("event=transport_selected transport={} reason=auto", kind.configName());
                return kind;
            }
            LOG.warn("event=transport_unavailable transport={} cause=\"{}\"", kind.configName(),
                    kind.unavailabilityCause());
        }
        if (rawSockets) {
            throw new IOException("plain GRE and ESP listeners need the epoll or io_uring transport, neither of which is"
                    + " available here: epoll: " + TransportKind.EPOLL.unavailabilityCause() + "; io_uring: "
                    + TransportKind.IO_URING.unavailabilityCause());
        }
        throw new IllegalStateException("NIO is always available");
    }
}
