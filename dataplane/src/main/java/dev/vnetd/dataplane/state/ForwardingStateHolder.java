package dev.vnetd.dataplane.state;

/**
 * The one volatile reference through which the control plane publishes a new {@link ForwardingState} to the
 * workers (read-copy-update: readers load it once per packet and never block).
 */
public final class ForwardingStateHolder {
    private volatile ForwardingState state;

    /** A holder publishing {@code initial}. */
    public ForwardingStateHolder(ForwardingState initial) {
        this.state = initial;
    }

    /** The current state. */
    public ForwardingState get() {
        return state;
    }

    /** Publishes a new state; workers see it from their next packet on. */
    public void publish(ForwardingState next) {
        this.state = next;
    }
}
