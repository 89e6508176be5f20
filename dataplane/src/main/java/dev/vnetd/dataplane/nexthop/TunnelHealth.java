package dev.vnetd.dataplane.nexthop;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Health state of every tunnel, indexed by tunnel id; written by health checks, read by workers on every
 * next-hop selection. Unhealthy tunnels are penalised, never removed (Cloudflare WAN traffic steering): traffic still
 * flows when every tunnel of a group is unhealthy.
 */
public final class TunnelHealth {
    /** Tunnel answers its probes. */
    public static final int HEALTHY = 0;
    /** Some probes failed: priority + {@link #DEGRADED_PENALTY}. */
    public static final int DEGRADED = 1;
    /** All recent probes failed: priority + {@link #DOWN_PENALTY}. */
    public static final int DOWN = 2;
    /** Added to a degraded tunnel's priority; larger than any configured priority difference worth keeping. */
    public static final int DEGRADED_PENALTY = 500_000;
    /** Added to a down tunnel's priority, so a down tunnel loses even to a degraded one. */
    public static final int DOWN_PENALTY = 1_000_000;

    private final AtomicIntegerArray states;

    /** Health for {@code tunnels} tunnels, all healthy. */
    public TunnelHealth(int tunnels) {
        states = new AtomicIntegerArray(tunnels);
    }

    /** Number of tunnels covered. */
    public int size() {
        return states.length();
    }

    /** State of a tunnel: {@link #HEALTHY}, {@link #DEGRADED} or {@link #DOWN}. */
    public int state(int tunnelId) {
        return states.get(tunnelId);
    }

    /** Sets a tunnel's state. */
    public void state(int tunnelId, int state) {
        if (state < HEALTHY || state > DOWN) {
            throw new IllegalArgumentException("unknown tunnel state " + state);
        }
        states.set(tunnelId, state);
    }

    /** Priority penalty of a tunnel in its current state. */
    public int penalty(int tunnelId) {
        return switch (states.get(tunnelId)) {
            case DEGRADED -> DEGRADED_PENALTY;
            case DOWN -> DOWN_PENALTY;
            default -> 0;
        };
    }
}
