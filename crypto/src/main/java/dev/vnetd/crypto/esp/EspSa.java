package dev.vnetd.crypto.esp;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What inbound and outbound SAs share: identity, transform, keys, lifetimes and the lock-free accounting that drives
 * the rekey hook. SAs are shared by all workers; each worker's {@link EspContext} keeps its own keyed cipher objects
 * for the SA, so nothing here is locked.
 */
public abstract sealed class EspSa permits InboundSa, OutboundSa {
    /** SPIs 1..255 are reserved by IANA and 0 marks IKE in ESP-in-UDP (RFC 4303 2.1, RFC 3948 2.2). */
    public static final int MIN_SPI = 256;

    private final int spi;
    private final EspTransform transform;
    private final KeyMaterial material;
    private final boolean esn;
    private final EspLifetime lifetime;
    private final RekeyListener listener;
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicInteger firedReasons = new AtomicInteger();

    EspSa(int spi, KeyMaterial material, boolean esn, EspLifetime lifetime, RekeyListener listener) {
        if (Integer.compareUnsigned(spi, MIN_SPI) < 0) {
            throw new IllegalArgumentException("SPI " + Integer.toUnsignedString(spi)
                    + " is reserved (0 marks IKE in ESP-in-UDP, 1..255 are IANA reserved)");
        }
        this.spi = spi;
        this.transform = material.transform();
        this.material = material.copy();
        this.esn = esn;
        this.lifetime = lifetime;
        this.listener = listener;
    }

    /** The Security Parameters Index. */
    public final int spi() {
        return spi;
    }

    /** The transform. */
    public final EspTransform transform() {
        return transform;
    }

    /** Whether 64-bit extended sequence numbers are used (RFC 4303 2.2.1). */
    public final boolean esn() {
        return esn;
    }

    /** The lifetimes. */
    public final EspLifetime lifetime() {
        return lifetime;
    }

    /** Packets processed successfully. */
    public final long packets() {
        return packets.get();
    }

    /** Inner-packet bytes processed successfully. */
    public final long bytes() {
        return bytes.get();
    }

    final KeyMaterial material() {
        return material;
    }

    /** True, after telling the listener once, when a hard lifetime is reached. */
    final boolean hardLifetimeReached() {
        if (packets.get() < lifetime.hardPackets() && bytes.get() < lifetime.hardBytes()) {
            return false;
        }
        fire(RekeyListener.Reason.HARD_LIFETIME);
        return true;
    }

    final void count(int innerBytes) {
        long packetCount = packets.incrementAndGet();
        long byteCount = bytes.addAndGet(innerBytes);
        if (packetCount >= lifetime.softPackets() || byteCount >= lifetime.softBytes()) {
            fire(RekeyListener.Reason.SOFT_LIFETIME);
        }
    }

    final void fire(RekeyListener.Reason reason) {
        int flag = 1 << reason.ordinal();
        int fired = firedReasons.get();
        while ((fired & flag) == 0) {
            if (firedReasons.compareAndSet(fired, fired | flag)) {
                listener.rekeyNeeded(spi, this instanceof InboundSa, reason);
                return;
            }
            fired = firedReasons.get();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[spi=0x" + Integer.toHexString(spi) + ", " + transform.configName()
                + ", esn=" + esn + "]";
    }
}
