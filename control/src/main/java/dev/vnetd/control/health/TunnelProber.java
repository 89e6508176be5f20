package dev.vnetd.control.health;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Probes one tunnel: a regular probe every interval of its rate, the quick re-probes its
 * {@link HealthStateMachine} asks for, and each probe's result — a success as soon as its reply is seen, a failure
 * when {@link #PROBE_TIMEOUT_MILLIS} pass without one. Driven by {@link #tick(long)} from the health checker's one
 * thread, with the time passed in, so tests run it on a fake clock.
 */
final class TunnelProber {
    /**
     * How long a probe waits for its reply: 300 ms is longer than a round trip across any continent (and most
     * intercontinental paths), short enough that a probe and its two re-probes fail within the one second of the
     * down rule. A path slower than that reads as down.
     */
    static final long PROBE_TIMEOUT_MILLIS = 300;
    /** Sequence numbers are the ICMP sequence field's 16 bits. */
    private static final int SEQUENCE_MASK = 0xFFFF;

    private record Outstanding(int sequence, long sentAtMillis, boolean reprobe) {
    }

    private final int tunnel;
    private final boolean request;
    private final int target;
    private final long intervalMillis;
    private final HealthStateMachine machine;
    private final ProbeChannel channel;
    private final AtomicLong successes;
    private final AtomicLong failures;
    private final List<Outstanding> outstanding = new ArrayList<>();
    private int nextSequence;
    private long nextRegularMillis;

    /**
     * A prober for {@code tunnel}; its first regular probe goes out at the first tick from {@code firstProbeMillis}.
     *
     * @param successes counts probes answered (kept across reloads by the caller)
     * @param failures  counts probes timed out
     */
    TunnelProber(int tunnel, boolean request, int target, long intervalMillis, HealthStateMachine machine,
                 ProbeChannel channel, AtomicLong successes, AtomicLong failures, long firstProbeMillis) {
        this.tunnel = tunnel;
        this.request = request;
        this.target = target;
        this.intervalMillis = intervalMillis;
        this.machine = machine;
        this.channel = channel;
        this.successes = successes;
        this.failures = failures;
        this.nextRegularMillis = firstProbeMillis;
    }

    /** Collects the results due at {@code nowMillis}, then sends the re-probes they call for and any regular probe. */
    void tick(long nowMillis) {
        int reprobes = 0;
        for (int i = 0; i < outstanding.size(); i++) {
            Outstanding probe = outstanding.get(i);
            boolean replied = channel.replied(tunnel, probe.sequence());
            if (!replied && nowMillis - probe.sentAtMillis() < PROBE_TIMEOUT_MILLIS) {
                continue;
            }
            outstanding.remove(i--);
            (replied ? successes : failures).incrementAndGet();
            reprobes += machine.record(nowMillis, replied, probe.reprobe());
        }
        for (int i = 0; i < reprobes; i++) {
            send(nowMillis, true);
        }
        if (nowMillis >= nextRegularMillis) {
            send(nowMillis, false);
            nextRegularMillis += intervalMillis;
            if (nextRegularMillis <= nowMillis) {
                nextRegularMillis = nowMillis + intervalMillis;
            }
        }
    }

    private void send(long nowMillis, boolean reprobe) {
        int sequence = nextSequence;
        nextSequence = (nextSequence + 1) & SEQUENCE_MASK;
        outstanding.add(new Outstanding(sequence, nowMillis, reprobe));
        channel.send(tunnel, request, target, sequence);
    }

    /** The tunnel's state. */
    int state() {
        return machine.state();
    }

    /** The state machine (for the log line of a state change). */
    HealthStateMachine machine() {
        return machine;
    }

    /** Probes sent and not yet answered or timed out. */
    int outstanding() {
        return outstanding.size();
    }
}
