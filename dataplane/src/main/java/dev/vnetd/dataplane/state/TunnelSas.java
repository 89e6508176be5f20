package dev.vnetd.dataplane.state;

import dev.vnetd.crypto.esp.InboundSa;
import dev.vnetd.crypto.esp.OutboundSa;

/**
 * The two security associations of an ESP tunnel: packets arrive under {@code inbound}'s SPI and leave under
 * {@code outbound}'s. Shared by every worker (the SAs are thread-safe); each worker brings its own
 * {@link dev.vnetd.crypto.esp.EspContext}. {@link #toString()} names SPIs and the transform, never keys.
 *
 * @param inbound  the SA the peer sends with
 * @param outbound the SA vnetd sends with
 */
public record TunnelSas(InboundSa inbound, OutboundSa outbound) {
    @Override
    public String toString() {
        return "TunnelSas[transform=" + inbound.transform().configName() + ", inboundSpi=0x"
                + Integer.toHexString(inbound.spi()) + ", outboundSpi=0x" + Integer.toHexString(outbound.spi())
                + "]";
    }
}
