package dev.vnetd.control.health;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static dev.vnetd.dataplane.nexthop.TunnelHealth.DEGRADED;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.DOWN;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.HEALTHY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A prober on a fake clock against a scripted far end that answers every probe at once while it is alive. */
class TunnelProberTest {
    private static final int TUNNEL = 3;
    private static final int TARGET = 0xA9FE0A03;
    private static final long HIGH = 250;

    /** The far end: answers what it receives while alive. */
    static final class FarEnd implements ProbeChannel {
        boolean alive = true;
        final List<long[]> sent = new ArrayList<>();
        final Set<Integer> answered = new HashSet<>();
        long now;

        @Override
        public void watch(int tunnel, int localAddress) {
        }

        @Override
        public void send(int tunnel, boolean request, int target, int sequence) {
            assertEquals(TUNNEL, tunnel);
            assertEquals(TARGET, target);
            assertTrue(request);
            sent.add(new long[] {now, sequence});
            answered.remove(sequence);
            if (alive) {
                answered.add(sequence);
            }
        }

        @Override
        public boolean replied(int tunnel, int sequence) {
            return answered.contains(sequence);
        }
    }

    private final FarEnd farEnd = new FarEnd();
    private final AtomicLong successes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private long now = 5_000;
    private final TunnelProber prober = new TunnelProber(TUNNEL, true, TARGET, HIGH, new HealthStateMachine(),
            farEnd, successes, failures, now);

    private void runFor(long millis) {
        long end = now + millis;
        while (now < end) {
            now += HealthChecker.TICK_MILLIS;
            farEnd.now = now;
            prober.tick(now);
        }
    }

    /** Runs until the state is {@code state}; returns how long that took. */
    private long runUntil(int state, long limitMillis) {
        long start = now;
        while (prober.state() != state && now - start < limitMillis) {
            runFor(HealthChecker.TICK_MILLIS);
        }
        return now - start;
    }

    @Test
    void shouldProbeAtTheRateAndCountAnsweredProbes() {
        runFor(10_000);

        assertEquals(41, farEnd.sent.size(), "one probe at once, then one every 250 ms");
        assertEquals(farEnd.sent.size(), successes.get() + prober.outstanding());
        assertEquals(0, failures.get());
        assertEquals(HEALTHY, prober.state());
    }

    @Test
    void shouldCountAProbeUnansweredForTheTimeoutAsAFailureAndReprobeTwice() {
        runFor(1000);
        farEnd.alive = false;
        runFor(HIGH);
        long lostAt = farEnd.sent.getLast()[0];
        farEnd.alive = true;
        while (failures.get() == 0 && now < lostAt + 1000) {
            runFor(HealthChecker.TICK_MILLIS);
        }

        assertEquals(1, failures.get(), "the unanswered probe failed");
        assertTrue(now - lostAt >= TunnelProber.PROBE_TIMEOUT_MILLIS, "at its timeout, not before");
        assertTrue(now - lostAt < TunnelProber.PROBE_TIMEOUT_MILLIS + HealthChecker.TICK_MILLIS, "nor much later");
        long sentNow = farEnd.sent.stream().filter(p -> p[0] == now).count();
        assertTrue(sentNow >= 2, "two re-probes sent at once after the failure");
        runFor(1000);
        assertEquals(HEALTHY, prober.state(), "the re-probes were answered");
    }

    @Test
    void shouldGoDownWithinASecondOfTheFarEndStoppingAndMoveThroughDegradedWhenItComesBack() {
        runFor(3000);
        farEnd.alive = false;

        long toDown = runUntil(DOWN, 5000);
        assertEquals(DOWN, prober.state());
        assertTrue(toDown <= HealthStateMachine.DOWN_WINDOW_MILLIS + 2 * HealthChecker.TICK_MILLIS, "down after "
                + toDown + " ms: about a second, when the last answered probe has left the one-second window");

        runFor(3000);
        assertEquals(DOWN, prober.state(), "stays down while nothing answers");
        farEnd.alive = true;
        long toDegraded = runUntil(DEGRADED, 5000);
        assertEquals(DEGRADED, prober.state(), "recovery passes through degraded");
        assertTrue(toDegraded <= TunnelProber.PROBE_TIMEOUT_MILLIS + HIGH + 2 * HealthChecker.TICK_MILLIS,
                "three successes in a row after " + toDegraded + " ms: once the probes sent while it was dead have "
                        + "timed out, the next probe and its two quick re-probes");
        runFor(60_000);
        assertEquals(DEGRADED, prober.state(), "the failures stay in the five-minute window");
        assertFalse(runUntil(HEALTHY, HealthStateMachine.DEGRADED_WINDOW_MILLIS) >= HealthStateMachine
                .DEGRADED_WINDOW_MILLIS, "healthy once they left it");
    }
}
