package dev.vnetd.control.health;

/**
 * Where the health checker's probes go and where their replies are found: the dataplane's workers in the daemon
 * ({@code dev.vnetd.dataplane.path.HealthProbes}), a scripted far end in tests. Called from the checker's thread.
 */
public interface ProbeChannel {
    /** Takes replies addressed to {@code localAddress} (IPv4, as an int) out of {@code tunnel}'s traffic; 0 stops. */
    void watch(int tunnel, int localAddress);

    /**
     * Forgets any earlier reply to {@code sequence}, then has a worker send the probe inside {@code tunnel}: an
     * echo request to {@code target} ({@code request}) or an echo reply from it. Returns at once.
     */
    void send(int tunnel, boolean request, int target, int sequence);

    /** Whether the reply to {@code sequence} of {@code tunnel} has arrived since it was sent. */
    boolean replied(int tunnel, int sequence);
}
