package dev.vnetd.control.health;

import dev.vnetd.dataplane.path.HealthProbes;
import dev.vnetd.dataplane.transport.Dataplane;

/** The daemon's probe channel: probes go out through the dataplane's workers, replies are read from its table. */
public final class DataplaneProbeChannel implements ProbeChannel {
    private final Dataplane dataplane;
    private final HealthProbes probes;

    /** Probes through {@code dataplane}. */
    public DataplaneProbeChannel(Dataplane dataplane) {
        this.dataplane = dataplane;
        this.probes = dataplane.probes();
    }

    @Override
    public void watch(int tunnel, int localAddress) {
        probes.watch(tunnel, localAddress);
    }

    @Override
    public void send(int tunnel, boolean request, int target, int sequence) {
        probes.clear(tunnel, sequence);
        dataplane.sendProbe(tunnel, request, target, sequence);
    }

    @Override
    public boolean replied(int tunnel, int sequence) {
        return probes.replied(tunnel, sequence);
    }
}
