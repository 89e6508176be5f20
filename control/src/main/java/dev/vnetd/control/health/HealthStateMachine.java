package dev.vnetd.control.health;

import dev.vnetd.dataplane.nexthop.TunnelHealth;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The health state of one tunnel from its probe results, as Cloudflare WAN determines tunnel state:
 *
 * <pre>
 *   from       to         when (checked on every probe result)
 *   HEALTHY    DOWN       all of &ge; 3 probes of the last 1 s failed      (takes precedence over degraded)
 *   DEGRADED   DOWN       the same
 *   HEALTHY    DEGRADED   &ge; 2 failures and &ge; 0.1 % of the probes of the last 5 min failed
 *   DEGRADED   HEALTHY    that no longer holds
 *   DOWN       DEGRADED   3 successes in a row                          (never straight to HEALTHY)
 * </pre>
 *
 * Down takes precedence over degraded. In healthy or degraded, a failed regular probe triggers two quick re-probes,
 * so a dead tunnel collects three failures within a second; in down, a successful regular probe does the same, and
 * three successes in a row bring the tunnel to degraded. From there it is healthy again once the failures have left
 * the five-minute window (hysteresis: quick to fail, slow to trust again).
 *
 * <p>Results are kept for the degraded window only, as {@code time << 1 | failed} in arrival order. Not thread-safe:
 * the health checker's one thread owns it. Times are milliseconds of a monotonic clock, never decreasing.
 */
public final class HealthStateMachine {
    /** Window of the down rule: the last second. */
    public static final long DOWN_WINDOW_MILLIS = 1_000;
    /** Probes the down window must hold, all failed. */
    public static final int DOWN_MIN_PROBES = 3;
    /** Window of the degraded rule: five minutes. */
    public static final long DEGRADED_WINDOW_MILLIS = 300_000;
    /** Failures the degraded rule needs at least, so that a single lost packet is no penalty. */
    public static final int DEGRADED_MIN_FAILURES = 2;
    /** Failed share of the window's probes (0.1 %) from which a tunnel is degraded, as a divisor. */
    public static final int DEGRADED_RATIO_DIVISOR = 1_000;
    /** Successes in a row that bring a down tunnel to degraded. */
    public static final int RECOVERY_SUCCESSES = 3;
    /** Quick re-probes after a regular probe that contradicts the state. */
    public static final int REPROBES = 2;

    private final long degradedWindowMillis;
    private final ArrayDeque<Long> results = new ArrayDeque<>();
    private int failures;
    private int state = TunnelHealth.HEALTHY;
    private int successesInRow;

    /** A machine with Cloudflare's five-minute degraded window. */
    public HealthStateMachine() {
        this(DEGRADED_WINDOW_MILLIS);
    }

    /** A machine with another degraded window (tests and short-lived demonstrations). */
    public HealthStateMachine(long degradedWindowMillis) {
        if (degradedWindowMillis < DOWN_WINDOW_MILLIS) {
            throw new IllegalArgumentException("the degraded window must cover the down window");
        }
        this.degradedWindowMillis = degradedWindowMillis;
    }

    /**
     * Records the result of a probe that ended (answered or timed out) at {@code nowMillis}; {@code reprobe} says
     * whether it was a quick re-probe. Returns how many quick re-probes to send now: {@link #REPROBES} or 0.
     */
    public int record(long nowMillis, boolean success, boolean reprobe) {
        results.addLast(nowMillis << 1 | (success ? 0 : 1));
        if (!success) {
            failures++;
        }
        while (!results.isEmpty() && (results.peekFirst() >> 1) <= nowMillis - degradedWindowMillis) {
            failures -= (int) (results.removeFirst() & 1);
        }
        if (state == TunnelHealth.DOWN) {
            successesInRow = success ? successesInRow + 1 : 0;
            if (successesInRow >= RECOVERY_SUCCESSES) {
                state = TunnelHealth.DEGRADED;
                return 0;
            }
            return success && !reprobe ? REPROBES : 0;
        }
        if (downRuleHolds(nowMillis)) {
            state = TunnelHealth.DOWN;
            successesInRow = 0;
            return 0;
        }
        state = degradedRuleHolds() ? TunnelHealth.DEGRADED : TunnelHealth.HEALTHY;
        return !success && !reprobe ? REPROBES : 0;
    }

    private boolean downRuleHolds(long nowMillis) {
        int probes = 0;
        Iterator<Long> newestFirst = results.descendingIterator();
        while (newestFirst.hasNext()) {
            long result = newestFirst.next();
            if ((result >> 1) <= nowMillis - DOWN_WINDOW_MILLIS) {
                break;
            }
            if ((result & 1) == 0) {
                return false;
            }
            probes++;
        }
        return probes >= DOWN_MIN_PROBES;
    }

    private boolean degradedRuleHolds() {
        return failures >= DEGRADED_MIN_FAILURES && (long) failures * DEGRADED_RATIO_DIVISOR >= results.size();
    }

    /** {@link TunnelHealth#HEALTHY}, {@link TunnelHealth#DEGRADED} or {@link TunnelHealth#DOWN}. */
    public int state() {
        return state;
    }

    /** Probes in the degraded window. */
    public int windowProbes() {
        return results.size();
    }

    /** Failed probes in the degraded window. */
    public int windowFailures() {
        return failures;
    }
}
