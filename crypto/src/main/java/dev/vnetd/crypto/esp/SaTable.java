package dev.vnetd.crypto.esp;

import java.nio.ByteBuffer;
import java.util.Collection;

/**
 * Inbound SAs by SPI: an immutable open-addressing table (linear probing over flat arrays, load at most 1/2) built
 * once per config snapshot and published with the snapshot, so workers read it without locks.
 *
 * <pre>
 *   spis: [ 0 | 0x1001 | 0 | 0x2001 | ... ]   0 = empty (SPI 0 never names an SA)
 *   sas:  [   | sa     |   | sa     | ... ]   slot = (spi * golden ratio) >>> shift, then linear probing
 * </pre>
 */
public final class SaTable {
    /** A table without SAs. */
    public static final SaTable EMPTY = new SaTable(new int[1], new InboundSa[1], 0, 0);

    private final int[] spis;
    private final InboundSa[] sas;
    private final int shift;
    private final int size;

    private SaTable(int[] spis, InboundSa[] sas, int shift, int size) {
        this.spis = spis;
        this.sas = sas;
        this.shift = shift;
        this.size = size;
    }

    /**
     * A table of these SAs.
     *
     * @throws IllegalArgumentException when two SAs share an SPI (the config layer reports it with its position)
     */
    public static SaTable of(Collection<InboundSa> inbound) {
        int capacity = Integer.highestOneBit(Math.max(1, inbound.size()) * 2) << 1;
        int[] spis = new int[capacity];
        InboundSa[] sas = new InboundSa[capacity];
        int shift = Integer.SIZE - Integer.numberOfTrailingZeros(capacity);
        int mask = capacity - 1;
        for (InboundSa sa : inbound) {
            int slot = slot(sa.spi(), shift, mask);
            while (sas[slot] != null) {
                if (spis[slot] == sa.spi()) {
                    throw new IllegalArgumentException("duplicate inbound SPI 0x" + Integer.toHexString(sa.spi()));
                }
                slot = (slot + 1) & mask;
            }
            spis[slot] = sa.spi();
            sas[slot] = sa;
        }
        return new SaTable(spis, sas, shift, inbound.size());
    }

    private static int slot(int spi, int shift, int mask) {
        return (spi * 0x9E37_79B9) >>> shift & mask;
    }

    /** Number of SAs. */
    public int size() {
        return size;
    }

    /** The SA with this SPI, or null. */
    public InboundSa lookup(int spi) {
        int mask = spis.length - 1;
        int slot = slot(spi, shift, mask);
        while (sas[slot] != null) {
            if (spis[slot] == spi) {
                return sas[slot];
            }
            slot = (slot + 1) & mask;
        }
        return null;
    }

    /**
     * Looks up the SPI of the ESP packet at {@code [offset, offset + length)} and decrypts it with that SA; see
     * {@link InboundSa#decrypt}.
     *
     * @return {@link EspResult#NON_ESP_MARKER} for SPI 0 (an IKE message when the carrier is ESP-in-UDP),
     *         {@link EspResult#UNKNOWN_SPI} when no SA has the SPI, otherwise what the SA returned
     */
    public EspResult decrypt(EspContext context, ByteBuffer buffer, int offset, int length) {
        if (length < EspHeader.SEQUENCE_OFFSET) {
            return EspResult.TRUNCATED;
        }
        int spi = buffer.getInt(offset + EspHeader.SPI_OFFSET);
        if (spi == 0) {
            return EspResult.NON_ESP_MARKER;
        }
        if (length < EspHeader.LENGTH) {
            return EspResult.TRUNCATED;
        }
        InboundSa sa = lookup(spi);
        if (sa == null) {
            return EspResult.UNKNOWN_SPI;
        }
        return sa.decrypt(context, buffer, offset, length);
    }
}
