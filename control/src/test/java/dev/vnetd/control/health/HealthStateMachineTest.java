package dev.vnetd.control.health;

import org.junit.jupiter.api.Test;

import static dev.vnetd.dataplane.nexthop.TunnelHealth.DEGRADED;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.DOWN;
import static dev.vnetd.dataplane.nexthop.TunnelHealth.HEALTHY;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The state machine on a fake clock: times are the milliseconds each probe result arrives. */
class HealthStateMachineTest {
    private final HealthStateMachine machine = new HealthStateMachine();
    private long now = 1_000_000;

    private int success(long afterMillis) {
        now += afterMillis;
        return machine.record(now, true, false);
    }

    private int failure(long afterMillis) {
        now += afterMillis;
        return machine.record(now, false, false);
    }

    private int reprobeFailure(long afterMillis) {
        now += afterMillis;
        return machine.record(now, false, true);
    }

    private int reprobeSuccess(long afterMillis) {
        now += afterMillis;
        return machine.record(now, true, true);
    }

    @Test
    void shouldStayHealthyWhileProbesSucceed() {
        for (int i = 0; i < 100; i++) {
            assertEquals(0, success(1000), "no re-probe after a success");
        }
        assertEquals(HEALTHY, machine.state());
    }

    @Test
    void shouldAskForTwoReprobesWhenARegularProbeFails() {
        success(1000);
        assertEquals(HealthStateMachine.REPROBES, failure(1000));
        assertEquals(HEALTHY, machine.state(), "one lost probe is no penalty");
        assertEquals(0, reprobeSuccess(300), "a re-probe never asks for more");
        assertEquals(HEALTHY, machine.state());
    }

    @Test
    void shouldGoDownWhenAProbeAndItsTwoReprobesFailWithinASecond() {
        success(1000);
        failure(1000);
        reprobeFailure(300);
        assertEquals(DEGRADED, machine.state(), "two failures in five minutes: degraded before down");
        reprobeFailure(0);
        assertEquals(DOWN, machine.state(), "three of three probes in the last second failed");
    }

    @Test
    void shouldNotGoDownWhenTheFailuresSpreadOverMoreThanASecond() {
        success(1000);
        failure(1000);
        failure(600);
        failure(600);
        assertEquals(DEGRADED, machine.state(), "no second held three failures");
    }

    @Test
    void shouldNotGoDownWhileASuccessIsAmongTheLastSecondsProbes() {
        failure(1000);
        reprobeFailure(100);
        success(100);
        reprobeFailure(100);
        assertEquals(DEGRADED, machine.state());
    }

    @Test
    void shouldBeDegradedOnlyFromTheSecondFailureInFiveMinutes() {
        failure(1000);
        assertEquals(HEALTHY, machine.state());
        for (int i = 0; i < 200; i++) {
            success(1000);
        }
        failure(1000);
        assertEquals(DEGRADED, machine.state(), "2 of 202 probes in five minutes");
    }

    @Test
    void shouldNotBeDegradedBelowOneFailedProbeInAThousand() {
        failure(50);
        for (int i = 0; i < 2500; i++) {
            success(50);
        }
        failure(50);
        assertEquals(HEALTHY, machine.state(), "2 of 2502 probes is under 0.1 %");
        failure(50);
        assertEquals(DEGRADED, machine.state(), "3 of 2503 is over it");
    }

    @Test
    void shouldRecoverFromDownThroughDegradedAfterThreeSuccessesInARow() {
        failure(1000);
        reprobeFailure(300);
        reprobeFailure(0);
        assertEquals(DOWN, machine.state());
        assertEquals(0, failure(1000), "no re-probe after a failure while down");
        assertEquals(HealthStateMachine.REPROBES, success(1000), "a success while down is checked twice");
        reprobeSuccess(300);
        assertEquals(DOWN, machine.state());
        reprobeSuccess(0);
        assertEquals(DEGRADED, machine.state(), "three in a row: degraded, never straight to healthy");
    }

    @Test
    void shouldStayDownWhenASuccessIsFollowedByAFailure() {
        failure(1000);
        reprobeFailure(300);
        reprobeFailure(0);
        success(1000);
        reprobeSuccess(300);
        reprobeFailure(0);
        success(1000);
        assertEquals(DOWN, machine.state(), "the run of successes started again");
        reprobeSuccess(300);
        reprobeSuccess(0);
        assertEquals(DEGRADED, machine.state());
    }

    @Test
    void shouldBecomeHealthyOnceTheFailuresLeaveTheFiveMinuteWindow() {
        failure(1000);
        reprobeFailure(300);
        reprobeFailure(0);
        success(1000);
        reprobeSuccess(300);
        reprobeSuccess(0);
        long recovered = now;
        while (now - recovered < HealthStateMachine.DEGRADED_WINDOW_MILLIS - 2000) {
            success(1000);
            assertEquals(DEGRADED, machine.state(), "the down episode's failures are still in the window");
        }
        while (machine.state() == DEGRADED && now - recovered < HealthStateMachine.DEGRADED_WINDOW_MILLIS + 2000) {
            success(1000);
        }
        assertEquals(HEALTHY, machine.state());
        assertEquals(0, machine.windowFailures());
    }

    @Test
    void shouldGoDownFromDegraded() {
        failure(1000);
        failure(10_000);
        assertEquals(DEGRADED, machine.state());
        reprobeFailure(300);
        reprobeFailure(0);
        assertEquals(DOWN, machine.state());
    }
}
